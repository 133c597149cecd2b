"""``cmooe-risk score`` and ``cmooe-risk queue``: the weekly job and the caseworkers' view."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from cmooe_risk.cli._context import err, out, state
from cmooe_risk.cli._options import parse_optional_date
from cmooe_risk.cli._queue_views import print_item, print_items

__all__ = ["register"]

queue_app = typer.Typer(
    help="Work the caseworker queues: list, update a status, export a locality.",
    no_args_is_help=True,
)

ByOption = Annotated[
    str | None,
    typer.Option("--by", help="Who is acting, for the audit log; default your login name."),
]


def score(
    ctx: typer.Context,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="Monday to score as of (yyyy-mm-dd). Default: the Monday after the latest "
            "whole week of attendance in the warehouse (a part-week waits for next week).",
        ),
    ] = None,
    engine: Annotated[
        str,
        typer.Option(
            help="duckdb (default): score and publish the queues. spark: score on PySpark "
            "(pip install 'cmooe-risk\\[spark]', Java 17) into Parquet files under --out, "
            "without publishing.",
        ),
    ] = "duckdb",
    out_dir: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="With --engine spark: the directory for one OUTCOME.parquet per outcome.",
        ),
    ] = None,
) -> None:
    """Score the whole roll with each outcome's champion and publish the queues.

    Builds the features, scores and explains every pupil, ranks them within each
    locality, and publishes the top k of each locality (its capacity) into the queue
    database in one transaction, with exports and a run manifest. Caseworkers' statuses
    and notes are kept. Rerunning a published week with the same data and models
    changes nothing. With --engine spark, the scores, ranks and reasons are written to
    Parquet instead, and nothing is published.
    """
    from cmooe_risk._progress import progress_display
    from cmooe_risk.errors import ConfigError
    from cmooe_risk.score import score_week

    if engine not in ("duckdb", "spark"):
        raise ConfigError(f"--engine {engine!r} is not an engine; use duckdb or spark.")
    if engine == "duckdb" and out_dir is not None:
        raise ConfigError("--out is for --engine spark; the DuckDB job publishes the queues.")
    workspace = state(ctx).workspace
    day = parse_optional_date(as_of, "--as-of")
    if engine == "spark":
        if out_dir is None:
            raise ConfigError("--engine spark needs --out DIR for the Parquet files.")
        _score_spark(workspace, day, out_dir)
        return
    with progress_display(err):
        result = score_week(workspace, day)
    for warning in result.warnings:
        err.print(f"[yellow]Warning:[/] {escape(warning)}")
    published = result.publish
    manifest = result.manifest
    if published.state == "unchanged":
        out.print(
            f"The week of {result.as_of} was already published with these data and models "
            f"(run {published.run_id}); the queues are unchanged."
        )
    else:
        verb = "Replaced" if published.state == "replaced" else "Published"
        out.print(
            f"{verb} run {published.run_id} for the week of {result.as_of}: "
            f"{manifest['pupils_scored']:,} pupils scored, {published.listed:,} listed, "
            f"{published.new_items:,} new, {published.reopened:,} reopened, "
            f"{published.left_roll:,} marked as having left the roll."
        )
    table = Table(title="Listed this week, by locality")
    table.add_column("locality")
    outcomes = list(manifest["listed"])
    for outcome in outcomes:
        table.add_column(outcome.replace("_", " "), justify="right")
    localities = sorted({loc for counts in manifest["listed"].values() for loc in counts})
    for locality in localities:
        table.add_row(locality, *(str(manifest["listed"][o].get(locality, 0)) for o in outcomes))
    out.print(table)
    out.print(f"Manifest: {result.manifest_path}")
    if result.exports:
        out.print(f"Exports (one workbook per locality): {result.run_dir / 'exports'}")
    out.print("Next: cmooe-risk queue list --locality LOCALITY")


def _score_spark(workspace, day, out_dir: Path) -> None:
    from cmooe_risk._progress import progress_display
    from cmooe_risk.score import write_scores_spark

    with progress_display(err):
        counts = write_scores_spark(workspace, day, out_dir)
    out.print(
        f"Scored {counts['pupils']:,} pupils on Spark for the week of {counts['as_of']} "
        "(not published to the queues):"
    )
    for outcome, info in counts["outcomes"].items():
        out.print(
            f"  {outcome.replace('_', ' ')}: {info['listed']:,} listed, model version "
            f"{info['model_version']}: {escape(info['path'])}"
        )


@queue_app.command("list")
def list_(
    ctx: typer.Context,
    locality: Annotated[str | None, typer.Option(help="Only this locality.")] = None,
    outcome: Annotated[
        str | None, typer.Option(help="permanent_exclusion or missing_education.")
    ] = None,
    status: Annotated[
        str | None,
        typer.Option(
            help="new, in_review, action_agreed, no_action_needed or closed. "
            "Default: every open status."
        ),
    ] = None,
    all_items: Annotated[
        bool,
        typer.Option("--all", help="Also open items no longer in this week's top k, and leavers."),
    ] = False,
    by: ByOption = None,
) -> None:
    """List queue items, ranked within locality, with the top reason of each.

    Items someone is working on (in review, action agreed) stay listed, marked *, when
    they are no longer in the week's top k.
    """
    from cmooe_risk.queue import list_items, open_published_store

    store = open_published_store(state(ctx).workspace)
    frame = list_items(
        store,
        locality=locality,
        outcome=outcome,
        status=status,
        include_unlisted=all_items,
        actor=by,
    )
    if frame.empty:
        out.print("No queue items match. Run `cmooe-risk score` to publish a week.")
        return
    print_items(frame)


@queue_app.command()
def show(
    ctx: typer.Context,
    item: Annotated[int, typer.Argument(help="The item number, from `queue list`.")],
    by: ByOption = None,
) -> None:
    """One item: its reasons, protective factors, what changed, weeks scored, history."""
    from cmooe_risk.queue import open_published_store, show_item

    print_item(show_item(open_published_store(state(ctx).workspace), item, actor=by))


@queue_app.command()
def update(
    ctx: typer.Context,
    item: Annotated[int, typer.Argument(help="The item number, from `queue list`.")],
    status: Annotated[
        str,
        typer.Option(help="in_review, action_agreed, no_action_needed or closed."),
    ],
    note: Annotated[str, typer.Option(help="What was decided or done; kept with the item.")],
    by: Annotated[str, typer.Option(help="Who made the change.")],
) -> None:
    """Move an item to a new status, with a note; the change is kept in its history."""
    from cmooe_risk.queue import open_published_store, update_item

    change = update_item(
        open_published_store(state(ctx).workspace), item, status=status, note=note, by=by
    )
    out.print(f"Item {item}: {change['from']} -> {change['to']} ({escape(change['locality'])}).")


@queue_app.command()
def export(
    ctx: typer.Context,
    locality: Annotated[str, typer.Option(help="The locality to export; only its pupils.")],
    file_format: Annotated[str, typer.Option("--format", help="xlsx or csv.")] = "xlsx",
    out_path: Annotated[
        Path | None,
        typer.Option("--out", help="File to write. Default: exports/LOCALITY.FORMAT."),
    ] = None,
    by: ByOption = None,
) -> None:
    """Export one locality's open items: a workbook with a sheet per outcome, or CSV."""
    from cmooe_risk.queue import export_items, open_published_store

    workspace = state(ctx).workspace
    target = out_path or workspace.path("exports") / f"{locality}.{file_format}"
    result = export_items(
        open_published_store(workspace), locality, target, file_format=file_format, actor=by
    )
    counts = ", ".join(f"{n} {o.replace('_', ' ')}" for o, n in result.rows.items())
    out.print(f"Wrote {result.path} ({counts}).")


def register(app: typer.Typer) -> None:
    app.command()(score)
    app.add_typer(queue_app, name="queue")
