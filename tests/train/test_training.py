"""Training end to end on a small synthetic LA: runs, metrics, registry, fresh loading."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest

from cmooe_risk.errors import ConfigError, StateError
from cmooe_risk.tracking import client_for
from cmooe_risk.train import (
    CHALLENGER,
    CHAMPION,
    compare_runs,
    load_experiment,
    promote_run,
    registered_model_name,
)
from cmooe_risk.train._dataset import feature_cache_path  # noqa: F401  (documents the cache)

OUTCOMES = ("permanent_exclusion", "missing_education")


@pytest.mark.parametrize("outcome", OUTCOMES)
def test_every_model_is_evaluated_with_cis_beside_the_oracle(trained, outcome) -> None:
    result = trained.results[outcome]
    summary = result.summary.set_index("model")
    assert set(summary.index) == {
        "lightgbm_quick",
        "logistic",
        "rules_checklist",
        "prior_events",
        "oracle",
        "ceiling",
    }
    assert result.oracle
    for metric in ("precision_at_capacity", "recall_at_capacity", "roc_auc", "average_precision"):
        values = summary[metric]
        assert values.between(0, 1).all(), metric
        assert (summary[f"{metric}_ci_low"] <= values + 1e-12).all()
        assert (values <= summary[f"{metric}_ci_high"] + 1e-12).all()
    # The oracle is the ground truth: on a boosted LA it ranks far better than chance.
    assert summary.loc["oracle", "roc_auc"] > 0.75
    # A model that learnt something beats chance too.
    assert summary.loc["lightgbm_quick", "roc_auc"] > 0.6
    models = summary.drop(["oracle", "ceiling"])
    for reference in ("oracle", "ceiling"):
        ratio = models[f"ratio_to_{reference}"]
        assert ratio.notna().all(), reference
        assert (models[f"ratio_to_{reference}_ci_low"] <= ratio + 1e-12).all()
        assert (ratio <= models[f"ratio_to_{reference}_ci_high"] + 1e-12).all()
    # the best achievable from the records is below the hidden state's (within noise)
    assert summary.loc["ceiling", "roc_auc"] <= summary.loc["oracle", "roc_auc"] + 0.02
    # champion by evidence: the recommendation is the model best at capacity
    found = result.recommendation
    best = models["precision_at_capacity"].idxmax()
    assert found.model == best
    assert found.text.startswith("Best at capacity on the backtest")
    client = client_for(trained.workspace)
    parent = client.get_run(result.parent_run_id).data.tags
    assert parent["cmooe.recommended"] == best
    assert parent["cmooe.recommendation"] == found.text


@pytest.mark.parametrize("outcome", OUTCOMES)
def test_runs_carry_config_manifest_plots_and_a_model(trained, outcome) -> None:
    result = trained.results[outcome]
    client = client_for(trained.workspace)
    run = client.get_run(result.model_runs["lightgbm_quick"])
    assert run.data.tags["mlflow.parentRunId"] == result.parent_run_id
    metrics = run.data.metrics
    for name in (
        "precision_at_capacity",
        "precision_at_capacity_ci_low",
        "roc_auc",
        "brier",
        "recall_at_1pct",
        "oracle.precision_at_capacity",
        "ratio_to_oracle.precision_at_capacity",
        "ceiling.precision_at_capacity",
        "ratio_to_ceiling.precision_at_capacity",
        "ratio_to_ceiling.precision_at_capacity_ci_low",
        "test_1.precision_at_capacity",
    ):
        assert name in metrics, name
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"config", "data_manifest.json", "metrics", "plots"} <= artifacts
    plots = {a.path for a in client.list_artifacts(run.info.run_id, "plots")}
    assert plots == {
        "plots/pr_curve.png",
        "plots/calibration.png",
        "plots/precision_at_k_by_window.png",
        "plots/importance.png",
        "plots/contributions_summary.png",
        "plots/contributions_bar.png",
        "plots/contributions_by_domain.png",
    }
    model = mlflow.models.get_model_info(run.data.tags["cmooe.model_uri"])
    assert model.signature is not None
    assert model.signature.outputs.input_names()[:2] == ["risk", "raw_score"]
    # the logged model carries the run's evaluation metrics (MLflow's model page shows
    # them); findings logged to the run afterwards (list policies, concentration) are not
    linked = {m.key: m.value for m in client.get_logged_model(model.model_id).metrics}
    assert set(linked) <= set(metrics)
    for name in ("precision_at_capacity", "roc_auc", "ratio_to_ceiling.precision_at_capacity"):
        assert linked[name] == metrics[name], name


def test_logged_files_hold_no_pupil_identifiers(trained) -> None:
    """No pseudonym, UPN or date of birth reaches MLflow: aggregate figures only."""
    upns = set(pd.read_parquet(trained.synth_dir / "pupils.parquet", columns=["pupil_id"]).pupil_id)
    features = next((trained.workspace.root / "features" / "training").glob("features-*.parquet"))
    pseudonyms = set(pd.read_parquet(features, columns=["pupil_pseudonym"]).pupil_pseudonym)
    mlruns = trained.workspace.root / "mlruns"
    text_files = [
        p
        for p in mlruns.rglob("*")
        if p.is_file() and p.suffix in {".json", ".csv", ".yaml", ".txt", ".MLmodel", ""}
    ]
    assert text_files
    tokens = set()
    for path in text_files:
        tokens |= set(re.findall(r"[A-Za-z0-9]{13,20}", path.read_text(errors="ignore")))
    assert not tokens & upns
    assert not tokens & pseudonyms
    manifest = json.loads(next(mlruns.rglob("data_manifest.json")).read_text())
    # the rows by who can be listed: only the eligible were fitted and scored, and on
    # the boosted LA some children were in AP after an exclusion or already missing
    eligibility = manifest["eligibility"]
    assert eligibility["eligible"] > 0
    assert sum(v for k, v in eligibility.items() if k != "eligible") > 0
    assert manifest["labels"]["rows"] == (
        manifest["labels"]["positives"]
        + manifest["labels"]["negatives"]
        + manifest["labels"]["censored_horizon"]
        + manifest["labels"]["censored_left_la"]
    )


def test_challenger_alias_then_promote_and_gate(trained_copy) -> None:
    outcome = "missing_education"
    workspace = trained_copy.workspace
    client = client_for(workspace)
    name = registered_model_name(outcome)
    challenger = client.get_model_version_by_alias(name, CHALLENGER)
    result = trained_copy.results[outcome]
    assert challenger.run_id == result.model_runs["lightgbm_quick"]

    table = compare_runs(workspace, outcome)
    assert list(table["precision_at_capacity"]) == sorted(
        table["precision_at_capacity"], reverse=True
    )
    assert "challenger" in " ".join(table["alias"])

    promotion = promote_run(  # a prefix of the run id is enough
        workspace, outcome, challenger.run_id[:12], accept_fairness_risk="test"
    )
    assert promotion.version == str(challenger.version)
    assert client.get_model_version_by_alias(name, CHAMPION).version == challenger.version
    with pytest.raises(mlflow.exceptions.MlflowException):
        client.get_model_version_by_alias(name, CHALLENGER)  # moved on to champion

    # Make the champion look unbeatable: any other run is refused, and nothing changes.
    client.log_metric(challenger.run_id, "precision_at_capacity", 1.0)
    other = result.model_runs["rules_checklist"]
    with pytest.raises(StateError, match=r"refused: precision at capacity.*champion is unchanged"):
        promote_run(workspace, outcome, other)
    assert client.get_model_version_by_alias(name, CHAMPION).version == challenger.version


def test_promote_refuses_unknown_or_foreign_runs(trained_copy) -> None:
    workspace = trained_copy.workspace
    pex_run = trained_copy.results["permanent_exclusion"].model_runs["logistic"]
    with pytest.raises(StateError, match="not a model run for missing_education"):
        promote_run(workspace, "missing_education", pex_run)
    with pytest.raises(StateError, match="matches no run"):
        promote_run(workspace, "missing_education", "ffffffffffff")
    with pytest.raises(ConfigError, match="Unknown outcome 'truancy'"):
        promote_run(workspace, "truancy", pex_run)


def test_the_champion_loads_and_predicts_in_a_fresh_process(trained_copy) -> None:
    """No cmooe_risk import: the registered model carries its own scoring code."""
    outcome = "permanent_exclusion"
    workspace = trained_copy.workspace
    run_id = trained_copy.results[outcome].model_runs["lightgbm_quick"]
    promote_run(workspace, outcome, run_id, accept_fairness_risk="test: synthetic data")
    features = next((workspace.root / "features" / "training").glob("features-*[0-9a-f].parquet"))
    sample = pd.read_parquet(features).head(200)
    sample_path = workspace.root / "sample.parquet"
    sample.to_parquet(sample_path)
    script = f"""
import sys, mlflow, pandas as pd
model = mlflow.pyfunc.load_model("models:/{registered_model_name(outcome)}@champion")
frame = pd.read_parquet({str(sample_path)!r})
out = model.predict(frame[model.metadata.metadata["features"]])
out.to_parquet({str(workspace.root / "out.parquet")!r})
assert not [m for m in sys.modules if m.startswith("cmooe_risk")], "imported cmooe_risk"
print("ok", len(out))
"""
    env = {**os.environ, "MLFLOW_TRACKING_URI": workspace.mlflow_tracking_uri}
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, cwd=workspace.root
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "ok 200" in done.stdout
    predicted = pd.read_parquet(workspace.root / "out.parquet")
    assert predicted["risk"].between(0, 1).all()
    contributions = predicted.filter(like="contribution__")
    np.testing.assert_allclose(contributions.sum(axis=1), predicted["raw_score"], atol=1e-6)


def test_experiment_errors_name_the_bad_value(tmp_path: Path) -> None:
    bad_gap = tmp_path / "gap.yaml"
    bad_gap.write_text(
        "outcome: missing_education\nhorizon_weeks: 13\n"
        "temporal: {label_gap_weeks: 4}\nmodels: [logistic]\n"
    )
    with pytest.raises(ConfigError, match="label_gap_weeks is 4, shorter than the 13-week"):
        load_experiment(bad_gap)
    unknown_key = tmp_path / "key.yaml"
    unknown_key.write_text("outcome: missing_education\nmodels: [logistic]\nhorizn: 3\n")
    with pytest.raises(ConfigError, match="unknown key 'horizn'"):
        load_experiment(unknown_key)
    unknown_model = tmp_path / "model.yaml"
    unknown_model.write_text("outcome: missing_education\nmodels: [xgboost]\n")
    with pytest.raises(ConfigError, match="Unknown model 'xgboost'"):
        load_experiment(unknown_model)
    (tmp_path / "typo.yaml").write_text(
        "kind: points\nrules: [{feature: atendance, op: lt, value: 1}]\n"
    )
    typo = tmp_path / "typo_exp.yaml"
    typo.write_text("outcome: missing_education\nmodels: [typo.yaml]\n")
    with pytest.raises(ConfigError, match="atendance is not a model feature"):
        load_experiment(typo)
    with pytest.raises(ConfigError, match="No experiment 'nope'"):
        load_experiment("nope")


def test_the_demo_trains_both_outcomes_and_promotes_champions(trained_copy, monkeypatch) -> None:
    # The demo's logic, not training itself (the session fixture ran train_experiment for
    # both outcomes): training answers with the runs the fixture made, and records what
    # the demo asked of it; the promotions are real, in the copy's registry.
    import cmooe_risk.train
    from cmooe_risk.demo import DemoResult, train_and_promote

    asked = []

    def already_trained(workspace, experiment, *, ground_truth=None):
        asked.append((workspace.root, experiment.outcome, ground_truth))
        return trained_copy.results[experiment.outcome]

    monkeypatch.setattr(cmooe_risk.train, "train_experiment", already_trained)
    result = DemoResult(ingest_report=None)
    workspace, synth_dir = trained_copy.workspace, trained_copy.synth_dir
    train_and_promote(workspace, synth_dir, result, trained_copy.experiments)
    assert asked == [(workspace.root, outcome, synth_dir) for outcome in OUTCOMES]
    assert [t.outcome for t in result.training] == list(OUTCOMES)
    client = client_for(workspace)
    for trained_result, message in zip(result.training, result.promotions, strict=True):
        champion = client.get_model_version_by_alias(
            registered_model_name(trained_result.outcome), CHAMPION
        )
        assert champion.run_id == trained_result.model_runs["lightgbm_quick"]
        assert "is the champion" in message
