-- attendance_runs: the third and later days of runs of consecutive school days absent,
-- each with its position in the run (3 = third day running), for two kinds of run:
--   absent       both sessions of the day missed (any reason);
--   unexplained  both sessions of the day marked N or O (the pattern that starts
--                children-missing-education procedures after 10 days).
-- Days are numbered Monday to Friday, so a weekend does not break a run but a holiday
-- or closure does. A day's status comes from its marks as first entered, and only from
-- marks entered in the week of the session: such a mark is known as of every Monday
-- after that week, so the runs never use anything recorded later. Only absent days are
-- sequenced, which keeps this cheap: present days never enter the sort.
WITH bounds AS (
    SELECT
        MIN(academic_year_start) - INTERVAL 400 DAY AS first_day,
        MAX(as_of) AS last_day
    FROM as_of_dates
),

absences AS (
    SELECT m.pupil_pseudonym, m.urn, m.session_date, m.session, m.code, m.recorded_at
    FROM attendance_marks AS m
    JOIN ref_attendance_codes AS r ON r.code = m.code
    CROSS JOIN bounds AS b
    WHERE r.category IN ('authorised', 'unauthorised')
        AND m.session_date >= b.first_day
        AND m.session_date < b.last_day
        AND m.pupil_pseudonym IN (SELECT pupil_pseudonym FROM spine)
        AND FLOOR(date_diff(
            'day', DATE '2000-01-03',
            CAST(COALESCE(m.recorded_at, CAST(m.session_date AS TIMESTAMP)) AS DATE)
        ) / 7) = FLOOR(date_diff('day', DATE '2000-01-03', m.session_date) / 7)
),

first_absences AS (
    SELECT a.*
    FROM absences AS a
    WHERE NOT EXISTS (
        SELECT 1
        FROM attendance_marks AS earlier
        WHERE earlier.superseded_at IS NOT NULL
            AND earlier.pupil_pseudonym = a.pupil_pseudonym
            AND earlier.urn = a.urn
            AND earlier.session_date = a.session_date
            AND earlier.session = a.session
            AND earlier.superseded_at = a.recorded_at
    )
),

days AS (
    SELECT
        pupil_pseudonym,
        session_date,
        5 * CAST(FLOOR(date_diff('day', DATE '2000-01-03', session_date) / 7) AS INTEGER)
            + MOD(date_diff('day', DATE '2000-01-03', session_date), 7) AS weekday_number,
        COUNT(DISTINCT session) AS absent_sessions,
        COUNT(DISTINCT CASE WHEN code IN ('N', 'O') THEN session END) AS unexplained_sessions
    FROM first_absences
    GROUP BY pupil_pseudonym, session_date
),

islands AS (
    SELECT
        pupil_pseudonym,
        session_date,
        'absent' AS kind,
        weekday_number - ROW_NUMBER() OVER (PARTITION BY pupil_pseudonym ORDER BY session_date)
            AS island
    FROM days
    WHERE absent_sessions = 2

    UNION ALL

    SELECT
        pupil_pseudonym,
        session_date,
        'unexplained' AS kind,
        weekday_number - ROW_NUMBER() OVER (PARTITION BY pupil_pseudonym ORDER BY session_date)
            AS island
    FROM days
    WHERE unexplained_sessions = 2
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
