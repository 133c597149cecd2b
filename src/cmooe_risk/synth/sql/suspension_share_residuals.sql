-- suspension_share_residuals: the sum over pupil-years of squared residuals of the
-- share $share of suspensions in the year groups $year_groups (suspensions cluster in
-- pupils: the ratio estimator's linearised variance).
SELECT sum(power(CASE WHEN list_contains($year_groups, yg) THEN susp ELSE 0 END - $share * susp, 2))
FROM pupil_year_exclusions
WHERE yg BETWEEN 0 AND 11
