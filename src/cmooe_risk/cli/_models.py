"""``cmooe-risk models``: compare runs and promote a champion through the registry."""

from __future__ import annotations

from typing import Annotated

import typer

from cmooe_risk.cli._context import err, out, state
from cmooe_risk.cli._tables import summary_table

__all__ = ["register"]

models_app = typer.Typer(
    help="Compare trained models and promote a champion (registry alias).",
    no_args_is_help=True,
)

OutcomeOption = Annotated[
    str, typer.Option("--outcome", "-o", help="permanent_exclusion or missing_education.")
]


@models_app.command()
def compare(
    ctx: typer.Context,
    outcome: OutcomeOption,
    limit: Annotated[int, typer.Option(help="Show at most this many runs.")] = 20,
) -> None:
    """Rank the model runs of an outcome by precision at capacity, with 95% CIs."""
    from cmooe_risk.train import compare_runs

    frame = compare_runs(state(ctx).workspace, outcome, limit=limit)
    if frame.empty:
        out.print(f"No model runs for {outcome} yet.")
        return
    frame = frame.assign(run=frame["run_id"].str.slice(0, 12))
    table = summary_table(
        f"Model runs for {outcome.replace('_', ' ')} (all test windows), best first",
        frame,
        leading=("run", "model", "started", "alias"),
    )
    out.print(table)
    out.print(
        "Promote one: cmooe-risk models promote --outcome "
        f"{outcome} --run RUN (the run column is enough)."
    )
    if state(ctx).verbose:
        for row in frame.itertuples():
            err.print(f"{row.model}: {row.run_id}")


@models_app.command()
def promote(
    ctx: typer.Context,
    outcome: OutcomeOption,
    run: Annotated[
        str, typer.Option("--run", help="The model's MLflow run id, or a unique prefix of it.")
    ],
    accept_fairness_risk: Annotated[
        str | None,
        typer.Option(
            help="Promote despite fairness flags on the gate metrics; the reason is recorded "
            "in MLflow with the run and the registered version."
        ),
    ] = None,
) -> None:
    """Make a run's model the champion, if it passes every gate; else say why not.

    Gates: precision at capacity not worse than the champion's beyond its 95% CI, and a
    fairness audit with no flag on the gate metrics (or an accepted, recorded risk).
    """
    from cmooe_risk.train import promote_run

    promotion = promote_run(
        state(ctx).workspace, outcome, run, accept_fairness_risk=accept_fairness_risk
    )
    for gate in promotion.gates:
        out.print(f"[green]passed[/green] {gate.name}: {gate.reason}")
    previous = f" (was version {promotion.previous_version})" if promotion.previous_version else ""
    out.print(
        f"cmooe-{outcome} version {promotion.version} ({promotion.model}, run "
        f"{promotion.run_id}) is now "
        f"the champion{previous}."
    )


def register(app: typer.Typer) -> None:
    app.add_typer(models_app, name="models")
