-- attendance_ledger (precomputed at ingest): weekly attendance counts per pupil, exact
-- as of any Monday.
--
-- A session mark can change after it is first entered (an N later becomes I). As of a
-- Monday t, the version that counts is the latest one recorded before t. Each mark's
-- final version goes into a steady weekly series (to_week NULL), counted from the week
-- after its session. Small adjustment rows (to_week set) correct that series for the
-- as-of weeks from_week..to_week in which what was known differed from the final record:
--   * the final version, minus, in the weeks before it was recorded;
--   * each earlier version, plus, in the weeks it was the latest one recorded.
-- Weeks are numbered by session_week(); a version recorded in week w is visible as of
-- week w + 1 (as-of dates are Mondays at 00:00).
--
-- Nothing here depends on the as-of date: visibility is carried in from_week/to_week.
-- So the ledger is built once per load, over every mark, and feature builds read it.
WITH versions AS (
    -- every version once: the final one into the steady series, earlier ones as
    -- adjustments for the weeks they were current
    SELECT pupil_pseudonym, code, session_date, recorded_at, superseded_at, 0 AS late_piece
    FROM attendance_marks

    UNION ALL

    -- final versions recorded after the week of their session, once more: to take them
    -- out of the steady series for the weeks before they were recorded
    SELECT pupil_pseudonym, code, session_date, recorded_at, superseded_at, 1 AS late_piece
    FROM attendance_marks
    WHERE superseded_at IS NULL
        AND session_week(CAST(COALESCE(recorded_at, CAST(session_date AS TIMESTAMP)) AS DATE))
            > session_week(session_date)
),

marks AS (
    SELECT
        m.pupil_pseudonym,
        m.code,
        m.late_piece,
        session_week(m.session_date) AS session_week,
        academic_year(m.session_date) AS academic_year,
        week_day(m.session_date) AS weekday,
        session_week(CAST(COALESCE(m.recorded_at, CAST(m.session_date AS TIMESTAMP)) AS DATE)) + 1
            AS visible_week,
        session_week(CAST(m.superseded_at AS DATE)) + 1 AS superseded_week
    FROM versions AS m
),

pieces AS (
    SELECT
        k.pupil_pseudonym,
        k.session_week,
        k.academic_year,
        CASE
            WHEN k.superseded_week IS NULL THEN k.session_week + 1
            ELSE GREATEST(k.session_week + 1, k.visible_week)
        END AS from_week,
        CASE
            WHEN k.late_piece = 1 THEN k.visible_week - 1
            WHEN k.superseded_week IS NOT NULL THEN k.superseded_week - 1
        END AS to_week,
        CASE WHEN k.late_piece = 1 THEN -1 ELSE 1 END AS sign,
        CASE WHEN r.counts_as_possible THEN 1 ELSE 0 END AS possible,
        CASE WHEN r.category IN ('present', 'approved_activity') THEN 1 ELSE 0 END AS attended,
        CASE WHEN r.category = 'authorised' THEN 1 ELSE 0 END AS authorised,
        CASE WHEN r.category = 'unauthorised' THEN 1 ELSE 0 END AS unauthorised,
        CASE WHEN k.code = 'I' THEN 1 ELSE 0 END AS illness,
        CASE WHEN k.code = 'M' THEN 1 ELSE 0 END AS medical,
        CASE WHEN k.code IN ('L', 'U') THEN 1 ELSE 0 END AS late,
        CASE WHEN r.category = 'approved_activity' THEN 1 ELSE 0 END AS approved,
        CASE WHEN k.code = 'C2' THEN 1 ELSE 0 END AS part_time,
        CASE WHEN k.code IN ('N', 'O') THEN 1 ELSE 0 END AS unexplained,
        CASE WHEN k.code = 'G' THEN 1 ELSE 0 END AS holiday,
        CASE WHEN k.code = 'E' THEN 1 ELSE 0 END AS suspended,
        -- absent on a Monday or a Friday (the features use only the two together)
        CASE
            WHEN k.weekday IN (0, 4) AND r.category IN ('authorised', 'unauthorised') THEN 1
            ELSE 0
        END AS monday_friday_absent
    FROM marks AS k
    JOIN ref_attendance_codes AS r ON r.code = k.code
    -- an earlier version replaced before any as-of week in which it would count (after
    -- its session's week and once recorded) never counts
    WHERE k.superseded_week IS NULL
        OR k.superseded_week - 1 >= GREATEST(k.session_week + 1, k.visible_week)
)

SELECT
    pupil_pseudonym,
    session_week,
    academic_year,
    from_week,
    to_week,
    CAST(SUM(sign * possible) AS INTEGER) AS possible,
    CAST(SUM(sign * attended) AS INTEGER) AS attended,
    CAST(SUM(sign * authorised) AS INTEGER) AS authorised,
    CAST(SUM(sign * unauthorised) AS INTEGER) AS unauthorised,
    CAST(SUM(sign * illness) AS INTEGER) AS illness,
    CAST(SUM(sign * medical) AS INTEGER) AS medical,
    CAST(SUM(sign * late) AS INTEGER) AS late,
    CAST(SUM(sign * approved) AS INTEGER) AS approved,
    CAST(SUM(sign * part_time) AS INTEGER) AS part_time,
    CAST(SUM(sign * unexplained) AS INTEGER) AS unexplained,
    CAST(SUM(sign * holiday) AS INTEGER) AS holiday,
    CAST(SUM(sign * suspended) AS INTEGER) AS suspended,
    CAST(SUM(sign * monday_friday_absent) AS INTEGER) AS monday_friday_absent
FROM pieces
GROUP BY pupil_pseudonym, session_week, academic_year, from_week, to_week
