-- missing_education events, once per pupil (independent of the as-of date).
--
-- (a) A CME referral (referral_events): its start date.
-- (b) The 20th consecutive school day off roll (off_roll_school_days): its date.
--
-- Cover: an enrolment with an on-roll status (C or M), a register episode in which the
-- child is educated off roll (off_roll_covered_by: EHE, alternative provision, s.19
-- medical), or an open CME referral (the child is already recorded as missing: the
-- referral is the event, and its days do not add up to a second one). Dates are
-- inclusive; an empty end date is still open. Cover intervals are merged per pupil
-- (gaps and islands). An off-roll spell runs from the day after a merged block of cover
-- ends to the day before the next block starts, or stays open when none does. So a
-- spell only ever starts when a registration or episode ends: the child was known.
--
-- A spell does not count when the block of cover before it ended explained: an interval
-- in the block ended in one of the ways below and no interval of the block started
-- after that end (records of one move can close a day or two apart):
--   * an enrolment whose leaving reason is a move out of the LA (left_la_leaving_reasons),
--     or whose destination_urn is a school that is not in the LA's schools table;
--   * a register episode closed as a move out of the LA (left_la_register_outcomes) or
--     with the child found in education elsewhere (off_roll_resolved_by).
--
-- School days come from outcome_school_days (school_days.sql). The first school day of
-- a spell is the first school day on or after its start; the 20th is found by index
-- arithmetic, not by counting, and counts when it is still inside the spell and falls
-- in an academic year in which the child is in National Curriculum year
-- off_roll_first_year to off_roll_last_year (compulsory school age: a Year 11 leaver is
-- not missing education the next September). School days before the first date with
-- marks are unknown, so a spell that began earlier is counted from the first school
-- day in the data.
WITH referrals AS (
    SELECT
        r.pupil_pseudonym,
        r.start_date AS event_date,
        'cme_referral' AS event_kind
    FROM register_events AS r
    WHERE r.start_date IS NOT NULL
        AND r.event_type IN (
            SELECT c.code FROM outcome_codes AS c WHERE c.code_list = 'referral_events'
        )
),

cover AS (
    -- on roll; explained when the child moved out of the LA or left for a school that is
    -- not one of the LA's (a known destination outside the data)
    SELECT
        e.pupil_pseudonym,
        e.start_date,
        COALESCE(e.end_date, DATE '9999-12-31') AS end_date,
        CASE
            WHEN e.leaving_reason IN (
                SELECT c.code FROM outcome_codes AS c
                WHERE c.code_list = 'left_la_leaving_reasons'
            ) THEN 1
            WHEN e.destination_urn IS NOT NULL
                AND e.destination_urn NOT IN (SELECT s.urn FROM schools AS s) THEN 1
            ELSE 0
        END AS explained
    FROM enrolments AS e
    WHERE e.start_date IS NOT NULL
        AND e.enrolment_status IN (
            SELECT c.code FROM outcome_codes AS c WHERE c.code_list = 'on_roll_statuses'
        )

    UNION ALL

    -- educated off roll (EHE, AP, s.19), or already referred as missing education (the
    -- referral is the event: its days do not add up to a second one); explained when the
    -- episode closed with the child moving out of the LA or found in education elsewhere
    SELECT
        r.pupil_pseudonym,
        r.start_date,
        COALESCE(r.end_date, DATE '9999-12-31') AS end_date,
        CASE
            WHEN r.outcome IN (
                SELECT c.code FROM outcome_codes AS c
                WHERE c.code_list IN ('left_la_register_outcomes', 'off_roll_resolved_by')
            ) THEN 1
            ELSE 0
        END AS explained
    FROM register_events AS r
    WHERE r.start_date IS NOT NULL
        AND r.event_type IN (
            SELECT c.code FROM outcome_codes AS c
            WHERE c.code_list IN ('off_roll_covered_by', 'referral_events')
        )
),

numbered_cover AS (
    -- a total order per pupil: tied intervals must be in the same order in both windows
    SELECT
        pupil_pseudonym,
        start_date,
        end_date,
        explained,
        ROW_NUMBER() OVER (
            PARTITION BY pupil_pseudonym ORDER BY start_date, end_date, explained
        ) AS seq
    FROM cover
),

reach AS (
    -- the last day covered by any earlier interval of the same pupil
    SELECT
        pupil_pseudonym,
        start_date,
        end_date,
        explained,
        seq,
        MAX(end_date) OVER (
            PARTITION BY pupil_pseudonym
            ORDER BY seq
            ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
        ) AS covered_until
    FROM numbered_cover
),

islands AS (
    -- a new block starts where an interval begins after a day left uncovered
    SELECT
        pupil_pseudonym,
        start_date,
        end_date,
        explained,
        SUM(CASE WHEN covered_until IS NULL OR start_date - 1 > covered_until THEN 1 ELSE 0 END)
            OVER (
                PARTITION BY pupil_pseudonym
                ORDER BY seq
                ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
            ) AS block
    FROM reach
),

blocks AS (
    -- explained_until: the last end of an explaining interval (a move out of the LA, a
    -- destination outside it, education found elsewhere); the block ends explained when
    -- nothing in it started after that, i.e. the child was not registered or placed again
    SELECT
        pupil_pseudonym,
        MIN(start_date) AS block_start,
        MAX(end_date) AS block_end,
        MAX(start_date) AS last_start,
        MAX(CASE WHEN explained = 1 THEN end_date END) AS explained_until
    FROM islands
    GROUP BY pupil_pseudonym, block
),

spells AS (
    SELECT
        pupil_pseudonym,
        block_end + 1 AS spell_start,
        next_block_start - 1 AS spell_end
    FROM (
        SELECT
            pupil_pseudonym,
            block_end,
            last_start,
            explained_until,
            LEAD(block_start) OVER (PARTITION BY pupil_pseudonym ORDER BY block_start)
                AS next_block_start
        FROM blocks
    ) AS b
    WHERE block_end < DATE '9999-12-31'
        AND (explained_until IS NULL OR explained_until < last_start)
),

spell_first_days AS (
    -- spell starts and school days in one date order, spells first on a shared date:
    -- the smallest school-day index at or after a spell's row is its first school day
    SELECT
        pupil_pseudonym,
        spell_end,
        is_spell,
        MIN(school_day_index) OVER (
            ORDER BY day, is_spell DESC
            ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING
        ) AS first_index
    FROM (
        SELECT
            pupil_pseudonym,
            spell_start AS day,
            spell_end,
            1 AS is_spell,
            CAST(NULL AS BIGINT) AS school_day_index
        FROM spells

        UNION ALL

        SELECT
            CAST(NULL AS VARCHAR) AS pupil_pseudonym,
            school_date AS day,
            CAST(NULL AS DATE) AS spell_end,
            0 AS is_spell,
            school_day_index
        FROM outcome_school_days
    ) AS u
),

off_roll AS (
    SELECT
        s.pupil_pseudonym,
        d.school_date AS event_date,
        'off_roll' AS event_kind
    FROM spell_first_days AS s
    CROSS JOIN outcome_parameters AS p
    JOIN outcome_school_days AS d
        ON d.school_day_index = s.first_index + p.off_roll_school_days - 1
    JOIN pupils AS pu ON pu.pupil_pseudonym = s.pupil_pseudonym
    WHERE s.is_spell = 1
        AND (s.spell_end IS NULL OR d.school_date <= s.spell_end)
        AND academic_year(d.school_date)
            - academic_year(CAST(pu.year_month_of_birth || '-01' AS DATE))
            - 5 BETWEEN p.off_roll_first_year AND p.off_roll_last_year
)

SELECT pupil_pseudonym, event_date, event_kind FROM referrals

UNION ALL

SELECT pupil_pseudonym, event_date, event_kind FROM off_roll
