"""The demo job: every stage of the weekly run, on data that is not real."""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from cmooe_risk.config import Workspace
from cmooe_risk.ingest import IngestReport, ingest
from cmooe_risk.pseudonym import generate_key_file, load_key

__all__ = ["DemoResult", "fixture_dir", "run_demo"]


@dataclass
class DemoResult:
    ingest_report: IngestReport
    messages: list[str] = field(default_factory=list)
    next_steps: list[str] = field(default_factory=list)


def fixture_dir() -> Path:
    """The tiny valid LA shipped with the package."""
    return Path(str(resources.files("cmooe_risk") / "_fixtures" / "mini_la"))


def _ensure_key(workspace: Workspace, messages: list[str]) -> None:
    try:
        load_key(workspace)
    except Exception:
        path = generate_key_file(workspace.key_file)
        messages.append(
            f"Generated a demo pseudonymisation key at {path}. For real data, create your own "
            "with `cmooe-risk keygen` or set CMOOE_PSEUDONYM_KEY, and keep it safe."
        )


def run_demo(workspace: Workspace, *, use_fixture: bool = False) -> DemoResult:
    messages: list[str] = []
    _ensure_key(workspace, messages)
    source = fixture_dir()
    messages.append(f"Extracts: the shipped fixture LA in {source} (synthetic, 8 pupils).")
    report = ingest(workspace, source, force=True)
    return DemoResult(
        ingest_report=report,
        messages=messages,
        next_steps=[
            f"Warehouse: {workspace.warehouse_path}",
            f"Ingest report and quarantine: {report.output_dir}",
            "Explore:  cmooe-risk --help",
        ],
    )
