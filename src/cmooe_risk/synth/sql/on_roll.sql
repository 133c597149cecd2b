-- on_roll: pupils on a school roll on $day (subsidiary registrations do not count).
SELECT count(DISTINCT pupil_id)
FROM enrolments
WHERE enrolment_status <> 'S'
  AND start_date <= $day AND (end_date IS NULL OR end_date >= $day)
