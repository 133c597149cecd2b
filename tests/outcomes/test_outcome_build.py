"""build_labels on the real warehouse: the feature spine as keys, and input errors."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest
from tests.outcomes._la import MiniLA

from cmooe_risk.errors import ConfigError, StateError
from cmooe_risk.features import build_features
from cmooe_risk.outcomes import STATUSES, build_labels

T = date(2025, 9, 8)


def test_labels_for_the_feature_spine_on_a_read_only_warehouse(mini_warehouse: Path) -> None:
    as_of = [date(2025, 9, 8), date(2025, 10, 6), date(2025, 10, 13), date(2026, 1, 26)]
    with duckdb.connect(str(mini_warehouse), read_only=True) as con:
        build_features(con, as_of)
        spine = con.execute("SELECT count(*) FROM spine").fetchall()[0][0]
        # the mini LA's marks end on 19 September 2025: every 13-week window is unobserved
        default = build_labels(con, "permanent_exclusion", keys="spine")
        assert default.data_end == date(2025, 9, 19)
        assert default.rows == default.censored_horizon == spine
        summary = build_labels(
            con, "permanent_exclusion", keys="spine", data_end=date(2026, 6, 30), into="pex"
        )
        assert summary.rows == spine
        rows = con.execute(
            "SELECT l.as_of, l.status, l.event_date FROM pex AS l "
            "JOIN exclusions AS x USING (pupil_pseudonym) WHERE x.category = 'PERM' "
            "ORDER BY l.as_of"
        ).fetchall()
        cme = build_labels(con, "missing_education", keys="spine", data_end=date(2026, 6, 30))
        assert cme.rows == spine
        statuses = {row[0] for row in con.execute("SELECT status FROM labels").fetchall()}
        left = con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE table_name LIKE 'outcome_%'"
        ).fetchall()[0][0]
    # permanently excluded on 08/10/2025
    assert rows == [
        (date(2025, 9, 8), "positive", date(2025, 10, 8)),
        (date(2025, 10, 6), "positive", date(2025, 10, 8)),
        (date(2025, 10, 13), "negative", None),
        (date(2026, 1, 26), "negative", None),
    ]
    assert (summary.positives, summary.censored_horizon) == (2, 0)
    assert statuses <= set(STATUSES)
    assert left == 0  # the work tables are dropped


def test_keys_may_be_a_view_with_timestamps_and_more_columns(la: MiniLA) -> None:
    pupil = la.pupil("pupil")
    la.exclude(pupil, date(2025, 10, 8))
    la.con.execute(
        "CREATE VIEW my_keys AS SELECT 'pupil' AS pupil_pseudonym, "
        "TIMESTAMP '2025-09-08 00:00:00' AS as_of, 1 AS other"
    ).fetchall()
    summary = build_labels(la.con, "permanent_exclusion", keys="my_keys", into="pex_labels")
    assert summary.positives == 1
    row = la.con.execute("SELECT as_of, event_date FROM pex_labels").fetchall()
    assert row == [(T, date(2025, 10, 8))]


def test_a_second_build_replaces_the_table(la: MiniLA) -> None:
    pupil = la.pupil("pupil")
    la.keys([(pupil, T)])
    build_labels(la.con, "permanent_exclusion")
    la.keys([(pupil, T), (pupil, date(2025, 9, 15))])
    assert build_labels(la.con, "permanent_exclusion").rows == 2
    assert la.con.execute("SELECT count(*) FROM labels").fetchall() == [(2,)]


@pytest.mark.parametrize("table", ["exclusions", "enrolments", "register_events"])
def test_a_missing_warehouse_table_is_a_state_error_naming_it(la: MiniLA, table: str) -> None:
    la.keys([("pupil", T)])
    la.con.execute(f"DROP TABLE {table}").fetchall()
    with pytest.raises(StateError, match=table):
        build_labels(la.con, "permanent_exclusion")


def test_without_marks_the_data_end_must_be_given(la: MiniLA) -> None:
    la.keys([("pupil", T)])
    la.con.execute("DELETE FROM attendance_marks").fetchall()
    with pytest.raises(StateError, match="pass data_end"):
        build_labels(la.con, "permanent_exclusion")
    la.con.execute("DROP TABLE attendance_marks").fetchall()
    with pytest.raises(StateError, match="attendance_marks"):
        build_labels(la.con, "permanent_exclusion")
    summary = build_labels(la.con, "permanent_exclusion", data_end=date(2026, 1, 31))
    assert summary.negatives == 1
    with pytest.raises(StateError, match="attendance_marks"):  # school days need marks
        build_labels(la.con, "missing_education", data_end=date(2026, 1, 31))


def test_bad_options_are_config_errors_naming_the_value(la: MiniLA) -> None:
    la.keys([("pupil", T)])
    with pytest.raises(ConfigError, match="'exclusion'"):
        build_labels(la.con, "exclusion")
    with pytest.raises(ConfigError, match="horizon_weeks"):
        build_labels(la.con, "permanent_exclusion", horizon_weeks=0)
    with pytest.raises(ConfigError, match="'no_such_keys'"):
        build_labels(la.con, "permanent_exclusion", keys="no_such_keys")
    with pytest.raises(ConfigError, match="'label_keys; DROP TABLE pupils'"):
        build_labels(la.con, "permanent_exclusion", keys="label_keys; DROP TABLE pupils")
    with pytest.raises(ConfigError, match="into"):
        build_labels(la.con, "permanent_exclusion", into="label_keys")
    with pytest.raises(ConfigError, match="data_end"):
        build_labels(la.con, "permanent_exclusion", data_end="31/01/2026")


@pytest.mark.parametrize(
    ("select", "message"),
    [
        ("SELECT 'a' AS pupil_pseudonym", "no column.*as_of"),
        ("SELECT 'a' AS pupil_pseudonym, DATE '2025-09-09' AS as_of", "2025-09-09, a Tuesday"),
        ("SELECT NULL AS pupil_pseudonym, DATE '2025-09-08' AS as_of", "no pupil or as_of"),
        (
            "SELECT 'a' AS pupil_pseudonym, DATE '2025-09-08' AS as_of "
            "UNION ALL SELECT 'a', DATE '2025-09-08'",
            "repeats 1",
        ),
    ],
)
def test_bad_keys_are_config_errors(la: MiniLA, select: str, message: str) -> None:
    la.con.execute(f"CREATE TABLE bad_keys AS {select}").fetchall()
    with pytest.raises(ConfigError, match=message):
        build_labels(la.con, "permanent_exclusion", keys="bad_keys")
