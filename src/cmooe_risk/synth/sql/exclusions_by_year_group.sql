-- exclusions_by_year_group: suspensions, permanent exclusions and pupil-years by year
-- group, Reception to Year 11.
SELECT yg, sum(susp), sum(pex), count(*)
FROM pupil_year_exclusions
WHERE yg BETWEEN 0 AND 11
GROUP BY yg
ORDER BY yg
