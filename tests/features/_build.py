"""Helpers: ingest an extract directory and build features for given as-of dates."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd

from cmooe_risk.config import Workspace
from cmooe_risk.features import build_features
from cmooe_risk.ingest import ingest
from cmooe_risk.warehouse import connect_workspace

EXTRACT_DATE = date(2026, 1, 31)


def features_for(
    workspace: Workspace, extracts: Path, as_of: list[date], *, table: str = "feature_matrix"
) -> pd.DataFrame:
    ingest(workspace, extracts, extract_date=EXTRACT_DATE, force=True, accept_quarantine=True)
    with connect_workspace(workspace, read_only=True) as con:
        build_features(con, as_of)
        frame = con.sql(f"SELECT * FROM {table}").df()
    return frame.sort_values(["as_of", "pupil_pseudonym"]).reset_index(drop=True)


def both_frames(workspace: Workspace, extracts: Path, as_of: list[date]) -> pd.DataFrame:
    ingest(workspace, extracts, extract_date=EXTRACT_DATE, force=True, accept_quarantine=True)
    with connect_workspace(workspace, read_only=True) as con:
        build_features(con, as_of)
        frame = con.sql(
            "SELECT * FROM feature_matrix JOIN audit_frame USING (pupil_pseudonym, as_of)"
        ).df()
    return frame.sort_values(["as_of", "pupil_pseudonym"]).reset_index(drop=True)
