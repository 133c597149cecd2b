-- suspension_share: suspensions in the year groups $year_groups, and in all of
-- Reception to Year 11.
SELECT sum(suspension_count) FILTER (WHERE list_contains($year_groups, year_group)), sum(suspension_count)
FROM pupil_year_exclusions
WHERE year_group BETWEEN 0 AND 11
