-- context: who the child is and where they are, as known before t.
-- Audit-only attributes (sex, ethnicity) are computed here too but never reach the
-- model unless an experiment asks for them explicitly (catalog `use: audit_only`).
--
-- School-level rates describe the child's current school in the previous academic year.
-- They use only records dated before the start of the current academic year (and, for
-- attendance marks, the versions current at that moment), so they are fixed for the whole
-- year and known at every as-of date in it. They are computed once per (school, year).
WITH school_years AS (
    SELECT DISTINCT
        academic_year,
        academic_year_start,
        academic_year_start - INTERVAL 1 YEAR AS prior_year_start
    FROM as_of_dates
),

prior_year_roll AS (
    SELECT
        y.academic_year,
        e.urn,
        COUNT(DISTINCT e.pupil_pseudonym) AS pupils_enrolled
    FROM school_years AS y
    JOIN enrolments AS e
        ON e.start_date < y.academic_year_start
        AND (e.end_date IS NULL OR e.end_date >= y.prior_year_start)
    WHERE e.enrolment_status IN ('C', 'M')
    GROUP BY y.academic_year, e.urn
),

prior_year_suspensions AS (
    SELECT
        y.academic_year,
        x.urn,
        COUNT(*) AS suspensions
    FROM school_years AS y
    JOIN exclusions AS x
        ON x.start_date >= y.prior_year_start
        AND x.start_date < y.academic_year_start
    WHERE x.category IN ('FIXD', 'LNCH')
    GROUP BY y.academic_year, x.urn
),

prior_year_absence AS (
    -- precomputed once per load (features/school_attendance.sql): the previous year's
    -- marks as they stood at the start of this one
    SELECT y.academic_year, a.urn, a.absent_sessions, a.possible_sessions
    FROM school_years AS y
    JOIN school_attendance AS a ON a.academic_year = y.academic_year
),

school_rates AS (
    -- one row per (school, academic year) for the years of the as-of dates
    SELECT
        COALESCE(r.academic_year, a.academic_year) AS academic_year,
        COALESCE(r.urn, a.urn) AS urn,
        -- a year the extracts do not cover (no attendance marks) has no rates at all
        CASE WHEN r.pupils_enrolled > 0 AND a.possible_sessions > 0
            THEN CAST(COALESCE(x.suspensions, 0) AS DOUBLE) / r.pupils_enrolled END
            AS suspension_rate,
        CASE WHEN a.possible_sessions > 0
            THEN CAST(a.absent_sessions AS DOUBLE) / a.possible_sessions END
            AS absence_rate
    FROM prior_year_roll AS r
    FULL OUTER JOIN prior_year_absence AS a
        ON a.urn = r.urn AND a.academic_year = r.academic_year
    LEFT JOIN prior_year_suspensions AS x
        ON x.urn = r.urn AND x.academic_year = r.academic_year
)

SELECT
    s.pupil_pseudonym,
    s.as_of,
    s.nc_year,
    CASE WHEN s.nc_year <= 6 THEN 1 ELSE 0 END AS primary_phase,
    CASE WHEN s.nc_year IN (6, 7) THEN 1 ELSE 0 END AS phase_transition_year,
    CASE WHEN s.roll_status = 'on_roll' THEN 0 ELSE 1 END AS off_roll,
    CASE WHEN f.pupil_pseudonym IS NOT NULL THEN 1 ELSE 0 END AS fsm_current,
    CASE WHEN p.eal = 'Y' THEN 1 ELSE 0 END AS eal,
    CAST(p.idaci_decile AS DOUBLE) AS idaci_decile,
    p.sex,
    p.ethnicity_major,
    p.ethnicity_minor,
    -- whole months since the month of birth, in years
    ROUND(
        CAST(
            (CAST(EXTRACT(YEAR FROM s.as_of) AS INTEGER)
                - CAST(SUBSTR(p.year_month_of_birth, 1, 4) AS INTEGER)) * 12
            + CAST(EXTRACT(MONTH FROM s.as_of) AS INTEGER)
            - CAST(SUBSTR(p.year_month_of_birth, 6, 2) AS INTEGER)
            AS DOUBLE
        ) / 12,
        1
    ) AS age_years,
    r.suspension_rate AS school_prior_year_suspension_rate,
    r.absence_rate AS school_prior_year_absence_rate
FROM spine AS s
JOIN pupils AS p ON p.pupil_pseudonym = s.pupil_pseudonym
-- at most one FSM episode is current: the contract quarantines overlapping episodes
LEFT JOIN fsm_episodes AS f
    ON f.pupil_pseudonym = s.pupil_pseudonym
    AND f.start_date < s.as_of
    AND (f.end_date IS NULL OR f.end_date >= s.as_of)
LEFT JOIN school_rates AS r ON r.urn = s.urn AND r.academic_year = s.academic_year
