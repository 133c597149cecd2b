"""Parsing of option values shared by several commands, with errors naming the option."""

from __future__ import annotations

from datetime import date, datetime

from cmooe_risk.errors import ConfigError

__all__ = ["parse_optional_date"]


def parse_optional_date(value: str | None, option: str) -> date | None:
    """A date given as yyyy-mm-dd or dd/mm/yyyy (as MIS users write it), or None."""
    if value is None:
        return None
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    raise ConfigError(f"{option} {value!r} is not a date; use yyyy-mm-dd or dd/mm/yyyy.")
