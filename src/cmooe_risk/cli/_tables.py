"""Rich tables of model metrics with their confidence intervals."""

from __future__ import annotations

import math

import pandas as pd
from rich.table import Table

__all__ = ["metric_cell", "summary_table"]

COLUMNS = {
    "precision_at_capacity": "P@cap",
    "recall_at_capacity": "R@cap",
    "roc_auc": "AUC",
    "average_precision": "AP",
    "brier": "Brier",
}


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def metric_cell(row, metric: str) -> str:
    value = row.get(metric)
    if _missing(value):
        return "-"
    low, high = row.get(f"{metric}_ci_low"), row.get(f"{metric}_ci_high")
    digits = 4 if metric == "brier" else 3
    if _missing(low) or _missing(high):
        return f"{value:.{digits}f}"
    return f"{value:.{digits}f}\n[{low:.{digits}f}, {high:.{digits}f}]"


def summary_table(
    title: str, frame: pd.DataFrame, *, oracle: bool = False, leading: tuple[str, ...] = ("model",)
) -> Table:
    table = Table(
        title=title,
        title_justify="left",
        caption="P@cap, R@cap: precision and recall of each locality's top-k list (k = its "
        "caseworker capacity); 95% bootstrap CIs in brackets.",
        caption_justify="left",
    )
    for column in leading:
        table.add_column(column)
    for label in COLUMNS.values():
        table.add_column(label, justify="right")
    # the oracle knows the hidden state; the ceiling is the best the records allow
    references = [
        (reference, label)
        for reference, label in (("oracle", "vs oracle"), ("ceiling", "vs ceiling"))
        if f"ratio_to_{reference}" in frame or (oracle and reference == "oracle")
    ]
    for _, label in references:
        table.add_column(label, justify="right")
    for row in frame.to_dict("records"):
        cells = [str(row.get(column, "")) for column in leading]
        cells += [metric_cell(row, metric) for metric in COLUMNS]
        for reference, _ in references:
            cells.append(_ratio_cell(row, f"ratio_to_{reference}"))
        table.add_row(*cells)
    return table


def _ratio_cell(row, key: str) -> str:
    ratio = row.get(key)
    if _missing(ratio):
        return "-"
    low, high = row.get(f"{key}_ci_low"), row.get(f"{key}_ci_high")
    if _missing(low) or _missing(high):
        return f"{ratio:.2f}x"
    return f"{ratio:.2f}x\n[{low:.2f}, {high:.2f}]"
