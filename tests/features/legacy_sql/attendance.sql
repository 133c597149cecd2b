-- attendance: how much, how, and how recently a child has been missing school, as
-- known before t. Windows count the school weeks before t's week: "6 weeks" is the six
-- weeks before the as-of Monday; "year to date" is this academic year before t.
--
-- Sums come from two parts of attendance_ledger: the steady weekly series (windowed
-- over a dense pupil-by-week grid, all as-of dates at once) plus the adjustment rows
-- valid at t, so a mark corrected after t is counted as it stood at t.
WITH steady AS (
    SELECT
        pupil_pseudonym,
        session_week AS week,
        academic_year,
        possible, attended, authorised, unauthorised, illness, medical, late, approved,
        part_time, unexplained, holiday, suspended,
        monday_possible, monday_absent, friday_possible, friday_absent,
        CAST(session_week AS DOUBLE) * possible AS week_possible,
        CAST(session_week AS DOUBLE) * attended AS week_attended,
        CAST(session_week AS DOUBLE) * session_week * possible AS week2_possible
    FROM attendance_ledger
    WHERE to_week IS NULL
),

-- One row per pupil per week, weeks without marks included, so that a window of k
-- weeks is a fixed number of rows: its sum is the difference of two cumulative sums.
weekly AS (
    SELECT
        pupil_pseudonym,
        week,
        SUM(possible) AS possible,
        SUM(attended) AS attended,
        SUM(authorised) AS authorised,
        SUM(unauthorised) AS unauthorised,
        SUM(illness) AS illness,
        SUM(medical) AS medical,
        SUM(late) AS late,
        SUM(approved) AS approved,
        SUM(part_time) AS part_time,
        SUM(unexplained) AS unexplained,
        SUM(holiday) AS holiday,
        SUM(suspended) AS suspended,
        SUM(monday_possible) AS monday_possible,
        SUM(monday_absent) AS monday_absent,
        SUM(friday_possible) AS friday_possible,
        SUM(friday_absent) AS friday_absent,
        SUM(week_possible) AS week_possible,
        SUM(week_attended) AS week_attended,
        SUM(week2_possible) AS week2_possible
    FROM steady
    GROUP BY pupil_pseudonym, week
),

grid AS (
    SELECT
        p.pupil_pseudonym,
        w.week,
        COALESCE(x.possible, 0) AS possible,
        COALESCE(x.attended, 0) AS attended,
        COALESCE(x.authorised, 0) AS authorised,
        COALESCE(x.unauthorised, 0) AS unauthorised,
        COALESCE(x.illness, 0) AS illness,
        COALESCE(x.medical, 0) AS medical,
        COALESCE(x.late, 0) AS late,
        COALESCE(x.approved, 0) AS approved,
        COALESCE(x.part_time, 0) AS part_time,
        COALESCE(x.unexplained, 0) AS unexplained,
        COALESCE(x.holiday, 0) AS holiday,
        COALESCE(x.suspended, 0) AS suspended,
        COALESCE(x.monday_possible, 0) AS monday_possible,
        COALESCE(x.monday_absent, 0) AS monday_absent,
        COALESCE(x.friday_possible, 0) AS friday_possible,
        COALESCE(x.friday_absent, 0) AS friday_absent,
        COALESCE(x.week_possible, 0) AS week_possible,
        COALESCE(x.week_attended, 0) AS week_attended,
        COALESCE(x.week2_possible, 0) AS week2_possible
    FROM (SELECT DISTINCT pupil_pseudonym FROM spine) AS p
    CROSS JOIN feature_weeks AS w
    LEFT JOIN weekly AS x ON x.pupil_pseudonym = p.pupil_pseudonym AND x.week = w.week
),

cumulative AS (
    SELECT
        pupil_pseudonym,
        week,
        SUM(possible) OVER running AS possible,
        SUM(attended) OVER running AS attended,
        SUM(authorised) OVER running AS authorised,
        SUM(unauthorised) OVER running AS unauthorised,
        SUM(illness) OVER running AS illness,
        SUM(medical) OVER running AS medical,
        SUM(late) OVER running AS late,
        SUM(approved) OVER running AS approved,
        SUM(part_time) OVER running AS part_time,
        SUM(unexplained) OVER running AS unexplained,
        SUM(holiday) OVER running AS holiday,
        SUM(suspended) OVER running AS suspended,
        SUM(monday_possible) OVER running AS monday_possible,
        SUM(monday_absent) OVER running AS monday_absent,
        SUM(friday_possible) OVER running AS friday_possible,
        SUM(friday_absent) OVER running AS friday_absent,
        SUM(week_possible) OVER running AS week_possible,
        SUM(week_attended) OVER running AS week_attended,
        SUM(week2_possible) OVER running AS week2_possible
    FROM grid
    WINDOW running AS (
        PARTITION BY pupil_pseudonym ORDER BY week ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    )
),

-- The k weeks before week T: cumulative sum at T - 1 minus cumulative sum at T - 1 - k.
windowed AS (
    SELECT
        pupil_pseudonym,
        week AS as_of_week,
        LAG(possible, 1, 0) OVER by_week - LAG(possible, 3, 0) OVER by_week AS possible_2w,
        LAG(attended, 1, 0) OVER by_week - LAG(attended, 3, 0) OVER by_week AS attended_2w,
        LAG(unexplained, 1, 0) OVER by_week - LAG(unexplained, 3, 0) OVER by_week AS unexplained_2w,
        LAG(possible, 1, 0) OVER by_week - LAG(possible, 7, 0) OVER by_week AS possible_6w,
        LAG(attended, 1, 0) OVER by_week - LAG(attended, 7, 0) OVER by_week AS attended_6w,
        LAG(authorised, 1, 0) OVER by_week - LAG(authorised, 7, 0) OVER by_week AS authorised_6w,
        LAG(unauthorised, 1, 0) OVER by_week - LAG(unauthorised, 7, 0) OVER by_week AS unauthorised_6w,
        LAG(illness, 1, 0) OVER by_week - LAG(illness, 7, 0) OVER by_week AS illness_6w,
        LAG(late, 1, 0) OVER by_week - LAG(late, 7, 0) OVER by_week AS late_6w,
        LAG(part_time, 1, 0) OVER by_week - LAG(part_time, 7, 0) OVER by_week AS part_time_6w,
        LAG(unexplained, 1, 0) OVER by_week - LAG(unexplained, 7, 0) OVER by_week AS unexplained_6w,
        LAG(possible, 1, 0) OVER by_week - LAG(possible, 14, 0) OVER by_week AS possible_13w,
        LAG(attended, 1, 0) OVER by_week - LAG(attended, 14, 0) OVER by_week AS attended_13w,
        LAG(authorised, 1, 0) OVER by_week - LAG(authorised, 14, 0) OVER by_week AS authorised_13w,
        LAG(unauthorised, 1, 0) OVER by_week - LAG(unauthorised, 14, 0) OVER by_week AS unauthorised_13w,
        LAG(illness, 1, 0) OVER by_week - LAG(illness, 14, 0) OVER by_week AS illness_13w,
        LAG(medical, 1, 0) OVER by_week - LAG(medical, 14, 0) OVER by_week AS medical_13w,
        LAG(late, 1, 0) OVER by_week - LAG(late, 14, 0) OVER by_week AS late_13w,
        LAG(approved, 1, 0) OVER by_week - LAG(approved, 14, 0) OVER by_week AS approved_13w,
        LAG(part_time, 1, 0) OVER by_week - LAG(part_time, 14, 0) OVER by_week AS part_time_13w,
        LAG(unexplained, 1, 0) OVER by_week - LAG(unexplained, 14, 0) OVER by_week AS unexplained_13w,
        LAG(suspended, 1, 0) OVER by_week - LAG(suspended, 14, 0) OVER by_week AS suspended_13w,
        LAG(monday_possible, 1, 0) OVER by_week - LAG(monday_possible, 14, 0) OVER by_week AS monday_possible_13w,
        LAG(monday_absent, 1, 0) OVER by_week - LAG(monday_absent, 14, 0) OVER by_week AS monday_absent_13w,
        LAG(friday_possible, 1, 0) OVER by_week - LAG(friday_possible, 14, 0) OVER by_week AS friday_possible_13w,
        LAG(friday_absent, 1, 0) OVER by_week - LAG(friday_absent, 14, 0) OVER by_week AS friday_absent_13w,
        LAG(week_possible, 1, 0) OVER by_week - LAG(week_possible, 14, 0) OVER by_week AS week_possible_13w,
        LAG(week_attended, 1, 0) OVER by_week - LAG(week_attended, 14, 0) OVER by_week AS week_attended_13w,
        LAG(week2_possible, 1, 0) OVER by_week - LAG(week2_possible, 14, 0) OVER by_week AS week2_possible_13w,
        LAG(possible, 1, 0) OVER by_week - LAG(possible, 27, 0) OVER by_week AS possible_26w,
        LAG(attended, 1, 0) OVER by_week - LAG(attended, 27, 0) OVER by_week AS attended_26w,
        LAG(unauthorised, 1, 0) OVER by_week - LAG(unauthorised, 27, 0) OVER by_week AS unauthorised_26w,
        LAG(possible, 1, 0) OVER by_week - LAG(possible, 53, 0) OVER by_week AS possible_52w,
        LAG(attended, 1, 0) OVER by_week - LAG(attended, 53, 0) OVER by_week AS attended_52w,
        LAG(authorised, 1, 0) OVER by_week - LAG(authorised, 53, 0) OVER by_week AS authorised_52w,
        LAG(unauthorised, 1, 0) OVER by_week - LAG(unauthorised, 53, 0) OVER by_week AS unauthorised_52w,
        LAG(illness, 1, 0) OVER by_week - LAG(illness, 53, 0) OVER by_week AS illness_52w,
        LAG(holiday, 1, 0) OVER by_week - LAG(holiday, 53, 0) OVER by_week AS holiday_52w
    FROM cumulative
    WINDOW by_week AS (PARTITION BY pupil_pseudonym ORDER BY week)
),

-- Year to date: this academic year's weeks before T, by the academic year of the marks.
year_to_date AS (
    SELECT pupil_pseudonym, as_of_week, possible_ytd, attended_ytd, unauthorised_ytd
    FROM (
        SELECT
            pupil_pseudonym,
            week AS as_of_week,
            is_spine,
            SUM(possible) OVER ytd AS possible_ytd,
            SUM(attended) OVER ytd AS attended_ytd,
            SUM(unauthorised) OVER ytd AS unauthorised_ytd
        FROM (
            SELECT pupil_pseudonym, week, academic_year, 0 AS is_spine,
                possible, attended, unauthorised
            FROM steady
            UNION ALL
            SELECT pupil_pseudonym, as_of_week, academic_year, 1, 0, 0, 0
            FROM spine
        ) AS series
        WINDOW ytd AS (
            PARTITION BY pupil_pseudonym, academic_year ORDER BY week
            RANGE BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
        )
    ) AS ranged
    WHERE is_spine = 1
),

previous_year AS (
    SELECT
        pupil_pseudonym,
        academic_year,
        SUM(possible) AS possible,
        SUM(attended) AS attended,
        SUM(unauthorised) AS unauthorised
    FROM steady
    GROUP BY pupil_pseudonym, academic_year
),

adjustments AS (
    SELECT
        s.pupil_pseudonym,
        s.as_of,
        SUM(CASE WHEN l.session_week >= s.as_of_week - 2 THEN l.possible ELSE 0 END) AS possible_2w,
        SUM(CASE WHEN l.session_week >= s.as_of_week - 2 THEN l.attended ELSE 0 END) AS attended_2w,
        SUM(CASE WHEN l.session_week >= s.as_of_week - 2 THEN l.unexplained ELSE 0 END) AS unexplained_2w,
        SUM(CASE WHEN l.session_week >= s.as_of_week - 6 THEN l.possible ELSE 0 END) AS possible_6w,
        SUM(CASE WHEN l.session_week >= s.as_of_week - 6 THEN l.attended ELSE 0 END) AS attended_6w,
        SUM(CASE WHEN l.session_week >= s.as_of_week - 6 THEN l.authorised ELSE 0 END) AS authorised_6w,
        SUM(CASE WHEN l.session_week >= s.as_of_week - 6 THEN l.unauthorised ELSE 0 END) AS unauthorised_6w,
        SUM(CASE WHEN l.session_week >= s.as_of_week - 6 THEN l.illness ELSE 0 END) AS illness_6w,
        SUM(CASE WHEN l.session_week >= s.as_of_week - 6 THEN l.late ELSE 0 END) AS late_6w,
        SUM(CASE WHEN l.session_week >= s.as_of_week - 6 THEN l.part_time ELSE 0 END) AS part_time_6w,
        SUM(CASE WHEN l.session_week >= s.as_of_week - 6 THEN l.unexplained ELSE 0 END) AS unexplained_6w,
        SUM(CASE WHEN l.session_week >= s.as_of_week - 13 THEN l.possible ELSE 0 END) AS possible_13w,
        SUM(CASE WHEN l.session_week >= s.as_of_week - 13 THEN l.attended ELSE 0 END) AS attended_13w,
        SUM(CASE WHEN l.session_week >= s.as_of_week - 13 THEN l.authorised ELSE 0 END) AS authorised_13w,
        SUM(CASE WHEN l.session_week >= s.as_of_week - 13 THEN l.unauthorised ELSE 0 END) AS unauthorised_13w,
        SUM(CASE WHEN l.session_week >= s.as_of_week - 13 THEN l.illness ELSE 0 END) AS illness_13w,
        SUM(CASE WHEN l.session_week >= s.as_of_week - 13 THEN l.medical ELSE 0 END) AS medical_13w,
        SUM(CASE WHEN l.session_week >= s.as_of_week - 13 THEN l.late ELSE 0 END) AS late_13w,
        SUM(CASE WHEN l.session_week >= s.as_of_week - 13 THEN l.approved ELSE 0 END) AS approved_13w,
        SUM(CASE WHEN l.session_week >= s.as_of_week - 13 THEN l.part_time ELSE 0 END) AS part_time_13w,
        SUM(CASE WHEN l.session_week >= s.as_of_week - 13 THEN l.unexplained ELSE 0 END) AS unexplained_13w,
        SUM(CASE WHEN l.session_week >= s.as_of_week - 13 THEN l.suspended ELSE 0 END) AS suspended_13w,
        SUM(CASE WHEN l.session_week >= s.as_of_week - 13 THEN l.monday_possible ELSE 0 END) AS monday_possible_13w,
        SUM(CASE WHEN l.session_week >= s.as_of_week - 13 THEN l.monday_absent ELSE 0 END) AS monday_absent_13w,
        SUM(CASE WHEN l.session_week >= s.as_of_week - 13 THEN l.friday_possible ELSE 0 END) AS friday_possible_13w,
        SUM(CASE WHEN l.session_week >= s.as_of_week - 13 THEN l.friday_absent ELSE 0 END) AS friday_absent_13w,
        SUM(CASE WHEN l.session_week >= s.as_of_week - 13 THEN CAST(l.session_week AS DOUBLE) * l.possible ELSE 0 END) AS week_possible_13w,
        SUM(CASE WHEN l.session_week >= s.as_of_week - 13 THEN CAST(l.session_week AS DOUBLE) * l.attended ELSE 0 END) AS week_attended_13w,
        SUM(CASE WHEN l.session_week >= s.as_of_week - 13 THEN CAST(l.session_week AS DOUBLE) * l.session_week * l.possible ELSE 0 END) AS week2_possible_13w,
        SUM(CASE WHEN l.session_week >= s.as_of_week - 26 THEN l.possible ELSE 0 END) AS possible_26w,
        SUM(CASE WHEN l.session_week >= s.as_of_week - 26 THEN l.attended ELSE 0 END) AS attended_26w,
        SUM(CASE WHEN l.session_week >= s.as_of_week - 26 THEN l.unauthorised ELSE 0 END) AS unauthorised_26w,
        SUM(CASE WHEN l.session_week >= s.as_of_week - 52 THEN l.possible ELSE 0 END) AS possible_52w,
        SUM(CASE WHEN l.session_week >= s.as_of_week - 52 THEN l.attended ELSE 0 END) AS attended_52w,
        SUM(CASE WHEN l.session_week >= s.as_of_week - 52 THEN l.authorised ELSE 0 END) AS authorised_52w,
        SUM(CASE WHEN l.session_week >= s.as_of_week - 52 THEN l.unauthorised ELSE 0 END) AS unauthorised_52w,
        SUM(CASE WHEN l.session_week >= s.as_of_week - 52 THEN l.illness ELSE 0 END) AS illness_52w,
        SUM(CASE WHEN l.session_week >= s.as_of_week - 52 THEN l.holiday ELSE 0 END) AS holiday_52w,
        SUM(CASE WHEN l.academic_year = s.academic_year THEN l.possible ELSE 0 END) AS possible_ytd,
        SUM(CASE WHEN l.academic_year = s.academic_year THEN l.attended ELSE 0 END) AS attended_ytd,
        SUM(CASE WHEN l.academic_year = s.academic_year THEN l.unauthorised ELSE 0 END) AS unauthorised_ytd,
        SUM(CASE WHEN l.academic_year = s.academic_year - 1 THEN l.possible ELSE 0 END) AS possible_prev,
        SUM(CASE WHEN l.academic_year = s.academic_year - 1 THEN l.attended ELSE 0 END) AS attended_prev,
        SUM(CASE WHEN l.academic_year = s.academic_year - 1 THEN l.unauthorised ELSE 0 END) AS unauthorised_prev
    FROM spine AS s
    JOIN attendance_ledger AS l
        ON l.pupil_pseudonym = s.pupil_pseudonym
        AND l.to_week IS NOT NULL
        AND s.as_of_week BETWEEN l.from_week AND l.to_week
        AND l.session_week < s.as_of_week
    GROUP BY s.pupil_pseudonym, s.as_of
),

runs AS (
    SELECT
        s.pupil_pseudonym,
        s.as_of,
        MAX(CASE WHEN r.kind = 'absent' AND r.session_date >= s.as_of - INTERVAL 7 DAY
            THEN r.position ELSE 0 END) AS current_absence_run,
        MAX(CASE WHEN r.kind = 'absent' THEN r.position ELSE 0 END) AS longest_absence_run_26w,
        MAX(CASE WHEN r.kind = 'unexplained' AND r.session_date >= s.as_of - INTERVAL 7 DAY
            THEN r.position ELSE 0 END) AS current_unexplained_run,
        MAX(CASE WHEN r.kind = 'unexplained' AND r.session_date >= s.as_of - INTERVAL 91 DAY
            THEN r.position ELSE 0 END) AS longest_unexplained_run_13w
    FROM spine AS s
    JOIN attendance_runs AS r
        ON r.pupil_pseudonym = s.pupil_pseudonym
        AND r.session_date < s.as_of
        AND r.session_date >= s.as_of - INTERVAL 182 DAY
    GROUP BY s.pupil_pseudonym, s.as_of
),

totals AS (
    SELECT
        s.pupil_pseudonym,
        s.as_of,
        COALESCE(w.possible_2w, 0) + COALESCE(a.possible_2w, 0) AS possible_2w,
        COALESCE(w.attended_2w, 0) + COALESCE(a.attended_2w, 0) AS attended_2w,
        COALESCE(w.unexplained_2w, 0) + COALESCE(a.unexplained_2w, 0) AS unexplained_2w,
        COALESCE(w.possible_6w, 0) + COALESCE(a.possible_6w, 0) AS possible_6w,
        COALESCE(w.attended_6w, 0) + COALESCE(a.attended_6w, 0) AS attended_6w,
        COALESCE(w.authorised_6w, 0) + COALESCE(a.authorised_6w, 0) AS authorised_6w,
        COALESCE(w.unauthorised_6w, 0) + COALESCE(a.unauthorised_6w, 0) AS unauthorised_6w,
        COALESCE(w.illness_6w, 0) + COALESCE(a.illness_6w, 0) AS illness_6w,
        COALESCE(w.late_6w, 0) + COALESCE(a.late_6w, 0) AS late_6w,
        COALESCE(w.part_time_6w, 0) + COALESCE(a.part_time_6w, 0) AS part_time_6w,
        COALESCE(w.unexplained_6w, 0) + COALESCE(a.unexplained_6w, 0) AS unexplained_6w,
        COALESCE(w.possible_13w, 0) + COALESCE(a.possible_13w, 0) AS possible_13w,
        COALESCE(w.attended_13w, 0) + COALESCE(a.attended_13w, 0) AS attended_13w,
        COALESCE(w.authorised_13w, 0) + COALESCE(a.authorised_13w, 0) AS authorised_13w,
        COALESCE(w.unauthorised_13w, 0) + COALESCE(a.unauthorised_13w, 0) AS unauthorised_13w,
        COALESCE(w.illness_13w, 0) + COALESCE(a.illness_13w, 0) AS illness_13w,
        COALESCE(w.medical_13w, 0) + COALESCE(a.medical_13w, 0) AS medical_13w,
        COALESCE(w.late_13w, 0) + COALESCE(a.late_13w, 0) AS late_13w,
        COALESCE(w.approved_13w, 0) + COALESCE(a.approved_13w, 0) AS approved_13w,
        COALESCE(w.part_time_13w, 0) + COALESCE(a.part_time_13w, 0) AS part_time_13w,
        COALESCE(w.unexplained_13w, 0) + COALESCE(a.unexplained_13w, 0) AS unexplained_13w,
        COALESCE(w.suspended_13w, 0) + COALESCE(a.suspended_13w, 0) AS suspended_13w,
        COALESCE(w.monday_possible_13w, 0) + COALESCE(a.monday_possible_13w, 0) AS monday_possible_13w,
        COALESCE(w.monday_absent_13w, 0) + COALESCE(a.monday_absent_13w, 0) AS monday_absent_13w,
        COALESCE(w.friday_possible_13w, 0) + COALESCE(a.friday_possible_13w, 0) AS friday_possible_13w,
        COALESCE(w.friday_absent_13w, 0) + COALESCE(a.friday_absent_13w, 0) AS friday_absent_13w,
        COALESCE(w.week_possible_13w, 0) + COALESCE(a.week_possible_13w, 0) AS week_possible_13w,
        COALESCE(w.week_attended_13w, 0) + COALESCE(a.week_attended_13w, 0) AS week_attended_13w,
        COALESCE(w.week2_possible_13w, 0) + COALESCE(a.week2_possible_13w, 0) AS week2_possible_13w,
        COALESCE(w.possible_26w, 0) + COALESCE(a.possible_26w, 0) AS possible_26w,
        COALESCE(w.attended_26w, 0) + COALESCE(a.attended_26w, 0) AS attended_26w,
        COALESCE(w.unauthorised_26w, 0) + COALESCE(a.unauthorised_26w, 0) AS unauthorised_26w,
        COALESCE(w.possible_52w, 0) + COALESCE(a.possible_52w, 0) AS possible_52w,
        COALESCE(w.attended_52w, 0) + COALESCE(a.attended_52w, 0) AS attended_52w,
        COALESCE(w.authorised_52w, 0) + COALESCE(a.authorised_52w, 0) AS authorised_52w,
        COALESCE(w.unauthorised_52w, 0) + COALESCE(a.unauthorised_52w, 0) AS unauthorised_52w,
        COALESCE(w.illness_52w, 0) + COALESCE(a.illness_52w, 0) AS illness_52w,
        COALESCE(w.holiday_52w, 0) + COALESCE(a.holiday_52w, 0) AS holiday_52w,
        COALESCE(y.possible_ytd, 0) + COALESCE(a.possible_ytd, 0) AS possible_ytd,
        COALESCE(y.attended_ytd, 0) + COALESCE(a.attended_ytd, 0) AS attended_ytd,
        COALESCE(y.unauthorised_ytd, 0) + COALESCE(a.unauthorised_ytd, 0) AS unauthorised_ytd,
        COALESCE(p.possible, 0) + COALESCE(a.possible_prev, 0) AS possible_prev,
        COALESCE(p.attended, 0) + COALESCE(a.attended_prev, 0) AS attended_prev,
        COALESCE(p.unauthorised, 0) + COALESCE(a.unauthorised_prev, 0) AS unauthorised_prev,
        COALESCE(r.current_absence_run, 0) AS current_absence_run,
        COALESCE(r.longest_absence_run_26w, 0) AS longest_absence_run_26w,
        COALESCE(r.current_unexplained_run, 0) AS current_unexplained_run,
        COALESCE(r.longest_unexplained_run_13w, 0) AS longest_unexplained_run_13w
    FROM spine AS s
    LEFT JOIN windowed AS w
        ON w.pupil_pseudonym = s.pupil_pseudonym AND w.as_of_week = s.as_of_week
    LEFT JOIN year_to_date AS y
        ON y.pupil_pseudonym = s.pupil_pseudonym AND y.as_of_week = s.as_of_week
    LEFT JOIN previous_year AS p
        ON p.pupil_pseudonym = s.pupil_pseudonym AND p.academic_year = s.academic_year - 1
    LEFT JOIN adjustments AS a
        ON a.pupil_pseudonym = s.pupil_pseudonym AND a.as_of = s.as_of
    LEFT JOIN runs AS r
        ON r.pupil_pseudonym = s.pupil_pseudonym AND r.as_of = s.as_of
)

SELECT
    pupil_pseudonym,
    as_of,
    CAST(attended_2w AS DOUBLE) / NULLIF(possible_2w, 0) AS attendance_rate_2w,
    CAST(attended_6w AS DOUBLE) / NULLIF(possible_6w, 0) AS attendance_rate_6w,
    CAST(attended_13w AS DOUBLE) / NULLIF(possible_13w, 0) AS attendance_rate_13w,
    CAST(attended_26w AS DOUBLE) / NULLIF(possible_26w, 0) AS attendance_rate_26w,
    CAST(attended_52w AS DOUBLE) / NULLIF(possible_52w, 0) AS attendance_rate_52w,
    CAST(attended_ytd AS DOUBLE) / NULLIF(possible_ytd, 0) AS attendance_rate_ytd,
    CAST(attended_prev AS DOUBLE) / NULLIF(possible_prev, 0) AS attendance_rate_previous_year,
    CAST(attended_6w AS DOUBLE) / NULLIF(possible_6w, 0)
        - CAST(attended_13w - attended_6w AS DOUBLE) / NULLIF(possible_13w - possible_6w, 0)
        AS attendance_change_6w,
    CAST(attended_ytd AS DOUBLE) / NULLIF(possible_ytd, 0)
        - CAST(attended_prev AS DOUBLE) / NULLIF(possible_prev, 0) AS attendance_change_vs_previous_year,
    (week_attended_13w - week_possible_13w * attended_13w / NULLIF(possible_13w, 0))
        / NULLIF(week2_possible_13w - week_possible_13w * week_possible_13w / NULLIF(possible_13w, 0), 0)
        AS attendance_trend_13w,
    CAST(authorised_6w AS DOUBLE) / NULLIF(possible_6w, 0) AS authorised_absence_rate_6w,
    CAST(unauthorised_6w AS DOUBLE) / NULLIF(possible_6w, 0) AS unauthorised_absence_rate_6w,
    CAST(authorised_13w AS DOUBLE) / NULLIF(possible_13w, 0) AS authorised_absence_rate_13w,
    CAST(unauthorised_13w AS DOUBLE) / NULLIF(possible_13w, 0) AS unauthorised_absence_rate_13w,
    CAST(unauthorised_26w AS DOUBLE) / NULLIF(possible_26w, 0) AS unauthorised_absence_rate_26w,
    CAST(authorised_52w AS DOUBLE) / NULLIF(possible_52w, 0) AS authorised_absence_rate_52w,
    CAST(unauthorised_52w AS DOUBLE) / NULLIF(possible_52w, 0) AS unauthorised_absence_rate_52w,
    CAST(unauthorised_ytd AS DOUBLE) / NULLIF(possible_ytd, 0) AS unauthorised_absence_rate_ytd,
    CAST(unauthorised_prev AS DOUBLE) / NULLIF(possible_prev, 0) AS unauthorised_absence_rate_previous_year,
    CAST(illness_6w AS DOUBLE) / NULLIF(possible_6w, 0) AS illness_rate_6w,
    CAST(illness_13w AS DOUBLE) / NULLIF(possible_13w, 0) AS illness_rate_13w,
    CAST(illness_52w AS DOUBLE) / NULLIF(possible_52w, 0) AS illness_rate_52w,
    CAST(medical_13w AS DOUBLE) / NULLIF(possible_13w, 0) AS medical_appointment_rate_13w,
    CAST(late_6w AS DOUBLE) / NULLIF(possible_6w, 0) AS late_rate_6w,
    CAST(late_13w AS DOUBLE) / NULLIF(possible_13w, 0) AS late_rate_13w,
    CAST(approved_13w AS DOUBLE) / NULLIF(possible_13w, 0) AS approved_activity_rate_13w,
    CAST(part_time_6w AS DOUBLE) / NULLIF(possible_6w, 0) AS part_time_timetable_share_6w,
    CAST(part_time_13w AS DOUBLE) / NULLIF(possible_13w, 0) AS part_time_timetable_share_13w,
    CAST(unexplained_2w AS DOUBLE) AS unexplained_absence_sessions_2w,
    CAST(unexplained_6w AS DOUBLE) / NULLIF(possible_6w, 0) AS unexplained_absence_rate_6w,
    CAST(unexplained_13w AS DOUBLE) / NULLIF(possible_13w, 0) AS unexplained_absence_rate_13w,
    CAST(holiday_52w AS DOUBLE) AS term_time_holiday_sessions_52w,
    CAST(suspended_13w AS DOUBLE) AS suspension_absence_sessions_13w,
    CAST(monday_absent_13w + friday_absent_13w AS DOUBLE)
        / NULLIF(possible_13w - attended_13w, 0) AS monday_friday_absence_share_13w,
    CASE WHEN possible_ytd > 0 AND attended_ytd <= 0.9 * possible_ytd THEN 1 ELSE 0 END
        AS persistently_absent_ytd,
    CASE WHEN possible_ytd > 0 AND attended_ytd <= 0.5 * possible_ytd THEN 1 ELSE 0 END
        AS severely_absent_ytd,
    CAST(possible_13w AS DOUBLE) AS possible_sessions_13w,
    current_absence_run AS current_absence_run_days,
    longest_absence_run_26w AS longest_absence_run_days_26w,
    current_unexplained_run AS current_unexplained_run_days,
    longest_unexplained_run_13w AS longest_unexplained_run_days_13w
FROM totals
