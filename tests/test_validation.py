"""The checks every stage shares (``cmooe_risk._validation``): one rule, one message each."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cmooe_risk._validation import checked_frame, safe_ratio, whole_number
from cmooe_risk.errors import ConfigError


def test_checked_frame_returns_a_good_frame() -> None:
    frame = pd.DataFrame({"a": [1], "b": [2]})
    assert checked_frame(frame, "frame", ("a", "b"), allow_empty=False) is frame


@pytest.mark.parametrize(
    ("value", "error", "message"),
    [
        ([1, 2], TypeError, "scores must be a pandas DataFrame; got list"),
        (pd.DataFrame({"a": [1]}), ValueError, "scores is missing column(s) 'b', 'c'; it has 'a'"),
        (pd.DataFrame({"b": [], "c": []}), ValueError, "scores has no rows"),
    ],
)
def test_checked_frame_names_the_argument_and_the_problem(value, error, message) -> None:
    with pytest.raises(error) as raised:
        checked_frame(value, "scores", ("b", "c"), allow_empty=False)
    assert str(raised.value) == message


def test_an_empty_frame_is_allowed_unless_rows_are_needed() -> None:
    assert checked_frame(pd.DataFrame({"a": []}), "frame", ("a",)).empty


@pytest.mark.parametrize("value", [3, 3.0, np.int64(3)])
def test_whole_number_accepts_whole_values_as_int(value) -> None:
    assert whole_number(value, "k", 1) == 3
    assert type(whole_number(value, "k", 1)) is int


@pytest.mark.parametrize("value", [True, 2.5, float("nan"), "3", 0, 11])
def test_whole_number_rejects_with_the_name_bounds_and_value(value) -> None:
    with pytest.raises(ValueError, match=r"^k must be a whole number from 1 to 10; got "):
        whole_number(value, "k", 1, 10)


def test_whole_number_raises_the_callers_error_type_with_its_note() -> None:
    with pytest.raises(ConfigError, match=r"pupils must be a whole number >= 100; got 5 \(a\)"):
        whole_number(5, "pupils", 100, error=ConfigError, note=" (a)")


def test_safe_ratio_is_undefined_or_zero_where_the_denominator_is_not_positive() -> None:
    np.testing.assert_array_equal(safe_ratio([1, 2, 3], [2, 0, -1]), [0.5, np.nan, np.nan])
    np.testing.assert_array_equal(safe_ratio([1, 2], [4, 0], when_empty=0.0), [0.25, 0.0])
