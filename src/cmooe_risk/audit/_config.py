"""Fairness thresholds: defined with the workspace configuration, re-exported here."""

from cmooe_risk.config import FairnessConfig

__all__ = ["FairnessConfig"]
