"""The audit finds the synthetic LA's injected recording bias, and only it.

The generator makes schools exclude Black pupils (codes BCRB, BAFR, BOTH, the whole
BLAC major group) 3 times as often for the same behaviour. Its recorded-outcome risk
``p_permanent_exclusion`` is what a perfect model trained on recorded outcomes would
score; ``p_permanent_exclusion_unbiased`` is the behaviour-driven truth. Outcomes come
from the recorded risk (drawn with numpy: faster than ingesting and labelling), with a
boosted PEX rate and a 26-week horizon so that groups clear suppression on 5,000 pupils.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from cmooe_risk.audit import AuditResult, audit_list
from cmooe_risk.synth import generate, load_profile
from cmooe_risk.synth._profile import Sourced

BIASED = ["BCRB", "BAFR", "BOTH"]


def _biased_profile():
    profile = load_profile("england")
    rates = profile.rates.model_copy(update={"pex_per_100": Sourced(value=6.0)})
    bias = profile.bias.model_copy(
        update={"enabled": True, "ethnicity_minor": BIASED, "sex": [], "multiplier": 3.0}
    )
    return profile.model_copy(update={"rates": rates, "bias": bias})


@pytest.fixture(scope="module")
def synthetic_frame(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    out = tmp_path_factory.mktemp("biased_la")
    manifest = generate(
        _biased_profile(), pupils=5000, years=1, seed=7, out=out / "la", end=date(2026, 7, 20)
    )
    root = Path(manifest.out_dir)
    truth = pq.read_table(
        root / "ground_truth" / "ground_truth.parquet", filters=[("horizon_weeks", "=", 26)]
    ).to_pandas()
    truth = truth[truth["as_of"].isin(sorted(truth["as_of"].unique())[::2])]
    pupils = pq.read_table(root / "pupils.parquet").to_pandas().set_index("pupil_id")
    ids = truth["pupil_id"].astype(str)
    recorded = truth["p_permanent_exclusion"].to_numpy()
    return pd.DataFrame(
        {
            "as_of": truth["as_of"].to_numpy(),
            "locality": ids.map(pupils["locality"]).to_numpy(),
            "cluster": ids.to_numpy(),
            "score": recorded,
            "truth": truth["p_permanent_exclusion_unbiased"].to_numpy(),
            "label": np.random.default_rng(0).binomial(1, recorded),
            "sex": ids.map(pupils["sex"]).to_numpy(),
            "ethnicity_major": ids.map(pupils["ethnicity_major"]).to_numpy(),
        }
    )


def bias_check(frame: pd.DataFrame) -> tuple[AuditResult, pd.DataFrame]:
    """Audit ``frame`` and return the flags of predicted ÷ true risk by ethnic group."""
    result = audit_list(frame, {}, 20, config={"bootstrap": 100}, intersections=False)
    flags = result.flags
    chosen = (flags["metric"] == "predicted_truth_ratio") & (
        flags["attribute"] == "ethnicity_major"
    )
    return result, flags[chosen]


def test_injected_recording_bias_is_flagged_for_the_biased_group_only(
    synthetic_frame: pd.DataFrame,
) -> None:
    result, flags = bias_check(synthetic_frame)
    assert result.metadata["reference_groups"]["ethnicity_major"] == "WHIT"
    assert set(flags["group"]) == {"BLAC"}
    versus_white = flags[flags["versus"] == "reference"].iloc[0]
    # Three times the recorded exclusions for the same behaviour raises the 26-week
    # recorded risk about twofold (other routes to exclusion are not multiplied).
    assert 1.5 < versus_white["ratio"] < 3.0
    assert versus_white["ratio_ci_low"] > 1.25
    assert "over-predicts" in versus_white["sentence"]
    # Sex is not a biased attribute here.
    assert not (
        result.flags["metric"].eq("predicted_truth_ratio") & result.flags["attribute"].eq("sex")
    ).any()


def test_a_score_of_behaviour_driven_risk_is_not_flagged(synthetic_frame: pd.DataFrame) -> None:
    fair = synthetic_frame.assign(score=synthetic_frame["truth"])
    _, flags = bias_check(fair)
    assert flags.empty
