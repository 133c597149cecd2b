"""The catalog is complete and the feature SQL stays in the portable subset."""

from __future__ import annotations

import numpy as np
import pytest

from cmooe_risk.features import DOMAINS, load_catalog
from cmooe_risk.features._catalog import read_sql
from cmooe_risk.features._dialect import portability_problems, to_engine

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
