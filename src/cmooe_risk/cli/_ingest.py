"""``cmooe-risk ingest``: validate extracts and load the warehouse."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from cmooe_risk.cli._context import err, out, state
from cmooe_risk.cli._options import parse_optional_date

__all__ = ["register", "render_ingest_report"]


def render_ingest_report(report) -> Table:
    table = Table(title=f"Ingest {report.run_id} (extract date {report.extract_date})")
    for heading in ("file", "rows in", "accepted", "quarantined", "top rules broken"):
        table.add_column(
            heading, justify="left" if heading in ("file", "top rules broken") else "right"
        )
    for item in report.files:
        top = sorted(item.rule_counts.items(), key=lambda kv: -kv[1])[:3]
        table.add_row(
            item.file,
            f"{item.rows_in:,}",
            f"{item.accepted:,}",
            f"[yellow]{item.quarantined:,}[/]" if item.quarantined else "0",
            ", ".join(f"{rule} ({count:,})" for rule, count in top),
        )
    table.add_section()
    table.add_row(
        "total", f"{report.rows_in:,}", f"{report.accepted:,}", f"{report.quarantined:,}", ""
    )
    return table


def register(app: typer.Typer) -> None:
    @app.command()
    def ingest(
        ctx: typer.Context,
        source_dir: Annotated[
            Path, typer.Argument(help="Directory of extract files (CSV or Parquet).")
        ],
        extract_date: Annotated[
            str | None,
            typer.Option(
                help="Date the extract was taken (yyyy-mm-dd); later dates are quarantined. Default: today."
            ),
        ] = None,
        reid_map: Annotated[
            Path | None,
            typer.Option(
                help="Also write the UPN-to-pseudonym map here (.csv or .parquet), for the LA to keep."
            ),
        ] = None,
        force: Annotated[
            bool, typer.Option(help="Reload even if these exact files were the last load.")
        ] = False,
        accept_quarantine: Annotated[
            bool,
            typer.Option(
                help="Load the accepted rows even when more than ingest.max_quarantine_share "
                "(default 1%) of a file's rows are quarantined."
            ),
        ] = False,
    ) -> None:
        """Validate every extract against its contract, pseudonymise and load the warehouse.

        Whole-file problems (missing file or column, unreadable file, wrong column type)
        stop the job and load nothing. Bad rows are quarantined with the rule they broke;
        when more than 1% of a file's rows are (ingest.max_quarantine_share), nothing is
        loaded unless --accept-quarantine is given.
        """
        from cmooe_risk._progress import progress_display
        from cmooe_risk.ingest import ingest as run_ingest

        cli = state(ctx)
        with progress_display(err):
            report = run_ingest(
                cli.workspace_to_create,
                source_dir,
                extract_date=parse_optional_date(extract_date, "--extract-date"),
                reid_map=reid_map,
                force=force,
                accept_quarantine=accept_quarantine,
            )
        out.print(render_ingest_report(report))
        for warning in report.warnings:
            err.print(f"[yellow]Warning:[/] {warning}")
        out.print(f"Report and quarantine files: {report.output_dir}")
