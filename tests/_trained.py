"""A small trained workspace, shared by the training, registry, scoring and queue tests.

A boosted synthetic LA (frequent outcomes, so 3,000 pupils give every window events),
ingested and trained once for both outcomes with a quick experiment. Module tests that
change the registry work on their own copy of the MLflow store.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import shutil
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
import yaml

from cmooe_risk.config import Workspace
from cmooe_risk.ingest import ingest
from cmooe_risk.synth import generate, load_profile
from cmooe_risk.synth._profile import Sourced


def boosted_profile():
    """England with frequent outcomes, so a small LA has events in every window."""
    profile = load_profile("england")
    rates = profile.rates.model_copy(
        # Frequent enough that both sexes have 10+ excluded pupils in the test windows
        # (fewer would be suppressed by the audit) even with the bias towards boys.
        update={"pex_per_100": Sourced(value=12.0), "cme_new_per_year": Sourced(value=0.05)}
    )
    return profile.model_copy(update={"rates": rates})


def quick_experiment(
    directory: Path,
    outcome: str,
    models: tuple[str, ...] = (
        "lightgbm_quick.yaml",
        "logistic",
        "rules_checklist",
        "prior_events",
    ),
) -> Path:
    """The shipped experiment, made quick: fewer trees and bootstrap resamples."""
    lightgbm = yaml.safe_load((Path(__file__).parents[1] / "models" / "lightgbm.yaml").read_text())
    lightgbm["num_boost_round"] = 60
    (directory / "lightgbm_quick.yaml").write_text(yaml.safe_dump(lightgbm))
    experiment = {
        "outcome": outcome,
        "horizon_weeks": 13,
        "temporal": {"test_windows": 2, "as_of_frequency_weeks": 4},
        "training": {"negative_sample_rate": 0.5, "seed": 3},
        "evaluation": {"bootstrap": 40, "k_percents": [1, 5]},
        "models": list(models),
        "challenger": "lightgbm_quick.yaml",
    }
    path = directory / f"{outcome}.yaml"
    path.write_text(yaml.safe_dump(experiment))
    return path


@dataclass
class Trained:
    workspace: Workspace
    synth_dir: Path
    experiments: dict[str, Path]
    results: dict


def _train_la(root: Path, profile, outcomes: tuple[str, ...], models=None) -> Trained:
    from tests.conftest import TEST_KEY  # here, not at the top: conftest imports this module

    from cmooe_risk.train import train_experiment

    # Session fixtures are built before each test's own environment fixture runs.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CMOOE_PSEUDONYM_KEY", TEST_KEY)
        patch.delenv("MLFLOW_TRACKING_URI", raising=False)
        manifest = generate(
            profile, pupils=3000, years=3, seed=5, out=root / "synth", end=date(2026, 7, 24)
        )
        (root / "workspace").mkdir()
        # Fewer audit resamples than the default 200: the tests check flags, not decimals.
        (root / "workspace" / "cmooe-risk.yaml").write_text("fairness: {bootstrap: 80}\n")
        workspace = Workspace.open(root / "workspace")
        ingest(workspace, Path(manifest.out_dir), extract_date=date(2026, 7, 24))
        experiments = {
            o: quick_experiment(root, o, *([models] if models else [])) for o in outcomes
        }
        results = {
            outcome: train_experiment(workspace, path, ground_truth=root / "synth")
            for outcome, path in experiments.items()
        }
    return Trained(workspace, root / "synth", experiments, results)


#: How long a worker waits for another to finish building before giving up (a worker
#: killed while building leaves its lock behind: fail clearly rather than hang CI).
_LOCK_PATIENCE_SECONDS = 1800


@contextlib.contextmanager
def _exclusive(lock: Path) -> Iterator[None]:
    """Hold ``lock`` (a file created exclusively) for the block; other workers wait."""
    deadline = time.monotonic() + _LOCK_PATIENCE_SECONDS
    while True:
        try:
            handle = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            break
        except FileExistsError:
            if time.monotonic() > deadline:
                pytest.fail(f"{lock} still held after {_LOCK_PATIENCE_SECONDS} s: a worker died")
            time.sleep(0.5)
    try:
        yield
    finally:
        os.close(handle)
        lock.unlink()


def built_once(
    factory: pytest.TempPathFactory, name: str, build: Callable[[Path], Trained]
) -> Trained:
    """``build`` run once per test run, whichever pytest-xdist worker asks first.

    Every xdist worker has its own session fixtures, so each would train its own LA: the
    most expensive setup in the suite, done twice on two workers. Instead the first worker
    to ask builds it in the run's shared temporary directory, under a lock; a worker that
    asks later reuses it. Each worker then works on its own copy of the workspace, so no
    worker writes into another's files.
    """
    if os.environ.get("PYTEST_XDIST_WORKER") is None:  # one process: nothing to share
        return build(factory.mktemp(name))
    shared = factory.getbasetemp().parent / f"shared-{name}"
    built_file = shared / "built.pickle"
    with _exclusive(shared.with_name(f"shared-{name}.lock")):
        if not built_file.exists():
            shutil.rmtree(shared, ignore_errors=True)  # a failed build's leftovers
            shared.mkdir()
            built_file.write_bytes(pickle.dumps(build(shared)))
    built = pickle.loads(built_file.read_bytes())
    workspace = copy_workspace(built.workspace, factory.mktemp(name) / "workspace")
    return Trained(workspace, built.synth_dir, built.experiments, built.results)


@pytest.fixture(scope="session")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Trained:
    return built_once(
        tmp_path_factory,
        "trained",
        lambda root: _train_la(
            root, boosted_profile(), ("permanent_exclusion", "missing_education")
        ),
    )


@pytest.fixture(scope="session")
def trained_biased(tmp_path_factory: pytest.TempPathFactory) -> Trained:
    """The same LA, except that schools suspend and exclude boys 2.5 times as often
    for the same behaviour (the generator's injected recording bias). Boys are half the
    roll, so the bias shows through training on 3,000 pupils; bias on small minor
    ethnicity codes is checked on the generator's truth in tests/audit/test_audit_synth.py
    and through training at scale in `python -m benchmarks audit`."""
    profile = boosted_profile()
    bias = profile.bias.model_copy(update={"enabled": True, "sex": ["M"], "multiplier": 2.5})
    return built_once(
        tmp_path_factory,
        "biased",
        lambda root: _train_la(
            root,
            profile.model_copy(update={"bias": bias}),
            ("permanent_exclusion",),
            ("lightgbm_quick.yaml", "logistic"),
        ),
    )


def copy_workspace(source: Workspace, target: Path) -> Workspace:
    """``source`` copied to ``target``, its MLflow store pointing at the copy's own files.

    MLflow records absolute artifact locations (``file:///…/mlruns/…``). Left as they
    are, a copy's new runs, registered models and promotions would write into the
    shared session workspace; every such path is moved to the copy instead.
    """
    shutil.copytree(source.root, target)
    database = target / "mlflow.db"
    if database.exists():
        with sqlite3.connect(database) as con:
            for old, new in (
                (source.root.as_uri(), target.as_uri()),
                (str(source.root), str(target)),
            ):
                _replace_everywhere(con, old, new)
    return Workspace.open(target)


def _replace_everywhere(con: sqlite3.Connection, old: str, new: str) -> None:
    tables = [row[0] for row in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    for table in tables:
        for column in con.execute(f'PRAGMA table_info("{table}")').fetchall():
            name, kind = column[1], (column[2] or "").upper()
            if "CHAR" in kind or "TEXT" in kind:
                con.execute(
                    f'UPDATE "{table}" SET "{name}" = replace("{name}", ?, ?) '
                    f'WHERE instr("{name}", ?) > 0',
                    (old, new, old),
                )


@pytest.fixture
def trained_copy(trained: Trained, tmp_path: Path) -> Trained:
    """The trained workspace copied, for tests that promote or retrain."""
    workspace = copy_workspace(trained.workspace, tmp_path / "workspace")
    return Trained(workspace, trained.synth_dir, trained.experiments, trained.results)


@pytest.fixture(scope="session")
def champions(tmp_path_factory: pytest.TempPathFactory, trained: Trained) -> Trained:
    """The trained LA with each outcome's LightGBM promoted to champion, ready to score."""
    from cmooe_risk.train import promote_run

    workspace = copy_workspace(
        trained.workspace, tmp_path_factory.mktemp("champions") / "workspace"
    )
    for outcome, result in trained.results.items():
        promote_run(
            workspace,
            outcome,
            result.model_runs["lightgbm_quick"],
            accept_fairness_risk="test workspace: promoted to exercise scoring",
        )
    return Trained(workspace, trained.synth_dir, trained.experiments, trained.results)


@pytest.fixture
def champions_copy(champions: Trained, tmp_path: Path) -> Trained:
    """A fresh copy of the champions workspace, for tests that score or change queues."""
    workspace = copy_workspace(champions.workspace, tmp_path / "workspace")
    return Trained(workspace, champions.synth_dir, champions.experiments, champions.results)
