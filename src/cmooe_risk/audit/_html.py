"""One self-contained HTML page of an audit: inline CSS, no external requests, A4 print."""

from __future__ import annotations

import math
from html import escape

import pandas as pd

from cmooe_risk.audit._groups import (
    ALL_PUPILS,
    INTERSECTION,
    OVERALL,
    attribute_title,
    group_labels,
)
from cmooe_risk.audit._metrics import FLAGGED, NEEDS_OUTCOMES
from cmooe_risk.audit._mitigation import OPTION_TITLES
from cmooe_risk.audit._result import AuditResult, MitigationResult
from cmooe_risk.audit._text import METRIC_TITLES
from cmooe_risk.metric_registry import metrics_where

__all__ = ["render_html"]

_CSS = """
@page { size: A4 portrait; margin: 14mm 12mm; }
* { box-sizing: border-box; }
body { font-family: "Segoe UI", Arial, Helvetica, sans-serif; font-size: 10pt; color: #111;
       max-width: 190mm; margin: 0 auto; padding: 6mm 0; line-height: 1.35; }
h1 { font-size: 17pt; margin: 0 0 2mm; }
h2 { font-size: 13pt; margin: 7mm 0 2mm; border-bottom: 1px solid #999; padding-bottom: 1mm; }
h3 { font-size: 11pt; margin: 5mm 0 1.5mm; }
p, li { margin: 1mm 0; }
.meta { color: #333; font-size: 9pt; }
table { border-collapse: collapse; width: 100%; margin: 1.5mm 0 3mm; font-size: 8pt;
        page-break-inside: avoid; }
caption { text-align: left; font-weight: bold; font-size: 8.5pt; padding: 1mm 0; }
th, td { border: 1px solid #bbb; padding: 0.8mm 1.2mm; vertical-align: top; }
th { background: #eee; text-align: left; font-weight: 600; }
td.num { text-align: right; white-space: nowrap; }
td.ci { text-align: right; white-space: nowrap; }
td.ci small { display: block; color: #444; }
tr.overall td { background: #f6f6f6; }
tr.reference td:first-child { font-weight: bold; }
td.flag { background: #f9d3cf; font-weight: bold; outline: 1.5px solid #b3261e; }
td.suppressed { color: #555; font-style: italic; text-align: center; }
.flags { border: 1.5px solid #b3261e; background: #fdf0ef; padding: 2mm 3mm; margin: 3mm 0; }
.flags li { margin: 1.2mm 0; }
.ok { border: 1px solid #6a8f3b; background: #f1f7ea; padding: 2mm 3mm; margin: 3mm 0; }
.notes { border: 1px solid #c9a227; background: #fffbea; padding: 2mm 3mm; margin: 3mm 0; }
.caveats li { margin: 1.5mm 0; }
footer { margin-top: 8mm; font-size: 8pt; color: #555; border-top: 1px solid #ccc;
         padding-top: 2mm; }
section { page-break-inside: auto; }
@media print { body { padding: 0; } a { color: inherit; text-decoration: none; } }
"""

#: Option names short enough for a table cell.
_SHORT_OPTION = {
    "current": "Current",
    "split_by_roll": "Shared by roll",
    "split_by_expected_positives": "Shared by expected positives",
}
#: Ratio columns of the comparison tables, in order: the flagged metrics.
_RATIO_METRICS = FLAGGED
#: Columns of the figures-by-group table, by kind of audit (``metric_registry``).
_FIGURE_COLUMNS = {kind: metrics_where(shown_in=kind) for kind in ("labelled", "live")}
#: Printed as percentages: the audit's rates, and the mitigation table's list measures.
_PERCENT = frozenset(
    {*metrics_where(unit="percent"), "precision_at_k", "recall_at_k", "expected_precision"}
)
#: Printed whole; expected counts (fractional selection) to one decimal.
_WHOLE = frozenset({*metrics_where(unit="pupils"), *metrics_where(unit="count"), "list_size"})
_POINTS = frozenset(metrics_where(unit="points"))
_EXPECTED = frozenset({*metrics_where(unit="expected_count"), "selected_positives"})


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _number(metric: str, value: object) -> str:
    """A metric value as the report prints it."""
    if _missing(value):
        return "–"
    x = float(value)  # type: ignore[arg-type]
    if metric in _PERCENT:
        return f"{100 * x:.2f}%" if abs(x) < 0.1 else f"{100 * x:.1f}%"
    if metric in _POINTS:
        return f"{100 * x:+.2f} pp"
    if metric in _WHOLE:
        return f"{x:,.0f}"
    if metric in _EXPECTED:
        return f"{x:,.1f}"
    return f"{x:.2f}"


_WITHHELD = (
    '<td class="suppressed" title="fewer pupils with the outcome than the threshold">withheld</td>'
)


def _ratio_cell(row: pd.Series | None) -> str:
    if row is None:
        return '<td class="ci">–</td>'
    if row["suppressed"]:
        return _WITHHELD
    if _missing(row["ratio"]):
        return '<td class="ci">–</td>'
    low, high = row["ratio_ci_low"], row["ratio_ci_high"]
    ci = "no CI" if _missing(low) else f"{low:.2f}–{high:.2f}"
    text = f"{row['ratio']:.2f}<small>{escape(ci)}</small>"
    if row["flagged"]:
        marker = "▲" if row["ratio"] > 1 else "▼"
        return f'<td class="ci flag" title="flagged">{marker} {text}</td>'
    return f'<td class="ci">{text}</td>'


def _suppressed_cell(reason: str, span: int) -> str:
    return f'<td class="suppressed" colspan="{span}">suppressed ({escape(reason)})</td>'


def _group_name(attribute: str, group: str, is_reference: bool) -> str:
    name = "All pupils" if group == ALL_PUPILS else group_labels(attribute, group)
    return escape(name) + (" <em>(reference)</em>" if is_reference else "")


def _figures_table(result: AuditResult, attribute: str, overall: pd.Series) -> str:
    columns = _FIGURE_COLUMNS[result.kind]
    groups = result.groups
    columns = tuple(c for c in columns if c in groups.columns)
    counts = ("pupils", "positive_pupils") if result.kind == "labelled" else ("pupils",)
    heads = ["Group"] + [METRIC_TITLES[c] for c in (*counts, *columns)]
    rows = [
        "<tr>" + "".join(f"<th>{escape(h)}</th>" for h in heads) + "</tr>",
    ]
    table = groups[groups["attribute"] == attribute]
    for row in [overall, *[r for _, r in table.iterrows()]]:
        is_overall = row["attribute"] == OVERALL
        css = "overall" if is_overall else ("reference" if row["is_reference"] else "")
        cells = [f"<td>{_group_name(attribute, row['group'], bool(row['is_reference']))}</td>"]
        if row["suppressed"]:
            cells.append(_suppressed_cell(row["suppression_reason"], len(heads) - 1))
        else:
            cells += [
                _WITHHELD
                if row["outcomes_suppressed"] and c in NEEDS_OUTCOMES
                else f'<td class="num">{_number(c, row[c])}</td>'
                for c in (*counts, *columns)
            ]
        rows.append(f'<tr class="{css}">' + "".join(cells) + "</tr>")
    caption = "Figures by group (pupils counted once however many weeks they appear)"
    return f"<table><caption>{escape(caption)}</caption>" + "".join(rows) + "</table>"


def _ratio_table(result: AuditResult, attribute: str) -> str:
    comparisons = result.comparisons[result.comparisons["attribute"] == attribute]
    metrics = [m for m in _RATIO_METRICS if m in set(comparisons["metric"])]
    if not metrics:
        return ""
    reference = result.metadata.get("reference_groups", {}).get(attribute)
    heads = ["Group"]
    for metric in metrics:
        title = METRIC_TITLES[metric]
        heads += [f"{title}: vs ref. group", f"{title}: vs all pupils"]
    if result.kind == "live":
        heads = [
            h.replace("Selection rate: vs all pupils", "List share ÷ roll share") for h in heads
        ]
    lookup = {
        (row["group"], row["metric"], row["versus"]): row for _, row in comparisons.iterrows()
    }
    groups = result.groups[result.groups["attribute"] == attribute]
    rows = ["<tr>" + "".join(f"<th>{escape(h)}</th>" for h in heads) + "</tr>"]
    for _, group in groups.iterrows():
        name = group["group"]
        cells = [f"<td>{_group_name(attribute, name, bool(group['is_reference']))}</td>"]
        if group["suppressed"]:
            cells.append(_suppressed_cell(group["suppression_reason"], len(heads) - 1))
        else:
            for metric in metrics:
                if group["is_reference"]:
                    cells.append('<td class="ci"><em>reference</em></td>')
                else:
                    cells.append(_ratio_cell(lookup.get((name, metric, "reference"))))
                cells.append(_ratio_cell(lookup.get((name, metric, OVERALL))))
        rows.append("<tr>" + "".join(cells) + "</tr>")
    ref_text = group_labels(attribute, reference) if reference else "none"
    caption = f"Ratios with 95% CI (reference group: {ref_text})"
    return f"<table><caption>{escape(caption)}</caption>" + "".join(rows) + "</table>"


def _flags_box(result: AuditResult) -> str:
    meta = result.metadata
    rate = meta.get("config", {}).get("false_discovery_rate")
    tested = meta.get("tested")
    control = (
        f" Of {tested:,} ratios tested, these survive false discovery control at "
        f"{rate:.0%} (Benjamini–Hochberg)."
        if tested is not None and rate is not None
        else ""
    )
    if result.flags.empty:
        return (
            '<div class="ok"><strong>No ratio was flagged.</strong>'
            + escape(control.replace("these survive", "none survives"))
            + " That is not evidence that the list is fair: see the caveats.</div>"
        )
    n = len(result.flags)
    parts = [
        f'<div class="flags"><strong>{n} flagged ratio{"s" if n != 1 else ""}</strong> '
        "(95% CI wholly outside the band; a prompt to look closer, not a finding)."
        + escape(control)
        + " Most certain first."
    ]
    # Single attributes first: intersections are smaller, noisier and many more.
    single = ~result.flags["attribute"].str.contains(INTERSECTION, regex=False)
    for title, chosen in (("By attribute", single), ("By pair of attributes", ~single)):
        sentences = result.flags.loc[chosen, "sentence"]
        if len(sentences):
            items = "".join(f"<li>{escape(s)}</li>" for s in sentences)
            parts.append(f"<p><strong>{title}</strong></p><ol>{items}</ol>")
    return "".join(parts) + "</div>"


#: Rows of the "not confirmed" table: the most certain, so the page stays readable.
_UNCONFIRMED_ROWS = 40


def _unconfirmed_section(result: AuditResult) -> str:
    """Ratios outside the band that did not survive: for the analyst, not the pack."""
    table = result.comparisons
    if "outside_band" not in table:
        return ""
    rest = table[table["outside_band"] & ~table["flagged"]].sort_values(
        "q_value", kind="stable", na_position="last"
    )
    if rest.empty:
        return ""
    rate = result.metadata.get("config", {}).get("false_discovery_rate", 0.05)
    rows = [
        "<tr><th>Group</th><th>Metric</th><th>Compared with</th><th>Ratio (95% CI)</th>"
        "<th>q</th><th>Why not flagged</th></tr>"
    ]
    for _, row in rest.head(_UNCONFIRMED_ROWS).iterrows():
        if not row["beyond_margins"]:
            why = "within the band of one of its attributes on its own"
        elif _missing(row["q_value"]):
            why = "rests on too few events to test"
        elif row["q_value"] > rate:
            why = "could be chance among the many comparisons"
        else:
            why = "–"
        q_text = "–" if _missing(row["q_value"]) else f"{row['q_value']:.2g}"
        than = (
            "all pupils"
            if row["versus"] == OVERALL
            else group_labels(row["attribute"], row["reference_group"])
        )
        rows.append(
            "<tr>"
            f"<td>{escape(attribute_title(row['attribute']))}: "
            f"{escape(group_labels(row['attribute'], row['group']))}</td>"
            f"<td>{escape(METRIC_TITLES.get(row['metric'], row['metric']))}</td>"
            f"<td>{escape(than)}</td>"
            f'<td class="ci">{row["ratio"]:.2f} ({row["ratio_ci_low"]:.2f}–'
            f"{row['ratio_ci_high']:.2f})</td>"
            f'<td class="num">{q_text}</td>'
            f"<td>{escape(why)}</td></tr>"
        )
    more = len(rest) - _UNCONFIRMED_ROWS
    tail = f"<p>… and {more:,} more in the audit's JSON.</p>" if more > 0 else ""
    return (
        "<h2>Outside the band but not flagged</h2>"
        f"<p>{len(rest):,} ratios have a 95% CI wholly outside the band but do not survive "
        "false discovery control, or (pairs of attributes) are explained by one attribute "
        "on its own. They are for the analyst to look at, not for the pack.</p>"
        "<table>" + "".join(rows) + "</table>" + tail
    )


def _sizes_section(result: AuditResult) -> str:
    """Every group's size, small ones included: the analyst's check on suppression."""
    sizes = result.sizes
    sizes = sizes[sizes["kind"] == "attribute"]
    if sizes.empty:
        return ""
    labelled = "positive_pupils" in sizes
    heads = ["Attribute", "Group", "Pupils"] + (["Pupils with outcome"] if labelled else [])
    rows = ["<tr>" + "".join(f"<th>{h}</th>" for h in heads) + "</tr>"]
    for _, row in sizes.iterrows():
        cells = [
            escape(attribute_title(row["attribute"])),
            escape(group_labels(row["attribute"], row["group"])),
        ]
        numbers = [row["pupils"]] + ([row["positive_pupils"]] if labelled else [])
        rows.append(
            "<tr>"
            + "".join(f"<td>{c}</td>" for c in cells)
            + "".join(f'<td class="num">{_number("pupils", n)}</td>' for n in numbers)
            + "</tr>"
        )
    return (
        "<h2>Group sizes (analyst only: not for publication)</h2>"
        "<p>Every group's size, the small ones included, so the analyst can see what the "
        "suppression hides. Do not copy this table into a pack.</p>"
        "<table>" + "".join(rows) + "</table>"
    )


def _mitigation_section(mitigation: MitigationResult) -> str:
    attribute = mitigation.attribute
    summary = mitigation.summary
    options = list(summary["option"])
    titles = {row["option"]: row["title"] for _, row in summary.iterrows()}
    measures = [
        c
        for c in (
            "list_size",
            "selected_positives",
            "precision_at_k",
            "recall_at_k",
            "expected_precision",
        )
        if c in summary.columns
    ]
    names = {
        "list_size": "List size (slots)",
        "selected_positives": "Outcomes on the list",
        "precision_at_k": "Precision at k",
        "recall_at_k": "Recall at k",
        "expected_precision": "Mean score on the list",
    }
    head = (
        "<tr><th>Measure</th>"
        + "".join(f"<th>{escape(titles.get(o, OPTION_TITLES.get(o, o)))}</th>" for o in options)
        + "</tr>"
    )
    body = "".join(
        f"<tr><td>{escape(names[m])}</td>"
        + "".join(f'<td class="num">{_number(m, v)}</td>' for v in summary[m])
        + "</tr>"
        for m in measures
    )
    parts = [
        f"<h2>Alternatives for discussion: sharing capacity across {escape(attribute_title(attribute))}</h2>",
        '<p class="notes"><strong>Not applied.</strong> The current list is unchanged; '
        "these are what the same list sizes would look like under group-aware rules.</p>",
        f"<table><caption>Whole list</caption>{head}{body}</table>",
    ]
    groups = mitigation.groups
    measures = [
        c
        for c in ("share_of_list", "selection_rate", "tpr", "fpr", "precision")
        if c in groups.columns
    ]
    heads = ["Group", "Pupils", "Share of roll", "Option"] + [METRIC_TITLES[m] for m in measures]
    rows = ["<tr>" + "".join(f"<th>{escape(h)}</th>" for h in heads) + "</tr>"]
    # One row per (group, option), the group's own cells spanning its options: narrow
    # enough for A4 however many options there are.
    for group, block in groups.groupby("group", sort=False):
        first = block.iloc[0]
        span = len(block)
        name = f'<td rowspan="{span}">{escape(group_labels(attribute, str(group)))}</td>'
        if first["suppressed"]:
            rows.append(
                "<tr>"
                + name
                + _suppressed_cell(first["suppression_reason"], len(heads) - 1)
                + "</tr>"
            )
            continue
        for position, (_, row) in enumerate(block.iterrows()):
            cells = []
            if position == 0:
                cells += [
                    name,
                    f'<td class="num" rowspan="{span}">{_number("pupils", row["pupils"])}</td>',
                    f'<td class="num" rowspan="{span}">'
                    f"{_number('share_of_roll', row['share_of_roll'])}</td>",
                ]
            cells.append(f"<td>{escape(_SHORT_OPTION.get(row['option'], row['option']))}</td>")
            cells += [f'<td class="num">{_number(m, row[m])}</td>' for m in measures]
            rows.append("<tr>" + "".join(cells) + "</tr>")
    parts.append("<table><caption>By group</caption>" + "".join(rows) + "</table>")
    parts.append(
        '<ul class="caveats">'
        + "".join(f"<li>{escape(c)}</li>" for c in mitigation.caveats)
        + "</ul>"
    )
    return "<section>" + "".join(parts) + "</section>"


def render_html(
    result: AuditResult, mitigation: MitigationResult | None = None, *, title: str | None = None
) -> str:
    """The audit as one self-contained HTML page.

    Inline CSS only, no scripts, images, fonts or links, so it opens offline and prints
    on A4. Flagged ratios are highlighted (and marked ▲/▼ for black-and-white print);
    suppressed groups show ``suppressed (n<10)`` (or ``outcomes<10``) instead of numbers.

    Parameters
    ----------
    result : AuditResult
        From :func:`audit_list` or :func:`audit_live_list` (or ``AuditResult.from_json``).
    mitigation : MitigationResult, optional
        From :func:`compare_mitigation`: shown side by side, marked as not applied.
    title : str, optional
        Page heading; default names the list and outcome.

    Returns
    -------
    str
    """
    meta = result.metadata
    outcome = meta.get("outcome", "the outcome")
    kind = "Live list (no outcomes yet)" if result.kind == "live" else "Past lists with outcomes"
    heading = title or f"Fairness audit of the risk list: {outcome}"
    # Dates only, whether the metadata holds dates or midnight timestamps.
    as_of = [str(day)[:10] for day in meta.get("as_of") or []]
    dates = f"{as_of[0]} to {as_of[-1]}" if len(as_of) > 1 else (as_of[0] if as_of else "–")
    localities = meta.get("localities", {})
    capacity = ", ".join(f"{name} {k}" for name, k in localities.items())
    reference_note = (
        "Each group is compared with its attribute's reference group and with all pupils."
    )
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(heading)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{escape(heading)}</h1>",
        f'<p class="meta">{escape(kind)}. As-of dates: {escape(str(dates))} '
        f"({len(as_of)} date{'s' if len(as_of) != 1 else ''}); "
        f"{meta.get('pupils', 0):,} pupils, {meta.get('rows', 0):,} pupil-weeks. "
        f"Each locality's caseworkers take its top k each week (k: {escape(capacity)}). "
        f"{escape(reference_note)} CIs: {meta.get('n_boot', 0)} pupil bootstrap replicates.</p>",
        _flags_box(result),
    ]
    if result.notes:
        parts.append(
            '<div class="notes"><strong>Notes on this run</strong><ul>'
            + "".join(f"<li>{escape(n)}</li>" for n in result.notes)
            + "</ul></div>"
        )

    groups = result.groups
    overall = groups[groups["attribute"] == OVERALL].iloc[0]
    attributes = list(dict.fromkeys(groups.loc[groups["kind"] == "attribute", "attribute"]))
    intersections = list(dict.fromkeys(groups.loc[groups["kind"] == "intersection", "attribute"]))
    for attribute in attributes:
        parts.append(
            f"<section><h2>{escape(attribute_title(attribute))}</h2>"
            + _figures_table(result, attribute, overall)
            + _ratio_table(result, attribute)
            + "</section>"
        )
    if intersections:
        parts.append(
            "<h2>Intersections</h2><p>Pairs of attributes; only combinations with pupils "
            "are shown, and many are suppressed or have wide intervals.</p>"
        )
        for attribute in intersections:
            parts.append(
                f"<section><h3>{escape(attribute_title(attribute))}</h3>"
                + _figures_table(result, attribute, overall)
                + _ratio_table(result, attribute)
                + "</section>"
            )
    if mitigation is not None:
        parts.append(_mitigation_section(mitigation))
    parts.append(_unconfirmed_section(result))
    if not result.suppression.empty:
        parts.append(
            "<h2>Suppressed groups</h2><ul>"
            + "".join(f"<li>{escape(s)}</li>" for s in result.suppression["sentence"])
            + "</ul>"
        )
    parts.append(_sizes_section(result))
    parts.append(
        '<h2>Caveats</h2><ul class="caveats">'
        + "".join(f"<li>{escape(c)}</li>" for c in result.caveats)
        + "</ul>"
    )
    versions = meta.get("versions", {})
    config = meta.get("config", {})
    parts.append(
        "<footer>"
        + escape(
            "Generated by cmooe-risk "
            + str(versions.get("cmooe-risk", "?"))
            + " with fairlearn "
            + str(versions.get("fairlearn", "?"))
            + f"; seed {meta.get('seed')}; flag band {config.get('flag_ratio_low')}–"
            + f"{config.get('flag_ratio_high')}; suppression below "
            + f"{config.get('min_group_size')} pupils"
            + (
                f" or {config.get('min_group_positives')} pupils with the outcome"
                if result.kind == "labelled"
                else ""
            )
            + "."
        )
        + "</footer></body></html>"
    )
    return "\n".join(parts)
