"""Who can be listed for an outcome: the eligible cohort, one rule for every stage.

A list place spent on a child who cannot have the outcome in the horizon (already in
alternative provision after a permanent exclusion, not on any school roll), or who already
has it (an open children-missing-education episode), is a place not spent on a risk. Each
outcome's ``eligibility`` rules in ``outcomes.yaml`` say who that is, in terms of the
point-in-time features, so that training, evaluation and scoring apply the same rule:

* ``cannot_happen``: the row takes no place and is neither trained nor evaluated on;
* ``known_case``: the same, and the child is shown as a known case in their own section of
  the queue and the meeting pack (the service already knows; it is not a prediction).

Rules are written once as data and rendered two ways: a SQL expression for the DuckDB
tables of training and evaluation, and a pandas mask for the weekly scoring frame; a test
checks the two agree.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "CANNOT_HAPPEN",
    "ELIGIBLE",
    "KNOWN_CASE",
    "Condition",
    "EligibilityRule",
    "eligibility_features",
    "eligibility_sql",
    "eligibility_status",
]

ELIGIBLE, KNOWN_CASE, CANNOT_HAPPEN = "eligible", "known_case", "cannot_happen"
_OPERATORS = {"eq": "=", "ne": "<>", "gt": ">", "ge": ">=", "lt": "<", "le": "<="}


class Condition(BaseModel):
    """``feature op value``, e.g. ``cme_open eq 1``. A missing value never matches."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    feature: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    op: Literal["eq", "ne", "gt", "ge", "lt", "le"]
    value: float

    def sql(self, alias: str | None) -> str:
        column = f"{alias}.{self.feature}" if alias else self.feature
        return f"{column} {_OPERATORS[self.op]} {self.value!r}"

    def mask(self, frame: pd.DataFrame) -> np.ndarray:
        values = pd.to_numeric(frame[self.feature], errors="coerce").to_numpy(
            dtype=float, na_value=np.nan
        )
        with np.errstate(invalid="ignore"):
            hit = {
                "eq": values == self.value,
                "ne": values != self.value,
                "gt": values > self.value,
                "ge": values >= self.value,
                "lt": values < self.value,
                "le": values <= self.value,
            }[self.op]
        return hit & ~np.isnan(values)


class EligibilityRule(BaseModel):
    """A group of children who take no place on the outcome's list, and why."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["cannot_happen", "known_case"]
    #: in plain words, as a caseworker reads it ("already missing education: ...")
    reason: str = Field(min_length=3)
    #: all must hold
    when: tuple[Condition, ...] = Field(min_length=1)

    def sql(self, alias: str | None) -> str:
        # a NULL comparison is unknown, which CASE treats as false: a missing value never
        # matches, as in mask()
        return "(" + " AND ".join(c.sql(alias) for c in self.when) + ")"

    def mask(self, frame: pd.DataFrame) -> np.ndarray:
        hit = np.ones(len(frame), dtype=bool)
        for condition in self.when:
            hit &= condition.mask(frame)
        return hit


def eligibility_features(rules: Iterable[EligibilityRule]) -> list[str]:
    """The features the rules read, in order of first use."""
    return list(dict.fromkeys(c.feature for rule in rules for c in rule.when))


def eligibility_sql(rules: Iterable[EligibilityRule], alias: str | None = "f") -> str:
    """A SQL CASE giving each row's status: the first matching rule's kind, else eligible.

    Columns are qualified by ``alias`` (none when it is None); portable to DuckDB and Spark.
    """
    rules = tuple(rules)
    if not rules:
        return f"'{ELIGIBLE}'"
    branches = " ".join(f"WHEN {rule.sql(alias)} THEN '{rule.kind}'" for rule in rules)
    return f"(CASE {branches} ELSE '{ELIGIBLE}' END)"


def eligibility_status(
    rules: Iterable[EligibilityRule], frame: pd.DataFrame
) -> tuple[np.ndarray, np.ndarray]:
    """Each row's status (``eligible``, ``known_case``, ``cannot_happen``) and the reason
    of the first rule it matches (None where eligible), as object arrays."""
    status = np.full(len(frame), ELIGIBLE, dtype=object)
    reason = np.full(len(frame), None, dtype=object)
    undecided = np.ones(len(frame), dtype=bool)
    for rule in rules:
        hit = rule.mask(frame) & undecided
        status[hit] = rule.kind
        reason[hit] = rule.reason
        undecided &= ~hit
    return status, reason
