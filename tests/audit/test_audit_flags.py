"""Flags for a biased score and none for an unbiased one; live lists; mitigation."""

from __future__ import annotations

import numpy as np
import pytest
from tests.audit._data import HAND_CAPACITY, hand_frame, numpy_la

from cmooe_risk.audit import audit_list, audit_live_list, compare_mitigation

CAPACITIES = {"North": 60, "South": 60, "East": 60}
CONFIG = {"bootstrap": 100}


@pytest.fixture(scope="module")
def biased():
    """Group B's scores are twice its true risk; A's are its true risk."""
    frame = numpy_la(inflate=2.0)
    return frame, audit_list(
        frame, CAPACITIES, attributes=["group", "fsm"], config=CONFIG, intersections=False
    )


@pytest.fixture(scope="module")
def unbiased():
    frame = numpy_la(inflate=1.0)
    return frame, audit_list(
        frame, CAPACITIES, attributes=["group"], config=CONFIG, intersections=False
    )


def test_inflated_scores_are_flagged_against_truth_and_in_selection(biased) -> None:
    _, result = biased
    assert result.metadata["reference_groups"]["group"] == "A"  # the larger group
    flags = result.flags[result.flags["group"] == "B"]
    by_metric = flags[flags["versus"] == "reference"].set_index("metric")
    # B's scores are 2 x its truth, A's 1 x: the ratio of ratios is 2.
    truth = by_metric.loc["predicted_truth_ratio"]
    assert truth["ratio"] == pytest.approx(2.0, rel=0.02)
    assert truth["ratio_ci_low"] > 1.25
    assert truth["direction"] == "higher"
    assert "over-predicts" in truth["sentence"]
    assert "pupils with group: B" in truth["sentence"]
    assert "95% CI 1.9" in truth["sentence"]
    # Same true risk, twice the score: B is listed far more often, with more false alarms.
    assert by_metric.loc["selection_rate", "ratio_ci_low"] > 1.25
    assert by_metric.loc["fpr", "ratio_ci_low"] > 1.25
    assert "false alarms" in by_metric.loc["fpr", "sentence"]
    # And flags carry the four-fifths caveat in the report text.
    assert any("four-fifths" in c and "not a law of nature" in c for c in result.caveats)


def test_unbiased_scores_raise_no_flag(unbiased) -> None:
    _, result = unbiased
    assert result.flags.empty, result.flags["sentence"].tolist()
    ratio = result.comparison("group", "B", "predicted_truth_ratio")
    assert ratio["ratio"] == pytest.approx(1.0, abs=0.02)
    assert ratio["ratio_ci_low"] <= 1.0 <= ratio["ratio_ci_high"]
    # CIs are ordered and bracket the point estimate.
    compared = result.comparisons.dropna(subset=["ratio_ci_low"])
    assert (compared["ratio_ci_low"] <= compared["ratio_ci_high"]).all()


def test_genuine_risk_differences_move_selection_not_error_rates(biased) -> None:
    # fsm raises true risk and the score follows it: FSM pupils are listed more often,
    # but the model is no more over-predicting for them than for others.
    _, result = biased
    selection = result.comparison("fsm", "1", "selection_rate")
    assert selection["ratio_ci_low"] > 1.25
    truth = result.comparison("fsm", "1", "predicted_truth_ratio")
    assert not truth["flagged"]


def test_no_bootstrap_means_no_intervals_and_no_flags() -> None:
    frame = numpy_la(inflate=2.0, pupils=1500, as_of_dates=1)
    result = audit_list(
        frame, CAPACITIES, attributes=["group"], config={"bootstrap": 0}, intersections=False
    )
    assert result.flags.empty
    assert result.comparisons["ratio_ci_low"].isna().all()
    assert any("bootstrap is 0" in note for note in result.notes)


def test_live_list_shares_equal_the_hand_computation() -> None:
    frame = hand_frame().drop(columns="label")
    result = audit_live_list(frame, HAND_CAPACITY, config={"min_group_size": 1, "bootstrap": 30})
    assert result.kind == "live"
    assert "positive_pupils" not in result.groups.columns
    assert "tpr" not in result.groups.columns
    female = result.group("sex", "F")
    # F: 10 of 20 rows; 5/3 of the 4 slots.
    assert female["share_of_roll"] == pytest.approx(0.5)
    assert female["share_of_list"] == pytest.approx((5 / 3) / 4)
    versus_all = result.comparison("sex", "F", "selection_rate", versus="overall")
    assert versus_all["ratio"] == pytest.approx(female["share_of_list"] / female["share_of_roll"])
    # Live lists are suppressed on size alone: no outcomes to count.
    assert not female["suppressed"]
    # A label column, if present, is ignored.
    with_labels = audit_live_list(
        hand_frame(), HAND_CAPACITY, config={"min_group_size": 1, "bootstrap": 30}
    )
    assert with_labels.group("sex", "F")["share_of_list"] == pytest.approx(5 / 12)


def test_live_list_flags_over_representation() -> None:
    frame = numpy_la(inflate=2.0, as_of_dates=1).drop(columns="label")
    result = audit_live_list(
        frame, CAPACITIES, attributes=["group"], intersections=False, config=CONFIG
    )
    flag = result.flags[(result.flags["group"] == "B") & (result.flags["versus"] == "overall")]
    flag = flag[flag["metric"] == "selection_rate"].iloc[0]
    assert flag["ratio_ci_low"] > 1.25
    assert "share of the current list" in flag["sentence"]
    assert "over-represented" in flag["sentence"]
    unbiased = audit_live_list(
        numpy_la(inflate=1.0, as_of_dates=1).drop(columns="label"),
        CAPACITIES,
        attributes=["group"],
        intersections=False,
        config=CONFIG,
    )
    assert unbiased.flags.empty


def test_mitigation_moves_list_shares_as_designed(biased) -> None:
    frame, _ = biased
    result = compare_mitigation(frame, CAPACITIES, attribute="group")
    summary = result.summary.set_index("option")
    assert list(summary.index) == ["current", "split_by_roll", "split_by_expected_positives"]
    # Same list length under every option.
    np.testing.assert_allclose(summary["list_size"], summary.loc["current", "list_size"])
    groups = result.groups.set_index(["option", "group"])
    roll = groups.loc[("current", "B"), "share_of_roll"]
    assert groups.loc[("current", "B"), "share_of_list"] > 1.5 * roll
    # Shared by roll: B's share of each list is its share of that list's roll, up to one
    # slot of rounding per list (3 localities x 2 dates = 6 lists).
    slots = summary.loc["current", "list_size"]
    assert abs(groups.loc[("split_by_roll", "B"), "share_of_list"] - roll) <= 6 / slots
    # Shared by expected positives: B's share is its share of the summed scores.
    scores = frame.groupby("group")["score"].sum()
    assert groups.loc[("split_by_expected_positives", "B"), "share_of_list"] == pytest.approx(
        scores["B"] / scores.sum(), abs=6 / slots
    )
    # Precision and recall at k are reported for every option, beside the groups'.
    assert summary[["precision_at_k", "recall_at_k", "expected_precision"]].notna().all().all()
    assert groups[["tpr", "fpr", "precision"]].notna().all().all()
    assert any("not applied" in c for c in result.caveats)


def test_mitigation_on_a_live_list_reports_shares_only() -> None:
    frame = numpy_la(inflate=2.0, pupils=1500, as_of_dates=1).drop(columns="label")
    result = compare_mitigation(frame, CAPACITIES, attribute="group", bases="roll")
    assert list(result.summary["option"]) == ["current", "split_by_roll"]
    assert "precision_at_k" not in result.summary.columns
    assert "tpr" not in result.groups.columns


def test_flag_sentences_name_groups_as_people_do() -> None:
    from cmooe_risk.audit._text import describe_group

    # the groups as derive_groups labels them ("Female"), and the census codes
    assert describe_group("sex", "Female") == "girls"
    assert describe_group("sex", "F") == "girls"
    assert describe_group("fsm", "1") == "pupils eligible for free school meals"
    assert describe_group("sen", "K") == "pupils on SEN support"
    assert describe_group("ethnicity_minor", "Black - African") == (
        "pupils recorded as Black - African"
    )
    assert describe_group("sex × fsm", "Male × 0") == (
        "pupils who are in both groups (boys; pupils not eligible for free school meals)"
    )
