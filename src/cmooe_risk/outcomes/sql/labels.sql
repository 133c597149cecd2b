-- labels: one row per key (pupil_pseudonym, as_of) of outcome_keys.
--
-- The window at as-of t (a Monday, taken as the instant it starts) is the calendar
-- dates [t, t + horizon_days): (t, t + H weeks] in continuous time. Events come once
-- per pupil from outcome_events and moves out of the LA from outcome_leaving; both are
-- range-joined to the keys here, so nothing before t can make a row positive.
--
-- status, in order of precedence:
--   censored_horizon   the window is not fully observed: t + horizon_days - 1 > data_end
--   positive           an event in the window, on or before any move out of the LA in
--                      it (with leavers = negative, moves are ignored)
--   censored_left_la   leavers = exclude and a move out of the LA in the window came
--                      before any event
--   negative           otherwise
-- label is 1, 0 or NULL (censored); event_date is the earliest event in the window,
-- set for positives only.
WITH windows AS (
    SELECT
        d.as_of,
        d.as_of + p.horizon_days AS window_end,
        CASE WHEN d.as_of + p.horizon_days - 1 > p.data_end THEN 1 ELSE 0 END AS unobserved
    FROM (SELECT DISTINCT k.as_of FROM outcome_keys AS k) AS d
    CROSS JOIN outcome_parameters AS p
),

first_events AS (
    SELECT
        k.pupil_pseudonym,
        k.as_of,
        MIN(e.event_date) AS event_date
    FROM outcome_keys AS k
    JOIN windows AS w ON w.as_of = k.as_of
    JOIN outcome_events AS e
        ON e.pupil_pseudonym = k.pupil_pseudonym
        AND e.event_date >= k.as_of
        AND e.event_date < w.window_end
    GROUP BY k.pupil_pseudonym, k.as_of
),

first_leaving AS (
    SELECT
        k.pupil_pseudonym,
        k.as_of,
        MIN(l.leave_date) AS leave_date
    FROM outcome_keys AS k
    JOIN windows AS w ON w.as_of = k.as_of
    JOIN outcome_leaving AS l
        ON l.pupil_pseudonym = k.pupil_pseudonym
        AND l.leave_date >= k.as_of
        AND l.leave_date < w.window_end
    GROUP BY k.pupil_pseudonym, k.as_of
),

statuses AS (
    SELECT
        k.pupil_pseudonym,
        k.as_of,
        f.event_date,
        CASE
            WHEN w.unobserved = 1 THEN 'censored_horizon'
            WHEN f.event_date IS NOT NULL
                AND (
                    p.leavers_excluded = 0
                    OR l.leave_date IS NULL
                    OR f.event_date <= l.leave_date
                )
                THEN 'positive'
            WHEN p.leavers_excluded = 1 AND l.leave_date IS NOT NULL THEN 'censored_left_la'
            ELSE 'negative'
        END AS status
    FROM outcome_keys AS k
    JOIN windows AS w ON w.as_of = k.as_of
    CROSS JOIN outcome_parameters AS p
    LEFT JOIN first_events AS f
        ON f.pupil_pseudonym = k.pupil_pseudonym AND f.as_of = k.as_of
    LEFT JOIN first_leaving AS l
        ON l.pupil_pseudonym = k.pupil_pseudonym AND l.as_of = k.as_of
)

SELECT
    pupil_pseudonym,
    as_of,
    CAST(CASE status WHEN 'positive' THEN 1 WHEN 'negative' THEN 0 END AS TINYINT) AS label,
    status,
    CASE WHEN status = 'positive' THEN event_date END AS event_date
FROM statuses
