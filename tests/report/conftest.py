"""One published week of the small trained LA, and its meeting packs, for every report test.

Scoring takes 20-40 s, so the session scores once (the week of 2026-07-06) and each
test reads the result; tests that change the queue work on their own copy.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from tests._trained import copy_workspace
from tests.conftest import TEST_KEY

from cmooe_risk.config import Workspace

#: A school week inside the trained LA's data (it ends on 2026-07-24).
WEEK = date(2026, 7, 6)


@dataclass
class Published:
    workspace: Workspace
    synth_dir: Path
    packs: dict  # locality -> MeetingPack


@pytest.fixture(scope="session")
def published(tmp_path_factory: pytest.TempPathFactory, champions) -> Published:
    from cmooe_risk.report import write_meeting_packs
    from cmooe_risk.score import score_week

    target = tmp_path_factory.mktemp("report") / "workspace"
    copy_workspace(champions.workspace, target)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CMOOE_PSEUDONYM_KEY", TEST_KEY)
        patch.delenv("MLFLOW_TRACKING_URI", raising=False)
        workspace = Workspace.open(target)
        score_week(workspace, WEEK)
        packs = write_meeting_packs(workspace, target / "packs", actor="report tests")
    return Published(workspace, champions.synth_dir, {p.locality: p for p in packs})
