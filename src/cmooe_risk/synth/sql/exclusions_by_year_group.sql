-- exclusions_by_year_group: suspensions, permanent exclusions and pupil-years by year
-- group, Reception to Year 11.
SELECT year_group, sum(suspension_count), sum(pex), count(*)
FROM pupil_year_exclusions
WHERE year_group BETWEEN 0 AND 11
GROUP BY year_group
ORDER BY year_group
