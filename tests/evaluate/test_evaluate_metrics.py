"""The weighted metric kernels: hand-computed top-k with ties, and scikit-learn agreement."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from sklearn.metrics import (
    average_precision_score,
    brier_score_loss,
    precision_recall_curve,
    roc_auc_score,
)

from cmooe_risk.evaluate._metrics import (
    TieBlocks,
    TopK,
    average_precision,
    brier,
    expected_top_k,
    pr_curve,
    roc_auc,
    top_k_percent_sizes,
)


def _top_k(scores, labels, k, groups=None, weights=None):
    scores = np.asarray(scores, dtype=float)
    labels = np.asarray(labels)
    groups = None if groups is None else np.asarray(groups, dtype=np.intp)
    blocks = TieBlocks.build(scores, labels, groups)
    weight, positive = blocks.totals(None if weights is None else np.asarray(weights, float))
    return expected_top_k(blocks, weight, positive, np.atleast_1d(np.asarray(k, dtype=float)))


def _ranking(scores, labels, weights=None):
    blocks = TieBlocks.build(np.asarray(scores, float), np.asarray(labels))
    return blocks.totals(None if weights is None else np.asarray(weights, float))


def test_top_k_credits_the_tied_block_with_its_positive_share() -> None:
    # Cut-off falls inside the block of three 2s: one slot left, 1 positive in 3.
    selected, slots = _top_k([3, 2, 2, 2, 1], [1, 1, 0, 0, 1], 2)
    assert selected[0] == pytest.approx(1 + 1 * (1 / 3))
    assert slots[0] == 2


def test_tie_credit_is_the_mean_over_every_tie_breaking_order() -> None:
    scores = np.array([5, 4, 4, 4, 4, 3, 3, 1], dtype=float)
    labels = np.array([0, 1, 0, 1, 1, 0, 1, 1])
    tied = np.flatnonzero(scores == 4)
    k = 3
    totals = []
    for permutation in itertools.permutations(tied):
        order = np.concatenate([[0], permutation, np.arange(5, 8)])
        totals.append(labels[order[:k]].sum())
    selected, _ = _top_k(scores, labels, k)
    assert selected[0] == pytest.approx(np.mean(totals))


def test_top_k_is_independent_of_row_order() -> None:
    rng = np.random.default_rng(3)
    scores = rng.integers(0, 5, 200).astype(float)
    labels = rng.integers(0, 2, 200)
    groups = rng.integers(0, 4, 200)
    k = np.array([7.0, 20.0, 1.0, 300.0])
    shuffle = rng.permutation(200)
    first = _top_k(scores, labels, k, groups)
    second = _top_k(scores[shuffle], labels[shuffle], k, groups[shuffle])
    np.testing.assert_allclose(first, second)


def test_top_k_within_each_group() -> None:
    # Group 0 lists 1 of 3 rows, group 1 lists 2 of 4; a global top 3 would differ.
    scores = [0.9, 0.8, 0.7, 0.95, 0.6, 0.5, 0.4]
    labels = [1, 0, 1, 0, 1, 1, 0]
    selected, slots = _top_k(scores, labels, [1, 2], groups=[0, 0, 0, 1, 1, 1, 1])
    np.testing.assert_allclose(selected, [1, 1])
    np.testing.assert_allclose(slots, [1, 2])


def test_a_list_longer_than_its_group_takes_every_row() -> None:
    selected, slots = _top_k([0.3, 0.2, 0.1], [1, 0, 1], 50)
    assert (selected[0], slots[0]) == (2, 3)


def test_weight_is_multiplicity() -> None:
    rng = np.random.default_rng(4)
    scores = rng.integers(0, 6, 60).astype(float)
    labels = rng.integers(0, 2, 60)
    groups = rng.integers(0, 3, 60)
    weights = rng.integers(0, 4, 60)
    repeated = np.repeat(np.arange(60), weights)
    k = np.array([5.0, 11.0, 30.0])
    weighted = _top_k(scores, labels, k, groups, weights)
    duplicated = _top_k(scores[repeated], labels[repeated], k, groups[repeated])
    np.testing.assert_allclose(weighted, duplicated)


@pytest.mark.parametrize("depth", [1.0, 3.0, 1000.0])
def test_top_k_prefix_gives_the_full_answer(depth: float) -> None:
    # depth 1 forces the fall-back to all blocks whenever a zero weight opens a group.
    rng = np.random.default_rng(5)
    n = 3000
    scores = rng.integers(0, 40, n).astype(float)
    labels = (rng.random(n) < 0.2).astype(int)
    groups = rng.integers(0, 5, n)
    blocks = TieBlocks.build(scores, labels, groups)
    top = TopK(blocks, np.full(5, depth))
    sizes = [np.array([1.0, 5.0, 20.0, 80.0, 700.0]), np.array([3.0, 3.0, 3.0, 3.0, 3.0])]
    for weights in [None, *(rng.poisson(1.0, n).astype(float) for _ in range(5))]:
        weight, positive = blocks.totals(weights)
        for k, (selected, slots) in zip(sizes, top.lists(weights, sizes), strict=True):
            expected = expected_top_k(blocks, weight, positive, k)
            np.testing.assert_allclose(selected, expected[0], rtol=1e-12)
            np.testing.assert_allclose(slots, expected[1], rtol=1e-12)


def test_top_k_percent_sizes_ignore_float_noise() -> None:
    # 1.1 * 700_000 / 100 is 7700.000000000001 in floating point.
    sizes = top_k_percent_sizes(np.array([700_000.0, 10.0, 199.0, 0.0]), 1.1)
    np.testing.assert_array_equal(sizes, [7700, 1, 3, 0])
    assert top_k_percent_sizes(np.array([1000.0]), 0.1)[0] == 1


def _data(seed: int, n: int = 500, tied: bool = False):
    rng = np.random.default_rng(seed)
    labels = (rng.random(n) < 0.15).astype(int)
    scores = rng.random(n) * 0.6 + 0.3 * labels
    if tied:
        scores = np.round(scores * 8) / 8
    return scores, labels


@pytest.mark.parametrize("tied", [False, True])
@pytest.mark.parametrize("weighting", ["none", "counts", "real"])
def test_agrees_with_sklearn(tied: bool, weighting: str) -> None:
    scores, labels = _data(7, tied=tied)
    rng = np.random.default_rng(8)
    weights = {
        "none": None,
        "counts": rng.integers(0, 4, len(scores)).astype(float),
        "real": rng.random(len(scores)) * 3,
    }[weighting]
    blocks = TieBlocks.build(scores, labels)
    weight, positive = blocks.totals(weights)
    segments = blocks.positive_segments()
    segment_weight, segment_positive = segments.totals(weights)

    expected_auc = roc_auc_score(labels, scores, sample_weight=weights)
    assert roc_auc(weight, positive) == pytest.approx(expected_auc, abs=1e-12)
    assert roc_auc(segment_weight, segment_positive) == pytest.approx(expected_auc, abs=1e-12)

    expected_ap = average_precision_score(labels, scores, sample_weight=weights)
    assert average_precision(weight, positive) == pytest.approx(expected_ap, abs=1e-12)
    assert average_precision(segment_weight, segment_positive) == pytest.approx(
        expected_ap, abs=1e-12
    )

    w = np.ones_like(scores) if weights is None else weights
    assert brier(((scores - labels) ** 2) @ w, w.sum()) == pytest.approx(
        brier_score_loss(labels, scores, sample_weight=weights), abs=1e-12
    )


def test_auc_and_ap_are_nan_without_both_classes() -> None:
    weight, positive = _ranking([0.2, 0.4, 0.9], [0, 0, 0])
    assert np.isnan(roc_auc(weight, positive))
    assert np.isnan(average_precision(weight, positive))
    weight, positive = _ranking([0.2, 0.4, 0.9], [1, 1, 1])
    assert np.isnan(roc_auc(weight, positive))
    assert average_precision(weight, positive) == 1.0


def test_pr_curve_points_lie_on_sklearn_curve() -> None:
    scores, labels = _data(9, n=5000)
    blocks = TieBlocks.build(scores, labels)
    threshold, recall, precision = pr_curve(blocks, *blocks.totals(None), max_points=500)
    assert len(threshold) <= 500
    assert threshold[0] == scores.max()
    assert threshold[-1] == scores.min()
    assert np.all(np.diff(recall) >= 0)
    full_precision, full_recall, full_threshold = precision_recall_curve(labels, scores)
    at = np.searchsorted(full_threshold, threshold)
    np.testing.assert_allclose(precision, full_precision[at])
    np.testing.assert_allclose(recall, full_recall[at])
