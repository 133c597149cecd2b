-- pupil_groups: the groups each row of pupil_years belongs to, for the rate ratios:
-- all, fsm or not_fsm, sen_support, ehcp or no_sen, male or female, cin.
SELECT ay, pupil_id, pupil_group
FROM (
    SELECT
        ay,
        pupil_id,
        unnest([
            'all',
            CASE WHEN fsm THEN 'fsm' ELSE 'not_fsm' END,
            CASE sen WHEN 'K' THEN 'sen_support' WHEN 'E' THEN 'ehcp' WHEN 'N' THEN 'no_sen' END,
            CASE sex WHEN 'M' THEN 'male' WHEN 'F' THEN 'female' END,
            CASE WHEN cin THEN 'cin' END
        ]) AS pupil_group
    FROM pupil_years
)
WHERE pupil_group IS NOT NULL
