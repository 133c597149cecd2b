"""The catalog is complete and the feature SQL stays in the portable subset."""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import numpy as np
import pytest

from cmooe_risk.features import DOMAINS, load_catalog, session_week
from cmooe_risk.features._catalog import read_sql
from cmooe_risk.features._dialect import FUNCTIONS, portability_problems, to_engine
from cmooe_risk.school_calendar import academic_year_of

CATALOG = load_catalog()


def test_catalog_covers_every_domain_with_enough_model_features() -> None:
    assert len(CATALOG.model_features) >= 60
    for domain in DOMAINS:
        assert any(f.use == "model" for f in CATALOG.by_domain(domain)), domain


def test_every_template_renders_with_a_value() -> None:
    """Through the renderer explanations use: templates have their own format specs
    (``{value:plural:week:weeks}``, ``{value:change_pp}``) beyond Python's."""
    from cmooe_risk.explain._render import render

    for feature in CATALOG.features:
        columns = {"value": np.array([0.25])} | {f.name: np.array([0.5]) for f in CATALOG.features}
        text = render(feature, columns)[0]
        assert text, feature.name
        assert "{" not in text, feature.name
        assert not text.startswith(feature.description.rstrip(". ") + ":"), (feature.name, text)


@pytest.mark.parametrize("stage", CATALOG.stages, ids=lambda s: s.file)
def test_feature_sql_is_portable_and_transpiles_to_spark(stage) -> None:
    sql = read_sql(stage.file)
    assert portability_problems(sql) == []
    spark = to_engine(sql, "spark")
    assert "SELECT" in spark.upper()


def test_a_duckdb_only_construct_is_reported() -> None:
    assert portability_problems("SELECT * FROM a ASOF JOIN b ON a.t >= b.t")
    assert portability_problems("SELECT x::INTEGER FROM t")
    assert portability_problems("SELECT * FROM t QUALIFY row_number() OVER () = 1")


def test_week_and_year_written_by_hand_are_reported() -> None:
    epoch = "date_diff('day', DATE '2000-01-03', session_date) / 7"
    assert portability_problems(f"SELECT FLOOR({epoch}) FROM t") == [
        r"\bDATE\s*'2000-01-03' (use session_week(d) or week_day(d))"
    ]
    for september in (
        "SELECT CASE WHEN EXTRACT(MONTH FROM m.session_date) < 9 THEN 1 ELSE 0 END FROM m",
        "SELECT YEAR(d) - CASE WHEN MONTH(d) < 9 THEN 1 ELSE 0 END FROM t",
    ):
        assert portability_problems(september)[0].endswith("(use academic_year(d))")


#: Mondays, Sundays, the last day of August and the first of September, before and after
#: the epoch Monday, and a leap day
DAYS = [
    date(2000, 1, 2), date(2000, 1, 3), date(2000, 1, 9), date(2000, 1, 10),
    date(2019, 8, 31), date(2019, 9, 1), date(2020, 2, 29), date(2023, 9, 4),
    date(2024, 8, 31), date(2024, 9, 1), date(2026, 7, 26), date(2026, 7, 27),
]  # fmt: skip


def test_sql_functions_agree_with_their_python_counterparts() -> None:
    """session_week(), week_day() and academic_year() on DuckDB, of dates and of
    timestamps, against the Python definitions (Spark: tests/features/test_spark_parity.py)."""
    values = ", ".join(f"(DATE '{day.isoformat()}')" for day in DAYS)
    sql = to_engine(
        "SELECT d, session_week(d), week_day(d), academic_year(d), "
        "session_week(CAST(d AS TIMESTAMP)), academic_year(CAST(d AS TIMESTAMP)) "
        f"FROM (VALUES {values}) AS t(d) ORDER BY d",
        "duckdb",
    )
    rows = duckdb.sql(sql).fetchall()
    expected = [
        (d, session_week(d), d.weekday(), academic_year_of(d), session_week(d), academic_year_of(d))
        for d in DAYS
    ]
    assert rows == expected
    assert sorted(FUNCTIONS) == ["academic_year", "session_week", "week_day"]


def test_sql_functions_nest_and_keep_their_precedence() -> None:
    day = date(2024, 9, 2)
    sql = to_engine(
        f"SELECT 2 * academic_year(DATE '{day}') AS doubled, "
        f"5 * session_week(DATE '{day}') + week_day(DATE '{day + timedelta(days=3)}') AS n",
        "duckdb",
    )
    assert duckdb.sql(sql).fetchall() == [(2 * 2024, 5 * session_week(day) + 3)]
    # a call inside another's argument is expanded too
    inner = to_engine(
        f"SELECT academic_year(DATE '{day}' + INTERVAL (week_day(DATE '{day}')) DAY) AS y",
        "duckdb",
    )
    assert "week_day" not in inner.lower()
    assert duckdb.sql(inner).fetchall() == [(2024,)]


def test_a_sql_function_with_the_wrong_arguments_is_refused() -> None:
    with pytest.raises(ValueError, match=r"session_week\(\) takes one date"):
        to_engine("SELECT session_week(a, b) FROM t", "duckdb")
