-- school_days: the LA's school days, read from the registers, numbered in date order.
--
-- A real LA's calendar varies (INSET days, closures, a school's own term dates), so it
-- is taken from the data. A date is a school day when the number of marks on it, other
-- than '#' (planned whole-school closure), is at least school_day_min_share of the
-- median number over the dates that have any mark. Each mark counts once: its latest
-- version (superseded_at empty). Weekends and holidays, with no or few marks, drop out.
--
-- school_day_index numbers the school days 1, 2, 3, ... so that "the n-th school day
-- after d" is index arithmetic.
WITH daily AS (
    SELECT
        m.session_date,
        SUM(CASE WHEN m.code <> '#' THEN 1 ELSE 0 END) AS marks
    FROM attendance_marks AS m
    WHERE m.superseded_at IS NULL
    GROUP BY m.session_date
),

typical AS (
    SELECT MEDIAN(marks) AS median_marks
    FROM daily
)

SELECT
    d.session_date AS school_date,
    ROW_NUMBER() OVER (ORDER BY d.session_date) AS school_day_index
FROM daily AS d
CROSS JOIN typical AS t
CROSS JOIN outcome_parameters AS p
WHERE d.marks > 0
    AND d.marks >= p.school_day_min_share * t.median_marks
