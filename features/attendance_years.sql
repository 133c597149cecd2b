-- attendance_years (precomputed at ingest): each pupil's steady series of
-- attendance_ledger summed over each academic year, by the academic year of the
-- session. attendance.sql reads the previous academic year's row and adds the ledger's
-- adjustment rows valid at t.
SELECT
    pupil_pseudonym,
    academic_year,
    SUM(possible) AS possible,
    SUM(attended) AS attended,
    SUM(unauthorised) AS unauthorised
FROM attendance_ledger
WHERE to_week IS NULL
GROUP BY pupil_pseudonym, academic_year
