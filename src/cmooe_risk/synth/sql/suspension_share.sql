-- suspension_share: suspensions in the year groups $year_groups, and in all of
-- Reception to Year 11.
SELECT sum(susp) FILTER (WHERE list_contains($year_groups, yg)), sum(susp)
FROM pupil_year_exclusions
WHERE yg BETWEEN 0 AND 11
