-- exclusions_by_group: pupil-years, suspensions and permanent exclusions by pupil group
-- (a pupil-year is in several groups).
SELECT g.pupil_group, count(*), sum(x.suspension_count), sum(x.pex)
FROM pupil_year_exclusions AS x
INNER JOIN pupil_groups AS g USING (ay, pupil_id)
GROUP BY g.pupil_group
