"""Train an experiment: temporal splits, every model, evaluation, MLflow, challenger.

For each test split every model is fitted on the training dates, calibrated on the
validation dates and scored on the test dates; the scores of all models (and, on a
synthetic LA, the ground-truth oracle) are evaluated together, so their bootstrap
intervals and ratios are paired. The deployment split then refits every model on the
newest data with the same recipe; that fit is what MLflow stores and the registry serves.
"""

from __future__ import annotations

import contextlib
import io
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from cmooe_risk import __version__, risk_model
from cmooe_risk._progress import step
from cmooe_risk.config import Workspace
from cmooe_risk.features import load_catalog
from cmooe_risk.risk_model import Scorer, calibrate
from cmooe_risk.tracking import (
    CHALLENGER,
    client_for,
    ensure_experiment,
    quiet_mlflow,
    registered_model_name,
)
from cmooe_risk.train._dataset import ModellingData, data_span, school_weeks
from cmooe_risk.train._estimators import fit_model
from cmooe_risk.train._experiment import BEST, ExperimentConfig, load_experiment
from cmooe_risk.train._recommend import Recommendation, describe_model, recommend
from cmooe_risk.train._splits import TemporalSplit, make_splits
from cmooe_risk.warehouse import connect_workspace

__all__ = [
    "HEADLINE_METRICS",
    "Recommendation",
    "TrainingResult",
    "describe_model",
    "recommend",
    "train_experiment",
]

#: The risk model's code, logged with every model (MLflow's models-from-code).
RISK_MODEL_CODE = Path(risk_model.__file__)
ORACLE = "oracle"
#: the best risk achievable from the LA's records (synthetic LA only, see synth/_ceiling.py)
CEILING = "ceiling"
#: what every model is measured against on a synthetic LA, in this order
REFERENCES = (ORACLE, CEILING)
#: Feature and audit columns that the fairness audit derives its groups from.
GROUP_SOURCE_COLUMNS = (
    "sex",
    "ethnicity_major",
    "ethnicity_minor",
    "fsm_current",
    "sen_support_current",
    "ehcp_current",
    "eal",
    "cla_current",
    "cin_current",
    "cpp_current",
)
#: Test rows drawn for the global explanation plots of each model.
EXPLAIN_SAMPLE_ROWS = 5000
#: The headline evaluation: every test window's rows together.
POOLED = "all_test_windows"
#: Shown in summaries and `models compare`, in this order.
HEADLINE_METRICS = (
    "precision_at_capacity",
    "recall_at_capacity",
    "roc_auc",
    "average_precision",
    "brier",
)


@dataclass
class TrainingResult:
    """What one ``train`` run produced."""

    outcome: str
    experiment_id: str
    parent_run_id: str
    model_runs: dict[str, str]
    summary: pd.DataFrame
    splits: list[TemporalSplit]
    challenger_version: str | None = None
    #: the model registered as challenger (``challenger: best`` resolved)
    challenger: str | None = None
    recommendation: Recommendation | None = None
    #: the challenger's lists drawn other ways (evaluate.compare_list_policies)
    list_policies: object = None
    oracle: bool = False
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    audit: object = None

    @property
    def test_span(self) -> str:
        """The as-of dates the headline metrics pool, in words."""
        tests = [s for s in self.splits if not s.is_deployment]
        dates = sum(len(s.test) for s in tests)
        return (
            f"{tests[0].test[0]}..{tests[-1].test[-1]} "
            f"({len(tests)} test windows, {dates} weekly as-of dates)"
        )


def train_experiment(
    workspace: Workspace,
    experiment: str | Path | ExperimentConfig,
    *,
    ground_truth: Path | None = None,
) -> TrainingResult:
    """Train, evaluate and log every model of an experiment; register the challenger.

    Parameters
    ----------
    workspace : Workspace
        Holds the warehouse (already ingested) and the MLflow store.
    experiment : str, Path or ExperimentConfig
        An experiment file, the name of a shipped one, or a loaded config.
    ground_truth : Path, optional
        A synthetic LA's directory (or its ``ground_truth/``): adds the oracle ceiling.
    """
    started = time.perf_counter()
    config = experiment if isinstance(experiment, ExperimentConfig) else load_experiment(experiment)
    client = client_for(workspace)  # fail early if the store is unreachable
    with connect_workspace(workspace, read_only=True) as con:
        span = data_span(con)
        term_weeks = school_weeks(con)
    temporal = config.temporal
    splits = make_splits(
        span,
        horizon_weeks=config.horizon_weeks,
        label_gap_weeks=config.label_gap_weeks,
        min_history_weeks=temporal.min_history_weeks,
        frequency_weeks=temporal.as_of_frequency_weeks,
        test_frequency_weeks=temporal.test_frequency_weeks,
        test_windows=temporal.test_windows,
        test_window_weeks=temporal.test_window_weeks,
        validation_weeks=temporal.validation_weeks,
        eligible=term_weeks,
    )
    all_dates = sorted({d for s in splits for d in (*s.train, *s.validation, *s.test)})
    test_dates = sorted({d for s in splits for d in s.test})
    windows: dict[str, object] = {}
    # per test window: its rows, each score (calibrated risk) and what each ranks by
    scored: dict[str, tuple[pd.DataFrame, dict[str, np.ndarray], dict[str, np.ndarray]]] = {}
    explain_sample = pd.DataFrame()
    deployed: dict[str, Scorer] = {}
    split_counts: dict[str, dict] = {}
    with ModellingData.open(
        workspace,
        config.outcome,
        config.horizon_weeks,
        all_dates,
        ground_truth=ground_truth,
        oracle_dates=test_dates,
        precursors=any(
            getattr(spec, "learn_from", "outcome") == "outcome_or_precursor"
            for spec in config.model_specs.values()
        ),
    ) as data:
        for split in splits:
            fitted, counts, test = _run_split(config, data, split)
            split_counts[split.name] = counts
            if test is None:
                deployed = fitted
            else:
                frame, scores, ranks, explain_sample = test
                scored[split.name] = (frame, scores, ranks)
                windows[split.name] = _evaluate(config, workspace, split.name, frame, scores, ranks)
        manifest = {
            **data.manifest,
            # labelled rows by who can be listed: only "eligible" rows are fitted and scored
            "eligibility": data.eligibility_counts(all_dates),
            "data_span": {"first": span.first.isoformat(), "last": span.last.isoformat()},
            "splits": {s.name: {**s.describe(), **split_counts[s.name]} for s in splits},
            "cmooe_risk_version": __version__,
        }
        oracle = data.oracle_available
    pooled = _pooled(config, workspace, scored, windows)
    summary = _summary_table(pooled, config, oracle)
    recommendation = recommend(pooled, config.models)
    challenger = recommendation.model if config.challenger == BEST else config.challenger
    with step(f"{config.outcome}: list policies (school concentration, within-school, cap)"):
        policies = _list_policies(config, workspace, scored, challenger or recommendation.model)
    with step("MLflow: logging runs and models"):
        result = _log_to_mlflow(
            client,
            workspace,
            config,
            splits,
            windows,
            pooled,
            deployed,
            manifest,
            summary,
            oracle,
            explain_sample,
            challenger,
            recommendation,
        )
    result.list_policies = policies
    _log_list_policies(client, result.model_runs[challenger or recommendation.model], policies)
    _store_predictions(client, workspace, result, scored)
    if challenger:
        from cmooe_risk.audit import audit_run

        with step(f"{config.outcome}: fairness audit of the challenger"):
            result.audit = audit_run(workspace, result.model_runs[challenger], client=client)
    result.seconds = time.perf_counter() - started
    return result


def _store_predictions(client, workspace: Workspace, result: TrainingResult, scored) -> None:
    """Every model's test-window scores, kept in the workspace for fairness audits.

    They hold pseudonyms, so they stay in the workspace; MLflow gets only the path.
    """
    from cmooe_risk.audit import write_predictions

    frame = pd.concat([f for f, _, _ in scored.values()], ignore_index=True)
    names = list(next(iter(scored.values()))[1])
    scores = {n: np.concatenate([s[n] for _, s, _ in scored.values()]) for n in names}
    ranks = {n: np.concatenate([r[n] for _, _, r in scored.values()]) for n in names}
    path = write_predictions(workspace, result.parent_run_id, frame, scores, ranks)
    relative = str(path.relative_to(workspace.root))
    with quiet_mlflow():
        for name, run_id in result.model_runs.items():
            client.set_tag(run_id, "cmooe.predictions", relative)
            client.set_tag(run_id, "cmooe.score_column", name)


def _run_split(config: ExperimentConfig, data: ModellingData, split: TemporalSplit):
    """Fit every model on the split; for a test split, also score its test rows."""
    seed = config.training.seed
    with step(f"{config.outcome}: {split.name} data"):
        train = data.rows(
            split.train, negative_sample_rate=config.training.negative_sample_rate, seed=seed
        )
        validation = data.rows(split.validation)
    counts = {
        "train_rows": len(train),
        "train_positives": int(train["label"].sum()),
        "validation_rows": len(validation),
        "validation_positives": int(validation["label"].sum()),
    }
    fitted = {}
    with step(f"{config.outcome}: {split.name} fitting", total=len(config.models)) as advance:
        for name in config.models:
            fitted[name] = fit_model(
                config.model_specs[name],
                data.features,
                train,
                validation,
                calibration=config.calibration,
                seed=seed,
                outcome=config.outcome,
            )
            advance(1)
    del train, validation
    if split.is_deployment:
        return fitted, counts, None
    test = data.rows(split.test, with_oracle=True, with_audit=True)
    counts["test_rows"] = len(test)
    counts["test_positives"] = int(test["label"].sum())
    # Lists rank on each model's raw score, which its monotone calibration can tie (an
    # isotonic step) but never reorder; the calibrated risk is what people are shown.
    ranks = {name: scorer.raw_score(test) for name, scorer in fitted.items()}
    scores = {
        name: calibrate(scorer.spec["calibration"], ranks[name]) for name, scorer in fitted.items()
    }
    if data.oracle_available:
        scores[ORACLE] = test["oracle_risk"].to_numpy(dtype=np.float64)
        counts["oracle_coverage"] = float(test["oracle_known"].mean()) if len(test) else 0.0
    if data.ceiling_available:
        scores[CEILING] = test["ceiling_risk"].to_numpy(dtype=np.float64)
    for reference in REFERENCES:
        if reference in scores:
            ranks[reference] = scores[reference]
    frame = pd.DataFrame(
        {
            "as_of": test["as_of"],
            "locality": test["locality"].astype(str),
            "cluster": test["pupil_pseudonym"].astype(str),
            "label": test["label"].astype(np.int8),
            # the school, for the list policies' school concentration and caps
            "urn": test["urn"].astype("str").where(test["urn"].notna(), None),
        }
    )
    # Kept for the fairness audit: the attributes groups are made from, and (synthetic
    # LA only) the behaviour-driven true risk to measure recording bias against.
    kept = [c for c in (*GROUP_SOURCE_COLUMNS, "oracle_unbiased") if c in test.columns]
    frame = pd.concat([frame, test[kept].reset_index(drop=True)], axis=1)
    sample = test.sample(n=min(len(test), EXPLAIN_SAMPLE_ROWS), random_state=config.training.seed)
    sample = sample[list(data.features)].reset_index(drop=True)
    return fitted, counts, (frame, scores, ranks, sample)


def _evaluate(config: ExperimentConfig, workspace, name: str, frame, scores, ranks):
    from cmooe_risk.evaluate import evaluate_window

    localities = workspace.config.localities
    with step(f"{config.outcome}: {name} evaluation ({config.evaluation.bootstrap} resamples)"):
        return evaluate_window(
            frame,
            scores=scores,
            capacities=dict(localities.capacities),
            default_capacity=localities.default_capacity,
            k_percents=tuple(config.evaluation.k_percents),
            n_boot=config.evaluation.bootstrap,
            seed=config.training.seed,
            # the oracle and ceiling, and every model: paired ratios between all of them
            ratio_to=[*(name for name in REFERENCES if name in scores), *config.models],
            rank_by=ranks,
        )


def _pooled(config, workspace, scored: dict, windows: dict):
    """All test windows together: the headline, with the most events behind its CIs.

    Each window's rows are scored by the models of its own split, and as-of dates never
    repeat across windows, so each date's top-k lists are exactly those of its window.
    """
    if len(scored) == 1:
        return next(iter(windows.values()))
    frames = [frame for frame, _, _ in scored.values()]
    names = list(next(iter(scored.values()))[1])
    scores = {n: np.concatenate([s[n] for _, s, _ in scored.values()]) for n in names}
    ranks = {n: np.concatenate([r[n] for _, _, r in scored.values()]) for n in names}
    frame = pd.concat(frames, ignore_index=True)
    return _evaluate(config, workspace, POOLED, frame, scores, ranks)


#: The per-school cap measured when none is configured: a fifth of the default capacity.
DEFAULT_POLICY_CAP_SHARE = 0.2


def _list_policies(config: ExperimentConfig, workspace, scored: dict, model: str):
    """The model's lists as drawn now, within schools, and under a per-school cap."""
    from cmooe_risk.evaluate import compare_list_policies

    frame = pd.concat([f for f, _, _ in scored.values()], ignore_index=True)
    risk = np.concatenate([s[model] for _, s, _ in scored.values()])
    order = np.concatenate([r[model] for _, _, r in scored.values()])
    localities = workspace.config.localities
    cap = localities.per_school_cap or max(
        1, round(DEFAULT_POLICY_CAP_SHARE * localities.default_capacity)
    )
    return compare_list_policies(
        frame,
        risk,
        order,
        dict(localities.capacities),
        localities.default_capacity,
        cap=cap,
        n_boot=config.evaluation.bootstrap,
        seed=config.training.seed,
    )


def _log_list_policies(client, run_id: str, policies) -> None:
    from mlflow.entities import Metric

    now = int(time.time() * 1000)
    metrics = [
        Metric("school_concentration.top_school_share", policies.top_school_share, now, 0),
        Metric("school_concentration.top_two_share", policies.top_two_share, now, 0),
    ]
    for row in policies.table.itertuples():
        if row.policy == "risk":
            continue
        for key, value in (
            ("precision_at_capacity", row.precision),
            ("precision_at_capacity_ci_low", row.ci_low),
            ("precision_at_capacity_ci_high", row.ci_high),
            ("ratio_to_risk", row.ratio),
            ("ratio_to_risk_ci_low", row.ratio_ci_low),
            ("ratio_to_risk_ci_high", row.ratio_ci_high),
        ):
            if value == value:  # not NaN
                metrics.append(Metric(f"list_policy.{row.policy}.{key}", float(value), now, 0))
    with quiet_mlflow():
        client.log_batch(run_id, metrics=metrics)
        client.set_tag(run_id, "cmooe.school_cap_measured", str(policies.cap))


def _summary_table(pooled, config: ExperimentConfig, oracle: bool) -> pd.DataFrame:
    """Headline metrics over all test windows: one row per model (then the oracle and
    the recorded-data ceiling), with each model's precision at capacity as a ratio to
    them (``ratio_to_oracle``, ``ratio_to_ceiling``, with CIs)."""
    metrics = pooled.metrics
    present = set(metrics["score"])
    rows = []
    for score in [*config.models, *(r for r in REFERENCES if oracle and r in present)]:
        row = {"model": score}
        for metric in HEADLINE_METRICS:
            hit = metrics[(metrics["score"] == score) & (metrics["metric"] == metric)]
            if len(hit):
                row[metric] = float(hit["value"].iloc[0])
                row[f"{metric}_ci_low"] = float(hit["ci_low"].iloc[0])
                row[f"{metric}_ci_high"] = float(hit["ci_high"].iloc[0])
        for reference in REFERENCES:
            if score in REFERENCES or reference not in pooled.ratio_to:
                continue
            try:
                value, low, high = pooled.ratio(score, reference, "precision_at_capacity")
            except KeyError:
                continue
            row[f"ratio_to_{reference}"] = value
            row[f"ratio_to_{reference}_ci_low"] = low
            row[f"ratio_to_{reference}_ci_high"] = high
        rows.append(row)
    return pd.DataFrame(rows)


def _metrics_for(score: str, windows: dict, pooled, oracle: bool) -> dict[str, float]:
    """MLflow metrics for one model: all test windows pooled as the headline (no prefix),
    and each window's own, prefixed with its name (``test_1.roc_auc``)."""
    out: dict[str, float] = {}
    evaluations = [(name, result, [f"{name}."]) for name, result in windows.items()]
    evaluations.append((POOLED, pooled, [""]))
    for _name, result, prefixes in evaluations:
        # paired ratios to the oracle and ceiling, and to every other model
        tables = [(result.metrics, "")]
        tables += [
            (result.ratios[result.ratios["reference"] == reference], f"ratio_to_{reference}.")
            for reference in result.ratio_to
        ]
        for table, label in tables:
            if table.empty:
                continue
            for row in table[table["score"] == score].itertuples():
                for prefix in prefixes:
                    base = f"{prefix}{label}{row.metric}"
                    out[base] = row.value
                    if not np.isnan(row.ci_low):
                        out[f"{base}_ci_low"] = row.ci_low
                        out[f"{base}_ci_high"] = row.ci_high
        if oracle:
            for reference in REFERENCES:
                for row in result.metrics[result.metrics["score"] == reference].itertuples():
                    for prefix in prefixes:
                        out[f"{prefix}{reference}.{row.metric}"] = row.value
    return {k: float(v) for k, v in out.items() if v is not None and np.isfinite(v)}


def _input_example(scorer: Scorer, integer_features: set[str]) -> pd.DataFrame:
    """Two made-up pupils, never a real pupil's row: the training medians, and the same
    pupil with recent suspensions and poor attendance. The signature needs only the
    columns and types; a reader of the model gets a plausible example.
    """
    typical = [np.nan if v is None else v for v in scorer.spec["reference_values"]]
    example = pd.DataFrame([typical, typical], columns=scorer.features).astype("float64")
    concerning = {
        "attendance_rate_6w": 0.7,
        "attendance_rate_13w": 0.75,
        "unauthorised_absence_rate_6w": 0.2,
        "suspensions_13w": 2.0,
        "suspensions_52w": 3.0,
    }
    for column, value in concerning.items():
        if column in example:
            example.loc[1, column] = value
    for column in integer_features & set(example.columns):
        example[column] = example[column].fillna(0).round().astype("int64")
    return example


def _signature(scorer: Scorer, example: pd.DataFrame, integer_features: set[str]):
    """Inputs typed as the feature catalog types them (counts and flags are integers, and
    MLflow will not silently turn an integer column into a float one); outputs inferred.
    """
    from mlflow.models import ModelSignature, infer_signature
    from mlflow.types import ColSpec, Schema

    inputs = Schema(
        [
            ColSpec("long" if name in integer_features else "double", name)
            for name in scorer.features
        ]
    )
    outputs = infer_signature(example, scorer.predict(example)).outputs
    return ModelSignature(inputs=inputs, outputs=outputs)


@dataclass(frozen=True)
class _Logging:
    """What every model run of one ``train`` shares."""

    client: object
    experiment_id: str
    parent_id: str
    batch: str
    config: ExperimentConfig
    windows: dict
    pooled: object
    oracle: bool
    manifest: dict
    explain_sample: pd.DataFrame


def _log_model_run(ctx: _Logging, name: str, scorer: Scorer) -> tuple[str, str]:
    """One child run: parameters, metrics, artifacts, plots and the pyfunc model."""
    import mlflow
    from mlflow.entities import Metric, Param, RunTag

    from cmooe_risk.evaluate import (
        calibration_figure,
        importance_figure,
        pr_curve_figure,
        precision_at_k_figure,
    )

    client, config, windows, pooled = ctx.client, ctx.config, ctx.windows, ctx.pooled
    oracle, manifest = ctx.oracle, ctx.manifest
    spec = config.model_specs[name]
    run = client.create_run(
        ctx.experiment_id,
        run_name=name,
        tags={
            "mlflow.parentRunId": ctx.parent_id,
            "cmooe.role": "model",
            "cmooe.outcome": config.outcome,
            "cmooe.model": name,
            "cmooe.kind": spec.kind,
            "cmooe.horizon_weeks": str(config.horizon_weeks),
            "cmooe.batch": ctx.batch,
            "cmooe.oracle": str(oracle).lower(),
            "mlflow.note.content": spec.description,
        },
    )
    run_id = run.info.run_id
    now = int(time.time() * 1000)
    params = {
        "outcome": config.outcome,
        "horizon_weeks": config.horizon_weeks,
        "model": name,
        "kind": spec.kind,
        "features": len(scorer.features),
        "calibration": scorer.spec["calibration"]["method"],
        "negative_sample_rate": config.training.negative_sample_rate,
        "as_of_frequency_weeks": config.temporal.as_of_frequency_weeks,
        "test_frequency_weeks": config.temporal.test_frequency_weeks,
        "label_gap_weeks": config.label_gap_weeks,
        "test_windows": config.temporal.test_windows,
        "bootstrap": config.evaluation.bootstrap,
        "experiment_sha256": config.sha256[:16],
    }
    if spec.kind == "lightgbm":
        params["num_trees"] = scorer.spec["lightgbm"]["num_trees"]
    metrics = _metrics_for(name, windows, pooled, oracle)
    client.log_batch(
        run_id,
        metrics=[Metric(k, v, now, 0) for k, v in metrics.items()],
        params=[Param(k, str(v)) for k, v in params.items()],
        tags=[RunTag("cmooe.headline", POOLED)],
    )
    client.log_dict(run_id, config.as_logged_dict(), "config/experiment.json")
    client.log_dict(run_id, spec.model_dump(mode="json"), "config/model_spec.json")
    client.log_dict(run_id, manifest, "data_manifest.json")
    for window_name, result in {**windows, POOLED: pooled}.items():
        table = result.metrics[result.metrics["score"].isin([name, *REFERENCES])]
        client.log_text(run_id, table.to_csv(index=False), f"metrics/{window_name}.csv")
    figures = {
        "plots/pr_curve.png": pr_curve_figure(pooled),
        "plots/calibration.png": calibration_figure(pooled),
        "plots/precision_at_k_by_window.png": precision_at_k_figure(windows),
        "plots/importance.png": importance_figure(*_importance(scorer)),
        **_explanation_figures(scorer, ctx.explain_sample),
    }
    import matplotlib.pyplot as plt

    for path, figure in figures.items():
        client.log_figure(run_id, figure, path)
        plt.close(figure)

    integer_features = {f.name for f in load_catalog().model_features if f.dtype in ("int", "bool")}
    example = _input_example(scorer, integer_features)
    signature = _signature(scorer, example, integer_features)
    with tempfile.TemporaryDirectory() as scratch:
        scorer.spec["version"] = {
            "cmooe_risk": __version__,
            "outcome": config.outcome,
            "horizon_weeks": config.horizon_weeks,
            "model": name,
            "trained_on": manifest.get("extract_date"),
        }
        scorer.save(Path(scratch) / "model")
        with mlflow.start_run(run_id=run_id, nested=True):
            info = mlflow.pyfunc.log_model(
                name="model",
                python_model=str(RISK_MODEL_CODE),
                artifacts={"model": str(Path(scratch) / "model")},
                signature=signature,
                input_example=example,
                pip_requirements=_requirements(spec.kind),
                metadata={"features": scorer.features, "outcome": config.outcome},
            )
    client.set_tag(run_id, "cmooe.model_uri", info.model_uri)
    client.set_terminated(run_id, "FINISHED")
    return run_id, info.model_uri


def _explanation_figures(scorer: Scorer, sample: pd.DataFrame) -> dict:
    """Global views of the model's own per-pupil contributions on a sample of test rows
    (exact TreeSHAP for LightGBM, exact linear terms for logistic, points for a checklist).
    """
    if sample.empty:
        return {}
    from cmooe_risk.explain import (
        contribution_bar_figure,
        contribution_summary_figure,
        domain_bar_figure,
    )

    predictions = scorer.predict(sample)
    return {
        "plots/contributions_summary.png": contribution_summary_figure(
            predictions, sample[scorer.features]
        ),
        "plots/contributions_bar.png": contribution_bar_figure(predictions),
        "plots/contributions_by_domain.png": domain_bar_figure(predictions),
    }


def _importance(scorer: Scorer) -> tuple[list[str], list[float]]:
    spec = scorer.spec
    if spec["kind"] == "lightgbm":
        return scorer.features, spec["importance_gain"]
    if spec["kind"] == "logistic":
        return scorer.features, [abs(c) for c in spec["logistic"]["coef"]]
    totals = dict.fromkeys(scorer.features, 0.0)
    for rule in spec["points"]:
        totals[rule["feature"]] += rule["points"]
    return list(totals), list(totals.values())


def _requirements(kind: str) -> list[str]:
    import mlflow

    requirements = [
        f"mlflow=={mlflow.__version__}",
        f"numpy=={np.__version__}",
        f"pandas=={pd.__version__}",
    ]
    if kind == "lightgbm":
        import lightgbm

        requirements.append(f"lightgbm=={lightgbm.__version__}")
    return requirements


def _log_to_mlflow(
    client,
    workspace,
    config,
    splits,
    windows,
    pooled,
    deployed,
    manifest,
    summary,
    oracle,
    explain_sample,
    challenger,
    recommendation,
):
    import mlflow

    with quiet_mlflow():
        experiment_id = ensure_experiment(client, workspace, config.experiment_name)
        batch = uuid.uuid4().hex[:12]
        parent = client.create_run(
            experiment_id,
            run_name=f"train {config.outcome} {date.today().isoformat()}",
            tags={
                "cmooe.role": "training",
                "cmooe.outcome": config.outcome,
                "cmooe.batch": batch,
                "cmooe.recommended": recommendation.model,
                "cmooe.recommendation": recommendation.text,
                "mlflow.note.content": (
                    f"Models for {config.outcome.replace('_', ' ')} within "
                    f"{config.horizon_weeks} weeks. Metrics are from temporal test windows; "
                    "each model run stores the same recipe refitted on the newest data."
                ),
            },
        )
        parent_id = parent.info.run_id
        client.log_dict(parent_id, config.as_logged_dict(), "config/experiment.json")
        client.log_dict(parent_id, manifest, "data_manifest.json")
        client.log_text(parent_id, summary.to_csv(index=False), "summary.csv")
        model_runs, model_uris = {}, {}
        ctx = _Logging(
            client,
            experiment_id,
            parent_id,
            batch,
            config,
            windows,
            pooled,
            oracle,
            manifest,
            explain_sample,
        )
        for name in config.models:
            run_id, uri = _log_model_run(ctx, name, deployed[name])
            model_runs[name], model_uris[name] = run_id, uri
        client.set_terminated(parent_id, "FINISHED")
        from cmooe_risk.evaluate import calibration_verdict

        for name, run_id in model_runs.items():
            client.set_tag(run_id, "cmooe.recommendation", recommendation.text)
            verdict = calibration_verdict(pooled, name)
            client.set_tag(
                run_id, "cmooe.calibration", "quotable" if verdict.quotable else "ranking only"
            )
            client.set_tag(run_id, "cmooe.calibration_note", verdict.text)
            client.log_metric(run_id, "calibration_bins_within_ci", verdict.bins_within)
        version = None
        if challenger:
            with contextlib.redirect_stderr(io.StringIO()):  # MLflow prints to stderr
                registered = mlflow.register_model(
                    model_uris[challenger],
                    registered_model_name(config.outcome),
                    tags={
                        "cmooe.outcome": config.outcome,
                        "cmooe.model": challenger,
                        "cmooe.run_id": model_runs[challenger],
                    },
                )
            version = registered.version
            client.set_registered_model_alias(
                registered_model_name(config.outcome), CHALLENGER, version
            )
    return TrainingResult(
        outcome=config.outcome,
        experiment_id=experiment_id,
        parent_run_id=parent_id,
        model_runs=model_runs,
        summary=summary.assign(run_id=summary["model"].map(model_runs)),
        splits=splits,
        challenger_version=version,
        challenger=challenger,
        recommendation=recommendation,
        oracle=oracle,
    )
