"""The web queue under load: many caseworkers at once, reading lists and updating items.

A 100,000-pupil LA's week is published into a fresh queue database (four localities,
each listing the top 2.5% of its pupils for each outcome: 5,000 items in all, 1,250 per
locality), with one caseworker account per simulated caseworker (Argon2id, as in real
use). ``cmooe-risk serve`` runs in its own process; the caseworkers are asyncio tasks in
this one, each signing in and then, for the whole run, opening a page of its locality's
queue, opening one of its items and changing that item's status with a note.

Two caseworkers often pick the same item: the loser of each race must get "changed since
you opened it" (409), never overwrite the winner. At the end every item's version must
equal the number of changes the caseworkers were told were saved, and no request may
have failed.

    python -m benchmarks web [--caseworkers 50] [--seconds 60] [--pupils 100000]
        [--think-seconds 3] [--database-url URL]

Each caseworker pauses before each click (``--think-seconds``, uniform between half and
one and a half times it); ``--think-seconds 0`` makes every one click as fast as the
server answers, a stress test of the one server process.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

LOCALITIES = ("North", "South", "East", "West")
OUTCOMES = ("permanent_exclusion", "missing_education")
PASSWORD = "a long benchmark password"
AS_OF = date(2026, 11, 30)
REASONS = [
    "No reason given for absence on the last 4 school days before this week",
    "2 suspensions in the last 12 weeks, 5 school days lost",
    "Attendance 81% over the last 13 weeks, down from 94%",
    "In alternative provision now",
    "Open child in need episode",
]


def _scored_week(pupils: int, share: float):
    """Every pupil scored for both outcomes; the top ``share`` of each locality listed."""
    from cmooe_risk.queue import ScoredWeek, roll_digest

    rng = np.random.default_rng(7)
    frames = []
    for outcome in OUTCOMES:
        locality = rng.choice(LOCALITIES, pupils)
        risk = rng.beta(0.6, 30, pupils)
        frame = pd.DataFrame(
            {
                "pupil_pseudonym": [f"{i:020x}" for i in range(pupils)],
                "outcome": outcome,
                "locality": locality,
                "urn": rng.integers(100000, 150000, pupils).astype(str),
                "year_group": rng.integers(1, 12, pupils).astype(str),
                "risk": risk,
            }
        )
        frame["rank"] = frame.groupby("locality")["risk"].rank(ascending=False, method="first")
        sizes = frame.groupby("locality")["pupil_pseudonym"].transform("size")
        frame["listed"] = frame["rank"] <= (sizes * share).round()
        frames.append(frame)
    roll = pd.concat(frames, ignore_index=True)
    roll["rank"] = roll["rank"].astype(int)
    roll["band"] = np.where(roll["listed"], "high", "typical")
    roll["section"] = "list"
    picks = rng.integers(0, len(REASONS), (len(roll), 3))
    roll["reasons"] = [[REASONS[i] for i in row] for row in picks]
    roll["protective"] = [["Attendance 97% last term"]] * len(roll)
    roll["changes"] = [[]] * len(roll)
    roll["model_version"] = "1"
    models = {o: {"version": "1", "run_id": "bench", "model": "bench"} for o in OUTCOMES}
    return ScoredWeek(
        as_of=AS_OF, roll=roll, models=models, digest=roll_digest(AS_OF, roll, models)
    )


def _prepare(root: Path, pupils: int, caseworkers: int, url: str | None) -> dict[str, list[int]]:
    from sqlalchemy import select

    from cmooe_risk.config import QueueConfig, Workspace
    from cmooe_risk.queue import add_account, open_store, publish, queue_items

    if url:
        (root / "cmooe-risk.yaml").write_text(f"queue_database_url: {url}\n")
    workspace = Workspace.open(root)
    store = open_store(workspace)
    started = time.perf_counter()
    publish(store, _scored_week(pupils, 0.025), QueueConfig())
    print(f"published {pupils:,} pupils in {time.perf_counter() - started:.1f} s", flush=True)
    for n in range(caseworkers):
        locality = LOCALITIES[n % len(LOCALITIES)]
        add_account(
            store,
            f"caseworker-{n}",
            role="caseworker",
            localities=(locality,),
            password=PASSWORD,
            by="benchmark",
        )
    with store.engine.connect() as connection:
        rows = connection.execute(select(queue_items.c.item_id, queue_items.c.locality)).all()
    store.engine.dispose()
    items: dict[str, list[int]] = {}
    for item_id, locality in rows:
        items.setdefault(locality, []).append(item_id)
    return items


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Caseworker:
    """One simulated caseworker: sign in, then list, open, update until time is up."""

    def __init__(
        self, client, name: str, items: list[int], timings: dict, counts: Counter, think: float
    ):
        self.client, self.name, self.items = client, name, items
        self.timings, self.counts = timings, counts
        self.think = think
        self.saved: Counter = Counter()

    async def _pause(self) -> None:
        """A person reads the page before the next click: uniform 0.5 to 1.5 x think."""
        if self.think > 0:
            await asyncio.sleep(random.uniform(0.5, 1.5) * self.think)

    async def _timed(self, kind: str, method: str, url: str, **kwargs):
        started = time.perf_counter()
        response = await self.client.request(method, url, **kwargs)
        self.timings.setdefault(kind, []).append(time.perf_counter() - started)
        if response.status_code >= 500:
            self.counts["server_error"] += 1
        return response

    async def sign_in(self, spread: float) -> bool:
        """Sign in at a random moment within ``spread`` seconds, as people arrive."""
        await asyncio.sleep(random.uniform(0, spread))
        page = await self.client.get("/sign-in")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        signed = await self._timed(
            "sign_in",
            "POST",
            "/sign-in",
            data={"username": self.name, "password": PASSWORD, "csrf_token": token},
        )
        if signed.status_code != 303:
            self.counts["sign_in_failed"] += 1
            return False
        return True

    async def run(self, until: float, pages: int) -> None:
        while time.perf_counter() < until:
            await self._pause()
            listing = await self._timed("list", "GET", f"/queue?page={random.randint(1, pages)}")
            self.counts[f"list_{listing.status_code}"] += 1
            item = random.choice(self.items)
            await self._pause()
            opened = await self._timed("item", "GET", f"/items/{item}")
            self.counts[f"item_{opened.status_code}"] += 1
            version = re.search(r'name="version" value="(\d+)"', opened.text)
            choices = re.findall(r'name="status" value="([a-z_]+)"', opened.text)
            token = re.search(r'name="csrf_token" value="([^"]+)"', opened.text)
            if not (version and choices and token):
                self.counts["item_without_form"] += 1
                continue
            await self._pause()
            changed = await self._timed(
                "update",
                "POST",
                f"/items/{item}/status",
                data={
                    "status": random.choice(choices),
                    "note": f"Benchmark note by {self.name}.",
                    "version": version.group(1),
                    "csrf_token": token.group(1),
                },
            )
            self.counts[f"update_{changed.status_code}"] += 1
            if changed.status_code == 303:
                self.saved[item] += 1


async def _load(
    base: str, items: dict, caseworkers: int, seconds: float, page_size: int, think: float
):
    import httpx2 as httpx

    timings: dict[str, list[float]] = {}
    counts: Counter = Counter()
    limits = httpx.Limits(max_connections=caseworkers + 5)
    clients, workers = [], []
    for n in range(caseworkers):
        client = httpx.AsyncClient(base_url=base, timeout=60, limits=limits)
        locality = LOCALITIES[n % len(LOCALITIES)]
        pages = max(1, -(-len(items[locality]) // page_size))
        clients.append(client)
        worker = Caseworker(client, f"caseworker-{n}", items[locality], timings, counts, think)
        workers.append((worker, pages))
    # everyone signs in over the first ten seconds (Argon2 costs about 0.2 s of CPU each,
    # on purpose); the timed run then starts with every caseworker signed in
    signed = await asyncio.gather(*(w.sign_in(10.0) for w, _ in workers))
    until = time.perf_counter() + seconds
    await asyncio.gather(
        *(w.run(until, pages) for (w, pages), ok in zip(workers, signed, strict=True) if ok)
    )
    for client in clients:
        await client.aclose()
    saved: Counter = Counter()
    for worker, _ in workers:
        saved.update(worker.saved)
    return timings, counts, saved


def _lost_updates(root: Path, saved: Counter) -> int:
    """Items whose version is not the number of changes their caseworkers were told were
    saved (each saved change raises the version by one)."""
    from sqlalchemy import select

    from cmooe_risk.config import Workspace
    from cmooe_risk.queue import open_store, queue_items

    store = open_store(Workspace.open(root))
    with store.engine.connect() as connection:
        versions = dict(
            connection.execute(select(queue_items.c.item_id, queue_items.c.version)).all()
        )
    store.engine.dispose()
    return sum(1 for item, version in versions.items() if version != saved.get(item, 0))


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks web")
    parser.add_argument("--caseworkers", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--pupils", type=int, default=100_000)
    parser.add_argument("--database-url", default=None, help="default: SQLite in a temp dir")
    parser.add_argument(
        "--think-seconds",
        type=float,
        default=3.0,
        help="mean pause before each click (0: every caseworker clicks as fast as the "
        "server answers, a stress test)",
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch) / "workspace"
        root.mkdir()
        items = _prepare(root, args.pupils, args.caseworkers, args.database_url)
        port = _free_port()
        server = subprocess.Popen(
            [sys.executable, "-m", "cmooe_risk", "-w", str(root), "serve", "--port", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env={**os.environ, "CMOOE_WEB_SECRET": "benchmark-secret-" + "x" * 32},
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        raise SystemExit("the web queue did not start") from None
                    time.sleep(0.2)
            timings, counts, saved = asyncio.run(
                _load(
                    f"http://127.0.0.1:{port}",
                    items,
                    args.caseworkers,
                    args.seconds,
                    50,
                    args.think_seconds,
                )
            )
        finally:
            server.terminate()
            server.wait(timeout=30)
        lost = _lost_updates(root, saved)
    figures = {
        "database": "postgresql" if args.database_url else "sqlite",
        "pupils": args.pupils,
        "items": sum(len(v) for v in items.values()),
        "caseworkers": args.caseworkers,
        "seconds": args.seconds,
        "think_seconds": args.think_seconds,
        "requests": {kind: len(values) for kind, values in timings.items()},
        "p50_ms": {k: round(float(np.percentile(v, 50)) * 1000, 1) for k, v in timings.items()},
        "p95_ms": {k: round(float(np.percentile(v, 95)) * 1000, 1) for k, v in timings.items()},
        "outcomes": dict(sorted(counts.items())),
        "saved_changes": sum(saved.values()),
        "lost_updates": lost,
        "errors": counts["server_error"] + counts["sign_in_failed"],
    }
    print(json.dumps(figures, indent=2))
