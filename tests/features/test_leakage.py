"""Point in time, as a property: nothing dated or recorded on or after t changes features at t.

Each example edits the extract files (insert, change or delete records dated on or
after t, or record a correction on or after t), re-ingests them through the real
ingest path, and compares every feature and audit attribute at t with the original.
"""

from __future__ import annotations

import shutil
import tempfile
from datetime import date, timedelta
from functools import cache
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests._hypothesis import examples
from tests.features._build import both_frames
from tests.features._edits import MONDAYS, apply_edit, edits_after

from cmooe_risk.config import Workspace
from cmooe_risk.demo import fixture_dir


def _at_t(workspace: Workspace, extracts: Path, t: date) -> pd.DataFrame:
    """Rows at t from a build that also covers later dates, as training builds do.

    A build for t alone would drop later records before any window sees them and so
    hide a leak; the later dates keep them in play.
    """
    frame = both_frames(workspace, extracts, [t, t + timedelta(weeks=3), t + timedelta(weeks=9)])
    return frame[frame.as_of == pd.Timestamp(t)].reset_index(drop=True)


@cache
def _baseline(t: date) -> pd.DataFrame:
    with tempfile.TemporaryDirectory() as scratch:
        extracts = Path(scratch) / "extracts"
        shutil.copytree(fixture_dir(), extracts)
        return _at_t(Workspace.open(Path(scratch) / "ws"), extracts, t)


@pytest.mark.slow  # an ingest and a feature build per example
@settings(
    max_examples=examples(30),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_records_on_or_after_t_never_change_features_at_t(data) -> None:
    t = data.draw(st.sampled_from(MONDAYS))
    edits = data.draw(st.lists(edits_after(t), min_size=12, max_size=30))
    with tempfile.TemporaryDirectory() as scratch:
        extracts = Path(scratch) / "extracts"
        shutil.copytree(fixture_dir(), extracts)
        for edit in edits:
            apply_edit(extracts, t, edit)
        edited = _at_t(Workspace.open(Path(scratch) / "ws"), extracts, t)
    pd.testing.assert_frame_equal(edited, _baseline(t), check_dtype=False)
