-- persistent_absence_by_group: pupil-years, and those persistently absent (10% of
-- sessions or more), by pupil group.
SELECT g.pupil_group, count(*), count(*) FILTER (WHERE a.rate >= 0.1)
FROM pupil_year_attendance AS a
INNER JOIN pupil_groups AS g USING (ay, pupil_id)
GROUP BY g.pupil_group
