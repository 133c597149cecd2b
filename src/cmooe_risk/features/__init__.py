"""Point-in-time features: SQL definitions in ``features/`` plus the catalog."""

from cmooe_risk.features._catalog import DOMAINS, Feature, FeatureCatalog, load_catalog
from cmooe_risk.features._dates import monday_on_or_after, weekly_as_of_dates
from cmooe_risk.features._dialect import to_engine
from cmooe_risk.features._engine import FeatureBuild, audit_path, build_features, write_features
from cmooe_risk.features._spark import (  # PySpark itself is imported only when called
    SparkFeatureBuild,
    build_features_spark,
    warehouse_tables,
)

__all__ = [
    "DOMAINS",
    "Feature",
    "FeatureBuild",
    "FeatureCatalog",
    "SparkFeatureBuild",
    "audit_path",
    "build_features",
    "build_features_spark",
    "load_catalog",
    "monday_on_or_after",
    "to_engine",
    "warehouse_tables",
    "weekly_as_of_dates",
    "write_features",
]
