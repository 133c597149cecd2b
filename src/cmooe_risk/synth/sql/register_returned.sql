-- register_returned: $event_type episodes ending from $first_day to $last_day with the
-- child back at school.
SELECT count(*)
FROM register_events
WHERE event_type = $event_type
  AND end_date BETWEEN $first_day AND $last_day
  AND outcome = 'RETURNED_TO_SCHOOL'
