"""Data contracts of the source extracts, defined once.

The ingest engine, ``docs/data-contracts.md`` and the rule tests are all
generated from these objects.
"""

from cmooe_risk.contracts._codes import (
    ATTENDANCE_CATEGORIES,
    ATTENDANCE_CODES,
    CODE_LISTS,
    ETHNICITY_MINOR,
    ETHNICITY_MINOR_TO_MAJOR,
    CodeList,
)
from cmooe_risk.contracts._docs import render_contracts_markdown
from cmooe_risk.contracts._schema import Column, Contract, Rule
from cmooe_risk.contracts._sources import CONTRACTS, contract
from cmooe_risk.contracts._upn import UPN_ALPHABET, upn_check_letter

__all__ = [
    "ATTENDANCE_CATEGORIES",
    "ATTENDANCE_CODES",
    "CODE_LISTS",
    "CONTRACTS",
    "ETHNICITY_MINOR",
    "ETHNICITY_MINOR_TO_MAJOR",
    "UPN_ALPHABET",
    "CodeList",
    "Column",
    "Contract",
    "Rule",
    "contract",
    "render_contracts_markdown",
    "upn_check_letter",
]
