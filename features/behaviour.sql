-- behaviour: suspensions, permanent exclusions and behaviour-related moves before t.
--
-- Point in time: an exclusion counts from its start date (start_date < t), whatever its
-- review status: the status is decided later, so reading it would leak the future.
-- Register episodes (managed moves, off-site directions, AP) count from their start
-- date; one is current at t if it started before t and had not closed before t.
-- Each pupil's own events are joined to that pupil's spine rows: event tables are small.
WITH exclusion_events AS (
    SELECT
        e.pupil_pseudonym,
        e.urn,
        e.start_date,
        e.category,
        CASE WHEN e.category IN ('FIXD', 'LNCH') THEN 1 ELSE 0 END AS is_suspension,
        CASE WHEN e.category IN ('FIXD', 'LNCH') THEN COALESCE(e.sessions, 0) ELSE 0 END
            AS suspension_sessions,
        CASE WHEN e.reason_1 = 'PD' OR e.reason_2 = 'PD' OR e.reason_3 = 'PD'
            THEN 1 ELSE 0 END AS is_pd,
        CASE WHEN e.reason_1 IN ('PA', 'PP') OR e.reason_2 IN ('PA', 'PP')
                OR e.reason_3 IN ('PA', 'PP')
            THEN 1 ELSE 0 END AS is_assault,
        -- academic year of the exclusion, to place it in the child's NC year then
        academic_year(e.start_date) AS event_academic_year,
        CASE WHEN sch.phase = 'PRIMARY' THEN 1 ELSE 0 END AS at_primary_school
    FROM exclusions AS e
    LEFT JOIN schools AS sch ON sch.urn = e.urn
),

exclusion_totals AS (
    SELECT
        s.pupil_pseudonym,
        s.as_of,
        SUM(CASE WHEN x.is_suspension = 1 AND x.start_date >= s.as_of - INTERVAL 42 DAY
            THEN 1 ELSE 0 END) AS suspensions_6w,
        SUM(CASE WHEN x.is_suspension = 1 AND x.start_date >= s.as_of - INTERVAL 91 DAY
            THEN 1 ELSE 0 END) AS suspensions_13w,
        SUM(CASE WHEN x.is_suspension = 1 AND x.start_date >= s.as_of - INTERVAL 182 DAY
            THEN 1 ELSE 0 END) AS suspensions_26w,
        SUM(CASE WHEN x.is_suspension = 1 AND x.start_date >= s.as_of - INTERVAL 364 DAY
            THEN 1 ELSE 0 END) AS suspensions_52w,
        SUM(CASE WHEN x.is_suspension = 1 AND x.start_date >= s.academic_year_start
            THEN 1 ELSE 0 END) AS suspensions_ytd,
        SUM(x.is_suspension) AS suspensions_ever,
        SUM(CASE WHEN x.start_date >= s.as_of - INTERVAL 91 DAY
            THEN x.suspension_sessions ELSE 0 END) AS suspension_sessions_13w,
        SUM(CASE WHEN x.start_date >= s.as_of - INTERVAL 364 DAY
            THEN x.suspension_sessions ELSE 0 END) AS suspension_sessions_52w,
        SUM(x.suspension_sessions) AS suspension_sessions_ever,
        MAX(CASE WHEN x.is_suspension = 1 THEN x.start_date END) AS last_suspension,
        SUM(CASE WHEN x.is_suspension = 1
                AND (s.nc_year - (s.academic_year - x.event_academic_year) <= 6
                    OR x.at_primary_school = 1)
            THEN 1 ELSE 0 END) AS suspensions_primary_phase,
        SUM(CASE WHEN x.is_suspension = 1 THEN x.is_pd ELSE 0 END) AS pd_suspensions,
        MAX(CASE WHEN x.start_date >= s.as_of - INTERVAL 364 DAY THEN x.is_assault ELSE 0 END)
            AS physical_assault_exclusion_52w,
        SUM(CASE WHEN x.category = 'LNCH' AND x.start_date >= s.as_of - INTERVAL 364 DAY
            THEN 1 ELSE 0 END) AS lunchtime_suspensions_52w,
        MAX(CASE WHEN x.category = 'PERM' THEN 1 ELSE 0 END) AS previous_permanent_exclusion
    FROM spine AS s
    JOIN exclusion_events AS x
        ON x.pupil_pseudonym = s.pupil_pseudonym
        AND x.start_date < s.as_of
    GROUP BY s.pupil_pseudonym, s.as_of
),

suspension_reasons AS (
    SELECT pupil_pseudonym, start_date, reason_1 AS reason
    FROM exclusions WHERE category IN ('FIXD', 'LNCH')
    UNION ALL
    SELECT pupil_pseudonym, start_date, reason_2 AS reason
    FROM exclusions WHERE category IN ('FIXD', 'LNCH') AND reason_2 IS NOT NULL
    UNION ALL
    SELECT pupil_pseudonym, start_date, reason_3 AS reason
    FROM exclusions WHERE category IN ('FIXD', 'LNCH') AND reason_3 IS NOT NULL
),

reason_counts AS (
    SELECT
        s.pupil_pseudonym,
        s.as_of,
        COUNT(DISTINCT r.reason) AS suspension_reasons_52w
    FROM spine AS s
    JOIN suspension_reasons AS r
        ON r.pupil_pseudonym = s.pupil_pseudonym
        AND r.start_date < s.as_of
        AND r.start_date >= s.as_of - INTERVAL 364 DAY
    GROUP BY s.pupil_pseudonym, s.as_of
),

register_totals AS (
    SELECT
        s.pupil_pseudonym,
        s.as_of,
        SUM(CASE WHEN r.event_type = 'MANAGED_MOVE' THEN 1 ELSE 0 END) AS managed_moves_ever,
        MAX(CASE WHEN r.event_type = 'MANAGED_MOVE'
                AND (r.end_date IS NULL OR r.end_date >= s.as_of)
            THEN 1 ELSE 0 END) AS managed_move_current,
        SUM(CASE WHEN r.event_type = 'OFF_SITE_DIRECTION' THEN 1 ELSE 0 END)
            AS off_site_directions_ever,
        MAX(CASE WHEN r.event_type = 'OFF_SITE_DIRECTION'
                AND (r.end_date IS NULL OR r.end_date >= s.as_of)
            THEN 1 ELSE 0 END) AS off_site_direction_current,
        SUM(CASE WHEN r.event_type = 'ALTERNATIVE_PROVISION' THEN 1 ELSE 0 END)
            AS ap_placements_ever,
        MAX(CASE WHEN r.event_type = 'ALTERNATIVE_PROVISION'
                AND (r.end_date IS NULL OR r.end_date >= s.as_of)
            THEN 1 ELSE 0 END) AS ap_placement_current
    FROM spine AS s
    JOIN register_events AS r
        ON r.pupil_pseudonym = s.pupil_pseudonym
        AND r.start_date < s.as_of
    WHERE r.event_type IN ('MANAGED_MOVE', 'OFF_SITE_DIRECTION', 'ALTERNATIVE_PROVISION')
    GROUP BY s.pupil_pseudonym, s.as_of
)

SELECT
    s.pupil_pseudonym,
    s.as_of,
    CAST(COALESCE(x.suspensions_6w, 0) AS INTEGER) AS suspensions_6w,
    CAST(COALESCE(x.suspensions_13w, 0) AS INTEGER) AS suspensions_13w,
    CAST(COALESCE(x.suspensions_26w, 0) AS INTEGER) AS suspensions_26w,
    CAST(COALESCE(x.suspensions_52w, 0) AS INTEGER) AS suspensions_52w,
    CAST(COALESCE(x.suspensions_ytd, 0) AS INTEGER) AS suspensions_ytd,
    CAST(COALESCE(x.suspensions_ever, 0) AS INTEGER) AS suspensions_ever,
    CAST(COALESCE(x.suspension_sessions_13w, 0) AS INTEGER) AS suspension_sessions_13w,
    CAST(COALESCE(x.suspension_sessions_52w, 0) AS INTEGER) AS suspension_sessions_52w,
    CAST(COALESCE(x.suspension_sessions_ever, 0) AS INTEGER) AS suspension_sessions_ever,
    CAST(COALESCE(rc.suspension_reasons_52w, 0) AS INTEGER) AS suspension_reasons_52w,
    CAST(date_diff('day', x.last_suspension, s.as_of) AS DOUBLE) AS days_since_last_suspension,
    CAST(COALESCE(x.suspensions_primary_phase, 0) AS INTEGER) AS suspensions_primary_phase,
    CASE WHEN x.suspensions_ever > 0
        THEN CAST(x.pd_suspensions AS DOUBLE) / x.suspensions_ever END
        AS persistent_disruption_share,
    CAST(COALESCE(x.physical_assault_exclusion_52w, 0) AS INTEGER) AS physical_assault_exclusion_52w,
    CAST(COALESCE(x.lunchtime_suspensions_52w, 0) AS INTEGER) AS lunchtime_suspensions_52w,
    CAST(COALESCE(x.previous_permanent_exclusion, 0) AS INTEGER) AS previous_permanent_exclusion,
    CAST(COALESCE(g.managed_moves_ever, 0) AS INTEGER) AS managed_moves_ever,
    CAST(COALESCE(g.managed_move_current, 0) AS INTEGER) AS managed_move_current,
    CAST(COALESCE(g.off_site_directions_ever, 0) AS INTEGER) AS off_site_directions_ever,
    CAST(COALESCE(g.off_site_direction_current, 0) AS INTEGER) AS off_site_direction_current,
    CAST(COALESCE(g.ap_placements_ever, 0) AS INTEGER) AS ap_placements_ever,
    CAST(COALESCE(g.ap_placement_current, 0) AS INTEGER) AS ap_placement_current
FROM spine AS s
LEFT JOIN exclusion_totals AS x
    ON x.pupil_pseudonym = s.pupil_pseudonym AND x.as_of = s.as_of
LEFT JOIN reason_counts AS rc
    ON rc.pupil_pseudonym = s.pupil_pseudonym AND rc.as_of = s.as_of
LEFT JOIN register_totals AS g
    ON g.pupil_pseudonym = s.pupil_pseudonym AND g.as_of = s.as_of
