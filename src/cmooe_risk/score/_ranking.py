"""The ranking policy of the weekly lists: written once, in SQL, for every engine.

* Only the outcome's eligible cohort is ranked (``cmooe_risk.outcomes`` eligibility):
  a child who cannot have the outcome takes no place, and a child who already has it is
  a known case, shown in its own section.
* Children are ranked within their locality on the model's **raw score**. Its
  calibration is monotone, so it can tie raw scores (an isotonic step) but never reorder
  them: ranking on the calibrated risk would leave places to be decided by the tie-break.
* A tie that remains (equal raw scores) is broken by pseudonym: stable from week to week
  and between reruns, and unrelated to anything about the child.
* A locality's list is its top ``capacity``; the band says how far above the list's
  cut-off (the last listed child's risk) a child's risk is, so it discriminates within
  the list.
* Two options (``localities`` in ``cmooe-risk.yaml``), each with its cost in precision
  measured by ``train``: ``list_policy: within_school`` ranks on the score relative to the
  child's school (the raw score less the school's average), so that a school that
  excludes more does not fill the list; ``per_school_cap: N`` lets at most N children of
  one school onto a locality's list.

The DuckDB job runs :func:`ranking_sql` on its pandas frame; the Spark job runs the same
text, through the feature SQL's dialect layer, on its DataFrame (Splink's pattern: the
logic once, engines that only execute).
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

__all__ = [
    "BELOW_LIST_BAND",
    "KNOWN_CASE",
    "KNOWN_CASE_BAND",
    "LIST",
    "NOT_ELIGIBLE",
    "RANKED_COLUMNS",
    "rank_frame",
    "ranking_sql",
]

#: ``section`` of a scored row
LIST, KNOWN_CASE, NOT_ELIGIBLE = "list", "known_case", "not_eligible"
KNOWN_CASE_BAND = "known case"
BELOW_LIST_BAND = "typical"
#: What the policy adds to each row of ``scored``.
RANKED_COLUMNS = ("rank", "listed", "section", "band")


def ranking_sql(
    band_multiples: Mapping[str, float],
    source: str = "scored",
    *,
    policy: str = "risk",
    per_school_cap: int | None = None,
) -> str:
    """The policy as one SELECT over ``source``.

    ``source`` has one row per child: ``pupil_pseudonym``, ``locality``, ``urn`` (the
    school, NULL for none), ``raw_score`` (what the list ranks by), ``risk`` (the
    calibrated risk the bands compare), ``eligibility`` (``eligible``, ``known_case`` or
    ``cannot_happen``) and ``capacity`` (the locality's list length). The result has those
    columns and :data:`RANKED_COLUMNS`; ``rank`` is NULL for children who are not ranked.
    """
    if policy not in ("risk", "within_school"):
        raise ValueError(f"unknown list policy {policy!r}; choose risk or within_school")
    key = (
        "s.raw_score - AVG(s.raw_score) OVER (PARTITION BY s.eligibility, s.urn)"
        if policy == "within_school"
        else "s.raw_score"
    )
    # children beyond a school's cap go after every child within one
    capped = (
        f"CASE WHEN k.school_rank > {int(per_school_cap)} THEN 1 ELSE 0 END"
        if per_school_cap
        else "0"
    )
    names = list(band_multiples)
    last = names[-1]
    steps = " ".join(
        f"WHEN risk >= {float(band_multiples[name])!r} * cutoff THEN {_text(name)}"
        for name in names[:-1]
    )
    return f"""
WITH keyed AS (
    SELECT s.*, {key} AS list_key
    FROM {source} AS s
), schooled AS (
    SELECT
        k.*,
        ROW_NUMBER() OVER (
            PARTITION BY k.locality, k.eligibility, k.urn
            ORDER BY k.list_key DESC, k.pupil_pseudonym ASC
        ) AS school_rank
    FROM keyed AS k
), numbered AS (
    SELECT
        k.*,
        CASE WHEN k.eligibility = 'eligible' THEN ROW_NUMBER() OVER (
            PARTITION BY k.locality, k.eligibility
            ORDER BY {capped} ASC, k.list_key DESC, k.pupil_pseudonym ASC
        ) END AS rank
    FROM schooled AS k
), listed AS (
    SELECT
        n.*,
        COALESCE(n.rank <= n.capacity, FALSE) AS listed
    FROM numbered AS n
), cut AS (
    SELECT
        l.*,
        MIN(CASE WHEN l.listed THEN l.risk END) OVER (PARTITION BY l.locality) AS cutoff
    FROM listed AS l
)
SELECT
    pupil_pseudonym, locality, urn, raw_score, risk, eligibility, capacity,
    CAST(rank AS BIGINT) AS rank,
    listed,
    CASE
        WHEN eligibility = 'known_case' THEN '{KNOWN_CASE}'
        WHEN eligibility = 'eligible' THEN '{LIST}'
        ELSE '{NOT_ELIGIBLE}'
    END AS section,
    CASE
        WHEN eligibility = 'known_case' THEN {_text(KNOWN_CASE_BAND)}
        WHEN NOT listed THEN {_text(BELOW_LIST_BAND)}
        {steps}
        ELSE {_text(last)}
    END AS band
FROM cut
"""


def _text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def rank_frame(
    scored: pd.DataFrame,
    band_multiples: Mapping[str, float],
    *,
    policy: str = "risk",
    per_school_cap: int | None = None,
) -> pd.DataFrame:
    """:func:`ranking_sql` on a pandas frame (in DuckDB), returned in ``scored``'s row
    order with :data:`RANKED_COLUMNS` added."""
    import duckdb

    columns = [
        "pupil_pseudonym",
        "locality",
        "urn",
        "raw_score",
        "risk",
        "eligibility",
        "capacity",
    ]
    frame = scored[columns].assign(row=range(len(scored)))
    sql = ranking_sql(band_multiples, policy=policy, per_school_cap=per_school_cap)
    con = duckdb.connect()
    try:
        con.register("scored", frame)
        ranked = con.execute(
            f"SELECT r.*, s.row FROM ({sql}) AS r "
            "JOIN scored AS s USING (pupil_pseudonym) ORDER BY s.row"
        ).df()
    finally:
        con.close()
    out = scored.copy()
    for column in RANKED_COLUMNS:
        out[column] = ranked[column].to_numpy()
    out["rank"] = pd.array(ranked["rank"], dtype="Int64")
    out["listed"] = ranked["listed"].astype(bool).to_numpy()
    return out
