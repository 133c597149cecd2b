"""Fuzzing CSV extracts: ingest either stops with a clear user error or accounts for every row."""

from __future__ import annotations

import csv
import io
import shutil
import tempfile
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests._hypothesis import examples
from tests.ingest._snapshot import warehouse_snapshot

from cmooe_risk.config import Workspace
from cmooe_risk.contracts import CONTRACTS
from cmooe_risk.demo import fixture_dir
from cmooe_risk.errors import CmooeError
from cmooe_risk.ingest import ingest

SOURCES = sorted(CONTRACTS)

cell = st.one_of(
    st.sampled_from(["", " ", "N", "PERM", "FIXD", "/", "\\", "AM", "E", "K", "100003", "0"]),
    st.sampled_from(["31/02/2024", "2024-13-01", "01/01/2099", "1900-01-01", "12.5", "1e3"]),
    st.text(max_size=12),
    st.text(alphabet=',"\r\n\t;', max_size=4),
)


@st.composite
def mutations(draw):
    """A list of (source, line index, action, payload) edits to apply to the fixture's CSVs."""
    edits = []
    for _ in range(draw(st.integers(1, 6))):
        source = draw(st.sampled_from(SOURCES))
        action = draw(
            st.sampled_from(["cell", "cell", "cell", "drop_cell", "extra_cell", "bytes", "dup"])
        )
        edits.append(
            (
                source,
                draw(st.integers(1, 40)),
                draw(st.integers(0, 9)),
                action,
                draw(cell),
                draw(st.binary(max_size=6)),
            )
        )
    return edits


def _apply(directory: Path, edits) -> None:
    for source, line_index, column, action, text, raw in edits:
        path = directory / f"{source}.csv"
        lines = path.read_bytes().split(b"\n")
        index = 1 + (line_index % max(1, len(lines) - 2))  # never the header
        if index >= len(lines) or not lines[index]:
            continue
        cells = lines[index].split(b",")
        position = column % len(cells)
        if action == "cell":
            cells[position] = text.encode("utf-8")
        elif action == "drop_cell":
            del cells[position]
        elif action == "extra_cell":
            cells.insert(position, text.encode("utf-8"))
        elif action == "bytes":
            cells[position] = raw
        elif action == "dup":
            lines.insert(index, lines[index])
        if action != "dup":
            lines[index] = b",".join(cells)
        path.write_bytes(b"\n".join(lines))


@pytest.fixture(scope="module")
def loaded_workspace(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    """A workspace after a good load of the fixture, and its snapshot, made once.

    Every example starts from a copy of it: the copy is what a second ingest over a
    loaded warehouse sees, without paying for the first load thirty times.
    """
    from tests.conftest import TEST_KEY

    root = tmp_path_factory.mktemp("fuzz-template")
    workspace = Workspace.open(root / "workspace")
    with pytest.MonkeyPatch.context() as patch:  # the autouse key fixture is per test
        patch.setenv("CMOOE_PSEUDONYM_KEY", TEST_KEY)
        ingest(workspace, fixture_dir(), extract_date=date(2026, 1, 31))
    return workspace.root, warehouse_snapshot(workspace.warehouse_path)


@pytest.mark.slow  # an ingest per example
@settings(
    max_examples=examples(30),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(edits=mutations())
def test_fuzzed_extracts_never_crash_and_always_account_for_every_row(
    loaded_workspace, edits
) -> None:
    template, before = loaded_workspace
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        extracts = root / "extracts"
        shutil.copytree(fixture_dir(), extracts)
        shutil.copytree(template, root / "workspace")
        workspace = Workspace.open(root / "workspace")

        _apply(extracts, edits)
        try:
            report = ingest(
                workspace, extracts, extract_date=date(2026, 1, 31), accept_quarantine=True
            )
        except CmooeError as error:
            report, message = None, error.message
        if report is None:
            assert message.strip()
            assert warehouse_snapshot(workspace.warehouse_path) == before
            return
        for item in report.files:
            # An independent count: records as an RFC 4180 reader sees them (a bare CR
            # ends a record too), skipping only empty lines. A line of whitespace or a
            # form feed is a record: ingest quarantines it rather than dropping it.
            assert item.rows_in == _records(extracts / f"{item.source}.csv"), item


def _records(path: Path) -> int:
    text = path.read_bytes().decode("utf-8", errors="replace")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    return sum(1 for row in rows[1:] if row)
