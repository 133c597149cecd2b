"""A locality's export as a caseworker opens it: a workbook that sorts and filters."""

from __future__ import annotations

from datetime import date

import pandas as pd
from openpyxl import load_workbook
from tests.queue.conftest import week

from cmooe_risk.config import QueueConfig
from cmooe_risk.pseudonym import DISPLAY_LENGTH
from cmooe_risk.queue import export_items, publish

AS_OF = date(2026, 3, 2)


def _publish(store) -> None:
    rows = [
        {"pupil": "a" * 20, "risk": 0.3125, "rank": 1, "listed": True, "locality": "North"},
        {
            "pupil": "b" * 20,
            "risk": 0.2,
            "rank": 2,
            "listed": True,
            "locality": "North",
            "year_group": "R",
            "urn": None,
        },
        {"pupil": "c" * 20, "risk": 0.4, "rank": 1, "listed": True, "locality": "South"},
    ]
    publish(store, week(AS_OF, rows), QueueConfig())


def test_the_workbook_has_its_header_on_row_one_frozen_and_filtered(store, tmp_path):
    _publish(store)
    path = export_items(store, "North", tmp_path / "north.xlsx", actor="test").path
    book = load_workbook(path)
    assert book.sheetnames == ["permanent exclusion", "missing education", "about"]
    sheet = book["permanent exclusion"]
    header = [cell.value for cell in sheet[1]]
    assert header[:6] == ["locality", "list", "rank", "item", "pupil (pseudonym)", "school URN"]
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == sheet.dimensions
    first = dict(zip(header, (cell for cell in sheet[2]), strict=True))
    assert first["risk"].value == 0.3125
    assert first["risk"].number_format == "0.0%"
    assert first["school URN"].value == 100001  # a number, so it sorts as one
    assert first["year group"].value == 9
    assert first["pupil (pseudonym)"].value == "a" * DISPLAY_LENGTH
    second = dict(zip(header, (cell.value for cell in sheet[3]), strict=True))
    assert second["year group"] == "R"  # Reception stays a word
    assert second["school URN"] is None
    assert "North" in book["about"]["A1"].value


def test_the_csv_names_its_locality_and_holds_only_it(store, tmp_path):
    _publish(store)
    path = export_items(store, "North", tmp_path / "north.csv", file_format="csv").path
    table = pd.read_csv(path)
    assert set(table["locality"]) == {"North"}
    assert table["pupil (pseudonym)"].str.len().eq(DISPLAY_LENGTH).all()
    assert table["risk"].tolist() == [0.3125, 0.2]
