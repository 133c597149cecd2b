"""Point-in-time features: SQL definitions in ``features/`` plus the catalog."""

from cmooe_risk.features._catalog import DOMAINS, Feature, FeatureCatalog, load_catalog
from cmooe_risk.features._dates import (
    WEEK_ZERO,
    as_of_frame,
    monday_on_or_after,
    session_week,
    week_monday,
    weekly_as_of_dates,
)
from cmooe_risk.features._dialect import to_engine
from cmooe_risk.features._docs import render_features_markdown
from cmooe_risk.features._engine import FeatureBuild, audit_path, build_features, write_features
from cmooe_risk.features._precompute import definitions_fingerprint, precompute
from cmooe_risk.features._spark import (  # PySpark itself is imported only when called
    SparkFeatureBuild,
    build_features_spark,
    require_spark,
    spark_session,
    warehouse_tables,
    write_features_spark,
)

__all__ = [
    "DOMAINS",
    "WEEK_ZERO",
    "Feature",
    "FeatureBuild",
    "FeatureCatalog",
    "SparkFeatureBuild",
    "as_of_frame",
    "audit_path",
    "build_features",
    "build_features_spark",
    "definitions_fingerprint",
    "load_catalog",
    "monday_on_or_after",
    "precompute",
    "render_features_markdown",
    "require_spark",
    "session_week",
    "spark_session",
    "to_engine",
    "warehouse_tables",
    "week_monday",
    "weekly_as_of_dates",
    "write_features",
    "write_features_spark",
]
