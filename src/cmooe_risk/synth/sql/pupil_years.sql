-- pupil_years: one row per pupil on roll at the January census of each full academic
-- year ($years, the years' starts), with the year group and the pupil's FSM
-- eligibility, SEN provision (K, E or N for none) and whether a child in need, all on
-- census day. Subsidiary (dual) registrations do not count as on roll.
WITH census_days AS (
    SELECT y AS ay, make_date(y + 1, 1, 16) AS census
    FROM unnest($years) AS t (y)
)

SELECT
    y.ay,
    p.pupil_id,
    p.sex,
    y.ay - (
        CAST(substr(p.year_month_of_birth, 1, 4) AS INT)
        + CASE WHEN CAST(substr(p.year_month_of_birth, 6, 2) AS INT) >= 9 THEN 5 ELSE 4 END
    ) AS year_group,
    EXISTS (
        SELECT 1 FROM fsm_episodes AS f
        WHERE f.pupil_id = p.pupil_id
          AND f.start_date <= y.census AND (f.end_date IS NULL OR f.end_date >= y.census)
    ) AS fsm,
    coalesce((
        SELECT max(s.provision) FROM send_episodes AS s
        WHERE s.pupil_id = p.pupil_id
          AND s.start_date <= y.census AND (s.end_date IS NULL OR s.end_date > y.census)
    ), 'N') AS sen,
    EXISTS (
        SELECT 1 FROM social_care_episodes AS c
        WHERE c.pupil_id = p.pupil_id
          AND c.start_date <= y.census AND (c.end_date IS NULL OR c.end_date >= y.census)
    ) AS cin
FROM pupils AS p
CROSS JOIN census_days AS y
WHERE EXISTS (
    SELECT 1 FROM enrolments AS e
    WHERE e.pupil_id = p.pupil_id
      AND e.enrolment_status <> 'S'
      AND e.start_date <= y.census AND (e.end_date IS NULL OR e.end_date >= y.census)
)
