"""``cmooe-risk docs``: regenerate the documentation generated from code."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cmooe_risk.cli._context import out

__all__ = ["generated_docs", "register"]


def generated_docs() -> dict[str, str]:
    """Relative path under docs/ -> content, for every generated document."""
    from cmooe_risk.contracts import render_contracts_markdown
    from cmooe_risk.features import render_features_markdown

    return {
        "data-contracts.md": render_contracts_markdown(),
        "features.md": render_features_markdown(),
    }


def register(app: typer.Typer) -> None:
    @app.command()
    def docs(
        out_dir: Annotated[Path, typer.Option(help="Where the docs directory is.")] = Path("docs"),
    ) -> None:
        """Regenerate docs/data-contracts.md and docs/features.md from the code and catalog."""
        out_dir.mkdir(parents=True, exist_ok=True)
        for name, content in generated_docs().items():
            (out_dir / name).write_text(content, encoding="utf-8")
            out.print(f"Wrote {out_dir / name}")
