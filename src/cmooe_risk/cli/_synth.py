"""``cmooe-risk synth``: generate a synthetic local authority (and check its calibration)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from cmooe_risk.cli._context import err, out, state
from cmooe_risk.cli._options import parse_optional_date

__all__ = ["CALIBRATION_FAILED_EXIT_CODE", "register", "render_calibration"]

#: Exit code of ``synth --check`` when a figure is outside its tolerance.
CALIBRATION_FAILED_EXIT_CODE = 6


def _fmt(value: float) -> str:
    if value != value:  # NaN
        return "n/a"
    if value == float("inf"):
        return "untested"
    return f"{value:.3g}" if abs(value) < 100 else f"{value:,.1f}"


def render_calibration(result, *, with_sources: bool = True) -> Table:
    """Target against generated for every calibrated figure (descriptions in the docs)."""
    table = Table(
        title=f"Calibration: profile {result.profile}, {result.pupils:,} pupils",
        caption="tolerance: the profile's, widened to 3 standard errors at this size; "
        "figures are described in docs/synthetic-la.md"
        + ("" if with_sources else "; sources are in the profile YAML"),
    )
    table.add_column("figure", no_wrap=True)
    table.add_column("unit", no_wrap=True)
    for heading in ("target", "tolerance", "generated"):
        table.add_column(heading, justify="right", no_wrap=True)
    table.add_column("ok", no_wrap=True)
    if with_sources:
        table.add_column("source", overflow="fold", ratio=1)
    for row in result.rows:
        cells = [
            row.figure,
            row.unit,
            _fmt(row.target),
            "±" + _fmt(row.tolerance) if row.tolerance != float("inf") else "untested",
            _fmt(row.generated),
            "[green]yes[/]" if row.ok else "[bold red]NO[/]",
        ]
        if with_sources:
            cells.append(f"[dim]{row.source}[/]")
        table.add_row(*cells)
    return table


def register(app: typer.Typer) -> None:
    @app.command()
    def synth(
        ctx: typer.Context,
        out_dir: Annotated[
            Path,
            typer.Option(
                "--out", help="Directory to write into (earlier generator output is replaced)."
            ),
        ],
        profile: Annotated[
            str,
            typer.Option(
                help="Built-in profile (england, dorset, wiltshire) or a profile YAML file."
            ),
        ] = "england",
        pupils: Annotated[
            int | None,
            typer.Option(help="Pupils on roll at the start. Default: the profile's own size."),
        ] = None,
        years: Annotated[int, typer.Option(help="Academic years to cover (1 to 4).")] = 2,
        seed: Annotated[
            int, typer.Option(help="Random seed; the same seed gives identical files.")
        ] = 0,
        file_format: Annotated[
            str, typer.Option("--format", help="parquet or csv (an MIS-style export, UK dates).")
        ] = "parquet",
        end: Annotated[
            str | None,
            typer.Option(
                help="Last day of the data (yyyy-mm-dd); the last year may be partial. Default: today."
            ),
        ] = None,
        check: Annotated[
            bool,
            typer.Option(
                "--check",
                help="Print the calibration table; exit with code 6 if a figure is outside its tolerance.",
            ),
        ] = False,
        ceiling: Annotated[
            bool,
            typer.Option(
                "--ceiling/--no-ceiling",
                help="Also write the recorded-data ceiling (the best risk achievable from the "
                "records) beside the ground truth; about doubles the ground truth's time.",
            ),
        ] = True,
    ) -> None:
        """Generate a synthetic local authority: the nine extracts, ground truth and a manifest.

        `cmooe-risk ingest OUT` reads the extracts as it reads a real LA's. The true
        risk of every pupil in every school week is in OUT/ground_truth/ (never ingested).
        With --check, exits 6 when any calibrated figure is outside its tolerance.
        """
        from cmooe_risk._progress import progress_display
        from cmooe_risk.synth import check_calibration, generate

        cli = state(ctx)
        with progress_display(err, enabled=True):
            manifest = generate(
                profile,
                pupils=pupils,
                years=years,
                seed=seed,
                out=out_dir,
                fmt=file_format,
                end=parse_optional_date(end, "--end"),
                ceiling=ceiling,
            )
        table = Table(title=f"Synthetic LA ({manifest.profile}) in {manifest.out_dir}")
        table.add_column("file")
        table.add_column("rows", justify="right")
        for name, rows in manifest.row_counts.items():
            table.add_row(name, f"{rows:,}")
        out.print(table)
        out.print(
            f"Academic years {', '.join(manifest.academic_years)} to {manifest.end}; seed "
            f"{manifest.seed}; {manifest.seconds:.1f} s."
        )
        if cli.verbose:
            out.print(f"Manifest: {manifest.out_dir / 'manifest.json'}")
        if check:
            result = check_calibration(manifest)
            out.print(render_calibration(result, with_sources=out.width >= 140))
            if not result.ok:
                names = ", ".join(r.figure for r in result.failures)
                err.print(f"[bold red]Calibration check failed[/] for: {names}.")
                raise typer.Exit(code=CALIBRATION_FAILED_EXIT_CODE)
            out.print("[green]Every calibrated figure is within its tolerance.[/]")
