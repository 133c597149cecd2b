"""Validate source extracts against their contracts and load the warehouse."""

from cmooe_risk.ingest._engine import ingest
from cmooe_risk.ingest._localities import check_localities
from cmooe_risk.ingest._report import FileReport, IngestReport

__all__ = ["FileReport", "IngestReport", "check_localities", "ingest"]
