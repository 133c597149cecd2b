-- attendance_runs (precomputed at ingest): every day of every run of consecutive school
-- days absent, each with its position in the run (1 = first day, 3 = third day
-- running), for two kinds of run:
--   absent       both sessions of the day missed (any reason);
--   unexplained  both sessions of the day marked N or O (the pattern that starts
--                children-missing-education procedures after 10 days).
-- Days are numbered Monday to Friday, so a weekend does not break a run but a holiday
-- or closure does. A day's status comes from its marks as first entered, and only from
-- marks entered in the week of the session: such a mark is known as of every Monday
-- after that week, so the runs never use anything recorded later, and they do not
-- depend on the as-of date: they are built once per load, over every mark. Only absent
-- days are sequenced, which keeps this cheap: present days never enter the sort.
WITH absent_codes AS (
    SELECT code FROM ref_attendance_codes WHERE category IN ('authorised', 'unauthorised')
),

absences AS (
    SELECT m.pupil_pseudonym, m.urn, m.session_date, m.session, m.code, m.recorded_at
    FROM attendance_marks AS m
    JOIN absent_codes AS c ON c.code = m.code
    WHERE session_week(CAST(COALESCE(m.recorded_at, CAST(m.session_date AS TIMESTAMP)) AS DATE))
        = session_week(m.session_date)
),

-- versions that were replaced, keyed by when they were replaced: a mark recorded at
-- that moment for the same session is a correction, not a first entry
replaced AS (
    SELECT pupil_pseudonym, urn, session_date, session, superseded_at
    FROM attendance_marks
    WHERE superseded_at IS NOT NULL
),

first_absences AS (
    SELECT a.*
    FROM absences AS a
    WHERE NOT EXISTS (
        SELECT 1
        FROM replaced AS earlier
        WHERE earlier.pupil_pseudonym = a.pupil_pseudonym
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
        5 * session_week(session_date) + week_day(session_date) AS weekday_number,
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

-- The position is known on the day, unlike the run's final length (known only when it
-- ends), so no later day leaks into an earlier as-of date. Features that count runs from
-- their third day filter on position >= 3.
SELECT pupil_pseudonym, kind, session_date, position
FROM positioned
