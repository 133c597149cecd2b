"""Outcome definitions load and validate; the outcome SQL stays in the portable subset."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlglot
from sqlglot import exp

from cmooe_risk.errors import ConfigError
from cmooe_risk.features._dialect import portability_problems, to_engine
from cmooe_risk.outcomes import (
    OUTCOME_NAMES,
    STATUSES,
    OutcomeSpec,
    load_outcomes,
    outcome_spec,
)
from cmooe_risk.outcomes._sql import SQL_FILES, TABLES_READ, read_sql

#: Temporary tables build_labels makes for the SQL files to read.
WORK_TABLES = {
    "outcome_parameters",
    "outcome_codes",
    "outcome_keys",
    "outcome_school_days",
    "outcome_events",
    "outcome_leaving",
}


def test_both_outcomes_load_with_the_documented_defaults() -> None:
    specs = load_outcomes()
    assert tuple(specs) == OUTCOME_NAMES == ("permanent_exclusion", "missing_education")
    pex, cme = specs["permanent_exclusion"], specs["missing_education"]
    assert (pex.horizon_weeks, pex.horizon_days, pex.leavers) == (13, 91, "exclude")
    assert pex.exclusion_categories == ("PERM",)
    assert pex.exclusion_statuses == ("UPHELD", "PENDING")
    assert cme.referral_events == ("CME_REFERRAL",)
    assert cme.off_roll_school_days == 20
    assert cme.school_day_min_share == 0.25
    assert cme.on_roll_statuses == ("C", "M")
    assert cme.off_roll_covered_by == ("EHE", "ALTERNATIVE_PROVISION", "MEDICAL_S19")
    assert (cme.off_roll_first_year, cme.off_roll_last_year) == (1, 11)
    for spec in specs.values():
        assert spec.events_sql in SQL_FILES
        assert (
            spec.left_la_leaving_reasons == spec.left_la_register_outcomes == ("MOVED_OUT_OF_LA",)
        )


def test_with_horizon_and_with_leavers_return_validated_copies() -> None:
    pex = load_outcomes()["permanent_exclusion"]
    six = pex.with_horizon(6)
    assert (six.horizon_weeks, six.horizon_days, pex.horizon_weeks) == (6, 42, 13)
    assert pex.with_leavers("negative").leavers == "negative"
    for bad in (0, -1):
        with pytest.raises(ConfigError, match="horizon_weeks"):
            pex.with_horizon(bad)
    with pytest.raises(ConfigError, match=r"horizon_weeks.*2\.5"):
        pex.with_horizon(2.5)
    with pytest.raises(ConfigError, match="leavers"):
        pex.with_leavers("drop")


def test_an_unknown_outcome_name_is_a_config_error_naming_it() -> None:
    with pytest.raises(ConfigError, match=r"'exclusion'.*permanent_exclusion, missing_education"):
        outcome_spec("exclusion")
    assert outcome_spec("missing_education") is load_outcomes()["missing_education"]


def test_definitions_are_checked_against_the_code_lists() -> None:
    body = load_outcomes()["permanent_exclusion"].model_dump()
    with pytest.raises(ValueError, match=r"exclusion_statuses.*'UPHLED'"):
        OutcomeSpec.model_validate({**body, "exclusion_statuses": ["UPHLED"]})
    with pytest.raises(ValueError, match="off_roll_school_days do not apply"):
        OutcomeSpec.model_validate({**body, "off_roll_school_days": 20})
    with pytest.raises(ValueError, match="needs exclusion_statuses"):
        OutcomeSpec.model_validate({**body, "exclusion_statuses": None})
    with pytest.raises(ValueError, match="extra"):
        OutcomeSpec.model_validate({**body, "horizon": 13})


@pytest.mark.parametrize("file", SQL_FILES)
def test_outcome_sql_is_portable_and_transpiles_to_spark(file: str) -> None:
    sql = read_sql(file)
    assert portability_problems(sql) == []
    assert "SELECT" in to_engine(sql, "spark").upper()


@pytest.mark.parametrize("file", SQL_FILES)
def test_tables_read_lists_exactly_the_warehouse_tables_the_sql_names(file: str) -> None:
    tree = sqlglot.parse_one(read_sql(file), read="duckdb")
    ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    tables = {table.name for table in tree.find_all(exp.Table)} - ctes - WORK_TABLES
    assert tables == set(TABLES_READ[file])


def test_the_doc_covers_every_setting_and_status() -> None:
    doc = (Path(__file__).parents[2] / "docs" / "outcomes.md").read_text(encoding="utf-8")
    for key in OutcomeSpec.model_fields:
        if key != "name":
            assert f"`{key}`" in doc, key
    for status in STATUSES:
        assert f"`{status}`" in doc, status
