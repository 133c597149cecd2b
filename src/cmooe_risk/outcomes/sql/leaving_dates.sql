-- leaving_dates: the days on which a pupil is recorded as moving out of the LA.
--
-- The end date (last day on roll, or on the register) of an enrolment whose leaving
-- reason, or of a register episode whose outcome, says the child moved out of the LA.
-- Enrolments of any status count: a move ends every registration.
SELECT
    e.pupil_pseudonym,
    e.end_date AS leave_date
FROM enrolments AS e
WHERE e.end_date IS NOT NULL
    AND e.leaving_reason IN (
        SELECT c.code FROM outcome_codes AS c WHERE c.code_list = 'left_la_leaving_reasons'
    )

UNION ALL

SELECT
    r.pupil_pseudonym,
    r.end_date AS leave_date
FROM register_events AS r
WHERE r.end_date IS NOT NULL
    AND r.outcome IN (
        SELECT c.code FROM outcome_codes AS c WHERE c.code_list = 'left_la_register_outcomes'
    )
