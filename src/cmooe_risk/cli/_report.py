"""``cmooe-risk report``: the inclusion partnership meeting packs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from cmooe_risk.cli._context import out, state
from cmooe_risk.cli._options import parse_optional_date

__all__ = ["register"]


def report(
    ctx: typer.Context,
    out_dir: Annotated[
        Path,
        typer.Option("--out", help="Directory for the packs (created if needed)."),
    ],
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="The published week to report (its as-of Monday, yyyy-mm-dd). Default: "
            "the latest published week.",
        ),
    ] = None,
    locality: Annotated[
        str | None, typer.Option(help="Only this locality's pack. Default: every locality.")
    ] = None,
    pdf: Annotated[
        bool,
        typer.Option("--pdf", help="Also write a PDF of each pack (needs WeasyPrint)."),
    ] = False,
    by: Annotated[
        str | None,
        typer.Option("--by", help="Who is making the packs, for the audit log."),
    ] = None,
) -> None:
    """Write the meeting packs of a published week: one HTML file per locality.

    Each pack holds only its locality's pupils: headline numbers, the ranked and
    explained list of each outcome with attendance trends and suspensions, a school
    summary, the live-list fairness summary and the model card. Small counts in
    summaries are suppressed. The files open offline and print on A4.
    """
    from cmooe_risk.report import write_meeting_packs

    workspace = state(ctx).workspace
    day = parse_optional_date(as_of, "--as-of")
    packs = write_meeting_packs(workspace, out_dir, as_of=day, locality=locality, pdf=pdf, actor=by)
    week = packs[0].as_of if packs else day
    out.print(f"Wrote {len(packs)} meeting pack(s) for the week of {week}:")
    for pack in packs:
        counts = ", ".join(f"{n} {o.replace('_', ' ')}" for o, n in pack.listed.items())
        out.print(f"  {escape(pack.locality)}: {pack.path} ({counts})")
        if pack.pdf is not None:
            out.print(f"  {escape(pack.locality)}: {pack.pdf}")
    out.print(
        "Pseudonymised personal data: share only within the inclusion partnership. The lists "
        "support professional judgement; they decide nothing on their own."
    )


def register(app: typer.Typer) -> None:
    app.command()(report)
