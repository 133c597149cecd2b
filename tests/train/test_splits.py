"""Temporal splits: no training or validation label ever reaches a later period."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cmooe_risk.errors import StateError
from cmooe_risk.train import DataSpan, make_splits

SPAN = DataSpan(first=date(2023, 9, 4), last=date(2026, 7, 17))


def _splits(**overrides):
    settings_ = {
        "horizon_weeks": 13,
        "label_gap_weeks": 13,
        "min_history_weeks": 26,
        "frequency_weeks": 4,
        "test_windows": 2,
        "test_window_weeks": 13,
        "validation_weeks": 13,
    }
    settings_.update(overrides)
    return make_splits(SPAN, **settings_)


def _label_end(as_of: date, horizon: int) -> date:
    """Last day of the label window [t, t + 7H days)."""
    return as_of + timedelta(weeks=horizon) - timedelta(days=1)


def test_default_layout_has_test_windows_then_deployment() -> None:
    splits = _splits()
    assert [s.name for s in splits] == ["test_1", "test_2", "deployment"]
    assert splits[-1].is_deployment
    assert not splits[-1].test
    assert all(d.weekday() == 0 for s in splits for d in (*s.train, *s.validation, *s.test))
    # Test windows are contiguous and do not overlap.
    assert splits[0].test[-1] < splits[1].test[0]
    # The newest test date's label window ends within the data.
    assert _label_end(splits[1].test[-1], 13) <= SPAN.last
    assert _label_end(splits[1].test[-1] + timedelta(weeks=1), 13) > SPAN.last


@settings(max_examples=60, deadline=None)
@given(
    horizon=st.integers(1, 26),
    extra_gap=st.integers(0, 8),
    frequency=st.integers(1, 6),
    windows=st.integers(1, 3),
    test_weeks=st.integers(1, 13),
    validation_weeks=st.integers(1, 13),
)
def test_labels_never_reach_a_later_period(
    horizon, extra_gap, frequency, windows, test_weeks, validation_weeks
) -> None:
    try:
        splits = _splits(
            horizon_weeks=horizon,
            label_gap_weeks=horizon + extra_gap,
            frequency_weeks=frequency,
            test_windows=windows,
            test_window_weeks=test_weeks,
            validation_weeks=validation_weeks,
        )
    except StateError:
        return  # too little history for this layout: refused, not silently wrong
    for split in splits:
        assert split.train
        assert split.validation
        assert max(_label_end(t, horizon) for t in split.train) < split.validation[0]
        later = split.test[0] if split.test else None
        if later is not None:
            assert max(_label_end(v, horizon) for v in split.validation) < later
            assert _label_end(split.test[-1], horizon) <= SPAN.last
        assert split.train[0] >= SPAN.first + timedelta(weeks=26)


def test_too_short_history_is_refused_with_the_weeks_needed() -> None:
    short = DataSpan(first=date(2025, 9, 1), last=date(2026, 3, 27))
    with pytest.raises(StateError, match=r"Not enough history.*needs at least about"):
        make_splits(
            short,
            horizon_weeks=13,
            label_gap_weeks=13,
            min_history_weeks=26,
            frequency_weeks=4,
            test_windows=2,
            test_window_weeks=13,
            validation_weeks=13,
        )
