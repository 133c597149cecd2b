-- attendance_ledger: weekly attendance counts per pupil, exact as of any Monday.
--
-- A session mark can change after it is first entered (an N later becomes I). As of a
-- Monday t, the version that counts is the latest one recorded before t. Each mark's
-- final version goes into a steady weekly series (to_week NULL), counted from the week
-- after its session. Small adjustment rows (to_week set) correct that series for the
-- as-of weeks from_week..to_week in which what was known differed from the final record:
--   * the final version, minus, in the weeks before it was recorded;
--   * each earlier version, plus, in the weeks it was the latest one recorded.
-- Week numbers count Mondays from 2000-01-03; a version recorded in week w is visible
-- as of week w + 1 (as-of dates are Mondays at 00:00).
WITH bounds AS (
    SELECT
        MIN(academic_year_start) - INTERVAL 400 DAY AS first_day,
        MAX(as_of) AS last_day
    FROM as_of_dates
),

marks AS (
    SELECT
        m.pupil_pseudonym,
        m.code,
        CAST(FLOOR(date_diff('day', DATE '2000-01-03', m.session_date) / 7) AS INTEGER)
            AS session_week,
        CAST(EXTRACT(YEAR FROM m.session_date) AS INTEGER)
            - CASE WHEN EXTRACT(MONTH FROM m.session_date) < 9 THEN 1 ELSE 0 END AS academic_year,
        MOD(date_diff('day', DATE '2000-01-03', m.session_date), 7) AS weekday,
        CAST(FLOOR(date_diff(
            'day', DATE '2000-01-03',
            CAST(COALESCE(m.recorded_at, CAST(m.session_date AS TIMESTAMP)) AS DATE)
        ) / 7) AS INTEGER) + 1 AS visible_week,
        CAST(FLOOR(date_diff('day', DATE '2000-01-03', CAST(m.superseded_at AS DATE)) / 7)
            AS INTEGER) + 1 AS superseded_week
    FROM attendance_marks AS m
    CROSS JOIN bounds AS b
    WHERE m.session_date >= b.first_day
        AND m.session_date < b.last_day
        AND m.pupil_pseudonym IN (SELECT pupil_pseudonym FROM spine)
),

flagged AS (
    SELECT
        k.pupil_pseudonym,
        k.session_week,
        k.academic_year,
        k.visible_week,
        k.superseded_week,
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
        CASE WHEN k.weekday = 0 AND r.counts_as_possible THEN 1 ELSE 0 END AS monday_possible,
        CASE WHEN k.weekday = 0 AND r.category IN ('authorised', 'unauthorised') THEN 1 ELSE 0 END
            AS monday_absent,
        CASE WHEN k.weekday = 4 AND r.counts_as_possible THEN 1 ELSE 0 END AS friday_possible,
        CASE WHEN k.weekday = 4 AND r.category IN ('authorised', 'unauthorised') THEN 1 ELSE 0 END
            AS friday_absent
    FROM marks AS k
    JOIN ref_attendance_codes AS r ON r.code = k.code
),

pieces AS (
    SELECT
        f.*,
        f.session_week + 1 AS from_week,
        CAST(NULL AS INTEGER) AS to_week,
        1 AS sign
    FROM flagged AS f
    WHERE f.superseded_week IS NULL

    UNION ALL

    SELECT
        f.*,
        f.session_week + 1 AS from_week,
        f.visible_week - 1 AS to_week,
        -1 AS sign
    FROM flagged AS f
    WHERE f.superseded_week IS NULL AND f.visible_week > f.session_week + 1

    UNION ALL

    SELECT
        f.*,
        GREATEST(f.session_week + 1, f.visible_week) AS from_week,
        f.superseded_week - 1 AS to_week,
        1 AS sign
    FROM flagged AS f
    WHERE f.superseded_week IS NOT NULL
        AND f.superseded_week - 1 >= GREATEST(f.session_week + 1, f.visible_week)
)

SELECT
    pupil_pseudonym,
    session_week,
    academic_year,
    from_week,
    to_week,
    SUM(sign * possible) AS possible,
    SUM(sign * attended) AS attended,
    SUM(sign * authorised) AS authorised,
    SUM(sign * unauthorised) AS unauthorised,
    SUM(sign * illness) AS illness,
    SUM(sign * medical) AS medical,
    SUM(sign * late) AS late,
    SUM(sign * approved) AS approved,
    SUM(sign * part_time) AS part_time,
    SUM(sign * unexplained) AS unexplained,
    SUM(sign * holiday) AS holiday,
    SUM(sign * suspended) AS suspended,
    SUM(sign * monday_possible) AS monday_possible,
    SUM(sign * monday_absent) AS monday_absent,
    SUM(sign * friday_possible) AS friday_possible,
    SUM(sign * friday_absent) AS friday_absent
FROM pieces
GROUP BY pupil_pseudonym, session_week, academic_year, from_week, to_week
