"""The packs and exports read as a headteacher or caseworker would read them: no reason
that contradicts itself, no change that is not one, no codes, no analyst's caveats (#16)."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
from tests._reading import (
    html_reason_lists,
    html_text,
    page_problems,
    reasons_problems,
    sentence_problems,
)

from cmooe_risk.queue import export_items, open_store


def test_the_packs_read_without_contradictions(published) -> None:
    problems: list[str] = []
    children = 0
    for locality, pack in published.packs.items():
        page = pack.path.read_text("utf-8")
        problems += [f"{locality} pack: {p}" for p in page_problems(html_text(page))]
        for reasons in html_reason_lists(page):
            children += 1
            problems += [f"{locality} pack: {p}" for p in reasons_problems(reasons)]
        for block in re.findall(r'<div class="changes">(.*?)</div>', page, flags=re.S):
            for item in re.findall(r"<li>(.*?)</li>", block, flags=re.S):
                problems += [f"{locality} pack: {p}" for p in sentence_problems(html_text(item))]
    assert children > 0  # the scan saw the lists
    assert not problems, "\n".join(problems[:20])


def test_the_exports_read_without_contradictions(published, tmp_path: Path) -> None:
    store = open_store(published.workspace)
    problems: list[str] = []
    rows = 0
    for locality in published.packs:
        out = tmp_path / f"{locality}.csv"
        export_items(store, locality, out, file_format="csv", actor="reading test")
        table = pd.read_csv(out, dtype=str, keep_default_na=False)
        rows += len(table)
        for row in table.itertuples(index=False):
            reasons = [s for s in row[table.columns.get_loc("why on the list")].split("\n") if s]
            problems += [f"{locality} export: {p}" for p in reasons_problems(reasons)]
            for column in ("protective factors", "what changed since last week"):
                for sentence in row[table.columns.get_loc(column)].split("\n"):
                    if sentence:
                        problems += [f"{locality} export: {p}" for p in sentence_problems(sentence)]
    assert rows > 0
    assert not problems, "\n".join(problems[:20])
