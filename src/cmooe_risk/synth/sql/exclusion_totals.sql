-- exclusion_totals: pupil-years, suspensions, permanent exclusions, and the sum of
-- squared suspensions per pupil-year (for the suspension rate's standard error).
SELECT count(*), sum(suspension_count), sum(pex), sum(suspension_count * suspension_count)
FROM pupil_year_exclusions
