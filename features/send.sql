-- send: special educational needs provision, primary need and EHC plans before t.
--
-- Point in time: an episode is used only if it started before t; it is current at t if
-- it had not ended before t (an end date on or after t is not yet known at t). EHC
-- request and issue dates count only when they fall before t.
WITH send_history AS (
    SELECT
        s.pupil_pseudonym,
        s.as_of,
        MAX(CASE WHEN e.end_date IS NULL OR e.end_date >= s.as_of THEN e.provision END)
            AS current_provision,
        MAX(CASE WHEN e.end_date IS NULL OR e.end_date >= s.as_of THEN e.primary_need END)
            AS current_need,
        MAX(CASE WHEN (e.end_date IS NULL OR e.end_date >= s.as_of) AND e.provision = 'K'
            THEN e.start_date END) AS current_support_start,
        MAX(CASE WHEN e.ehcp_issued_date < s.as_of THEN e.ehcp_issued_date END)
            AS last_ehcp_issued,
        MAX(CASE WHEN e.ehcp_request_date < s.as_of THEN e.ehcp_request_date END)
            AS last_ehcp_request
    FROM spine AS s
    JOIN send_episodes AS e
        ON e.pupil_pseudonym = s.pupil_pseudonym
        AND e.start_date < s.as_of
    GROUP BY s.pupil_pseudonym, s.as_of
)

SELECT
    s.pupil_pseudonym,
    s.as_of,
    CASE WHEN h.current_provision = 'K' THEN 1 ELSE 0 END AS sen_support_current,
    CASE WHEN h.current_provision = 'E' THEN 1 ELSE 0 END AS ehcp_current,
    CASE WHEN h.current_provision IN ('K', 'E') AND h.current_need = 'SEMH' THEN 1 ELSE 0 END
        AS sen_need_semh,
    CASE WHEN h.current_provision IN ('K', 'E') AND h.current_need = 'ASD' THEN 1 ELSE 0 END
        AS sen_need_asd,
    CASE WHEN h.current_provision IN ('K', 'E') AND h.current_need = 'SLCN' THEN 1 ELSE 0 END
        AS sen_need_slcn,
    CASE WHEN h.current_provision IN ('K', 'E')
            AND h.current_need IN ('SPLD', 'MLD', 'SLD', 'PMLD')
        THEN 1 ELSE 0 END AS sen_need_learning,
    CASE WHEN h.current_provision IN ('K', 'E')
            AND h.current_need IN ('HI', 'VI', 'MSI', 'PD')
        THEN 1 ELSE 0 END AS sen_need_sensory_physical,
    CAST(date_diff('day', h.last_ehcp_issued, s.as_of) AS DOUBLE) / 7 AS weeks_since_ehcp_issued,
    CASE WHEN h.last_ehcp_request IS NOT NULL
            AND (h.last_ehcp_issued IS NULL OR h.last_ehcp_issued < h.last_ehcp_request)
        THEN 1 ELSE 0 END AS ehcp_requested_not_issued,
    CAST(date_diff('day', h.current_support_start, s.as_of) AS DOUBLE) / 7
        AS weeks_since_sen_support_start
FROM spine AS s
LEFT JOIN send_history AS h
    ON h.pupil_pseudonym = s.pupil_pseudonym AND h.as_of = s.as_of
