"""The lists' ranking policy: eligible children only, raw score first, stable ties, bands."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cmooe_risk.score._ranking import rank_frame

BANDS = {"very high": 4.0, "high": 2.0, "raised": 1.0}


def _roll(raw: np.ndarray, risk: np.ndarray, *, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = len(raw)
    return pd.DataFrame(
        {
            "pupil_pseudonym": [f"{rng.integers(16**12):012x}" for _ in range(n)],
            "locality": rng.choice(["North", "South"], n),
            "urn": rng.choice(["100001", "100002", "100003", None], n),
            "raw_score": raw,
            "risk": risk,
            "eligibility": "eligible",
            "capacity": 25,
        }
    )


def test_membership_does_not_depend_on_the_calibrator() -> None:
    rng = np.random.default_rng(3)
    raw = rng.normal(-5, 1.5, 2000)
    # an isotonic calibrator: steps, so many children share a calibrated risk
    steps = np.interp(raw, [-9, -6, -4, -2, 1], [0.001, 0.004, 0.02, 0.08, 0.3])
    isotonic = np.round(steps, 2)
    platt = 1 / (1 + np.exp(-(0.8 * raw + 1.0)))
    assert len(np.unique(isotonic)) < 40, "the steps should tie many children"
    first = rank_frame(_roll(raw, isotonic), BANDS)
    second = rank_frame(_roll(raw, platt), BANDS)
    assert first["listed"].sum() == 50
    pd.testing.assert_series_equal(first["rank"], second["rank"])
    pd.testing.assert_series_equal(first["listed"], second["listed"])
    # within each list, the raw score decides every place
    for _, group in first[first["listed"]].groupby("locality"):
        ordered = group.sort_values("rank")
        assert ordered["raw_score"].is_monotonic_decreasing
        assert ordered["risk"].is_monotonic_decreasing


def test_ties_in_the_raw_score_are_broken_by_pseudonym_every_time() -> None:
    raw = np.zeros(60)  # a checklist's points: everyone tied
    roll = _roll(raw, np.full(60, 0.01))
    roll["locality"] = "North"
    ranked = rank_frame(roll, BANDS)
    expected = roll["pupil_pseudonym"].rank(method="first").astype("int64")
    assert list(ranked["rank"]) == list(expected)
    shuffled = roll.sample(frac=1.0, random_state=1)
    again = rank_frame(shuffled, BANDS).sort_index()
    pd.testing.assert_series_equal(again["rank"], ranked["rank"])


def test_only_the_eligible_are_ranked_and_known_cases_stand_apart() -> None:
    rng = np.random.default_rng(5)
    raw = rng.normal(size=200)
    roll = _roll(raw, 1 / (1 + np.exp(-raw)))
    roll.loc[roll["raw_score"].nlargest(10).index, "eligibility"] = "cannot_happen"
    roll.loc[roll["raw_score"].nsmallest(5).index, "eligibility"] = "known_case"
    ranked = rank_frame(roll, BANDS)
    eligible = roll["eligibility"].eq("eligible")
    assert ranked.loc[~eligible, "rank"].isna().all()
    assert not ranked.loc[~eligible, "listed"].any()
    assert set(ranked.loc[roll["eligibility"].eq("known_case"), "section"]) == {"known_case"}
    assert set(ranked.loc[roll["eligibility"].eq("known_case"), "band"]) == {"known case"}
    assert set(ranked.loc[roll["eligibility"].eq("cannot_happen"), "section"]) == {"not_eligible"}
    for _, group in ranked[eligible].groupby("locality"):
        assert sorted(group["rank"]) == list(range(1, len(group) + 1))


def test_bands_discriminate_within_a_list() -> None:
    risk = np.concatenate([[0.40, 0.30, 0.21, 0.12, 0.11], np.linspace(0.10, 0.05, 20)])
    roll = _roll(np.log(risk), risk)
    roll["locality"] = "North"
    ranked = rank_frame(roll, BANDS).set_index("risk")
    # the cut-off is the 25th child's risk, 0.05
    assert ranked.loc[0.40, "band"] == "very high"  # 8x
    assert ranked.loc[0.21, "band"] == "very high"  # 4.2x
    assert ranked.loc[0.12, "band"] == "high"  # 2.4x
    assert ranked.loc[0.05, "band"] == "raised"
    assert ranked["band"].nunique() == 3


@pytest.mark.parametrize("capacity", [1, 7])
def test_list_length_is_the_capacity(capacity: int) -> None:
    roll = _roll(np.arange(30.0), np.linspace(0.01, 0.3, 30))
    roll["locality"] = "North"
    roll["capacity"] = capacity
    ranked = rank_frame(roll, BANDS)
    assert ranked["listed"].sum() == capacity
    assert ranked.loc[ranked["listed"], "raw_score"].min() == 30 - capacity


def test_a_per_school_cap_lets_other_schools_in() -> None:
    rng = np.random.default_rng(9)
    raw = rng.normal(size=300)
    roll = _roll(raw, 1 / (1 + np.exp(-raw)))
    roll["locality"] = "North"
    roll["urn"] = np.where(raw > 0.5, "100001", rng.choice(["100002", "100003"], 300))
    plain = rank_frame(roll, BANDS)
    capped = rank_frame(roll, BANDS, per_school_cap=10)
    assert (plain[plain["listed"]]["urn"] == "100001").sum() == 25  # one school fills it
    on_list = capped[capped["listed"]]
    assert (on_list["urn"] == "100001").sum() == 10
    assert len(on_list) == 25
    # within the cap, the order is still the raw score's
    assert (
        on_list.sort_values("rank")["raw_score"]
        .groupby(on_list["urn"])
        .is_monotonic_decreasing.all()
    )


def test_the_within_school_view_ranks_on_risk_relative_to_the_school() -> None:
    roll = _roll(np.array([3.0, 2.9, 2.8, 0.5, 0.0, -0.5]), np.full(6, 0.1))
    roll["locality"] = "North"
    roll["urn"] = ["A", "A", "A", "B", "B", "B"]
    roll["capacity"] = 2
    ranked = rank_frame(roll, BANDS, policy="within_school")
    # A's mean is 2.9 and B's 0.0: the top of each school is +0.1 and +0.5 above it
    listed = ranked[ranked["listed"]].sort_values("rank")
    assert list(listed["raw_score"]) == [0.5, 3.0]
    with pytest.raises(ValueError, match="list policy"):
        rank_frame(roll, BANDS, policy="fairest")
