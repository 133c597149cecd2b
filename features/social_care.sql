-- social_care: children in need, child protection plans and periods looked after before t.
--
-- Point in time: an episode is used only if it started before t; it is current at t if
-- it had not ended before t (an end date on or after t is not yet known at t), and it
-- counts as ended only if its end date is before t.
WITH care_history AS (
    SELECT
        s.pupil_pseudonym,
        s.as_of,
        MAX(CASE WHEN c.episode_type = 'CIN' AND (c.end_date IS NULL OR c.end_date >= s.as_of)
            THEN 1 ELSE 0 END) AS cin_current,
        MAX(CASE WHEN c.episode_type = 'CPP' AND (c.end_date IS NULL OR c.end_date >= s.as_of)
            THEN 1 ELSE 0 END) AS cpp_current,
        MAX(CASE WHEN c.episode_type = 'CLA' AND (c.end_date IS NULL OR c.end_date >= s.as_of)
            THEN 1 ELSE 0 END) AS cla_current,
        MAX(CASE WHEN c.episode_type = 'CPP' AND (c.end_date IS NULL OR c.end_date >= s.as_of)
                AND c.cpp_category = 'NEG'
            THEN 1 ELSE 0 END) AS cpp_neglect_current,
        MAX(CASE WHEN c.episode_type = 'CPP' AND (c.end_date IS NULL OR c.end_date >= s.as_of)
                AND c.cpp_category IN ('PHY', 'EMO', 'SEX', 'MUL')
            THEN 1 ELSE 0 END) AS cpp_abuse_current,
        -- a CIN or CPP episode open at any time in the six years before t
        MAX(CASE WHEN c.episode_type IN ('CIN', 'CPP')
                AND (c.end_date IS NULL OR c.end_date >= s.as_of - INTERVAL 6 YEAR)
            THEN 1 ELSE 0 END) AS social_worker_6y,
        SUM(CASE WHEN c.episode_type = 'CIN' THEN 1 ELSE 0 END) AS cin_episodes_ever,
        SUM(CASE WHEN c.episode_type = 'CPP' THEN 1 ELSE 0 END) AS cpp_episodes_ever,
        SUM(CASE WHEN c.episode_type = 'CLA' THEN 1 ELSE 0 END) AS cla_episodes_ever,
        MAX(CASE WHEN c.end_date < s.as_of THEN c.end_date END) AS last_episode_end
    FROM spine AS s
    JOIN social_care_episodes AS c
        ON c.pupil_pseudonym = s.pupil_pseudonym
        AND c.start_date < s.as_of
    GROUP BY s.pupil_pseudonym, s.as_of
)

SELECT
    s.pupil_pseudonym,
    s.as_of,
    CAST(COALESCE(h.cin_current, 0) AS INTEGER) AS cin_current,
    CAST(COALESCE(h.cpp_current, 0) AS INTEGER) AS cpp_current,
    CAST(COALESCE(h.cla_current, 0) AS INTEGER) AS cla_current,
    CAST(COALESCE(h.cpp_neglect_current, 0) AS INTEGER) AS cpp_neglect_current,
    CAST(COALESCE(h.cpp_abuse_current, 0) AS INTEGER) AS cpp_abuse_current,
    CAST(COALESCE(h.social_worker_6y, 0) AS INTEGER) AS social_worker_6y,
    CAST(COALESCE(h.cin_episodes_ever, 0) AS INTEGER) AS cin_episodes_ever,
    CAST(COALESCE(h.cpp_episodes_ever, 0) AS INTEGER) AS cpp_episodes_ever,
    CAST(COALESCE(h.cla_episodes_ever, 0) AS INTEGER) AS cla_episodes_ever,
    CAST(date_diff('day', h.last_episode_end, s.as_of) AS DOUBLE) / 7
        AS weeks_since_social_care_ended
FROM spine AS s
LEFT JOIN care_history AS h
    ON h.pupil_pseudonym = s.pupil_pseudonym AND h.as_of = s.as_of
