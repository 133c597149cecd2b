-- registers: elective home education, children missing education, medical needs (s.19)
-- and reduced timetables, from the LA's registers, before t.
--
-- Point in time: an episode is used only if it started before t; it is current (open)
-- at t if it had not closed before t (a close date on or after t is not yet known at t),
-- and it counts as closed only if its end date is before t.
WITH register_history AS (
    SELECT
        s.pupil_pseudonym,
        s.as_of,
        MAX(CASE WHEN r.event_type = 'EHE' THEN 1 ELSE 0 END) AS ehe_ever,
        MAX(CASE WHEN r.event_type = 'EHE' AND (r.end_date IS NULL OR r.end_date >= s.as_of)
            THEN 1 ELSE 0 END) AS ehe_current,
        MAX(CASE WHEN r.event_type = 'EHE' AND r.end_date < s.as_of THEN 1 ELSE 0 END)
            AS ehe_ended,
        SUM(CASE WHEN r.event_type = 'CME_REFERRAL' THEN 1 ELSE 0 END) AS cme_referrals_ever,
        SUM(CASE WHEN r.event_type = 'CME_REFERRAL'
                AND r.start_date >= s.as_of - INTERVAL 364 DAY
            THEN 1 ELSE 0 END) AS cme_referrals_52w,
        MAX(CASE WHEN r.event_type = 'CME_REFERRAL'
                AND (r.end_date IS NULL OR r.end_date >= s.as_of)
            THEN 1 ELSE 0 END) AS cme_open,
        MAX(CASE WHEN r.event_type = 'MEDICAL_S19' THEN 1 ELSE 0 END) AS medical_s19_ever,
        MAX(CASE WHEN r.event_type = 'MEDICAL_S19'
                AND (r.end_date IS NULL OR r.end_date >= s.as_of)
            THEN 1 ELSE 0 END) AS medical_s19_current,
        SUM(CASE WHEN r.event_type = 'REDUCED_TIMETABLE' THEN 1 ELSE 0 END)
            AS reduced_timetables_ever,
        MAX(CASE WHEN r.event_type = 'REDUCED_TIMETABLE'
                AND (r.end_date IS NULL OR r.end_date >= s.as_of)
            THEN r.start_date END) AS current_reduced_timetable_start
    FROM spine AS s
    JOIN register_events AS r
        ON r.pupil_pseudonym = s.pupil_pseudonym
        AND r.start_date < s.as_of
    WHERE r.event_type IN ('EHE', 'CME_REFERRAL', 'MEDICAL_S19', 'REDUCED_TIMETABLE')
    GROUP BY s.pupil_pseudonym, s.as_of
)

SELECT
    s.pupil_pseudonym,
    s.as_of,
    CAST(COALESCE(h.ehe_ever, 0) AS INTEGER) AS ehe_ever,
    CAST(COALESCE(h.ehe_current, 0) AS INTEGER) AS ehe_current,
    CAST(COALESCE(h.ehe_ended, 0) AS INTEGER) AS ehe_ended,
    CAST(COALESCE(h.cme_referrals_ever, 0) AS INTEGER) AS cme_referrals_ever,
    CAST(COALESCE(h.cme_referrals_52w, 0) AS INTEGER) AS cme_referrals_52w,
    CAST(COALESCE(h.cme_open, 0) AS INTEGER) AS cme_open,
    CAST(COALESCE(h.medical_s19_ever, 0) AS INTEGER) AS medical_s19_ever,
    CAST(COALESCE(h.medical_s19_current, 0) AS INTEGER) AS medical_s19_current,
    CAST(COALESCE(h.reduced_timetables_ever, 0) AS INTEGER) AS reduced_timetables_ever,
    CASE WHEN h.current_reduced_timetable_start IS NOT NULL THEN 1 ELSE 0 END
        AS reduced_timetable_current,
    CAST(date_diff('day', h.current_reduced_timetable_start, s.as_of) AS DOUBLE) / 7
        AS reduced_timetable_weeks
FROM spine AS s
LEFT JOIN register_history AS h
    ON h.pupil_pseudonym = s.pupil_pseudonym AND h.as_of = s.as_of
