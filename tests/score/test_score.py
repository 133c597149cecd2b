"""The weekly job on a small trained LA: queues, reasons, reruns, crashes, concurrency."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tests._trained import copy_workspace
from tests.conftest import TEST_KEY
from tests.queue.conftest import count, table_contents

from cmooe_risk.config import Workspace
from cmooe_risk.errors import ConfigError, StateError
from cmooe_risk.pseudonym import shown
from cmooe_risk.queue import export_items, list_items, open_store, run_lock, update_item
from cmooe_risk.score import score_week

#: Two school weeks inside the trained LA's data (it ends on 2026-07-24).
WEEK_1, WEEK_2 = date(2026, 7, 6), date(2026, 7, 13)


def cli(workspace, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    return subprocess.run(
        [sys.executable, "-m", "cmooe_risk", "-w", str(workspace.root), *args],
        capture_output=True,
        text=True,
        env={**environment, "COLUMNS": "200", **(env or {})},
        timeout=600,
    )


@pytest.fixture(scope="module")
def scored_week_one(champions, tmp_path_factory: pytest.TempPathFactory):
    """The champions scored and published for WEEK_1 once, for the tests that start there."""
    workspace = copy_workspace(champions.workspace, tmp_path_factory.mktemp("week-1") / "ws")
    # Module fixtures run before each test's own environment fixture.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CMOOE_PSEUDONYM_KEY", TEST_KEY)
        patch.delenv("MLFLOW_TRACKING_URI", raising=False)
        return workspace, score_week(workspace, WEEK_1)


@pytest.fixture
def week_one(scored_week_one, tmp_path: Path):
    """A copy of the workspace published for WEEK_1 (tests write to the queue and its
    audit log), and that run's result, whose files stay in the shared original."""
    workspace, result = scored_week_one
    return copy_workspace(workspace, tmp_path / "workspace"), result


def test_the_weekly_job_lists_each_locality_top_k_with_three_reasons(week_one):
    workspace, result = week_one
    assert result.publish.state == "published"
    store = open_store(workspace)
    shown = list_items(store, actor="test")
    items = shown[shown["section"] == "list"]
    known = shown[shown["section"] == "known_case"]
    capacity = workspace.config.localities.default_capacity
    per_list = items.groupby(["locality", "outcome"]).size()
    assert set(items["outcome"]) == {"permanent_exclusion", "missing_education"}
    assert (per_list <= capacity).all()
    # every listed child has a reason of their own; up to three, never made up
    own = items["reasons"].map(lambda r: [s for s in r if not s.startswith("School context")])
    assert own.map(len).between(1, 3).all()
    assert items["reasons"].map(lambda r: all(isinstance(s, str) and s for s in r)).all()
    # ranks 1..n within each list, highest risk first
    for _, group in items.groupby(["locality", "outcome"]):
        assert list(group["rank"]) == list(range(1, len(group) + 1))
        assert group["risk"].is_monotonic_decreasing
    # children already missing education (an open CME episode) are known cases, apart
    assert len(known) > 0
    assert set(known["outcome"]) == {"missing_education"}
    assert known["rank"].isna().all()
    assert (known["band"] == "known case").all()
    assert known["reasons"].map(lambda r: r[0].startswith("Known case: already missing")).all()
    manifest = result.manifest
    assert manifest["pupils_scored"] > 0
    assert sum(sum(d.values()) for d in manifest["listed"].values()) == len(items)
    assert manifest["sections"]["missing_education"]["known_case"] == len(known)
    assert set(manifest["models"]) == {"permanent_exclusion", "missing_education"}
    assert result.manifest_path.exists()
    assert set(result.exports) == set(items["locality"])
    assert all(path.exists() for path in result.exports.values())
    for outcome in ("permanent_exclusion", "missing_education"):
        assert (result.run_dir / f"live-fairness-{outcome}.html").exists()
    # no pupil identifiers in the manifest: counts and model versions only
    assert not any(p in result.manifest_path.read_text() for p in items["pupil_pseudonym"])
    assert_every_reason_is_the_models_own(workspace, result)


def assert_every_reason_is_the_models_own(workspace, result) -> None:
    """Every scored pupil, listed or not: each reason's contribution is the model's own,
    positive, from a feature with a direction (up to three per child)."""
    from cmooe_risk.features import build_features
    from cmooe_risk.score import load_champions
    from cmooe_risk.warehouse import connect_workspace

    scores = pd.read_parquet(result.run_dir / "scores.parquet")
    assert len(scores) == 2 * result.manifest["pupils_scored"]
    listed = scores[scores["listed"]]
    assert listed["why_1"].notna().all()  # every listed child has a reason of their own
    for i in (1, 2, 3):
        # sentences, not codes: the shortest catalog templates read like "In care now"
        shown = scores[f"why_{i}"].dropna()
        assert shown.str.contains(" ").all(), shown.min()
        assert (scores[f"why_{i}_contribution"].dropna() > 0).all()
    with connect_workspace(workspace, read_only=True) as con:
        build_features(con, [result.as_of])
        features = con.execute("SELECT * FROM feature_matrix").df()
    for outcome, champion in load_champions(workspace).items():
        own = scores[scores["outcome"] == outcome].set_index("pupil_pseudonym")
        frame = features.set_index("pupil_pseudonym").loc[own.index].reset_index()
        predictions = champion.scorer.predict(frame).set_index(frame["pupil_pseudonym"])
        assert np.allclose(own["risk"], predictions.loc[own.index, "risk"])
        for i in (1, 2, 3):
            some = own[own[f"why_{i}_feature"].notna()]
            named = "contribution__" + some[f"why_{i}_feature"]
            model = predictions.to_numpy()[
                predictions.index.get_indexer(some.index),
                predictions.columns.get_indexer(named),
            ]
            assert np.allclose(some[f"why_{i}_contribution"], model)
        assert_sides_follow_the_catalog(own, frame.set_index("pupil_pseudonym"), champion)


def assert_sides_follow_the_catalog(own: pd.DataFrame, features: pd.DataFrame, champion) -> None:
    """Over every scored pupil: a reason's value is on the risk side of the catalog's
    direction (against the champion's typical value) and a protective factor's on the
    protective side, so "Unauthorised absence 35%" is never protective."""
    from cmooe_risk.explain import WHEN_MISSING
    from cmooe_risk.features import load_catalog

    catalog = load_catalog()
    typical = champion.typical_values()
    checked = 0
    for prefix, risk_side in (("why", True), ("protective", False)):
        for i in (1, 2, 3):
            column = f"{prefix}_{i}_feature"
            if column not in own:
                continue
            named = own[own[column].notna() & (own[column] != "None")]
            for name, block in named.groupby(column):
                feature = catalog.feature(name)
                direction = feature.direction_for(champion.outcome)
                assert direction in ("raises", "lowers"), (name, direction)
                values = features.loc[block.index, name].astype(float)
                middle = typical.get(name, np.nan)
                if direction == "raises":
                    wrong = ~(values > middle) if risk_side else values > middle
                else:
                    wrong = ~(values < middle) if risk_side else values < middle
                if not risk_side and name in WHEN_MISSING:
                    wrong &= values.notna()
                assert not wrong.any(), (prefix, name, values[wrong].head().tolist(), middle)
                checked += len(block)
    assert checked > 0


def test_scoring_the_same_week_twice_leaves_the_queue_database_unchanged(week_one):
    workspace, _ = week_one
    before = table_contents(open_store(workspace))
    again = score_week(workspace, WEEK_1)
    assert again.publish.state == "unchanged"
    assert table_contents(open_store(workspace)) == before


def test_status_and_notes_carry_across_weeks(week_one):
    workspace, _ = week_one
    store = open_store(workspace)
    first = list_items(store, actor="test")
    chosen = first.iloc[0]
    update_item(store, int(chosen["item_id"]), status="in_review", note="Called home.", by="A Lead")
    second = score_week(workspace, WEEK_2)
    assert second.publish.state == "published"
    items = list_items(store, include_unlisted=True, actor="test")
    assert not items.duplicated(["pupil_pseudonym", "outcome"]).any()
    same = items[items["item_id"] == chosen["item_id"]].iloc[0]
    assert same["status"] == "in_review"
    assert same["last_note"] == "Called home."
    assert same["as_of"] == WEEK_2
    assert set(items["movement"]) <= {
        "new",
        "rising",
        "steady",
        "falling",
        "left roll",
        "known case",
    }
    # a pupil listed both weeks has "what changed" sentences or an unchanged score
    assert count(store, "SELECT count(*) FROM scoring_runs") == 2


def test_a_killed_run_leaves_the_previous_week_intact(week_one):
    workspace, _ = week_one
    before = table_contents(open_store(workspace))
    killed = cli(
        workspace,
        "score",
        "--as-of",
        WEEK_2.isoformat(),
        env={"CMOOE_FAILPOINT": "publish.before_commit"},
    )
    assert killed.returncode == -9, killed.stderr  # SIGKILL, inside the transaction
    assert table_contents(open_store(workspace)) == before
    rerun = cli(workspace, "score", "--as-of", WEEK_2.isoformat())
    assert rerun.returncode == 0, rerun.stderr
    assert "Published run" in rerun.stdout
    assert count(open_store(workspace), "SELECT count(*) FROM scoring_runs") == 2


def test_a_second_concurrent_run_is_refused(champions_copy):
    workspace = champions_copy.workspace
    with run_lock(workspace), pytest.raises(StateError, match="Another scoring run"):
        score_week(workspace, WEEK_1)
    blocked = None
    with run_lock(workspace):
        blocked = cli(workspace, "score", "--as-of", WEEK_1.isoformat())
    assert blocked.returncode == 5
    assert "Another scoring run is in progress" in blocked.stderr
    assert "Traceback" not in blocked.stderr
    assert count(open_store(workspace), "SELECT count(*) FROM scoring_runs") == 0


def test_two_runs_started_together_publish_the_week_once(champions_copy):
    workspace = champions_copy.workspace
    command = [sys.executable, "-m", "cmooe_risk", "-w", str(workspace.root), "score"]
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    runs = [
        subprocess.Popen(
            [*command, "--as-of", WEEK_1.isoformat()],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    codes = sorted(run.wait(timeout=600) for run in runs)
    # either the second was refused while the first ran, or it found the week published
    assert codes in ([0, 0], [0, 5])
    assert count(open_store(workspace), "SELECT count(*) FROM scoring_runs") == 1


def test_a_model_whose_features_are_not_built_is_refused(champions_copy, monkeypatch):
    from cmooe_risk.score import _job
    from cmooe_risk.score._champion import Champion, load_champions

    workspace = champions_copy.workspace
    real = load_champions(workspace)

    def stale(_workspace):
        champion = real["permanent_exclusion"]
        champion.scorer.spec["features"] = [*champion.features, "attendance_rate_99w"]
        champion.scorer.features.append("attendance_rate_99w")
        return {"permanent_exclusion": Champion(**{**champion.__dict__})}

    monkeypatch.setattr(_job, "load_champions", stale)
    with pytest.raises(StateError, match="attendance_rate_99w"):
        score_week(workspace, WEEK_1)
    assert count(open_store(workspace), "SELECT count(*) FROM scoring_runs") == 0


def test_no_champion_stops_with_how_to_train_one(trained_copy):
    result = cli(trained_copy.workspace, "score")
    assert result.returncode == 5
    assert "No champion model is registered" in result.stderr
    assert "cmooe-risk train" in result.stderr
    assert "Traceback" not in result.stderr


def test_exports_hold_only_their_locality(week_one, tmp_path: Path):
    workspace, _ = week_one
    store = open_store(workspace)
    items = list_items(store, actor="test")
    locality = items["locality"].iloc[0]
    own = set(items.loc[items["locality"] == locality, "pupil_pseudonym"])
    others = set(items["pupil_pseudonym"]) - own
    xlsx = export_items(store, locality, tmp_path / "out.xlsx", actor="test")
    sheets = pd.read_excel(xlsx.path, sheet_name=None)
    assert set(sheets) == {"permanent exclusion", "missing education", "about"}
    del sheets["about"]
    exported = set().union(*(set(s["pupil (pseudonym)"]) for s in sheets.values()))
    own, others = {shown(p) for p in own}, {shown(p) for p in others}
    assert exported == own
    assert not exported & others
    csv = export_items(store, locality, tmp_path / "out.csv", file_format="csv", actor="test")
    read = pd.read_csv(csv.path)
    assert set(read["pupil (pseudonym)"]) == own
    assert set(read["locality"]) == {locality}
    assert count(store, "SELECT count(*) FROM audit_log WHERE action = 'export'") >= 2


def test_queue_commands(week_one):
    # `score` on the command line is run (and killed) in test_a_killed_run_...
    workspace, _ = week_one
    listed = cli(workspace, "queue", "list", "--outcome", "missing_education", "--by", "t")
    assert listed.returncode == 0, listed.stderr
    assert "missing education" in listed.stdout
    item = int(list_items(open_store(workspace), actor="t")["item_id"].iloc[0])
    bad = cli(
        workspace,
        "queue",
        "update",
        str(item),
        "--status",
        "action_agreed",
        "--note",
        "x",
        "--by",
        "t",
    )
    assert bad.returncode == 3
    assert "can move to" in bad.stderr
    good = cli(
        workspace,
        "queue",
        "update",
        str(item),
        "--status",
        "in_review",
        "--note",
        "Looking at it.",
        "--by",
        "t",
    )
    assert good.returncode == 0, good.stderr
    shown = cli(workspace, "queue", "show", str(item), "--by", "t", env={"COLUMNS": "80"})
    assert shown.returncode == 0, shown.stderr
    for heading in ("Why listed", "Protective factors", "Weeks scored", "History"):
        assert heading in shown.stdout
    assert "t: new -> in review" in shown.stdout
    assert "Looking at it." in shown.stdout
    # readable in an 80-column terminal: nothing cut short, every line fits
    narrow = cli(
        workspace, "queue", "list", "--outcome", "permanent_exclusion", env={"COLUMNS": "80"}
    )
    assert narrow.returncode == 0, narrow.stderr
    assert max(map(len, narrow.stdout.splitlines())) <= 80
    assert "…" not in narrow.stdout
    assert "%" in narrow.stdout
    unknown = cli(workspace, "queue", "export", "--locality", "Atlantis")
    assert unknown.returncode == 3
    assert "No queue for locality 'Atlantis'" in unknown.stderr


def test_the_weekly_job_on_postgresql(champions_copy, postgres_url):
    from cmooe_risk.config import Workspace
    from cmooe_risk.queue._schema import metadata

    root = champions_copy.workspace.root
    (root / "cmooe-risk.yaml").write_text(
        (root / "cmooe-risk.yaml").read_text() + f"queue_database_url: '{postgres_url}'\n"
    )
    workspace = Workspace.open(root)
    store = open_store(workspace)
    try:
        assert store.dialect == "postgresql"
        assert score_week(workspace, WEEK_1).publish.state == "published"
        before = table_contents(store)
        assert score_week(workspace, WEEK_1).publish.state == "unchanged"
        assert table_contents(store) == before
        assert not (root / "queue.sqlite").exists()
    finally:
        with store.engine.begin() as connection:
            metadata.drop_all(connection)
        store.engine.dispose()


def test_a_non_monday_is_refused_naming_the_date_given(trained_copy):
    result = cli(trained_copy.workspace, "score", "--as-of", "2026-07-07")
    assert result.returncode == 3
    assert "2026-07-07 is a Tuesday" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_capacity_for_a_locality_no_school_is_in_stops_the_run(week_one):
    workspace, _ = week_one
    (workspace.root / "cmooe-risk.yaml").write_text(
        (workspace.root / "cmooe-risk.yaml").read_text()
        + "localities:\n  capacities: {Atlantis: 3}\n"
    )
    before = table_contents(open_store(workspace))
    with pytest.raises(ConfigError, match="names 'Atlantis', which no school is in"):
        score_week(Workspace.open(workspace.root), WEEK_2)
    assert table_contents(open_store(workspace)) == before
