-- attendance_windows (precomputed at ingest): the steady weekly series of
-- attendance_ledger summed over the windows the attendance features use, for every
-- pupil and every as-of week T (the week starting on the as-of Monday), from the week
-- after their first mark to a year after their last; outside that span every sum is 0.
--   <counter>_<k>w  the k weeks before T: weeks T - k to T - 1;
--   <counter>_ytd   T's academic year before T, by the academic year of each session.
-- These sums count each mark's final version. attendance.sql adds the ledger's
-- adjustment rows valid at T, which put back what was known at T instead.
--
-- There is one row per pupil per week, weeks without marks included, so that a window
-- of k weeks is a fixed number of rows: its sum is the difference of two running sums.
-- Inputs made by the engine (generating a series and batching are engine-specific):
--   precompute_weeks   every week number the data can reach, with the academic year
--                      of its Monday;
--   precompute_pupils  the pupils to compute, a batch at a time to bound memory.
WITH steady AS (
    SELECT l.*
    FROM attendance_ledger AS l
    JOIN precompute_pupils AS p ON p.pupil_pseudonym = l.pupil_pseudonym
    WHERE l.to_week IS NULL
),

-- a week can hold sessions of two academic years (the one with 1 September in it);
-- year_* count only the sessions of the academic year of the Monday after the week
weekly AS (
    SELECT
        l.pupil_pseudonym,
        l.session_week AS week,
        SUM(l.possible) AS possible,
        SUM(l.attended) AS attended,
        SUM(l.authorised) AS authorised,
        SUM(l.unauthorised) AS unauthorised,
        SUM(l.illness) AS illness,
        SUM(l.medical) AS medical,
        SUM(l.late) AS late,
        SUM(l.approved) AS approved,
        SUM(l.part_time) AS part_time,
        SUM(l.unexplained) AS unexplained,
        SUM(l.holiday) AS holiday,
        SUM(l.suspended) AS suspended,
        SUM(l.monday_friday_absent) AS monday_friday_absent,
        SUM(CAST(l.session_week AS DOUBLE) * l.possible) AS week_possible,
        SUM(CAST(l.session_week AS DOUBLE) * l.attended) AS week_attended,
        SUM(CAST(l.session_week AS DOUBLE) * l.session_week * l.possible) AS week2_possible,
        SUM(CASE WHEN l.academic_year = n.academic_year THEN l.possible ELSE 0 END)
            AS year_possible,
        SUM(CASE WHEN l.academic_year = n.academic_year THEN l.attended ELSE 0 END)
            AS year_attended,
        SUM(CASE WHEN l.academic_year = n.academic_year THEN l.unauthorised ELSE 0 END)
            AS year_unauthorised
    FROM steady AS l
    JOIN precompute_weeks AS n ON n.week = l.session_week + 1
    GROUP BY l.pupil_pseudonym, l.session_week
),

-- running sums over the weeks with marks, each valid from the as-of week after it to
-- the as-of week after the next week with marks (or for a year after the last one)
running_sums AS (
    SELECT
        pupil_pseudonym,
        week,
        COALESCE(LEAD(week) OVER by_week, week + 53) AS next_week,
        CAST(SUM(possible) OVER running AS INTEGER) AS possible,
        CAST(SUM(attended) OVER running AS INTEGER) AS attended,
        CAST(SUM(authorised) OVER running AS INTEGER) AS authorised,
        CAST(SUM(unauthorised) OVER running AS INTEGER) AS unauthorised,
        CAST(SUM(illness) OVER running AS INTEGER) AS illness,
        CAST(SUM(medical) OVER running AS INTEGER) AS medical,
        CAST(SUM(late) OVER running AS INTEGER) AS late,
        CAST(SUM(approved) OVER running AS INTEGER) AS approved,
        CAST(SUM(part_time) OVER running AS INTEGER) AS part_time,
        CAST(SUM(unexplained) OVER running AS INTEGER) AS unexplained,
        CAST(SUM(holiday) OVER running AS INTEGER) AS holiday,
        CAST(SUM(suspended) OVER running AS INTEGER) AS suspended,
        CAST(SUM(monday_friday_absent) OVER running AS INTEGER) AS monday_friday_absent,
        SUM(week_possible) OVER running AS week_possible,
        SUM(week_attended) OVER running AS week_attended,
        SUM(week2_possible) OVER running AS week2_possible,
        CAST(SUM(year_possible) OVER running AS INTEGER) AS year_possible,
        CAST(SUM(year_attended) OVER running AS INTEGER) AS year_attended,
        CAST(SUM(year_unauthorised) OVER running AS INTEGER) AS year_unauthorised
    FROM weekly
    WINDOW
        by_week AS (PARTITION BY pupil_pseudonym ORDER BY week),
        running AS (
            PARTITION BY pupil_pseudonym ORDER BY week
            ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        )
),

-- every as-of week T of each pupil's span, with the running sums of what was recorded
-- before T
cumulative AS (
    SELECT
        r.pupil_pseudonym,
        w.week AS as_of_week,
        w.academic_year,
        r.possible, r.attended, r.authorised, r.unauthorised, r.illness, r.medical, r.late,
        r.approved, r.part_time, r.unexplained, r.holiday, r.suspended, r.monday_friday_absent,
        r.week_possible, r.week_attended, r.week2_possible,
        r.year_possible, r.year_attended, r.year_unauthorised
    FROM running_sums AS r
    JOIN precompute_weeks AS w ON w.week > r.week AND w.week <= r.next_week
),

-- the year_* sums of each academic year, and for every academic year of the calendar
-- their total over the years before it: the running year_* sums less that total are,
-- at any T, T's academic year to date
year_totals AS (
    SELECT
        l.pupil_pseudonym,
        n.academic_year,
        SUM(l.possible) AS possible,
        SUM(l.attended) AS attended,
        SUM(l.unauthorised) AS unauthorised
    FROM steady AS l
    JOIN precompute_weeks AS n ON n.week = l.session_week + 1
    WHERE l.academic_year = n.academic_year
    GROUP BY l.pupil_pseudonym, n.academic_year
),

earlier_years AS (
    SELECT
        e.pupil_pseudonym,
        y.academic_year,
        SUM(e.possible) AS possible,
        SUM(e.attended) AS attended,
        SUM(e.unauthorised) AS unauthorised
    FROM (SELECT DISTINCT academic_year FROM precompute_weeks) AS y
    JOIN year_totals AS e ON e.academic_year < y.academic_year
    GROUP BY e.pupil_pseudonym, y.academic_year
),

-- The k weeks before T: the running sum at T minus the running sum at T - k.
windowed AS (
    SELECT
        pupil_pseudonym,
        as_of_week,
        academic_year,
        possible - LAG(possible, 2, 0) OVER by_week AS possible_2w,
        attended - LAG(attended, 2, 0) OVER by_week AS attended_2w,
        unexplained - LAG(unexplained, 2, 0) OVER by_week AS unexplained_2w,
        possible - LAG(possible, 6, 0) OVER by_week AS possible_6w,
        attended - LAG(attended, 6, 0) OVER by_week AS attended_6w,
        authorised - LAG(authorised, 6, 0) OVER by_week AS authorised_6w,
        unauthorised - LAG(unauthorised, 6, 0) OVER by_week AS unauthorised_6w,
        illness - LAG(illness, 6, 0) OVER by_week AS illness_6w,
        late - LAG(late, 6, 0) OVER by_week AS late_6w,
        part_time - LAG(part_time, 6, 0) OVER by_week AS part_time_6w,
        unexplained - LAG(unexplained, 6, 0) OVER by_week AS unexplained_6w,
        possible - LAG(possible, 13, 0) OVER by_week AS possible_13w,
        attended - LAG(attended, 13, 0) OVER by_week AS attended_13w,
        authorised - LAG(authorised, 13, 0) OVER by_week AS authorised_13w,
        unauthorised - LAG(unauthorised, 13, 0) OVER by_week AS unauthorised_13w,
        illness - LAG(illness, 13, 0) OVER by_week AS illness_13w,
        medical - LAG(medical, 13, 0) OVER by_week AS medical_13w,
        late - LAG(late, 13, 0) OVER by_week AS late_13w,
        approved - LAG(approved, 13, 0) OVER by_week AS approved_13w,
        part_time - LAG(part_time, 13, 0) OVER by_week AS part_time_13w,
        unexplained - LAG(unexplained, 13, 0) OVER by_week AS unexplained_13w,
        suspended - LAG(suspended, 13, 0) OVER by_week AS suspended_13w,
        monday_friday_absent - LAG(monday_friday_absent, 13, 0) OVER by_week
            AS monday_friday_absent_13w,
        week_possible - LAG(week_possible, 13, 0) OVER by_week AS week_possible_13w,
        week_attended - LAG(week_attended, 13, 0) OVER by_week AS week_attended_13w,
        week2_possible - LAG(week2_possible, 13, 0) OVER by_week AS week2_possible_13w,
        possible - LAG(possible, 26, 0) OVER by_week AS possible_26w,
        attended - LAG(attended, 26, 0) OVER by_week AS attended_26w,
        unauthorised - LAG(unauthorised, 26, 0) OVER by_week AS unauthorised_26w,
        possible - LAG(possible, 52, 0) OVER by_week AS possible_52w,
        attended - LAG(attended, 52, 0) OVER by_week AS attended_52w,
        authorised - LAG(authorised, 52, 0) OVER by_week AS authorised_52w,
        unauthorised - LAG(unauthorised, 52, 0) OVER by_week AS unauthorised_52w,
        illness - LAG(illness, 52, 0) OVER by_week AS illness_52w,
        holiday - LAG(holiday, 52, 0) OVER by_week AS holiday_52w,
        year_possible,
        year_attended,
        year_unauthorised
    FROM cumulative
    WINDOW by_week AS (PARTITION BY pupil_pseudonym ORDER BY as_of_week)
)

SELECT
    w.pupil_pseudonym,
    w.as_of_week,
    w.possible_2w, w.attended_2w, w.unexplained_2w,
    w.possible_6w, w.attended_6w, w.authorised_6w, w.unauthorised_6w, w.illness_6w,
    w.late_6w, w.part_time_6w, w.unexplained_6w,
    w.possible_13w, w.attended_13w, w.authorised_13w, w.unauthorised_13w, w.illness_13w,
    w.medical_13w, w.late_13w, w.approved_13w, w.part_time_13w, w.unexplained_13w,
    w.suspended_13w, w.monday_friday_absent_13w,
    w.week_possible_13w, w.week_attended_13w, w.week2_possible_13w,
    w.possible_26w, w.attended_26w, w.unauthorised_26w,
    w.possible_52w, w.attended_52w, w.authorised_52w, w.unauthorised_52w, w.illness_52w,
    w.holiday_52w,
    w.year_possible - COALESCE(e.possible, 0) AS possible_ytd,
    w.year_attended - COALESCE(e.attended, 0) AS attended_ytd,
    w.year_unauthorised - COALESCE(e.unauthorised, 0) AS unauthorised_ytd
FROM windowed AS w
LEFT JOIN earlier_years AS e
    ON e.pupil_pseudonym = w.pupil_pseudonym AND e.academic_year = w.academic_year
-- stored in week order, so that a build for a few as-of dates reads only their weeks
ORDER BY w.as_of_week
