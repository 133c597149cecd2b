-- attendance_runs: the third and later days of runs of consecutive school days absent,
-- each with its position in the run (3 = third day running), for two kinds of run:
--   absent       every possible session of the day missed (any reason);
--   unexplained  every possible session of the day marked N or O (the pattern that
--                starts children-missing-education procedures after 10 days).
-- A day's status comes from its marks as first entered, and only from marks entered in
-- the week of the session: such a mark is known as of every Monday after that week, so
-- the runs never use anything recorded later. Consecutive means consecutive days with
-- possible sessions on the pupil's own registers (weekends and closures don't break a run).
WITH bounds AS (
    SELECT
        MIN(academic_year_start) - INTERVAL 400 DAY AS first_day,
        MAX(as_of) AS last_day
    FROM as_of_dates
),

first_versions AS (
    SELECT m.pupil_pseudonym, m.session_date, m.code
    FROM attendance_marks AS m
    CROSS JOIN bounds AS b
    WHERE m.session_date >= b.first_day
        AND m.session_date < b.last_day
        AND FLOOR(date_diff(
            'day', DATE '2000-01-03',
            CAST(COALESCE(m.recorded_at, CAST(m.session_date AS TIMESTAMP)) AS DATE)
        ) / 7) = FLOOR(date_diff('day', DATE '2000-01-03', m.session_date) / 7)
        AND NOT EXISTS (
            SELECT 1
            FROM attendance_marks AS earlier
            WHERE earlier.superseded_at IS NOT NULL
                AND earlier.pupil_pseudonym = m.pupil_pseudonym
                AND earlier.urn = m.urn
                AND earlier.session_date = m.session_date
                AND earlier.session = m.session
                AND earlier.superseded_at = m.recorded_at
        )
),

days AS (
    SELECT
        v.pupil_pseudonym,
        v.session_date,
        SUM(CASE WHEN r.counts_as_possible THEN 1 ELSE 0 END) AS possible,
        SUM(CASE WHEN r.category IN ('authorised', 'unauthorised') THEN 1 ELSE 0 END) AS absent,
        SUM(CASE WHEN v.code IN ('N', 'O') THEN 1 ELSE 0 END) AS unexplained
    FROM first_versions AS v
    JOIN ref_attendance_codes AS r ON r.code = v.code
    GROUP BY v.pupil_pseudonym, v.session_date
),

sequenced AS (
    SELECT
        pupil_pseudonym,
        session_date,
        CASE WHEN absent = possible THEN 1 ELSE 0 END AS is_absent,
        CASE WHEN unexplained = possible THEN 1 ELSE 0 END AS is_unexplained,
        ROW_NUMBER() OVER (PARTITION BY pupil_pseudonym ORDER BY session_date) AS day_seq
    FROM days
    WHERE possible > 0
),

islands AS (
    SELECT
        pupil_pseudonym,
        session_date,
        'absent' AS kind,
        day_seq - ROW_NUMBER() OVER (PARTITION BY pupil_pseudonym ORDER BY session_date) AS island
    FROM sequenced
    WHERE is_absent = 1

    UNION ALL

    SELECT
        pupil_pseudonym,
        session_date,
        'unexplained' AS kind,
        day_seq - ROW_NUMBER() OVER (PARTITION BY pupil_pseudonym ORDER BY session_date) AS island
    FROM sequenced
    WHERE is_unexplained = 1
),

positioned AS (
    SELECT
        pupil_pseudonym,
        kind,
        session_date,
        ROW_NUMBER() OVER (PARTITION BY pupil_pseudonym, kind, island ORDER BY session_date)
            AS position
    FROM islands
)

-- Filtering on the position (known on the day) rather than the run's final length
-- (known only when it ends) keeps later days from leaking into earlier as-of dates.
SELECT pupil_pseudonym, kind, session_date, position
FROM positioned
WHERE position >= 3
