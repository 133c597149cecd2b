-- suspension_share_residuals: the sum over pupil-years of squared residuals of the
-- share $share of suspensions in the year groups $year_groups (suspensions cluster in
-- pupils: the ratio estimator's linearised variance).
SELECT sum(power(CASE WHEN list_contains($year_groups, year_group) THEN suspension_count ELSE 0 END - $share * suspension_count, 2))
FROM pupil_year_exclusions
WHERE year_group BETWEEN 0 AND 11
