"""Which week the weekly job scores by default: only whole weeks of marks."""

from __future__ import annotations

from datetime import date

import duckdb
import pytest

from cmooe_risk.config import Workspace
from cmooe_risk.score import default_as_of


@pytest.mark.parametrize(
    ("latest_mark", "as_of"),
    [
        (date(2026, 12, 11), date(2026, 12, 14)),  # a Friday: the week is whole
        (date(2026, 12, 13), date(2026, 12, 14)),  # a weekend mark still ends the week
        (date(2026, 12, 9), date(2026, 12, 7)),  # a Wednesday: the part-week waits
        (date(2026, 12, 7), date(2026, 12, 7)),  # a Monday: as of that Monday
    ],
)
def test_a_part_week_of_marks_waits_for_next_weeks_run(
    workspace: Workspace, latest_mark: date, as_of: date
) -> None:
    with duckdb.connect(str(workspace.warehouse_path)) as con:
        con.execute(
            "CREATE TABLE attendance_marks AS "
            "SELECT DATE '2026-12-01' AS session_date UNION ALL SELECT ?::DATE",
            [latest_mark],
        )
    assert default_as_of(workspace) == as_of
    assert default_as_of(workspace).weekday() == 0


def test_scoring_an_untrained_workspace_says_how_to_train_and_creates_no_store(
    workspace, mini_la
) -> None:
    from cmooe_risk.errors import StateError
    from cmooe_risk.ingest import ingest
    from cmooe_risk.score import score_week

    ingest(workspace, mini_la, extract_date=date(2026, 1, 31))
    with pytest.raises(StateError, match="No champion model is registered yet"):
        score_week(workspace, date(2026, 1, 12))
    assert not (workspace.root / "mlflow.db").exists()
