"""``cmooe-risk train``: train, evaluate and log every model of an experiment."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cmooe_risk.cli._context import err, out, state
from cmooe_risk.cli._tables import summary_table

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    @app.command()
    def train(
        ctx: typer.Context,
        experiment: Annotated[
            list[str],
            typer.Option(
                "--experiment",
                "-e",
                help="Experiment YAML file, or a shipped one by outcome name "
                "(permanent_exclusion, missing_education). Repeat for several.",
            ),
        ],
        ground_truth: Annotated[
            Path | None,
            typer.Option(
                help="A synthetic LA's directory: also evaluate its ground-truth risk "
                "(the oracle ceiling)."
            ),
        ] = None,
    ) -> None:
        """Train every model of an experiment on temporal splits and log them to MLflow.

        Each model is fitted, calibrated on a validation window and tested on later
        windows whose labels training never saw; metrics carry 95% bootstrap CIs. The
        experiment's challenger model is registered with the `challenger` alias; promote
        a run with `cmooe-risk models promote`.
        """
        from cmooe_risk._progress import progress_display
        from cmooe_risk.train import load_experiment, train_experiment

        configs = [load_experiment(item) for item in experiment]  # validate all first
        workspace = state(ctx).workspace
        for config in configs:
            with progress_display(err):
                result = train_experiment(workspace, config, ground_truth=ground_truth)
            table = summary_table(
                f"{config.outcome.replace('_', ' ')} within {config.horizon_weeks} weeks: "
                f"tested on {result.test_span}",
                result.summary,
                oracle=result.oracle,
            )
            out.print(table)
            out.print(
                f"MLflow experiment {config.experiment_name} (id {result.experiment_id}), "
                f"training run {result.parent_run_id}, {result.seconds:.0f} s."
            )
            if result.recommendation is not None:
                out.print(result.recommendation.text)
            if result.list_policies is not None:
                out.print(_policies_line(result.list_policies))
            if result.challenger_version:
                challenger_run = result.model_runs[result.challenger]
                out.print(
                    f"Registered {result.challenger} as cmooe-{config.outcome} version "
                    f"{result.challenger_version} (alias challenger). To make it the champion: "
                    f"cmooe-risk models promote --outcome {config.outcome} --run {challenger_run}"
                )


def _policies_line(policies) -> str:
    """The challenger's list drawn other ways, in one paragraph."""
    table = policies.table.set_index("policy")
    parts = [
        f"School concentration of its lists: {policies.top_school_share:.0%} of places from "
        f"the top school, {policies.top_two_share:.0%} from the top two."
    ]
    for policy, words in (
        ("within_school", "Ranked within schools"),
        ("school_cap", f"With at most {policies.cap} children per school"),
    ):
        row = table.loc[policy]
        parts.append(
            f"{words}: precision {row.precision:.3f} ({row.ratio:.2f} times the plain list's, "
            f"95% CI {row.ratio_ci_low:.2f} to {row.ratio_ci_high:.2f})."
        )
    return " ".join(parts)
