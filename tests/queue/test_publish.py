"""Publishing weeks into the queue: continuity, movement, reopening, idempotency."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import select
from tests.queue.conftest import count, table_contents, week

from cmooe_risk.config import QueueConfig
from cmooe_risk.errors import StateError
from cmooe_risk.queue import list_items, publish, update_item
from cmooe_risk.queue._schema import queue_items, status_history

CONFIG = QueueConfig()
W1, W2, W3 = date(2026, 3, 2), date(2026, 3, 9), date(2026, 3, 16)


def row(pupil, risk, rank, listed=True, locality="North", **extra):
    return {
        "pupil": pupil,
        "risk": risk,
        "rank": rank,
        "listed": listed,
        "locality": locality,
        **extra,
    }


def first_week():
    return week(
        W1,
        [
            row("a", 0.30, 1),
            row("b", 0.20, 2),
            row("c", 0.05, 3, listed=False),
            row("d", 0.40, 1, locality="South"),
        ],
    )


def items_by_pupil(store) -> dict[str, dict]:
    with store.engine.connect() as connection:
        rows = connection.execute(select(queue_items)).mappings().all()
    return {r["pupil_pseudonym"]: dict(r) for r in rows}


def test_only_listed_pupils_enter_the_queue_with_their_reasons(store):
    result = publish(store, first_week(), CONFIG)
    assert (result.state, result.new_items, result.listed) == ("published", 3, 3)
    items = items_by_pupil(store)
    assert set(items) == {"a", "b", "d"}
    assert all(i["status"] == "new" and i["movement"] == "new" for i in items.values())
    assert json.loads(items["a"]["reasons"]) == ["reason one", "reason two", "reason three"]
    assert count(store, "SELECT count(*) FROM status_history") == 3
    assert count(store, "SELECT count(*) FROM run_items") == 3


def test_a_rerun_of_the_same_week_changes_nothing(store):
    publish(store, first_week(), CONFIG)
    before = table_contents(store)
    again = publish(store, first_week(), CONFIG)
    assert again.state == "unchanged"
    assert table_contents(store) == before


def test_new_data_for_the_same_week_supersedes_the_run_without_duplicating_items(store):
    publish(store, first_week(), CONFIG)
    revised = week(W1, [row("a", 0.35, 1), row("b", 0.20, 2), row("d", 0.40, 1, locality="South")])
    result = publish(store, revised, CONFIG)
    assert result.state == "replaced"
    assert count(store, "SELECT count(*) FROM scoring_runs WHERE state = 'published'") == 1
    assert count(store, "SELECT count(*) FROM scoring_runs WHERE state = 'superseded'") == 1
    assert count(store, "SELECT count(*) FROM queue_items") == 3
    assert items_by_pupil(store)["a"]["risk"] == pytest.approx(0.35)


def test_statuses_and_notes_survive_later_weeks_and_items_are_not_duplicated(store):
    publish(store, first_week(), CONFIG)
    a = items_by_pupil(store)["a"]["item_id"]
    update_item(store, a, status="in_review", note="Met the head of year.", by="J Smith")
    publish(
        store,
        week(W2, [row("a", 0.31, 1), row("b", 0.10, 2), row("e", 0.25, 1, locality="South")]),
        CONFIG,
    )
    items = items_by_pupil(store)
    assert items["a"]["item_id"] == a
    assert items["a"]["status"] == "in_review"
    assert count(store, "SELECT count(*) FROM queue_items WHERE pupil_pseudonym = 'a'") == 1
    listed = list_items(store, locality="North", actor="test")
    note = listed.set_index("pupil_pseudonym").loc["a", "last_note"]
    assert note == "Met the head of year."


def test_movement_since_the_previous_week(store):
    publish(store, first_week(), CONFIG)
    publish(
        store,
        week(
            W2,
            [
                row("a", 0.30 * 1.5, 1),  # rising
                row("b", 0.20 / 1.5, 3, listed=False),  # falling, still open
                row("c", 0.21, 2),  # newly listed
                # d has left the roll
            ],
        ),
        CONFIG,
    )
    items = items_by_pupil(store)
    assert items["a"]["movement"] == "rising"
    assert items["b"]["movement"] == "falling"
    assert not items["b"]["listed"]
    assert items["c"]["movement"] == "new"
    assert items["d"]["movement"] == "left roll"
    assert not items["d"]["on_roll"]  # marked, not deleted
    assert items["d"]["status"] == "new"
    publish(store, week(W3, [row("a", 0.46, 1), row("c", 0.21, 2)]), CONFIG)
    assert items_by_pupil(store)["a"]["movement"] == "steady"


def test_a_closed_item_reopens_only_when_risk_rises_past_the_margin(store):
    publish(store, first_week(), CONFIG)
    a = items_by_pupil(store)["a"]["item_id"]
    update_item(store, a, status="closed", note="Support in place.", by="J Smith")
    # back in the list at 1.2x the risk at closing: below the 1.5x margin, stays closed
    publish(store, week(W2, [row("a", 0.36, 1)]), CONFIG)
    assert items_by_pupil(store)["a"]["status"] == "closed"
    publish(store, week(W3, [row("a", 0.46, 1)]), CONFIG)
    assert items_by_pupil(store)["a"]["status"] == "new"
    with store.engine.connect() as connection:
        history = connection.execute(
            select(status_history.c.from_status, status_history.c.to_status, status_history.c.note)
            .where(status_history.c.item_id == a)
            .order_by(status_history.c.history_id)
        ).all()
    assert [(h[0], h[1]) for h in history] == [(None, "new"), ("new", "closed"), ("closed", "new")]
    assert history[-1][2].startswith("Reopened")


def test_the_queue_only_moves_forward(store):
    publish(store, week(W2, [row("a", 0.3, 1)]), CONFIG)
    with pytest.raises(StateError, match="only move forward"):
        publish(store, first_week(), CONFIG)


def test_updates_follow_the_workflow_and_are_audited(store):
    from cmooe_risk.errors import ConfigError

    publish(store, first_week(), CONFIG)
    a = items_by_pupil(store)["a"]["item_id"]
    with pytest.raises(ConfigError, match="can move to"):
        update_item(store, a, status="action_agreed", note="skip review", by="X")
    with pytest.raises(ConfigError, match="--note"):
        update_item(store, a, status="in_review", note="  ", by="X")
    with pytest.raises(StateError, match="no queue item 999"):
        update_item(store, 999, status="in_review", note="n", by="X")
    update_item(store, a, status="in_review", note="n", by="X")
    assert count(store, "SELECT count(*) FROM audit_log WHERE action = 'update'") == 1
    assert count(store, "SELECT count(*) FROM audit_log WHERE action = 'score'") == 1


def test_known_cases_enter_the_queue_apart_from_the_ranked_list(store):
    known = row("k", 0.9, None, listed=False, section="known_case", band="known case")
    known["reasons"] = ["Known case: already missing education (an open CME referral)."]
    result = publish(store, week(W1, [row("a", 0.30, 1), known]), CONFIG)
    assert (result.new_items, result.listed) == (2, 1)
    items = items_by_pupil(store)
    assert items["k"]["section"] == "known_case"
    assert items["k"]["rank"] is None
    assert not items["k"]["listed"]
    assert items["k"]["movement"] == "known case"
    assert items["a"]["section"] == "list"
    with store.engine.connect() as connection:
        notes = dict(
            connection.execute(select(status_history.c.item_id, status_history.c.note)).all()
        )
    assert notes[items["k"]["item_id"]].startswith("Recorded as a known case")
    # the case closes on the register: next week the child is back on the ranked list
    publish(store, week(W2, [row("a", 0.30, 1), row("k", 0.25, 2)]), CONFIG)
    items = items_by_pupil(store)
    assert items["k"]["section"] == "list"
    assert items["k"]["rank"] == 2


def test_a_version_1_database_is_migrated_in_place_to_the_current_version(tmp_path):
    import sqlalchemy as sa

    from cmooe_risk.config import Workspace
    from cmooe_risk.queue import open_store

    workspace = Workspace.open(tmp_path / "ws")
    path = workspace.root / "queue.sqlite"
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE schema_info (key TEXT PRIMARY KEY, value TEXT)")
        connection.exec_driver_sql("INSERT INTO schema_info VALUES ('schema_version', '1')")
        connection.exec_driver_sql(
            "CREATE TABLE run_items (run_id TEXT, item_id INTEGER, risk REAL, rank INTEGER, "
            "band TEXT, listed BOOLEAN NOT NULL, movement TEXT NOT NULL)"
        )
        connection.exec_driver_sql(
            "INSERT INTO run_items VALUES ('r1', 1, 0.2, 1, 'high', 1, 'new')"
        )
        version_1 = [
            sa.Column(c.name, c.type, primary_key=c.primary_key, nullable=c.nullable)
            for c in queue_items.columns
            if c.name not in ("section", "version")  # added by versions 2 and 3
        ]
        sa.Table("queue_items", sa.MetaData(), *version_1).create(connection)
    engine.dispose()
    store = open_store(workspace, f"sqlite:///{path}")
    with store.engine.connect() as connection:
        assert (
            connection.exec_driver_sql(
                "SELECT value FROM schema_info WHERE key = 'schema_version'"
            ).scalar_one()
            == "3"
        )
        assert connection.exec_driver_sql("SELECT section FROM run_items").scalar_one() == "list"
        tables = sa.inspect(connection).get_table_names()
        assert {"accounts", "sign_in_failures"} <= set(tables)
    publish(store, first_week(), CONFIG)
    items = items_by_pupil(store)
    assert set(items) == {"a", "b", "d"}
    assert {item["version"] for item in items.values()} == {0}
    store.engine.dispose()


def test_items_someone_is_working_on_stay_listed_whatever_their_rank(store):
    publish(store, first_week(), CONFIG)
    items = items_by_pupil(store)
    update_item(store, items["a"]["item_id"], status="in_review", note="Call booked.", by="jo")
    # a champion swap and rescore: a drops to rank 179, b (untouched) leaves the list too
    publish(
        store,
        week(W2, [row("a", 0.01, 179, listed=False), row("b", 0.02, 150, listed=False)]),
        CONFIG,
    )
    shown = list_items(store, actor="t")
    assert set(shown["pupil_pseudonym"]) == {"a"}
    (touched,) = shown.itertuples()
    assert (touched.rank, touched.listed, touched.status) == (179, False, "in_review")
    assert touched.movement == "falling"


def test_show_item_gives_reasons_history_and_weeks_and_is_audited(store):
    from cmooe_risk.queue import show_item

    publish(store, first_week(), CONFIG)
    item = items_by_pupil(store)["a"]["item_id"]
    update_item(store, item, status="in_review", note="Spoke to the school.", by="jo")
    publish(store, week(W2, [row("a", 0.35, 1)]), CONFIG)
    detail = show_item(store, item, actor="sam")
    assert detail.item["reasons"] == ["reason one", "reason two", "reason three"]
    assert detail.item["status"] == "in_review"
    assert [str(d)[:10] for d in detail.weeks["as_of"]] == [W1.isoformat(), W2.isoformat()]
    assert list(detail.weeks["rank"]) == [1, 1]
    notes = list(detail.history["note"])
    assert "Spoke to the school." in notes
    assert list(detail.history["changed_by"])[notes.index("Spoke to the school.")] == "jo"
    assert count(store, "SELECT count(*) FROM audit_log WHERE action = 'show'") == 1
    with pytest.raises(StateError, match="no queue item 999"):
        show_item(store, 999)
