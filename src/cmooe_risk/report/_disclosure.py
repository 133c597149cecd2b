"""Disclosure control for the counts a meeting pack shows.

A count of children between 1 and ``threshold - 1`` is shown as ``<threshold``
(``"<10"`` by default). Where a table also publishes the total it adds up to, a single
suppressed cell in a column could be worked out by subtraction, so the next smallest
count of that column is withheld too (shown as ``c``). Zero is shown: it names nobody.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["SECONDARY", "show_count", "suppress_column"]

#: How a count withheld only to protect another cell is shown.
SECONDARY = "c"


def show_count(count: int | None, threshold: int) -> str:
    """A count as the pack prints it: ``"<10"`` when it is below the threshold.

    Parameters
    ----------
    count : int or None
        Number of children; None prints as a dash (not recorded).
    threshold : int
        ``fairness.min_group_size`` of the workspace configuration.

    Returns
    -------
    str
    """
    if count is None:
        return "–"
    count = int(count)
    if 0 < count < threshold:
        return f"<{threshold}"
    return f"{count:,}"


def suppress_column(
    counts: Sequence[int], threshold: int, *, total_published: bool = True
) -> list[str]:
    """One table column's counts with primary and, where needed, secondary suppression.

    Parameters
    ----------
    counts : sequence of int
        The column's counts, one per row.
    threshold : int
        Counts from 1 to ``threshold - 1`` are shown as ``<threshold``.
    total_published : bool, default True
        Whether the column's total appears elsewhere in the pack. If it does and exactly
        one cell is suppressed, the smallest other non-zero count is withheld as ``c``.

    Returns
    -------
    list of str
    """
    shown = [show_count(c, threshold) for c in counts]
    small = [i for i, c in enumerate(counts) if 0 < c < threshold]
    if total_published and len(small) == 1:
        others = [i for i, c in enumerate(counts) if c >= threshold]
        if others:
            shown[min(others, key=lambda i: (counts[i], i))] = SECONDARY
    return shown
