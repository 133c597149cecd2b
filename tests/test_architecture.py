"""The stages' one-way import order, and each stage's private modules, are enforced.

`make test` runs `lint-imports` on the contracts in pyproject.toml; these tests check the
same contracts from Python (so a plain `pytest` run sees them too), show that they would
catch the cycles we once had, and add the rule import-linter has no contract for: a stage
offers others only what its ``__init__`` exports.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import grimp
import pytest
from importlinter.configuration import configure
from importlinter.contracts.forbidden import ForbiddenContract
from importlinter.contracts.layers import LayersContract

configure()  # import-linter's own settings (its timer), as its command line sets them

ROOT = "cmooe_risk"
CONFIG = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())
CONTRACTS = {c["id"]: c for c in CONFIG["tool"]["importlinter"]["contracts"]}


@pytest.fixture
def graph() -> grimp.ImportGraph:
    """The package's import graph, fresh for each test (tests add imports to it)."""
    return grimp.build_graph(ROOT)


def _layers() -> LayersContract:
    spec = CONTRACTS["stages"]
    return LayersContract(
        name=spec["name"],
        session_options={"root_packages": [ROOT]},
        contract_options={"layers": spec["layers"]},
    )


def _shared() -> ForbiddenContract:
    spec = CONTRACTS["shared"]
    return ForbiddenContract(
        name=spec["name"],
        session_options={"root_packages": [ROOT]},
        contract_options={
            "source_modules": spec["source_modules"],
            "forbidden_modules": spec["forbidden_modules"],
        },
    )


def test_the_stage_contracts_hold(graph: grimp.ImportGraph) -> None:
    for contract in (_layers(), _shared()):
        check = contract.check(graph, verbose=False)
        assert check.kept, contract.name


@pytest.mark.parametrize(
    ("importer", "imported"),
    [
        # the cycles found in the review of #20, and a shared helper reaching up
        ("cmooe_risk.audit._workflow", "cmooe_risk.train._train"),
        ("cmooe_risk.explain._inputs", "cmooe_risk.train._estimators"),
        ("cmooe_risk.features._engine", "cmooe_risk.ingest._engine"),
        ("cmooe_risk.queue._publish", "cmooe_risk.score._job"),
    ],
)
def test_a_backward_import_breaks_the_layers(graph, importer, imported) -> None:
    graph.add_import(importer=importer, imported=imported)
    check = _layers().check(graph, verbose=False)
    assert not check.kept


def test_a_shared_helper_importing_a_stage_is_refused(graph) -> None:
    graph.add_import(importer="cmooe_risk.tracking", imported="cmooe_risk.audit._workflow")
    assert not _shared().check(graph, verbose=False).kept


def _stage(module: str) -> str:
    return module.split(".")[1]


def _private_crossings(graph: grimp.ImportGraph) -> list[str]:
    crossings = []
    for importer in graph.modules:
        if importer.count(".") < 1:
            continue
        for imported in graph.find_modules_directly_imported_by(importer):
            parts = imported.split(".")
            if len(parts) < 3 or _stage(imported) == _stage(importer):
                continue
            if any(part.startswith("_") for part in parts[2:]):
                crossings.append(f"{importer} -> {imported}")
    return sorted(crossings)


def test_no_stage_reaches_into_another_stages_private_modules(graph) -> None:
    assert _private_crossings(graph) == []


def test_a_reach_into_a_private_module_is_caught(graph) -> None:
    graph.add_import(importer="cmooe_risk.report._data", imported="cmooe_risk.queue._schema")
    assert _private_crossings(graph) == ["cmooe_risk.report._data -> cmooe_risk.queue._schema"]


def _test_module_imports(tests: Path) -> list[str]:
    """``importer -> imported`` for every test module importing another test module."""
    import ast

    found = []
    for path in sorted(tests.rglob("test_*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else []
            )
            for name in names:
                if name.startswith("tests.") and name.rsplit(".", 1)[-1].startswith("test_"):
                    found.append(f"{path.relative_to(tests).as_posix()} -> {name}")
    return found


def test_no_test_module_imports_another() -> None:
    # Shared test helpers live in underscore modules (tests/_trained.py, tests/features/
    # _edits.py): importing a test module runs its tests' collection twice and ties them.
    assert _test_module_imports(Path(__file__).parent) == []


def test_a_test_module_importing_another_is_caught(tmp_path: Path) -> None:
    (tmp_path / "test_a.py").write_text("from tests.features.test_leakage import MONDAYS\n")
    assert _test_module_imports(tmp_path) == ["test_a.py -> tests.features.test_leakage"]
