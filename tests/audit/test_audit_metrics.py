"""Group metrics at the operating point: by hand, with ties, suppression and intersections."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from tests.audit._data import HAND_CAPACITY, hand_frame, numpy_la

from cmooe_risk.audit import FairnessConfig, audit_list
from cmooe_risk.audit._inputs import prepare_inputs
from cmooe_risk.audit._metrics import GroupTotals, metric_names, point_metrics, rates
from cmooe_risk.audit._selection import TopKSelection, split_capacity
from cmooe_risk.evaluate import evaluate_window
from cmooe_risk.evaluate._metrics import TieBlocks, expected_top_k

#: Nothing suppressed in the 20-row table: its groups are tiny by design.
SHOW_ALL = FairnessConfig(min_group_size=1, min_group_positives=1, bootstrap=30)


@pytest.fixture(scope="module")
def hand():
    return audit_list(hand_frame(), HAND_CAPACITY, config=SHOW_ALL)


def test_per_group_figures_equal_the_hand_computation(hand) -> None:
    # North lists rows 0 (F, y=1) and 1 (M, y=0). South lists row 10 (M, y=1) and one
    # of the tied rows 11 (F, 0), 12 (M, 1), 13 (F, 0), each with probability 1/3.
    # F: 10 rows, 3 positives, selected 1 + 2/3 = 5/3, of which positive 1.
    female = hand.group("sex", "F")
    assert female["pupils"] == 10
    assert female["positives"] == 3
    assert female["selected"] == pytest.approx(5 / 3)
    assert female["selection_rate"] == pytest.approx((5 / 3) / 10)
    assert female["tpr"] == pytest.approx(1 / 3)
    assert female["fnr"] == pytest.approx(2 / 3)
    assert female["fpr"] == pytest.approx((5 / 3 - 1) / 7)
    assert female["precision"] == pytest.approx(1 / (5 / 3))
    assert female["mean_predicted"] == pytest.approx(4.55 / 10)
    assert female["observed_rate"] == pytest.approx(0.3)
    assert female["calibration_difference"] == pytest.approx(0.455 - 0.3)
    assert female["calibration_ratio"] == pytest.approx(4.55 / 3)
    # M: 10 rows, 3 positives, selected 1 + 1 + 1/3 = 7/3, of which positive 1 + 1/3.
    male = hand.group("sex", "M")
    assert male["selection_rate"] == pytest.approx((7 / 3) / 10)
    assert male["tpr"] == pytest.approx((4 / 3) / 3)
    assert male["fpr"] == pytest.approx(1 / 7)
    assert male["precision"] == pytest.approx(4 / 7)
    overall = hand.group("overall", "all pupils")
    assert overall["selected"] == pytest.approx(4)  # 2 + 2: the lists, not a threshold
    assert overall["precision"] == pytest.approx((7 / 3) / 4)
    assert overall["tpr"] == pytest.approx((7 / 3) / 6)
    assert overall["fpr"] == pytest.approx((4 - 7 / 3) / 14)


def test_comparisons_are_ratios_and_differences_to_the_reference(hand) -> None:
    # Both sexes have 10 pupils: the first, F, is the reference.
    assert hand.metadata["reference_groups"]["sex"] == "F"
    row = hand.comparison("sex", "M", "tpr")
    assert row["reference_group"] == "F"
    assert row["ratio"] == pytest.approx((4 / 9) / (1 / 3))
    assert row["difference"] == pytest.approx(4 / 9 - 1 / 3)
    overall = hand.comparison("sex", "M", "precision", versus="overall")
    assert overall["ratio"] == pytest.approx((4 / 7) / (7 / 12))
    # The reference is not compared with itself, only with all pupils.
    with pytest.raises(KeyError):
        hand.comparison("sex", "F", "tpr")
    assert hand.comparison("sex", "F", "tpr", versus="overall")["ratio"] == pytest.approx(
        (1 / 3) / (7 / 18)
    )


def test_configured_reference_group_is_used(hand) -> None:
    # YAML reads `fsm: 1` as an integer; the config turns it into the group's text.
    config = FairnessConfig.model_validate(
        SHOW_ALL.model_dump() | {"reference_groups": {"sex": "M", "fsm": 1}}
    )
    result = audit_list(hand_frame(), HAND_CAPACITY, config=config)
    assert result.metadata["reference_groups"]["sex"] == "M"
    assert result.metadata["reference_groups"]["fsm"] == "1"
    assert result.comparison("sex", "F", "tpr")["ratio"] == pytest.approx((1 / 3) / (4 / 9))
    missing = audit_list(
        hand_frame(),
        HAND_CAPACITY,
        config=SHOW_ALL.model_dump() | {"reference_groups": {"sex": "X"}},
    )
    assert any("'X'" in note and "not in the data" in note for note in missing.notes)


def test_intersections_are_observed_cells_computed_by_hand(hand) -> None:
    cells = hand.groups[hand.groups["attribute"] == "sex × fsm"]
    assert sorted(cells["group"]) == ["F × 0", "F × 1", "M × 0", "M × 1"]
    # F x fsm 1: rows 0, 3, 11, 15; positives 0 and 15; selected 1 + 1/3, positive 1.
    cell = hand.group("sex × fsm", "F × 1")
    assert cell["pupils"] == 4
    assert cell["selection_rate"] == pytest.approx((4 / 3) / 4)
    assert cell["tpr"] == pytest.approx(1 / 2)
    assert cell["fpr"] == pytest.approx((1 / 3) / 2)
    assert cell["precision"] == pytest.approx(3 / 4)
    # M x fsm 1: rows 12 (tied, positive) and 19.
    assert hand.group("sex × fsm", "M × 1")["precision"] == pytest.approx(1.0)
    # Empty combinations never become groups.
    frame = hand_frame()
    frame.loc[frame["sex"] == "M", "fsm"] = 0
    result = audit_list(frame, HAND_CAPACITY, config=SHOW_ALL)
    cells = result.groups[result.groups["attribute"] == "sex × fsm"]
    assert sorted(cells["group"]) == ["F × 0", "F × 1", "M × 0"]
    flat = audit_list(frame, HAND_CAPACITY, config=SHOW_ALL, intersections=False)
    assert set(flat.groups["kind"]) == {"overall", "attribute"}


def test_tied_rows_share_the_slot_as_under_every_tie_breaking_order() -> None:
    frame = hand_frame()
    inputs = prepare_inputs(frame, HAND_CAPACITY, 50, kind="labelled")
    selection = TopKSelection(inputs.score, inputs.window.capacity_group, inputs.window.capacity)
    fractions = selection.fractions()
    np.testing.assert_allclose(fractions[[0, 1, 10]], 1.0)
    np.testing.assert_allclose(fractions[[11, 12, 13]], 1 / 3)
    assert fractions.sum() == pytest.approx(4.0)
    # The mean over the 3! orders of the tied rows of "take the first one".
    tied = [11, 12, 13]
    taken = np.zeros(20)
    for order in itertools.permutations(tied):
        taken[order[0]] += 1
    np.testing.assert_allclose(fractions[tied], taken[tied] / 6)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_per_row_selection_sums_to_the_evaluations_top_k(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 400
    scores = rng.integers(0, 12, n) / 12.0  # heavy ties
    labels = rng.binomial(1, 0.3, n)
    groups = rng.integers(0, 4, n)
    k = np.array([7.0, 30.0, 1.0, 200.0])
    selection = TopKSelection(scores, groups, k)
    blocks = TieBlocks.build(scores, labels, groups)
    weight, positive = blocks.totals(None)
    expected_positives, slots = expected_top_k(blocks, weight, positive, k)
    fractions = selection.fractions()
    np.testing.assert_allclose(np.bincount(groups, weights=fractions), slots)
    np.testing.assert_allclose(np.bincount(groups, weights=fractions * labels), expected_positives)
    # Under bootstrap weights too (a pupil drawn w times takes w slots).
    w = rng.poisson(1.0, n).astype(float)
    rows, selected = selection.weighted(w)
    weight, positive = blocks.totals(w)
    expected_positives, slots = expected_top_k(blocks, weight, positive, k)
    counted = np.arange(n) if rows is None else rows
    np.testing.assert_allclose(np.bincount(groups[counted], weights=selected, minlength=4), slots)
    np.testing.assert_allclose(
        np.bincount(groups[counted], weights=selected * labels[counted], minlength=4),
        expected_positives,
    )


def test_operating_point_is_the_evaluations() -> None:
    frame = numpy_la(pupils=1500, as_of_dates=3)
    capacities = {"North": 30, "South": 10}
    result = audit_list(
        frame, capacities, 20, config={"bootstrap": 0}, attributes=["group"], intersections=False
    )
    evaluation = evaluate_window(frame, {"model": frame["score"]}, capacities, 20, n_boot=0)
    overall = result.group("overall", "all pupils")
    assert overall["precision"] == pytest.approx(evaluation.value("model", "precision_at_capacity"))
    assert overall["tpr"] == pytest.approx(evaluation.value("model", "recall_at_capacity"))
    assert overall["selected"] == pytest.approx(evaluation.value("model", "list_size_capacity"))


def test_metricframe_figures_equal_the_vectorised_bootstrap_kernel() -> None:
    frame = numpy_la(pupils=800, as_of_dates=2, inflate=1.5)
    inputs = prepare_inputs(frame, {"North": 25}, 15, kind="labelled", attributes=["group", "fsm"])
    selection = TopKSelection(inputs.score, inputs.window.capacity_group, inputs.window.capacity)
    names = metric_names(True, True)
    from_metricframe = point_metrics(
        inputs.groupings, inputs.labels, selection.fractions(), inputs.score, inputs.truth, names
    )
    totals = GroupTotals(
        inputs.groupings,
        inputs.window.cluster,
        inputs.window.n_clusters,
        inputs.labels,
        inputs.score,
        inputs.truth,
        selection,
    )
    vectorised = rates(totals.totals(None), names)
    np.testing.assert_allclose(vectorised, from_metricframe, rtol=1e-12, atol=1e-12)
    ones = rates(totals.totals(np.ones(inputs.window.n_clusters)), names)
    np.testing.assert_allclose(ones, from_metricframe, rtol=1e-12, atol=1e-12)


def test_small_groups_are_suppressed_and_never_flagged() -> None:
    from cmooe_risk.audit._metrics import NEEDS_OUTCOMES

    frame = hand_frame()
    # Default thresholds: each sex has 10 pupils but only 3 with the outcome.
    result = audit_list(frame, HAND_CAPACITY, config={"bootstrap": 20})
    female = result.group("sex", "F")
    assert female["outcomes_suppressed"]
    assert not female["suppressed"]
    assert female["suppression_reason"] == "outcomes<10"
    # Figures that count outcomes are withheld; those that need only pupils are shown.
    outcome_figures = [c for c in result.groups.columns if c in NEEDS_OUTCOMES]
    assert {"tpr", "precision", "calibration_ratio", "positive_pupils"} <= set(outcome_figures)
    assert female[outcome_figures].isna().all()
    assert female[["pupils", "selection_rate", "mean_predicted"]].notna().all()
    assert result.group("overall", "all pupils")["suppression_reason"] == "outcomes<10"
    assert result.flags.empty
    comparisons = result.comparisons
    assert comparisons.loc[comparisons["suppressed"], "ratio"].isna().all()
    male = comparisons[(comparisons["group"] == "M") & (comparisons["attribute"] == "sex")]
    by_metric = male.set_index(["metric", "versus"])
    assert by_metric.loc[("tpr", "reference"), "suppressed"]
    assert not by_metric.loc[("selection_rate", "reference"), "suppressed"]
    assert np.isfinite(by_metric.loc[("selection_rate", "reference"), "ratio"])
    # A group too small for any figure has all of them withheld, and so do its comparisons.
    small = result.group("fsm", "1")
    assert small["suppressed"]
    assert (
        small.drop(
            [
                "attribute",
                "group",
                "kind",
                "is_reference",
                "suppressed",
                "outcomes_suppressed",
                "suppression_reason",
            ]
        )
        .isna()
        .all()
    )
    # The analyst's size table keeps every group's size, small ones included.
    sizes = result.sizes.set_index(["attribute", "group"])
    assert sizes.loc[("fsm", "1"), "pupils"] == 6
    assert sizes.loc[("sex", "F"), "positive_pupils"] == 3
    reasons = result.suppression.set_index(["attribute", "group"])["suppression_reason"]
    assert reasons[("sex", "M")] == "outcomes<10"
    assert reasons[("fsm", "0")] == "outcomes<10"  # 14 pupils, 3 with the outcome
    assert reasons[("fsm", "1")] == "n<10"  # 6 pupils: too few wins over too few outcomes
    assert reasons[("sex × fsm", "F × 1")] == "n<10"
    # Pupils are counted once however many weeks they appear: 20 pupils over 2 dates
    # are still 10 a sex, so n<11 holds.
    twice = pd.concat([frame, frame.assign(as_of=frame["as_of"] + pd.Timedelta(weeks=4))])
    result = audit_list(
        twice,
        HAND_CAPACITY,
        config={"min_group_size": 11, "min_group_positives": 1, "bootstrap": 0},
    )
    assert result.group("sex", "M")["suppression_reason"] == "n<11"
    assert np.isnan(result.group("sex", "M")["pupils"])
    assert result.group("overall", "all pupils")["pupils"] == 20


def test_a_tiny_over_selected_group_is_suppressed_not_flagged() -> None:
    frame = numpy_la(pupils=2000, as_of_dates=1)
    tiny = frame.index[:6]
    frame.loc[tiny, "group"] = "C"
    frame.loc[tiny, "score"] = 0.99  # always listed
    result = audit_list(
        frame, {}, 40, attributes=["group"], intersections=False, config={"bootstrap": 50}
    )
    assert result.group("group", "C")["suppression_reason"] == "n<10"
    assert not (result.flags["group"] == "C").any()


def test_split_capacity_shares_in_whole_slots_and_caps_small_groups() -> None:
    rows = np.array([[50.0, 30.0, 20.0], [100.0, 1.0, 0.0], [3.0, 3.0, 3.0]])
    quota = split_capacity(rows, rows, np.array([10.0, 10.0, 20.0]))
    # 100:1 of 10 slots is 9.90 and 0.10: the larger remainder takes the last slot.
    np.testing.assert_array_equal(quota, [[5, 3, 2], [10, 0, 0], [3, 3, 3]])
    # Largest remainder: 7 slots by 1/3 each go 3, 2, 2.
    quota = split_capacity(np.full((1, 3), 10.0), np.ones((1, 3)), np.array([7.0]))
    np.testing.assert_array_equal(quota, [[3, 2, 2]])
    # A group with a larger share than rows takes them all; the rest is reshared.
    quota = split_capacity(
        np.array([[2.0, 50.0, 50.0]]), np.array([[8.0, 1.0, 1.0]]), np.array([10.0])
    )
    np.testing.assert_array_equal(quota, [[2, 4, 4]])
