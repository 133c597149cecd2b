-- pupil_year_exclusions: pupil_years with the pupil's suspensions (fixed-period and
-- lunchtime) and permanent exclusions (upheld or pending) in the academic year.
WITH exclusions_by_year AS (
    SELECT
        CASE WHEN month(start_date) >= 9 THEN year(start_date) ELSE year(start_date) - 1 END
            AS ay,
        pupil_id,
        category,
        status
    FROM exclusions
),

suspensions AS (
    SELECT ay, pupil_id, count(*) AS n
    FROM exclusions_by_year
    WHERE category IN ('FIXD', 'LNCH')
    GROUP BY ALL
),

permanent AS (
    SELECT ay, pupil_id, count(*) AS n
    FROM exclusions_by_year
    WHERE category = 'PERM' AND status IN ('UPHELD', 'PENDING')
    GROUP BY ALL
)

SELECT b.*, coalesce(s.n, 0) AS suspension_count, coalesce(x.n, 0) AS pex
FROM pupil_years AS b
LEFT JOIN suspensions AS s USING (ay, pupil_id)
LEFT JOIN permanent AS x USING (ay, pupil_id)
