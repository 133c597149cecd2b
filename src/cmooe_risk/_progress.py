"""Progress reporting that library code can use without depending on a UI.

Library functions wrap slow work in ``with step("Loading marks", total=n) as advance:``.
When the CLI has opened a progress display (:func:`progress_display`), each step becomes
a Rich bar on a terminal, or one plain line when it finishes where output is not a
terminal (a CI log, a scheduled job's log file, a pipe), so a long run still says where
it is. Without a display, steps are only logged at debug level, so the Python API stays
quiet and tests stay fast.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

__all__ = ["progress_display", "step", "timed"]

logger = logging.getLogger("cmooe_risk")
_active: ContextVar[Progress | _PlainLines | None] = ContextVar("cmooe_progress", default=None)


@contextmanager
def progress_display(console: Console, *, enabled: bool = True) -> Iterator[None]:
    """Show every :func:`step` inside this block as a Rich progress bar."""
    if not enabled:
        yield
        return
    if not console.is_terminal:
        token = _active.set(_PlainLines(console))
        try:
            yield
        finally:
            _active.reset(token)
        return
    progress = Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )
    token = _active.set(progress)
    try:
        with progress:
            yield
    finally:
        _active.reset(token)


class _PlainLines:
    """Progress for output that is not a terminal: a line per finished step, no redraws."""

    def __init__(self, console: Console) -> None:
        self._console = console
        self._tasks: dict[int, tuple[str, float | None, float, float]] = {}
        self._next_task = itertools.count()

    def add_task(self, description: str, total: float | None = None) -> int:
        task = next(self._next_task)  # unique even when steps end out of order
        self._tasks[task] = (description, total, 0.0, time.perf_counter())
        return task

    def advance(self, task: int, advance: float = 1) -> None:
        description, total, completed, started = self._tasks[task]
        self._tasks[task] = (description, total, completed + advance, started)

    def update(self, task: int, *, total: float | None = None, completed: float) -> None:
        self.finish(task, failed=False)

    def finish(self, task: int, *, failed: bool) -> None:
        """One line for the step: done (with the units counted) or stopped."""
        description, counted, advanced, started = self._tasks.pop(task)
        seconds = time.perf_counter() - started
        if failed:
            line = f"{description}: stopped after {seconds:.1f} s"
        else:
            # the units counted; the declared total for a step that did not count them
            units = f" ({advanced or counted:,.0f})" if counted is not None else ""
            line = f"{description}{units}: done in {seconds:.1f} s"
        self._console.print(line, highlight=False, soft_wrap=True)  # one line in a log


@contextmanager
def step(description: str, total: int | None = None) -> Iterator[Callable[[int], None]]:
    """A unit of slow work; yields ``advance(n)`` for work measured in units."""
    progress = _active.get()
    started = time.perf_counter()
    if progress is None:
        yield lambda _n=1: None
        logger.debug("%s: %.2fs", description, time.perf_counter() - started)
        return
    task = progress.add_task(description, total=total)
    try:
        yield lambda n=1: progress.advance(task, n)
    except BaseException:
        if isinstance(progress, _PlainLines):  # a bar simply stops where it was
            progress.finish(task, failed=True)
        raise
    else:
        if total is None:
            progress.update(task, total=1, completed=1)
        else:
            progress.update(task, completed=total)
    finally:
        logger.debug("%s: %.2fs", description, time.perf_counter() - started)


@contextmanager
def timed(timings: dict[str, float], name: str) -> Iterator[None]:
    """Record the block's wall time in ``timings[name]``, in seconds to 2 decimals
    (the timings a job writes into its manifest)."""
    started = time.perf_counter()
    try:
        yield
    finally:
        timings[name] = round(time.perf_counter() - started, 2)
