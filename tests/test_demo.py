"""The demo chain end to end on a small synthetic LA: generate, ingest, features."""

from __future__ import annotations

import pandas as pd
import pytest

from cmooe_risk.config import Workspace
from cmooe_risk.demo import run_demo

# The demo's generate, ingest and feature build end to end: left out of `make test-fast`.
pytestmark = pytest.mark.slow


def test_demo_generates_loads_and_builds_features(workspace: Workspace) -> None:
    result = run_demo(workspace, pupils=1500, years=2, train=False)

    report = result.ingest_report
    assert report.quarantined == 0
    assert report.rows_in == report.accepted > 100_000
    features = next((workspace.root / "features").glob("features-*[0-9].parquet"))
    frame = pd.read_parquet(features)
    assert frame.pupil_pseudonym.is_unique
    assert (frame.roll_status == "on_roll").mean() > 0.9
    on_roll = frame[frame.roll_status == "on_roll"]
    assert on_roll.attendance_rate_6w.notna().mean() > 0.95
    assert on_roll.attendance_rate_6w.between(0, 1).all()
    assert 0.85 < on_roll.attendance_rate_6w.mean() < 0.99
    assert any("synthetic" in message for message in result.messages)
