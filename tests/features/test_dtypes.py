"""The catalog's dtype is the built column's type: registered models' signatures rely on it."""

from __future__ import annotations

from datetime import date

from tests.features._build import EXTRACT_DATE

from cmooe_risk.features import build_features, load_catalog
from cmooe_risk.ingest import ingest
from cmooe_risk.warehouse import connect_workspace

SQL_TYPES = {
    "float": {"DOUBLE", "FLOAT"},
    "int": {"INTEGER", "BIGINT", "SMALLINT", "TINYINT", "HUGEINT"},
    "bool": {"BOOLEAN", "INTEGER", "TINYINT"},
    "category": {"VARCHAR"},
}


def test_every_feature_column_has_its_catalog_type(workspace, mini_la) -> None:
    ingest(workspace, mini_la, extract_date=EXTRACT_DATE)
    with connect_workspace(workspace, read_only=True) as con:
        build_features(con, [date(2026, 1, 12)])
        rows = con.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_name IN ('feature_matrix', 'audit_frame')"
        ).fetchall()
    types = dict(rows)
    wrong = {
        f.name: (f.dtype, types[f.name])
        for f in load_catalog().features
        if types[f.name] not in SQL_TYPES[f.dtype]
    }
    assert not wrong, f"catalog dtype vs SQL type: {wrong}"
