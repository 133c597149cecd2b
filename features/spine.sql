-- spine: the cohort at each as-of date t (a Monday), one row per child per t.
--
-- Every compulsory-school-age child (National Curriculum Years 1 to 11) who is on a
-- school roll at t, plus those the LA knows to be off roll at t: electively home
-- educated, missing education (an open CME referral), or off roll awaiting a place
-- (their last registration ended in the past year and they did not leave the LA).
-- These off-roll children are the ones most at risk of missing education.
--
-- Point in time: a registration counts if it started before t and had not ended
-- before t; an episode's end date after t is not yet known at t, so it is open.
WITH registrations AS (
    SELECT
        d.as_of,
        e.pupil_pseudonym,
        e.urn,
        e.start_date,
        ROW_NUMBER() OVER (
            PARTITION BY e.pupil_pseudonym, d.as_of
            ORDER BY CASE e.enrolment_status WHEN 'C' THEN 0 ELSE 1 END, e.start_date DESC, e.urn
        ) AS preference
    FROM as_of_dates AS d
    JOIN enrolments AS e
        ON e.start_date < d.as_of
        AND (e.end_date IS NULL OR e.end_date >= d.as_of)
    WHERE e.enrolment_status IN ('C', 'M')
),

on_roll AS (
    SELECT as_of, pupil_pseudonym, urn, start_date AS enrolment_start
    FROM registrations
    WHERE preference = 1
),

open_registers AS (
    SELECT
        d.as_of,
        r.pupil_pseudonym,
        MAX(CASE WHEN r.event_type = 'CME_REFERRAL' THEN 1 ELSE 0 END) AS has_open_cme
    FROM as_of_dates AS d
    JOIN register_events AS r
        ON r.start_date < d.as_of
        AND (r.end_date IS NULL OR r.end_date >= d.as_of)
    WHERE r.event_type IN ('EHE', 'CME_REFERRAL')
    GROUP BY d.as_of, r.pupil_pseudonym
),

last_registration AS (
    SELECT
        d.as_of,
        e.pupil_pseudonym,
        e.leaving_reason,
        ROW_NUMBER() OVER (
            PARTITION BY e.pupil_pseudonym, d.as_of ORDER BY e.end_date DESC, e.urn
        ) AS recency
    FROM as_of_dates AS d
    JOIN enrolments AS e
        ON e.end_date < d.as_of
        AND e.end_date >= d.as_of - INTERVAL 365 DAY
),

cohort AS (
    SELECT as_of, pupil_pseudonym, urn, enrolment_start, 'on_roll' AS roll_status
    FROM on_roll

    UNION ALL

    SELECT
        o.as_of,
        o.pupil_pseudonym,
        CAST(NULL AS BIGINT) AS urn,
        CAST(NULL AS DATE) AS enrolment_start,
        CASE WHEN o.has_open_cme = 1 THEN 'missing_education' ELSE 'elective_home_education' END
            AS roll_status
    FROM open_registers AS o
    WHERE NOT EXISTS (
        SELECT 1 FROM on_roll AS r
        WHERE r.pupil_pseudonym = o.pupil_pseudonym AND r.as_of = o.as_of
    )

    UNION ALL

    SELECT
        l.as_of,
        l.pupil_pseudonym,
        CAST(NULL AS BIGINT) AS urn,
        CAST(NULL AS DATE) AS enrolment_start,
        'awaiting_place' AS roll_status
    FROM last_registration AS l
    WHERE l.recency = 1
        AND COALESCE(l.leaving_reason, 'OTHER') <> 'MOVED_OUT_OF_LA'
        AND NOT EXISTS (
            SELECT 1 FROM on_roll AS r
            WHERE r.pupil_pseudonym = l.pupil_pseudonym AND r.as_of = l.as_of
        )
        AND NOT EXISTS (
            SELECT 1 FROM open_registers AS o
            WHERE o.pupil_pseudonym = l.pupil_pseudonym AND o.as_of = l.as_of
        )
)

SELECT
    c.pupil_pseudonym,
    c.as_of,
    d.as_of_week,
    d.academic_year,
    d.academic_year_start,
    c.urn,
    c.enrolment_start,
    c.roll_status,
    COALESCE(s.locality, p.locality) AS locality,
    d.academic_year
        - academic_year(CAST(p.year_month_of_birth || '-01' AS DATE))
        - 5 AS nc_year
FROM cohort AS c
JOIN as_of_dates AS d ON d.as_of = c.as_of
JOIN pupils AS p ON p.pupil_pseudonym = c.pupil_pseudonym
LEFT JOIN schools AS s ON s.urn = c.urn
WHERE d.academic_year
    - academic_year(CAST(p.year_month_of_birth || '-01' AS DATE))
    - 5 BETWEEN 1 AND 11
