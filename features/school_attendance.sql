-- school_attendance (precomputed at ingest): for each school and academic year, the
-- absence of the school's pupils in the previous academic year, counting each mark in
-- the version current at the start of the year (recorded before 1 September, not yet
-- replaced then). So the rate is known at every as-of date of the year; context.sql
-- reads it. Each mark's session falls in one academic year and serves the year after.
WITH marks AS (
    SELECT
        m.urn,
        m.code,
        COALESCE(m.recorded_at, CAST(m.session_date AS TIMESTAMP)) AS recorded_at,
        m.superseded_at,
        academic_year(m.session_date) + 1 AS academic_year
    FROM attendance_marks AS m
),

dated AS (
    SELECT
        k.*,
        CAST(MAKE_DATE(k.academic_year, 9, 1) AS TIMESTAMP) AS year_start
    FROM marks AS k
)

SELECT
    d.academic_year,
    d.urn,
    SUM(CASE WHEN c.category IN ('authorised', 'unauthorised') THEN 1 ELSE 0 END)
        AS absent_sessions,
    COUNT(*) AS possible_sessions
FROM dated AS d
JOIN ref_attendance_codes AS c ON c.code = d.code
WHERE c.counts_as_possible
    AND d.recorded_at < d.year_start
    AND (d.superseded_at IS NULL OR d.superseded_at >= d.year_start)
GROUP BY d.academic_year, d.urn
