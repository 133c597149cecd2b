-- context: who the child is and where they are, as known before t.
-- Audit-only attributes (sex, ethnicity) are computed here too but never reach the
-- model unless an experiment asks for them explicitly (catalog `use: audit_only`).
SELECT
    s.pupil_pseudonym,
    s.as_of,
    s.nc_year,
    CASE WHEN s.nc_year <= 6 THEN 1 ELSE 0 END AS primary_phase,
    CASE WHEN s.nc_year IN (6, 7) THEN 1 ELSE 0 END AS phase_transition_year,
    CASE WHEN s.roll_status = 'on_roll' THEN 0 ELSE 1 END AS off_roll,
    CASE WHEN EXISTS (
        SELECT 1 FROM fsm_episodes AS f
        WHERE f.pupil_pseudonym = s.pupil_pseudonym
            AND f.start_date < s.as_of
            AND (f.end_date IS NULL OR f.end_date >= s.as_of)
    ) THEN 1 ELSE 0 END AS fsm_current,
    CASE WHEN p.eal = 'Y' THEN 1 ELSE 0 END AS eal,
    p.idaci_decile,
    p.sex,
    p.ethnicity_major
FROM spine AS s
JOIN pupils AS p ON p.pupil_pseudonym = s.pupil_pseudonym
