-- mobility: school registrations and moves before t.
--
-- Main registrations only (single C or main dual M): subsidiary dual registrations (S)
-- and guests (G) are not schools the child moved to. A registration counts from its
-- start date (start_date < t). The normal admission window is 25 August to 15 September;
-- a registration starting outside it is an in-year admission.
--
-- Most children have one registration: their counts follow from it directly. Only
-- children with several are joined to their registrations and grouped per as-of date.
WITH registrations AS (
    SELECT
        e.pupil_pseudonym,
        e.urn,
        e.start_date,
        -- a move: a registration at a different school from the child's previous one
        CASE WHEN e.urn <> LAG(e.urn) OVER (
            PARTITION BY e.pupil_pseudonym ORDER BY e.start_date, e.urn
        ) THEN 1 ELSE 0 END AS is_move,
        -- the child's first registration at this school (so counting them counts schools)
        CASE WHEN ROW_NUMBER() OVER (
            PARTITION BY e.pupil_pseudonym, e.urn ORDER BY e.start_date
        ) = 1 THEN 1 ELSE 0 END AS first_at_school,
        CASE WHEN (EXTRACT(MONTH FROM e.start_date) = 8 AND EXTRACT(DAY FROM e.start_date) >= 25)
                OR (EXTRACT(MONTH FROM e.start_date) = 9 AND EXTRACT(DAY FROM e.start_date) <= 15)
            THEN 0 ELSE 1 END AS in_year,
        COUNT(*) OVER (PARTITION BY e.pupil_pseudonym) AS registrations_of_pupil
    FROM enrolments AS e
    WHERE e.enrolment_status IN ('C', 'M')
),

single_history AS (
    SELECT
        s.pupil_pseudonym,
        s.as_of,
        CASE WHEN r.start_date < s.as_of THEN 1 ELSE 0 END AS schools_attended,
        0 AS school_moves_52w,
        CASE WHEN r.start_date < s.as_of THEN r.in_year ELSE 0 END AS in_year_admissions_ever
    FROM spine AS s
    JOIN registrations AS r ON r.pupil_pseudonym = s.pupil_pseudonym
    WHERE r.registrations_of_pupil = 1
),

multiple_history AS (
    SELECT
        s.pupil_pseudonym,
        s.as_of,
        SUM(r.first_at_school) AS schools_attended,
        SUM(CASE WHEN r.is_move = 1 AND r.start_date >= s.as_of - INTERVAL 364 DAY
            THEN 1 ELSE 0 END) AS school_moves_52w,
        SUM(r.in_year) AS in_year_admissions_ever
    FROM spine AS s
    JOIN registrations AS r
        ON r.pupil_pseudonym = s.pupil_pseudonym
        AND r.start_date < s.as_of
    WHERE r.registrations_of_pupil > 1
    GROUP BY s.pupil_pseudonym, s.as_of
),

registration_history AS (
    SELECT * FROM single_history
    UNION ALL
    SELECT * FROM multiple_history
),

dual_registrations AS (
    SELECT DISTINCT s.pupil_pseudonym, s.as_of
    FROM spine AS s
    JOIN enrolments AS e
        ON e.pupil_pseudonym = s.pupil_pseudonym
        AND e.start_date < s.as_of
        AND (e.end_date IS NULL OR e.end_date >= s.as_of)
    WHERE e.enrolment_status = 'S'
)

SELECT
    s.pupil_pseudonym,
    s.as_of,
    CAST(COALESCE(h.schools_attended, 0) AS INTEGER) AS schools_attended,
    CAST(COALESCE(h.school_moves_52w, 0) AS INTEGER) AS school_moves_52w,
    CAST(COALESCE(h.in_year_admissions_ever, 0) AS INTEGER) AS in_year_admissions_ever,
    CAST(date_diff('day', s.enrolment_start, s.as_of) AS DOUBLE) AS days_since_enrolment_start,
    CASE WHEN s.enrolment_start IS NOT NULL
            AND NOT (
                (EXTRACT(MONTH FROM s.enrolment_start) = 8
                    AND EXTRACT(DAY FROM s.enrolment_start) >= 25)
                OR (EXTRACT(MONTH FROM s.enrolment_start) = 9
                    AND EXTRACT(DAY FROM s.enrolment_start) <= 15)
            )
        THEN 1 ELSE 0 END AS mid_year_admission,
    CASE WHEN d.pupil_pseudonym IS NOT NULL THEN 1 ELSE 0 END AS dual_registered_current
FROM spine AS s
LEFT JOIN registration_history AS h
    ON h.pupil_pseudonym = s.pupil_pseudonym AND h.as_of = s.as_of
LEFT JOIN dual_registrations AS d
    ON d.pupil_pseudonym = s.pupil_pseudonym AND d.as_of = s.as_of
