"""The analyst notebooks run top to bottom on a small trained LA, and are committed clean.

Each notebook runs in a fresh copy of the trained workspace with both champions (the
``champions_copy`` fixture), in a kernel on this interpreter, from ``notebooks/``. The
environment points it at the copy: ``CMOOE_NOTEBOOK_WORKSPACE``, ``CMOOE_NOTEBOOK_SYNTH``,
the quick experiment (so that training reuses the copy's feature cache) and a week inside
the LA's data.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).parents[2] / "notebooks"
NAMES = (
    "01_explore_extracts",
    "02_train_and_compare_in_mlflow",
    "03_fairness_deep_dive",
    "04_weekly_list_review",
)
#: A school week inside the trained LA's data (it ends on 2026-07-24).
AS_OF = date(2026, 7, 13)
#: Seconds any one cell may take before the run fails.
CELL_TIMEOUT = 600


def _outputs_text(notebook) -> str:
    """Everything the notebook showed as text: streams, results and errors."""
    parts = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            parts.append(output.get("text", ""))
            parts.append(output.get("data", {}).get("text/plain", ""))
            parts.append(output.get("data", {}).get("text/html", ""))
            parts.append(output.get("evalue", ""))
    return "\n".join(parts)


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_the_notebook_runs_top_to_bottom(name, champions_copy, monkeypatch, tmp_path) -> None:
    from tests._trained import quick_experiment

    monkeypatch.setenv("CMOOE_NOTEBOOK_WORKSPACE", str(champions_copy.workspace.root))
    monkeypatch.setenv("CMOOE_NOTEBOOK_SYNTH", str(champions_copy.synth_dir))
    # The quick experiment's dates (its features are in the copy's cache) with two of its
    # models: the notebook shows how runs are compared and promoted, not which model wins.
    two_models = quick_experiment(
        tmp_path, "permanent_exclusion", ("lightgbm_quick.yaml", "logistic")
    )
    monkeypatch.setenv("CMOOE_NOTEBOOK_EXPERIMENT", str(two_models))
    monkeypatch.setenv("CMOOE_NOTEBOOK_AS_OF", AS_OF.isoformat())
    notebook = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    client = NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT,
        kernel_name="python3",  # ipykernel's own spec: this interpreter
        resources={"metadata": {"path": str(NOTEBOOKS)}},
    )
    client.execute()  # raises CellExecutionError, with the cell and traceback, on an error

    shown = _outputs_text(notebook)
    # Pupils appear only by pseudonym: no UPN of the synthetic LA reaches an output.
    upns = pd.read_parquet(champions_copy.synth_dir / "pupils.parquet", columns=["pupil_id"])
    leaked = [upn for upn in upns["pupil_id"] if upn in shown]
    assert not leaked, f"{name} shows {len(leaked)} UPN(s), e.g. {leaked[0]}"
    if name == "02_train_and_compare_in_mlflow":
        assert "is the champion" in shown
    if name == "04_weekly_list_review":
        assert (
            champions_copy.workspace.root / "runs" / AS_OF.isoformat() / "manifest.json"
        ).exists()


@pytest.mark.parametrize("name", NAMES)
def test_the_committed_notebook_has_no_outputs(name) -> None:
    notebook = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    nbformat.validate(notebook)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code
    dirty = [
        cell.get("id")
        for cell in code
        if cell.outputs or cell.execution_count is not None or "execution" in cell.metadata
    ]
    assert not dirty, (
        f"{name}.ipynb has outputs or execution counts in cells {dirty}; clear them before "
        "committing (notebooks/README.md says how)"
    )
    assert notebook.cells[0].cell_type == "markdown"


def test_every_notebook_is_executed_by_the_tests() -> None:
    assert sorted(p.stem for p in NOTEBOOKS.glob("*.ipynb")) == sorted(NAMES)
