"""Registers every subcommand. Command modules import heavy libraries lazily."""

from __future__ import annotations

import typer

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    from cmooe_risk.cli import (
        _audit,
        _demo,
        _docs,
        _features,
        _ingest,
        _keygen,
        _models,
        _report,
        _score,
        _train,
        _web,
    )

    for module in (
        _ingest,
        _features,
        _train,
        _models,
        _score,
        _report,
        _audit,
        _keygen,
        _docs,
        _web,
        _demo,
    ):
        module.register(app)
    try:
        from cmooe_risk.cli import _synth
    except ImportError:  # the synthetic LA generator is optional at this stage
        return
    _synth.register(app)
