"""what_changed: the change in risk between two dates, and the sentences of what moved it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cmooe_risk.explain import STATUSES, what_changed
from cmooe_risk.features import DOMAINS

FEATURES = ["attendance_rate_6w", "suspensions_13w", "cin_current", "days_since_last_suspension"]


def _frame(ids, values, contributions, baseline=-3.0) -> pd.DataFrame:
    frame = pd.DataFrame(np.asarray(values, dtype=float), columns=FEATURES)
    frame.insert(0, "pupil_pseudonym", ids)
    contributions = np.asarray(contributions, dtype=float)
    for i, feature in enumerate(FEATURES):
        frame[f"contribution__{feature}"] = contributions[:, i]
    frame["contribution__baseline"] = baseline
    frame["raw_score"] = contributions.sum(axis=1) + baseline
    frame["risk"] = 1 / (1 + np.exp(-frame["raw_score"]))
    return frame


@pytest.fixture
def pair() -> tuple[pd.DataFrame, pd.DataFrame]:
    before = _frame(
        ["a", "b", "d"],
        [[0.95, 0, 0, np.nan], [0.90, 1, 1, 40], [0.97, 0, 0, np.nan]],
        [[-0.5, 0.0, -0.1, -0.2], [0.0, 0.5, 0.4, 0.1], [-0.6, 0.0, -0.1, -0.2]],
    )
    now = _frame(
        ["c", "a", "d"],
        [[0.70, 2, 0, 12], [0.81, 1, 1, 12], [0.97, 0, 0, np.nan]],
        [[0.8, 0.9, -0.1, 0.3], [0.6, 0.2, 0.3, 0.25], [-0.6, 0.0, -0.1, -0.25]],
    )
    return now, before


def test_a_hand_made_pair(pair) -> None:
    now, before = pair
    changed = what_changed(now, before)
    # Pupils in now in its order, then those who left.
    assert changed["pupil_pseudonym"].tolist() == ["c", "a", "d", "b"]
    assert changed["status"].tolist() == [
        "new to the roll", "continuing", "continuing", "left the roll",
    ]  # fmt: skip
    assert set(changed["status"]) <= set(STATUSES)
    a = changed.set_index("pupil_pseudonym").loc["a"]
    assert a["raw_score_before"] == pytest.approx(-3.8)
    assert a["raw_score_now"] == pytest.approx(-1.65)
    assert a["raw_score_change"] == pytest.approx(2.15)
    assert a["risk_change"] == pytest.approx(a["risk_now"] - a["risk_before"])
    assert a["domain_change__attendance"] == pytest.approx(1.1)
    assert a["domain_change__behaviour"] == pytest.approx(0.2 + 0.45)
    assert a["domain_change__social_care"] == pytest.approx(0.4)
    assert a["contribution_change__cin_current"] == pytest.approx(0.4)
    # Largest change in contribution first; each sentence shows the pupil's figures. The
    # days since the last suspension grow with time: never a change in their own right
    # (the suspension itself is one).
    assert [a["mover_1"], a["mover_2"], a["mover_3"]] == [
        "Attendance 81% over the last 6 weeks, down from 95% (raises risk)",
        "Child in need now, previously no (raises risk)",
        "1 suspension in the last 13 weeks, up from 0 (raises risk)",
    ]
    # Unchanged pupil: d's days_since_last_suspension contribution moved (-0.05) but its
    # value did not, so it is no mover.
    d = changed.set_index("pupil_pseudonym").loc["d"]
    assert pd.isna(d["mover_1"])
    assert d["raw_score_change"] == pytest.approx(-0.05)
    for pupil in ("c", "b"):
        row = changed.set_index("pupil_pseudonym").loc[pupil]
        assert np.isnan(row["risk_change"])
        assert pd.isna(row["mover_1"])
        assert np.isnan(row["domain_change__attendance"])
    assert changed.loc[changed["status"] == "new to the roll", "risk_now"].notna().all()
    assert changed.loc[changed["status"] == "left the roll", "risk_before"].notna().all()


def test_falls_read_as_lowering_risk_and_flags_as_yes_no(pair) -> None:
    now, before = pair
    # Swap the dates: the same pupil, moving the other way.
    a = what_changed(before, now).set_index("pupil_pseudonym").loc["a"]
    assert a["mover_1"] == "Attendance 95% over the last 6 weeks, up from 81% (lowers risk)"
    assert a["mover_2"] == "Child in need now: no, previously yes (lowers risk)"
    assert a["mover_3"] == "0 suspensions in the last 13 weeks, down from 1 (lowers risk)"


def test_changes_too_small_to_see_or_against_the_direction_are_not_changes() -> None:
    ids = ["a", "b", "c"]
    before = _frame(ids, [[0.80, 0, 0, 30], [0.90, 1, 0, 30], [0.90, 0, 0, 30]], [[0.0] * 4] * 3)
    now = _frame(
        ids,
        [
            [0.82, 0, 0, 37],  # 2 points: below the 5-point step for rates
            [0.80, 1, 0, 37],  # attendance down, but the model says it lowered the risk
            [0.80, 0, 0, 37],  # attendance down 10 points, risk up: a change
        ],
        [[0.3, 0, 0, 0.2], [-0.3, 0, 0, 0.2], [0.3, 0, 0, 0.2]],
    )
    movers = what_changed(now, before).set_index("pupil_pseudonym")["mover_1"]
    assert pd.isna(movers["a"])  # and the days-since counter never is one
    assert pd.isna(movers["b"])
    assert movers["c"] == "Attendance 80% over the last 6 weeks, down from 90% (raises risk)"


def test_domain_changes_add_up_to_the_raw_score_change(scorers, toy_test) -> None:
    scorer = scorers["lightgbm"]
    frame = toy_test.assign(pupil_pseudonym=[f"p{i}" for i in range(len(toy_test))])
    later = frame.assign(attendance_rate_6w=frame["attendance_rate_6w"] - 0.1)
    before = pd.concat([frame, scorer.predict(frame)], axis=1)
    now = pd.concat([later, scorer.predict(later)], axis=1)
    changed = what_changed(now, before)
    domains = changed[[f"domain_change__{d}" for d in DOMAINS] + ["domain_change__baseline"]]
    np.testing.assert_allclose(domains.sum(axis=1), changed["raw_score_change"], atol=1e-9)
    features = changed.filter(like="contribution_change__")
    np.testing.assert_allclose(features.sum(axis=1), changed["raw_score_change"], atol=1e-9)
    movers = changed["mover_1"].dropna()
    assert len(movers) > 0.5 * len(changed)
    assert movers.str.startswith("Attendance ").all()
    # Only attendance_rate_6w changed value: it is the only mover.
    assert changed["mover_2"].isna().all()


def test_bad_pairs_are_named(pair) -> None:
    now, before = pair
    with pytest.raises(ValueError, match=r"now has more than one row for the key 'a'"):
        what_changed(pd.concat([now, now.iloc[[1]]]), before)
    with pytest.raises(ValueError, match="before lacks key column"):
        what_changed(now, before.drop(columns="pupil_pseudonym"))
    dropped = now.drop(columns="contribution__cin_current")
    dropped["raw_score"] = dropped.filter(like="contribution__").sum(axis=1)
    with pytest.raises(ValueError, match="only now: -; only before: cin_current"):
        what_changed(dropped, before)
    with pytest.raises(ValueError, match="keys must be one or more column names"):
        what_changed(now, before, keys=())


def test_a_movement_worded_as_a_verb_is_compared_in_words() -> None:
    # "fell by 3.3 points a week, down from fell by 1.0" does not parse; say it in words.
    def frame(trend: float, contribution: float) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "pupil_pseudonym": ["a"],
                "attendance_trend_13w": [trend],
                "contribution__attendance_trend_13w": [contribution],
                "contribution__baseline": [-3.0],
                "raw_score": [contribution - 3.0],
                "risk": [1 / (1 + np.exp(3.0 - contribution))],
            }
        )

    changed = what_changed(frame(-0.033, 0.6), frame(-0.010, 0.1)).iloc[0]
    assert changed["mover_1"] == (
        "Attendance fell by 3.3 percentage points a week over the last 13 weeks, compared "
        "with last week when it fell by 1.0 percentage point a week (raises risk)"
    )
    steady = what_changed(frame(0.02, -0.3), frame(0.0, 0.0)).iloc[0]
    assert steady["mover_1"].endswith("compared with last week when it was steady (lowers risk)")
