-- permanent_exclusion precursors, once per pupil (independent of the as-of date).
--
-- A suspension (an exclusion whose category is in precursor_categories: FIXD, LNCH) is
-- the step before a permanent exclusion, and there are about ninety for every one. A
-- model may learn from "a precursor or the outcome in the window" (learn_from:
-- outcome_or_precursor in its specification) and be calibrated on the outcome alone.
-- The event date is the suspension's start date.
SELECT
    x.pupil_pseudonym,
    x.start_date AS event_date,
    'precursor' AS event_kind
FROM exclusions AS x
WHERE x.start_date IS NOT NULL
    AND x.category IN (
        SELECT c.code FROM outcome_codes AS c WHERE c.code_list = 'precursor_categories'
    )
