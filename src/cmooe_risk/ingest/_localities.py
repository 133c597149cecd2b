"""The configuration's localities against the schools the warehouse holds."""

from __future__ import annotations

import duckdb

from cmooe_risk.config import CONFIG_FILENAME, Workspace
from cmooe_risk.errors import ConfigError
from cmooe_risk.warehouse import fetch_all

__all__ = ["check_localities"]


def check_localities(
    con: duckdb.DuckDBPyConnection, workspace: Workspace, schools: str = "schools"
) -> None:
    """Raise ConfigError when ``localities.capacities`` names a locality no school is in.

    Such a key is almost always a misspelling ("Nort" for "North"), and ignoring it would
    give that locality's queue the default capacity without a word.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
    workspace : Workspace
        Its configuration's ``localities.capacities``.
    schools : str
        The relation holding the schools, with a ``locality`` column (the warehouse's
        ``schools``, or the rows an ingest is about to load).
    """
    named = workspace.config.localities.capacities
    if not named:
        return
    known = sorted(
        str(row[0])
        for row in fetch_all(
            con, f"SELECT DISTINCT locality FROM {schools} WHERE locality IS NOT NULL"
        )
    )
    unknown = sorted(set(named) - set(known))
    if unknown:
        raise ConfigError(
            f"localities.capacities in {workspace.root / CONFIG_FILENAME} names "
            f"{', '.join(repr(name) for name in unknown)}, which no school is in; the schools' "
            f"localities are {', '.join(repr(name) for name in known) or 'none'}."
        )
