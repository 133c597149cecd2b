"""Progress: bars on a terminal, one plain line per finished step elsewhere, quiet in the API."""

from __future__ import annotations

import io

from rich.console import Console

from cmooe_risk._progress import progress_display, step


def _run_steps() -> None:
    with step("Loading marks", total=3) as advance:
        for _ in range(3):
            advance(1)
    with step("Building features"):
        pass


def test_without_a_terminal_each_step_is_one_plain_line_when_it_ends() -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=False, width=80)
    with progress_display(console):
        _run_steps()
    lines = out.getvalue().splitlines()
    assert [line.split(": done in ")[0] for line in lines] == [
        "Loading marks (3)",
        "Building features",
    ]
    assert all(line.endswith(" s") for line in lines)
    assert "\x1b" not in out.getvalue()  # no cursor movement or colour codes in a log file


def test_on_a_terminal_steps_are_bars() -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=80)
    with progress_display(console):
        _run_steps()
    assert "Loading marks" in out.getvalue()
    assert "done in" not in out.getvalue()


def test_without_a_display_the_python_api_prints_nothing(capsys) -> None:
    _run_steps()
    assert capsys.readouterr() == ("", "")


def test_a_failed_step_says_it_stopped_and_the_error_goes_on() -> None:
    import pytest

    out = io.StringIO()
    display = progress_display(Console(file=out, force_terminal=False))
    with display, pytest.raises(RuntimeError, match="disk full"), step("Writing scores", total=9):
        raise RuntimeError("disk full")
    assert out.getvalue().startswith("Writing scores: stopped after ")
    assert "done" not in out.getvalue()


def test_steps_that_end_out_of_order_each_get_their_line() -> None:
    out = io.StringIO()
    with progress_display(Console(file=out, force_terminal=False)):
        first, second = step("A"), step("B")
        first.__enter__()
        second.__enter__()
        first.__exit__(None, None, None)
        with step("C"):
            pass
        second.__exit__(None, None, None)
    assert [line.split(":")[0] for line in out.getvalue().splitlines()] == ["A", "C", "B"]


def test_a_long_step_stays_on_one_line_in_a_log() -> None:
    out = io.StringIO()
    display = progress_display(Console(file=out, force_terminal=False, width=40))
    with display, step("permanent_exclusion: list policies (school concentration, cap)"):
        pass
    assert len(out.getvalue().splitlines()) == 1
