-- permanent_exclusion events, once per pupil (independent of the as-of date).
--
-- An exclusion with a configured category (PERM) and status (UPHELD or PENDING: a
-- pending decision counts as upheld). The event date is the exclusion's start date.
SELECT
    x.pupil_pseudonym,
    x.start_date AS event_date,
    'permanent_exclusion' AS event_kind
FROM exclusions AS x
WHERE x.start_date IS NOT NULL
    AND x.category IN (
        SELECT c.code FROM outcome_codes AS c WHERE c.code_list = 'exclusion_categories'
    )
    AND x.status IN (
        SELECT c.code FROM outcome_codes AS c WHERE c.code_list = 'exclusion_statuses'
    )
