-- register_started: $event_type episodes starting from $first_day to $last_day.
SELECT count(*)
FROM register_events
WHERE event_type = $event_type AND start_date BETWEEN $first_day AND $last_day
