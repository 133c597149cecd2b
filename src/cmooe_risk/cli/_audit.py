"""``cmooe-risk audit``: the fairness audit of a trained model's list."""

from __future__ import annotations

from typing import Annotated

import typer

from cmooe_risk.cli._context import err, out, state

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    @app.command()
    def audit(
        ctx: typer.Context,
        run: Annotated[
            str, typer.Option("--run", help="A model run id (or a unique prefix of it).")
        ],
    ) -> None:
        """Audit a model's weekly lists on its test windows for fairness.

        At the real operating point (each locality's top k), per group of sex, ethnicity,
        FSM, SEN, EAL and care status and their pairs: selection rate, TPR, FPR,
        precision and calibration, against a reference group and all pupils, with 95%
        CIs; small groups suppressed. Writes an HTML and a JSON report, logs both to the
        run in MLflow and records the flags that `models promote` checks. `train` audits
        the challenger by itself.
        """
        from rich.table import Table

        from cmooe_risk._progress import progress_display, step
        from cmooe_risk.audit import audit_run

        workspace = state(ctx).workspace
        with progress_display(err), step("Fairness audit"):
            result = audit_run(workspace, run)
        flags = result.flags
        blocking = set(result.blocking.index)
        out.print(
            f"Fairness audit of {result.model} for {result.outcome.replace('_', ' ')} "
            f"(run {result.run_id}): {len(flags)} flag(s), {len(blocking)} on the gate metrics."
        )
        if len(flags):
            table = Table(title="Flags (95% CI of the ratio wholly outside the band)")
            table.add_column("blocks promotion")
            table.add_column("finding")
            shown = flags.loc[sorted(flags.index, key=lambda i: i not in blocking)].head(25)
            for index, row in shown.iterrows():
                table.add_row("yes" if index in blocking else "", str(row["sentence"]))
            out.print(table)
            if len(flags) > len(shown):
                out.print(f"... and {len(flags) - len(shown)} more in the report.")
        out.print(f"Report: {result.html_path}\nJSON: {result.json_path}")
