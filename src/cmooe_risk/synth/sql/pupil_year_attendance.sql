-- pupil_year_attendance: pupil_year_exclusions of Years 1 to 11 with the pupil's
-- possible, absent and unauthorised-absent sessions in the academic year (the final
-- version of each mark, between $first_day and $last_day; the code lists are
-- $possible, $absent and $unauthorised), for pupils with 20 possible sessions or more.
WITH final_marks AS (
    SELECT pupil_id, session_date, arg_max(code, recorded_at) AS code
    FROM attendance_marks
    WHERE session_date BETWEEN $first_day AND $last_day
    GROUP BY pupil_id, urn, session_date, session
),

sessions AS (
    SELECT
        CASE
            WHEN month(session_date) >= 9 THEN year(session_date) ELSE year(session_date) - 1
        END AS ay,
        pupil_id,
        count(*) FILTER (WHERE list_contains($possible, code)) AS possible,
        count(*) FILTER (WHERE list_contains($absent, code)) AS absent,
        count(*) FILTER (WHERE list_contains($unauthorised, code)) AS unauth
    FROM final_marks
    GROUP BY ALL
)

SELECT b.*, a.possible, a.absent, a.unauth, a.absent / a.possible AS rate
FROM pupil_year_exclusions AS b
INNER JOIN sessions AS a USING (ay, pupil_id)
WHERE b.year_group BETWEEN 1 AND 11 AND a.possible >= 20
