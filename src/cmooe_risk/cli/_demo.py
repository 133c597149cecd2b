"""``cmooe-risk demo``: the weekly job end to end on data that is not real."""

from __future__ import annotations

from typing import Annotated

import typer

from cmooe_risk.cli._context import err, out, state
from cmooe_risk.cli._ingest import render_ingest_report
from cmooe_risk.cli._tables import summary_table

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    @app.command()
    def demo(
        ctx: typer.Context,
        fixture: Annotated[
            bool,
            typer.Option(help="Use the tiny shipped fixture LA instead of a generated one."),
        ] = False,
    ) -> None:
        """Run the main job end to end on a synthetic local authority.

        Creates a pseudonymisation key in the workspace if there is none, generates a
        synthetic LA (30,000 pupils, 3 academic years), validates and loads its
        extracts, trains and evaluates both outcomes' models against the ground-truth
        ceiling, promotes each champion, and runs the weekly job: scores, explains and
        ranks every pupil into the locality queues.
        """
        from cmooe_risk._progress import progress_display
        from cmooe_risk.demo import run_demo

        cli = state(ctx)
        out.rule("[bold]cmooe-risk demo[/]: all data here is synthetic, not real pupils")
        with progress_display(err):
            result = run_demo(cli.workspace_to_create, use_fixture=fixture)
        for message in result.messages:
            out.print(message)
        out.print(render_ingest_report(result.ingest_report))
        for trained in result.training:
            out.print(
                summary_table(
                    f"{trained.outcome.replace('_', ' ')}: tested on {trained.test_span}",
                    trained.summary,
                    oracle=trained.oracle,
                )
            )
        for line in result.promotions:
            out.print(line)
        if result.score is not None:
            scored = result.score
            for warning in scored.warnings:
                err.print(f"[yellow]Warning:[/] {warning}")
            listed = scored.manifest["listed"]
            out.print(
                f"Weekly job for the week of {scored.as_of}: "
                f"{scored.manifest['pupils_scored']:,} synthetic pupils scored; "
                + "; ".join(
                    f"{sum(counts.values()):,} in the {outcome.replace('_', ' ')} queues"
                    for outcome, counts in listed.items()
                )
                + f" across {len(scored.exports)} localities (run {scored.publish.run_id})."
            )
        out.print()
        out.print("[bold]Where to look next[/]")
        for line in result.next_steps:
            out.print(f"  {line}")
