"""A small trained workspace, shared by the training, registry and loading tests.

A boosted synthetic LA (frequent outcomes, so 2,500 pupils give every window events),
ingested and trained once for both outcomes with a quick experiment. Module tests that
change the registry work on their own copy of the MLflow store.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
import yaml
from tests.conftest import TEST_KEY

from cmooe_risk.config import Workspace
from cmooe_risk.ingest import ingest
from cmooe_risk.synth import generate, load_profile
from cmooe_risk.synth._profile import Sourced


def boosted_profile():
    """England with frequent outcomes, so a small LA has events in every window."""
    prof = load_profile("england")
    rates = prof.rates.model_copy(
        update={"pex_per_100": Sourced(value=2.5), "cme_new_per_year": Sourced(value=0.05)}
    )
    return prof.model_copy(update={"rates": rates})


def quick_experiment(directory: Path, outcome: str) -> Path:
    """The shipped experiment, made quick: fewer trees and bootstrap resamples."""
    lightgbm = yaml.safe_load((Path(__file__).parents[2] / "models" / "lightgbm.yaml").read_text())
    lightgbm["num_boost_round"] = 60
    (directory / "lightgbm_quick.yaml").write_text(yaml.safe_dump(lightgbm))
    experiment = {
        "outcome": outcome,
        "horizon_weeks": 13,
        "temporal": {"test_windows": 2, "as_of_frequency_weeks": 4},
        "training": {"negative_sample_rate": 0.5, "seed": 3},
        "evaluation": {"bootstrap": 40, "k_percents": [1, 5]},
        "models": ["lightgbm_quick.yaml", "logistic", "rules_checklist", "prior_events"],
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


@pytest.fixture(scope="session")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Trained:
    from cmooe_risk.train import train_experiment

    root = tmp_path_factory.mktemp("trained")
    saved = {name: os.environ.get(name) for name in ("CMOOE_PSEUDONYM_KEY", "MLFLOW_TRACKING_URI")}
    os.environ["CMOOE_PSEUDONYM_KEY"] = TEST_KEY
    os.environ.pop("MLFLOW_TRACKING_URI", None)
    try:
        manifest = generate(
            boosted_profile(),
            pupils=2500,
            years=3,
            seed=5,
            out=root / "synth",
            end=date(2026, 7, 24),
        )
        workspace = Workspace.open(root / "workspace")
        ingest(workspace, Path(manifest.out_dir), extract_date=date(2026, 7, 24))
        experiments = {
            o: quick_experiment(root, o) for o in ("permanent_exclusion", "missing_education")
        }
        results = {
            outcome: train_experiment(workspace, path, ground_truth=root / "synth")
            for outcome, path in experiments.items()
        }
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    return Trained(workspace, root / "synth", experiments, results)


@pytest.fixture
def trained_copy(trained: Trained, tmp_path: Path) -> Trained:
    """The trained workspace copied, for tests that promote or retrain."""
    target = tmp_path / "workspace"
    shutil.copytree(trained.workspace.root, target)
    # The experiments' artifact locations point at the original workspace's mlruns/,
    # which stays in place, so the copy's registry still finds every model.
    return Trained(Workspace.open(target), trained.synth_dir, trained.experiments, trained.results)
