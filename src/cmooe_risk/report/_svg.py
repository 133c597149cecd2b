"""Small inline SVG charts: a weekly attendance sparkline and a suspension timeline.

Plain SVG elements with fixed sizes in CSS pixels, no scripts, fonts or links, so they
draw the same in a browser, in print and in WeasyPrint. Each carries ``role="img"``, an
``aria-label`` and a ``<title>`` that say in words what it shows.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from html import escape

import numpy as np

__all__ = ["attendance_sparkline", "attendance_summary", "counted", "suspension_timeline"]


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """``"1 suspension"``, ``"2 suspensions"``, ``"0 weeks"``: a count with its noun."""
    return f"{n} {noun if n == 1 else (plural or noun + 's')}"


#: Persistent absence starts below this attendance rate (10% of sessions missed).
PERSISTENT_ABSENCE_LINE = 0.9


def _svg(css: str, width: int, height: int, label: str, body: list[str]) -> str:
    text = escape(label, quote=True)
    return (
        f'<svg class="{css}" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img" aria-label="{text}">'
        f"<title>{escape(label)}</title>" + "".join(body) + "</svg>"
    )


def attendance_sparkline(
    rates: Sequence[float | None], *, weeks_to: date, width: int = 130, height: int = 30
) -> str:
    """Weekly attendance rates, oldest first, as a sparkline.

    Parameters
    ----------
    rates : sequence of float or None
        Share of possible sessions attended in each week; None (or NaN) for a week
        without possible sessions (holidays, off roll), drawn as a gap.
    weeks_to : date
        The as-of Monday: the last week ends the day before.
    width, height : int
        Size in CSS pixels.

    Returns
    -------
    str
        An ``<svg>`` element. The dashed line marks 90%, below which a pupil is
        persistently absent.
    """
    values = np.array([np.nan if r is None else float(r) for r in rates], dtype=float)
    n = len(values)
    known = values[~np.isnan(values)]
    if known.size == 0:
        label = f"No attendance recorded in the {n} weeks to {weeks_to:%d %b %Y}"
        return _svg(
            "spark empty",
            width,
            height,
            label,
            [
                f'<rect x="0.5" y="0.5" width="{width - 1}" height="{height - 1}" fill="none" '
                'stroke="#bbb" stroke-dasharray="2 2"/>',
                f'<text x="{width / 2:.0f}" y="{height / 2 + 3:.0f}" text-anchor="middle" '
                'font-size="9" fill="#555">no marks</text>',
            ],
        )
    pad = 3.0
    step = (width - 2 * pad) / max(n - 1, 1)

    def x(i: int) -> float:
        return pad + i * step

    def y(rate: float) -> float:
        return pad + (1.0 - min(max(rate, 0.0), 1.0)) * (height - 2 * pad)

    body = [
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#f7f7f7"/>',
        f'<line x1="0" x2="{width}" y1="{y(PERSISTENT_ABSENCE_LINE):.1f}" '
        f'y2="{y(PERSISTENT_ABSENCE_LINE):.1f}" stroke="#999" stroke-width="0.8" '
        'stroke-dasharray="3 2"/>',
    ]
    # One path, lifted over weeks without sessions so that a gap shows as a gap.
    commands, pen_down = [], False
    for i, rate in enumerate(values):
        if np.isnan(rate):
            pen_down = False
            continue
        commands.append(f"{'L' if pen_down else 'M'}{x(i):.1f} {y(rate):.1f}")
        pen_down = True
    body.append(
        f'<path d="{" ".join(commands)}" fill="none" stroke="#1f4e8c" stroke-width="1.4" '
        'stroke-linejoin="round" stroke-linecap="round"/>'
    )
    for i, rate in enumerate(values):
        if np.isnan(rate):
            continue
        if rate < PERSISTENT_ABSENCE_LINE:
            body.append(f'<circle cx="{x(i):.1f}" cy="{y(rate):.1f}" r="1.1" fill="#b3261e"/>')
        elif _isolated(values, i):  # a week between gaps draws no line: show it as a dot
            body.append(f'<circle cx="{x(i):.1f}" cy="{y(rate):.1f}" r="1.1" fill="#1f4e8c"/>')
    last = int(np.flatnonzero(~np.isnan(values))[-1])
    body.append(f'<circle cx="{x(last):.1f}" cy="{y(values[last]):.1f}" r="2" fill="#1f4e8c"/>')
    label = f"Attendance by week, {n} weeks to {weeks_to:%d %b %Y}: {attendance_summary(rates)}"
    return _svg("spark", width, height, label, body)


def _isolated(values: np.ndarray, i: int) -> bool:
    before = i == 0 or np.isnan(values[i - 1])
    after = i == len(values) - 1 or np.isnan(values[i + 1])
    return bool(before and after)


def attendance_summary(rates: Sequence[float | None]) -> str:
    """The sparkline in words: latest and lowest week, mean of weeks, weeks below 90%.

    Parameters
    ----------
    rates : sequence of float or None
        As for :func:`attendance_sparkline`.

    Returns
    -------
    str
        E.g. ``"latest 85%, lowest 40%, average of weeks 88%; 3 week(s) below 90%"``,
        or ``"no attendance recorded"``.
    """
    values = np.array([np.nan if r is None else float(r) for r in rates], dtype=float)
    known = values[~np.isnan(values)]
    if known.size == 0:
        return "no attendance recorded"
    return (
        f"latest {known[-1]:.0%}, lowest {known.min():.0%}, average of weeks "
        f"{known.mean():.0%}; {counted(int((known < PERSISTENT_ABSENCE_LINE).sum()), 'week')} below 90%"
    )


def suspension_timeline(
    suspensions: Sequence[date],
    *,
    as_of: date,
    days: int = 365,
    permanent: Sequence[date] = (),
    width: int = 130,
    height: int = 18,
) -> str:
    """Suspensions (and any permanent exclusion) of the last ``days`` days on an axis.

    Parameters
    ----------
    suspensions : sequence of date
        Start dates of suspensions before ``as_of``.
    as_of : date
        The right-hand end of the axis.
    days : int, default 365
        Length of the axis.
    permanent : sequence of date
        Start dates of permanent exclusions, drawn as squares.
    width, height : int
        Size in CSS pixels.

    Returns
    -------
    str
        An ``<svg>`` element: a tick per month, a dot per suspension.
    """
    pad = 4.0
    base = height - 5.0

    def x(day: date) -> float:
        offset = days - (as_of - day).days
        return pad + max(0, min(days, offset)) / days * (width - 2 * pad)

    body = [
        f'<line x1="{pad}" x2="{width - pad}" y1="{base}" y2="{base}" stroke="#666" '
        'stroke-width="0.8"/>'
    ]
    ticks = " ".join(
        f"M{pad + month / days * (width - 2 * pad):.1f} {base}v2.5"
        for month in range(0, days + 1, 30)
    )
    body.append(f'<path d="{ticks}" stroke="#666" stroke-width="0.6" fill="none"/>')
    shown = sorted(d for d in suspensions if 0 < (as_of - d).days <= days)
    for day in shown:
        body.append(
            f'<circle class="suspension" cx="{x(day):.1f}" cy="{base - 4}" r="2.6" '
            'fill="#c25700" fill-opacity="0.8"/>'
        )
    perms = sorted(d for d in permanent if 0 < (as_of - d).days <= days)
    for day in perms:
        body.append(
            f'<rect class="permanent" x="{x(day) - 3:.1f}" y="{base - 7}" width="6" height="6" '
            'fill="#7a0c0c"/>'
        )
    span = "12 months" if days == 365 else f"{days} days"
    if shown:
        dates = ", ".join(f"{d:%d %b %Y}" for d in shown)
        label = f"{counted(len(shown), 'suspension')} in the {span} to {as_of:%d %b %Y}: {dates}"
    else:
        label = f"No suspensions in the {span} to {as_of:%d %b %Y}"
    if perms:
        label += "; permanent exclusion: " + ", ".join(f"{d:%d %b %Y}" for d in perms)
    return _svg("timeline", width, height, label, body)
