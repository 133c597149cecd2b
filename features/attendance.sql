-- attendance: how much, how, and how recently a child has been missing school, as
-- known before t. Windows count the school weeks before t's week: "6 weeks" is the six
-- weeks before the as-of Monday; "year to date" is this academic year before t.
--
-- Everything that does not depend on t is precomputed once per load (catalog.yaml,
-- `precompute`). Sums come from two parts of attendance_ledger: the steady weekly series,
-- already summed over every window for every week (attendance_windows) and every
-- academic year (attendance_years), plus the adjustment rows valid at t, so that a mark
-- corrected after t is counted as it stood at t. Runs come from attendance_runs.
WITH windows AS (
    -- only the as-of weeks of this build: the table is stored in week order, so a build
    -- for a few dates reads only their part of it
    SELECT w.*
    FROM (SELECT DISTINCT as_of_week FROM spine) AS t
    JOIN attendance_windows AS w ON w.as_of_week = t.as_of_week
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
        SUM(CASE WHEN l.session_week >= s.as_of_week - 13 THEN l.monday_friday_absent ELSE 0 END) AS monday_friday_absent_13w,
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
        MAX(CASE WHEN r.kind = 'absent' AND r.position >= 3
            AND r.session_date >= s.as_of - INTERVAL 7 DAY
            THEN r.position ELSE 0 END) AS current_absence_run,
        MAX(CASE WHEN r.kind = 'absent' AND r.position >= 3 THEN r.position ELSE 0 END)
            AS longest_absence_run_26w,
        MAX(CASE WHEN r.kind = 'unexplained' AND r.position >= 3
            AND r.session_date >= s.as_of - INTERVAL 7 DAY
            THEN r.position ELSE 0 END) AS current_unexplained_run,
        MAX(CASE WHEN r.kind = 'unexplained' AND r.position >= 3
            AND r.session_date >= s.as_of - INTERVAL 91 DAY
            THEN r.position ELSE 0 END) AS longest_unexplained_run_13w,
        -- the run that reaches the Friday before t, from its first day: a child who
        -- stopped coming on Wednesday has 3 (a closed Friday gives 0)
        MAX(CASE WHEN r.kind = 'absent' AND r.session_date = s.as_of - INTERVAL 3 DAY
            THEN r.position ELSE 0 END) AS absent_to_friday,
        MAX(CASE WHEN r.kind = 'unexplained' AND r.session_date = s.as_of - INTERVAL 3 DAY
            THEN r.position ELSE 0 END) AS unexplained_to_friday
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
        COALESCE(w.monday_friday_absent_13w, 0) + COALESCE(a.monday_friday_absent_13w, 0) AS monday_friday_absent_13w,
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
        COALESCE(w.possible_ytd, 0) + COALESCE(a.possible_ytd, 0) AS possible_ytd,
        COALESCE(w.attended_ytd, 0) + COALESCE(a.attended_ytd, 0) AS attended_ytd,
        COALESCE(w.unauthorised_ytd, 0) + COALESCE(a.unauthorised_ytd, 0) AS unauthorised_ytd,
        COALESCE(p.possible, 0) + COALESCE(a.possible_prev, 0) AS possible_prev,
        COALESCE(p.attended, 0) + COALESCE(a.attended_prev, 0) AS attended_prev,
        COALESCE(p.unauthorised, 0) + COALESCE(a.unauthorised_prev, 0) AS unauthorised_prev,
        COALESCE(r.current_absence_run, 0) AS current_absence_run,
        COALESCE(r.longest_absence_run_26w, 0) AS longest_absence_run_26w,
        COALESCE(r.current_unexplained_run, 0) AS current_unexplained_run,
        COALESCE(r.longest_unexplained_run_13w, 0) AS longest_unexplained_run_13w,
        COALESCE(r.absent_to_friday, 0) AS absent_to_friday,
        COALESCE(r.unexplained_to_friday, 0) AS unexplained_to_friday
    FROM spine AS s
    LEFT JOIN windows AS w
        ON w.pupil_pseudonym = s.pupil_pseudonym AND w.as_of_week = s.as_of_week
    LEFT JOIN attendance_years AS p
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
    CAST(monday_friday_absent_13w AS DOUBLE)
        / NULLIF(possible_13w - attended_13w, 0) AS monday_friday_absence_share_13w,
    CASE WHEN possible_ytd > 0 AND attended_ytd <= 0.9 * possible_ytd THEN 1 ELSE 0 END
        AS persistently_absent_ytd,
    CASE WHEN possible_ytd > 0 AND attended_ytd <= 0.5 * possible_ytd THEN 1 ELSE 0 END
        AS severely_absent_ytd,
    CAST(possible_13w AS DOUBLE) AS possible_sessions_13w,
    current_absence_run AS current_absence_run_days,
    longest_absence_run_26w AS longest_absence_run_days_26w,
    current_unexplained_run AS current_unexplained_run_days,
    longest_unexplained_run_13w AS longest_unexplained_run_days_13w,
    absent_to_friday AS absent_days_to_last_friday,
    unexplained_to_friday AS unexplained_days_to_last_friday
FROM totals
