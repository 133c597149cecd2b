"""Temporal splits: training, validation and test as-of dates that never leak labels.

The layout follows DSSG triage's timechop. Working back from the newest as-of date whose
label window is fully observed:

* each **test window** spans ``test_window_weeks`` of as-of dates;
* its **validation window** (calibration, early stopping) ends ``label_gap_weeks`` before
  the test window starts, so no validation label reaches into the test period;
* its **training** as-of dates end ``label_gap_weeks`` before the validation window, so
  no training label reaches the validation period either.

The **deployment split** is the same recipe with the newest labelled dates as its
validation window and no test window: the model the registry holds, fitted on the most
recent data. Its quality is what the test windows measured for the recipe.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from cmooe_risk.errors import StateError
from cmooe_risk.features import monday_on_or_after

__all__ = ["DEPLOYMENT", "DataSpan", "TemporalSplit", "make_splits"]

DEPLOYMENT = "deployment"


@dataclass(frozen=True)
class DataSpan:
    """The first and last dates of attendance data in the warehouse."""

    first: date
    last: date


@dataclass(frozen=True)
class TemporalSplit:
    """The as-of dates of one split; ``test`` is empty for the deployment split."""

    name: str
    train: tuple[date, ...]
    validation: tuple[date, ...]
    test: tuple[date, ...]

    @property
    def is_deployment(self) -> bool:
        return self.name == DEPLOYMENT

    def describe(self) -> dict[str, str]:
        def span(dates: tuple[date, ...]) -> str:
            if not dates:
                return "-"
            return f"{dates[0].isoformat()}..{dates[-1].isoformat()} ({len(dates)} dates)"

        return {
            "train": span(self.train),
            "validation": span(self.validation),
            "test": span(self.test),
        }


def _weeks(n: int) -> timedelta:
    return timedelta(weeks=n)


def _dates(
    first: date, last: date, step_weeks: int, eligible: frozenset[date] | None
) -> tuple[date, ...]:
    """Eligible Mondays from ``last`` back to ``first``, ``step_weeks`` apart, oldest first.

    The step restarts from each eligible Monday, so a holiday shifts the next date rather
    than dropping a whole step.
    """
    out = []
    current = last
    while current >= first:
        if eligible is None or current in eligible:
            out.append(current)
            current -= _weeks(step_weeks)
        else:
            current -= _weeks(1)
    return tuple(reversed(out))


def last_labelled_as_of(span: DataSpan, horizon_weeks: int) -> date:
    """The newest Monday whose window [t, t + 7H days) lies within the data."""
    candidate = span.last + timedelta(days=1) - _weeks(horizon_weeks)
    return candidate - timedelta(days=candidate.weekday())


def make_splits(
    span: DataSpan,
    *,
    horizon_weeks: int,
    label_gap_weeks: int,
    min_history_weeks: int,
    frequency_weeks: int,
    test_windows: int,
    test_window_weeks: int,
    validation_weeks: int,
    eligible: frozenset[date] | None = None,
    test_frequency_weeks: int | None = None,
) -> list[TemporalSplit]:
    """Test splits, oldest first, followed by the deployment split.

    ``eligible``, when given, restricts as-of dates to those Mondays (term-time weeks).
    Test dates are ``test_frequency_weeks`` apart (default: ``frequency_weeks``).

    Raises
    ------
    StateError
        When the data are too short for the layout; the message gives the weeks needed.
    """
    if label_gap_weeks < horizon_weeks:
        raise ValueError("label_gap_weeks must be at least horizon_weeks")
    first_train = monday_on_or_after(span.first + _weeks(min_history_weeks))
    newest = last_labelled_as_of(span, horizon_weeks)

    def split(name: str, test_end: date | None, validation_end: date) -> TemporalSplit:
        validation_start = validation_end - _weeks(validation_weeks - 1)
        train_end = validation_start - _weeks(label_gap_weeks)
        return TemporalSplit(
            name=name,
            train=_dates(first_train, train_end, frequency_weeks, eligible),
            validation=_dates(validation_start, validation_end, frequency_weeks, eligible),
            test=()
            if test_end is None
            else _dates(
                test_end - _weeks(test_window_weeks - 1),
                test_end,
                test_frequency_weeks or frequency_weeks,
                eligible,
            ),
        )

    splits = []
    for index in range(test_windows):
        test_end = newest - _weeks(index * test_window_weeks)
        test_start = test_end - _weeks(test_window_weeks - 1)
        splits.append(
            split(f"test_{test_windows - index}", test_end, test_start - _weeks(label_gap_weeks))
        )
    splits.reverse()
    splits.append(split(DEPLOYMENT, None, newest))

    needed = (
        min_history_weeks
        + horizon_weeks
        + test_windows * test_window_weeks
        + 2 * label_gap_weeks
        + validation_weeks
    )
    for item in splits:
        if not item.train or not item.validation or (not item.is_deployment and not item.test):
            raise StateError(
                f"Not enough history for this experiment: attendance data run from "
                f"{span.first.isoformat()} to {span.last.isoformat()}, and split {item.name} "
                f"has no {_missing_part(item)} dates. The layout "
                f"needs at least about {needed} weeks of data: reduce test_windows, "
                "test_window_weeks, validation_weeks or min_history_weeks in the experiment, "
                "or ingest more history."
            )
    return splits


def _missing_part(split: TemporalSplit) -> str:
    if not split.train:
        return "training"
    return "validation" if not split.validation else "test"
