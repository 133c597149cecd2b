-- exclusion_totals: pupil-years, suspensions, permanent exclusions, and the sum of
-- squared suspensions per pupil-year (for the suspension rate's standard error).
SELECT count(*), sum(susp), sum(pex), sum(susp * susp)
FROM pupil_year_exclusions
