-- register_open: pupils with an $event_type episode open at any point from $first_day to
-- $last_day (the same day twice: open on that day).
SELECT count(DISTINCT pupil_id)
FROM register_events
WHERE event_type = $event_type
  AND start_date <= $last_day AND (end_date IS NULL OR end_date >= $first_day)
