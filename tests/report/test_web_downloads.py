"""The web queue over a real published week: the charts, the pack and the workbook.

The HTTP tests in tests/web/ use a hand-made queue with no warehouse behind it; here the
trained LA's published week (the ``published`` fixture, on a copy) gives a child's item
page its attendance and suspension charts, and the locality's meeting pack and workbook
their real content.
"""

from __future__ import annotations

import re

from starlette.testclient import TestClient
from tests._trained import copy_workspace

from cmooe_risk.queue import add_account, list_items, open_store
from cmooe_risk.web import create_app

PASSWORD = "a long enough password"


def test_a_caseworker_gets_the_charts_the_pack_and_the_workbook(published, tmp_path):
    workspace = copy_workspace(published.workspace, tmp_path / "workspace")
    store = open_store(workspace)
    items = list_items(store, actor="test")
    locality = sorted(items["locality"].unique())[0]
    mine = items[items["locality"] == locality]
    add_account(
        store, "worker", role="caseworker", localities=(locality,), password=PASSWORD, by="t"
    )
    client = TestClient(create_app(workspace))
    page = client.get("/sign-in")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    client.post("/sign-in", data={"username": "worker", "password": PASSWORD, "csrf_token": token})

    item = client.get(f"/items/{int(mine['item_id'].iloc[0])}")
    assert item.status_code == 200
    assert '<svg class="spark"' in item.text
    assert '<svg class="timeline"' in item.text
    assert "Weekly attendance, the last 26 weeks" in item.text

    pack = client.get(f"/pack/{locality}")
    assert pack.status_code == 200
    assert pack.headers["content-disposition"].startswith("attachment;")
    assert locality in pack.text
    others = items.loc[items["locality"] != locality, "pupil_pseudonym"]
    assert not any(p[:12] in pack.text for p in others)

    workbook = client.get(f"/export/{locality}.xlsx")
    assert workbook.status_code == 200
    assert workbook.content[:2] == b"PK"
