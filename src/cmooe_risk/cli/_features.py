"""``cmooe-risk features``: build point-in-time features for one or many as-of dates."""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer

from cmooe_risk.cli._context import err, out, state
from cmooe_risk.errors import ConfigError

__all__ = ["register"]


def _date(value: str, option: str) -> date:
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        raise ConfigError(f"{option} {value!r} is not a date; use yyyy-mm-dd.") from None


def _weeks(value: str) -> int:
    match = re.fullmatch(r"(\d+)w", value.strip())
    if not match:
        raise ConfigError(f"--every {value!r} is not a number of weeks; use e.g. 1w or 4w.")
    return int(match.group(1))


def register(app: typer.Typer) -> None:
    @app.command()
    def features(
        ctx: typer.Context,
        out_file: Annotated[Path, typer.Option("--out", help="Parquet file to write.")],
        as_of: Annotated[
            str | None, typer.Option(help="One as-of date (a Monday, yyyy-mm-dd).")
        ] = None,
        start: Annotated[
            str | None, typer.Option("--from", help="First as-of date of a range (a Monday).")
        ] = None,
        end: Annotated[
            str | None, typer.Option("--to", help="Last as-of date of a range (a Monday).")
        ] = None,
        every: Annotated[str, typer.Option(help="Step of the range, in weeks (e.g. 1w).")] = "1w",
        engine: Annotated[
            str,
            typer.Option(
                help="duckdb (default), or spark to build through PySpark "
                "(pip install 'cmooe-risk\\[spark]', Java 17)."
            ),
        ] = "duckdb",
    ) -> None:
        """Build every catalog feature as of one date, or weekly over a range, in one pass.

        Writes FILE (model features) and FILE.audit (audit-only attributes), keyed by
        pupil pseudonym and as-of date. Features at t use only what was known before t.
        """
        from cmooe_risk._progress import progress_display
        from cmooe_risk.features import weekly_as_of_dates, write_features

        if engine not in ("duckdb", "spark"):
            raise ConfigError(f"--engine {engine!r} is not an engine; use duckdb or spark.")
        if (as_of is None) == (start is None and end is None):
            raise ConfigError("Give either --as-of DATE, or --from DATE --to DATE [--every 1w].")
        if as_of is not None:
            dates = [_date(as_of, "--as-of")]
        else:
            if start is None or end is None:
                raise ConfigError("A range needs both --from and --to.")
            dates = weekly_as_of_dates(_date(start, "--from"), _date(end, "--to"), _weeks(every))
        with progress_display(err):
            if engine == "spark":
                from cmooe_risk.features import write_features_spark

                path, audit, rows = write_features_spark(state(ctx).workspace, dates, out_file)
            else:
                path, audit, rows = write_features(state(ctx).workspace, dates, out_file)
        out.print(f"Wrote {rows:,} rows for {len(dates)} as-of date(s): {path} and {audit}")
