"""Meeting packs: one file per locality with only its pupils, suppression, no identifiers,
trends from the warehouse, and the CLI's exit codes."""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import replace
from datetime import date, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import select
from tests.conftest import TEST_KEY
from tests.report.conftest import WEEK

from cmooe_risk.audit import AuditResult
from cmooe_risk.config import FairnessConfig, Workspace
from cmooe_risk.errors import ConfigError, StateError
from cmooe_risk.features import session_week, to_engine
from cmooe_risk.pseudonym import DISPLAY_LENGTH
from cmooe_risk.queue import open_store
from cmooe_risk.queue._schema import audit_log
from cmooe_risk.report import (
    attendance_sparkline,
    find_run,
    load_trends,
    locality_pack,
    pdf_available,
    render_pack,
    run_localities,
    show_count,
    suppress_column,
    suspension_timeline,
    write_meeting_packs,
)
from cmooe_risk.report._html import PACK_FLAGS
from cmooe_risk.report._trends import _MARKS_SQL, TREND_WEEKS
from cmooe_risk.warehouse import connect_workspace

OUTCOMES = ("permanent_exclusion", "missing_education")


class _Cells(HTMLParser):
    """Text of every cell of the table with a given id, one list per row (header rows too)."""

    def __init__(self, table_id: str) -> None:
        super().__init__()
        self.table_id, self.inside, self.rows, self.cell = table_id, False, [], None

    def handle_starttag(self, tag, attrs):
        if tag == "table" and dict(attrs).get("id") == self.table_id:
            self.inside = True
        elif self.inside and tag == "tr":
            self.rows.append([])
        elif self.inside and tag in ("td", "th"):
            self.cell = []

    def handle_endtag(self, tag):
        if self.inside and tag in ("td", "th") and self.cell is not None:
            self.rows[-1].append("".join(self.cell).strip())
            self.cell = None
        elif self.inside and tag == "table":
            self.inside = False

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)


def cells(page: str, table_id: str) -> _Cells:
    parser = _Cells(table_id)
    parser.feed(page)
    return parser


def scores(published) -> pd.DataFrame:
    return pd.read_parquet(published.workspace.path("runs") / WEEK.isoformat() / "scores.parquet")


def test_one_pack_per_locality_holds_only_its_own_pupils(published):
    frame = scores(published)
    assert set(published.packs) == set(frame["locality"])
    for locality, pack in published.packs.items():
        page = pack.path.read_text("utf-8")
        assert pack.path.name == f"meeting-pack-{locality}-{WEEK.isoformat()}.html"
        mine = frame[(frame["locality"] == locality) & frame["listed"]]
        for outcome in OUTCOMES:
            listed = mine[mine["outcome"] == outcome]
            assert pack.listed[outcome] == len(listed) > 0
            shown = re.findall(
                r'<span class="code pseudonym">([0-9a-f]+)</span>',
                page.split(f'id="list-{outcome}"')[1].split("</table>")[0],
            )
            # every listed pupil, in rank order, shortened as everywhere a person reads it
            ranked = listed.sort_values("rank")["pupil_pseudonym"].str[:DISPLAY_LENGTH].tolist()
            assert shown == ranked
        # no pupil of another locality, listed or not, by full or shortened pseudonym
        others = frame.loc[frame["locality"] != locality, "pupil_pseudonym"].unique()
        found = set(re.findall(r"[0-9a-f]{10}", page))
        assert not found & {p[:10] for p in others}


def test_headline_numbers_match_the_queue_and_the_scores(published):
    frame = scores(published)
    threshold = published.workspace.config.fairness.min_group_size
    store = open_store(published.workspace)
    run = find_run(store)
    for locality, pack in published.packs.items():
        page = pack.path.read_text("utf-8")
        roll = frame.loc[frame["locality"] == locality, "pupil_pseudonym"].nunique()
        assert f'<span class="value">{roll:,}</span>' in page.split('id="kpi-roll"')[1][:80]
        data = locality_pack(published.workspace, store, run, locality)
        headline = cells(page, "headline")
        for row, outcome in zip(headline.rows[2:], OUTCOMES, strict=True):
            listed = data.outcome_items(outcome)
            # the first published week: every listed item is new, and every item is open
            assert row[1] == show_count(len(listed), threshold)
            assert row[2] == show_count(int((listed["movement"] == "new").sum()), threshold)
            assert row[3] == show_count(data.outstanding[outcome], threshold)
            # known cases are open items too: someone is working them
            assert data.outstanding[outcome] == len(listed) + len(data.known_cases(outcome))


def test_small_counts_are_suppressed_in_summaries_not_in_the_lists(published):
    threshold = published.workspace.config.fairness.min_group_size
    allowed = re.compile(rf"^(<{threshold}|c|0|\d{{2,}}|[\d,]{{4,}})$")
    for pack in published.packs.values():
        page = pack.path.read_text("utf-8")
        table = cells(page, "school-summary")
        assert len(table.rows) > 1
        for row in table.rows[1:]:
            for value in row[1:]:
                assert allowed.match(value), (row, value)
                if value.isdigit():
                    assert int(value) == 0 or int(value) >= threshold
        for row in cells(page, "headline").rows[2:]:
            assert all(allowed.match(v) for v in row[1:]), row
        # the caseworkers' list is not suppressed: every listed pupil has a row
        assert page.count('<tr class="pupil"') == sum(pack.listed.values())


def test_the_threshold_comes_from_the_configuration(published):
    # With min_group_size 60, a list of 50 is itself a small count in the summaries.
    config = published.workspace.config
    strict = replace(
        published.workspace,
        config=config.model_copy(update={"fairness": FairnessConfig(min_group_size=60)}),
    )
    store = open_store(strict)
    run = find_run(store)
    locality = sorted(published.packs)[0]
    pack = locality_pack(strict, store, run, locality)
    with connect_workspace(strict, read_only=True) as con:
        trends = load_trends(con, pack.items["pupil_pseudonym"], run.as_of)
    page = render_pack(pack, trends, [], threshold=60)
    for row in cells(page, "headline").rows[2:]:
        assert row[1] == "<60"
    assert "<60" in " ".join(v for r in cells(page, "school-summary").rows[1:] for v in r)


@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        ([0, 3, 25, 40], ["0", "<10", "c", "40"]),  # one small cell: the next smallest goes
        ([2, 3, 25, 40], ["<10", "<10", "25", "40"]),  # two small cells protect each other
        ([10, 11, 0], ["10", "11", "0"]),
        ([4], ["<10"]),
    ],
)
def test_suppress_column(counts, expected):
    assert suppress_column(counts, 10) == expected


def test_show_count():
    assert show_count(0, 10) == "0"
    assert show_count(9, 10) == "<10"
    assert show_count(10, 10) == "10"
    assert show_count(1234, 10) == "1,234"
    assert show_count(4, 5) == "<5"
    assert show_count(None, 10) == "–"


def test_no_names_upns_or_dates_of_birth(published):
    pupils = pd.read_parquet(published.synth_dir / "pupils.parquet")
    upns = set(pupils["pupil_id"].astype(str))
    for pack in published.packs.values():
        page = pack.path.read_text("utf-8")
        assert not re.search(r"\b[A-Z]\d{12}\b", page), "a UPN-shaped string"
        assert not any(upn in page for upn in upns)
        headers = " ".join(h for t in re.findall(r"<th[^>]*>(.*?)</th>", page) for h in [t])
        for word in ("UPN", "birth", "Name", "name", "Surname", "address", "postcode"):
            assert word not in headers, word
        # offline: no scripts, links, fonts or anything a browser would fetch
        for needle in ("<script", "http://", "https://", "url(", "@import", "<link", "<img"):
            assert needle not in page, needle


def test_print_layout_and_sections(published):
    page = next(iter(published.packs.values())).path.read_text("utf-8")
    assert "@page { size: A4" in page
    assert "@media print" in page
    assert page.count('<section class="page') == 4  # two lists, fairness, model card
    assert "break-before: page" in page
    for anchor in ('id="glance"', 'id="school-summary"', 'id="fairness"', 'id="model-card"'):
        assert anchor in page
    assert "What Works for Children&#x27;s Social Care" in page
    assert "none met the success threshold set in advance" in page
    assert "not re-verified" not in page  # no internal caveats in a headteachers' document
    from cmooe_risk.features import load_catalog

    assert f"Each of the {len(load_catalog().model_features)} features" in page
    assert "never decide alone" in page
    # the test LA's models were evaluated against its true risk: the pack says it is synthetic
    assert '<p class="synthetic">' in page
    # each champion's backtest metrics with their 95% CI, read from MLflow
    for outcome in OUTCOMES:
        table = cells(page, f"metrics-{outcome}")
        metrics = {row[0]: row for row in table.rows if row}
        precision = metrics["Precision of each locality's list (top k)"]
        assert precision[1].endswith("%")
        assert re.match(r"^\d+\.\d% to \d+\.\d%$", precision[2])
        assert "ROC AUC (ranking of all pupils)" in metrics


def test_fairness_summary_is_the_weeks_live_audit(published):
    run_dir = published.workspace.path("runs") / WEEK.isoformat()
    page = next(iter(published.packs.values())).path.read_text("utf-8")
    for outcome in OUTCOMES:
        audit = json.loads((run_dir / f"live-fairness-{outcome}.json").read_text("utf-8"))
        table = cells(page, f"fairness-{outcome}")
        assert len(table.rows) >= 6
        flags = AuditResult.from_json(audit).flags
        if not flags.empty:
            # the box counts each group's share of the list against the roll, names the
            # most certain few, and says how many more the table marks
            shares = flags[flags["versus"] == "overall"]
            shares = shares if not shares.empty else flags
            assert f"{len(shares)} flagged ratio" in page
            for sentence in shares["sentence"].head(PACK_FLAGS):
                assert html.escape(sentence) in page
            if len(shares) > PACK_FLAGS:
                assert f"{len(shares) - PACK_FLAGS} more flagged ratio" in page


def test_trends_follow_the_attendance_marks_known_at_the_time(published):
    workspace = published.workspace
    pupils = sorted(scores(published).query("listed")["pupil_pseudonym"].unique())
    with connect_workspace(workspace, read_only=True) as con:
        trends = load_trends(con, pupils, WEEK)
        con.register("report_pupils", pd.DataFrame({"pupil_pseudonym": pupils}, dtype=object))
        start = WEEK - timedelta(weeks=TREND_WEEKS)
        marks = con.execute(to_engine(_MARKS_SQL, "duckdb"), [start, WEEK, WEEK, WEEK]).df()
        suspensions = con.execute(
            "SELECT pupil_pseudonym, count(*) AS n FROM exclusions JOIN report_pupils "
            "USING (pupil_pseudonym) WHERE category IN ('FIXD', 'LNCH') "
            "AND start_date >= ? AND start_date < ? GROUP BY 1",
            [WEEK - timedelta(days=365), WEEK],
        ).df()
    assert trends.weeks[-1] == WEEK - timedelta(weeks=1)
    assert trends.weeks[0] == start
    marks = marks[marks["possible"] > 0]
    assert not marks.empty
    checked = 0
    for row in marks.itertuples():
        rate = trends.attendance(row.pupil_pseudonym)[row.week - session_week(start)]
        assert rate == pytest.approx(row.attended / row.possible)
        checked += 1
    assert checked == sum(r is not None for p in pupils for r in trends.attendance(p))
    assert not suspensions.empty
    for row in suspensions.itertuples():
        assert len(trends.suspensions(row.pupil_pseudonym)) == row.n


def test_sparkline_and_timeline_say_what_they_show():
    weeks_to = date(2026, 7, 6)
    svg = attendance_sparkline([1.0, 0.8, None, None, 0.5, 1.0], weeks_to=weeks_to)
    assert svg.startswith("<svg")
    assert 'role="img"' in svg
    assert "latest 100%, lowest 50%" in svg
    assert "2 weeks below 90%" in svg
    assert svg.count(" M") + svg.count('"M') == 2  # the gap lifts the pen once
    empty = attendance_sparkline([None] * 26, weeks_to=weeks_to)
    assert "No attendance recorded" in empty
    line = suspension_timeline(
        [date(2026, 6, 1), date(2025, 9, 10), date(2025, 1, 1)],
        as_of=weeks_to,
        permanent=[date(2026, 6, 20)],
    )
    assert line.count('class="suspension"') == 2  # the 2025-01-01 one is over a year ago
    assert line.count('class="permanent"') == 1
    assert "2 suspensions in the 12 months to 06 Jul 2026" in line


def test_an_earlier_week_takes_its_reasons_from_that_weeks_scores(published, tmp_path: Path):
    # As if a later week had been published since: the items now carry that week's
    # sentences, so the pack of this week reads its reasons from this week's scores file.
    from sqlalchemy import update

    from cmooe_risk.queue._schema import queue_items

    workspace = Workspace.open(tmp_path / "workspace")
    shutil.copy(published.workspace.root / "queue.sqlite", workspace.root / "queue.sqlite")
    shutil.copytree(
        published.workspace.path("runs") / WEEK.isoformat(),
        workspace.path("runs") / WEEK.isoformat(),
    )
    store = open_store(workspace)
    with store.transaction() as connection:
        connection.execute(
            update(queue_items).values(
                run_id="later-run", reasons='["a later reason"]', changes='["a later change"]'
            )
        )
    run = find_run(store)
    locality = sorted(published.packs)[0]
    pack = locality_pack(workspace, store, run, locality)
    frame = scores(published).set_index(["pupil_pseudonym", "outcome"])
    assert not pack.items["changes_known"].any()
    assert (pack.items["changes"].map(len) == 0).all()
    for row in pack.items.itertuples():
        expected = frame.loc[(row.pupil_pseudonym, row.outcome), ["why_1", "why_2", "why_3"]]
        assert row.reasons == list(expected)
    with connect_workspace(published.workspace, read_only=True) as con:
        trends = load_trends(con, pack.items["pupil_pseudonym"], run.as_of)
    page = render_pack(pack, trends, [])
    assert "a later" not in page
    assert "not kept for earlier weeks" in page


def test_every_pack_is_in_the_audit_log(published):
    store = open_store(published.workspace)
    with store.engine.connect() as connection:
        rows = connection.execute(
            select(audit_log.c.locality, audit_log.c.detail, audit_log.c.actor).where(
                audit_log.c.action == "export", audit_log.c.actor == "report tests"
            )
        ).all()
    logged = {row.locality: json.loads(row.detail) for row in rows}
    for locality, pack in published.packs.items():
        assert logged[locality]["file"] == pack.path.name
        assert logged[locality]["format"] == "html"
        assert logged[locality]["rows"] == pack.listed


def test_unknown_locality_or_week_and_nothing_published(published, tmp_path: Path):
    store = open_store(published.workspace)
    run = find_run(store)
    assert run.as_of == WEEK
    assert run.latest
    assert run_localities(store, run) == sorted(published.packs)
    with pytest.raises(ConfigError, match=r"No list for locality 'Atlantis'.*Localities: "):
        write_meeting_packs(published.workspace, tmp_path, locality="Atlantis")
    with pytest.raises(StateError, match="No published run for the week of 2026-06-29"):
        write_meeting_packs(published.workspace, tmp_path, as_of=date(2026, 6, 29))
    with pytest.raises(StateError, match="No week has been published yet"):
        write_meeting_packs(Workspace.open(tmp_path / "empty"), tmp_path / "out")
    assert not list(tmp_path.glob("*.html"))


def cli(workspace: Workspace, *args: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    return subprocess.run(
        [sys.executable, "-m", "cmooe_risk", "-w", str(workspace.root), "report", *args],
        capture_output=True,
        text=True,
        env={**environment, "CMOOE_PSEUDONYM_KEY": TEST_KEY, "COLUMNS": "200"},
        timeout=300,
        check=False,
    )


def test_cli_writes_one_locality_and_exits_with_documented_codes(published, tmp_path: Path):
    workspace = published.workspace
    locality = sorted(published.packs)[-1]
    ok = cli(workspace, "--locality", locality, "--as-of", WEEK.isoformat(), "--out", str(tmp_path))
    assert ok.returncode == 0, ok.stderr
    written = sorted(tmp_path.glob("*.html"))
    assert [p.name for p in written] == [f"meeting-pack-{locality}-{WEEK.isoformat()}.html"]
    assert str(written[0]) in ok.stdout.replace("\n", "")
    cases = [
        (["--locality", "Atlantis", "--out", str(tmp_path)], 3, "No list for locality"),
        (["--as-of", "2026-06-29", "--out", str(tmp_path)], 5, "No published run"),
        (["--as-of", "29-06-2026", "--out", str(tmp_path)], 3, "is not a date"),
        ([], 2, "--out"),
    ]
    if not pdf_available():
        cases.append((["--pdf", "--out", str(tmp_path / "pdf")], 3, "WeasyPrint"))
    for args, code, needle in cases:
        result = cli(workspace, *args)
        assert result.returncode == code, (args, result.stdout, result.stderr)
        assert needle in result.stderr
        assert "Traceback" not in result.stderr
    assert not (tmp_path / "pdf").exists()  # --pdf without WeasyPrint writes nothing
