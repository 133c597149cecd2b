-- attendance_totals: pupil-years, possible, absent and unauthorised-absent sessions,
-- and pupil-years persistently (10% or more) and severely (50% or more) absent.
SELECT
    count(*),
    sum(possible),
    sum(absent),
    sum(unauth),
    count(*) FILTER (WHERE rate >= 0.1),
    count(*) FILTER (WHERE rate >= 0.5)
FROM pupil_year_attendance
