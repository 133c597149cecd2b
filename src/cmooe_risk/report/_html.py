"""One locality's meeting pack as a single self-contained HTML page.

Inline CSS and inline SVG only: no scripts, images, fonts, links or other requests, so
the file opens offline, can be emailed as it is, and prints on A4 with each section on
a new page.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime
from html import escape

from cmooe_risk import __version__
from cmooe_risk.features import load_catalog
from cmooe_risk.pseudonym import shown
from cmooe_risk.report._card import (
    CARD_METRICS,
    DATA,
    INTENDED_USE,
    LIMITS,
    PERCENT_METRICS,
    PURPOSE,
    ChampionCard,
)
from cmooe_risk.report._data import OUTCOMES, OUTSTANDING, LocalityPack
from cmooe_risk.report._disclosure import SECONDARY, show_count, suppress_column
from cmooe_risk.report._svg import attendance_sparkline, counted, suspension_timeline
from cmooe_risk.report._trends import TREND_WEEKS, PupilTrends

__all__ = ["render_pack"]

_TITLES = {
    "permanent_exclusion": "Permanent exclusion",
    "missing_education": "Missing education",
}
_WHAT = {
    "permanent_exclusion": "a permanent exclusion (upheld, or pending a decision)",
    "missing_education": "missing education (a CME referral, or 20 school days with no "
    "school, home education or alternative provision)",
}
_MOVEMENT = {
    "new": "new this week",
    "rising": "▲ rising",
    "falling": "▼ falling",
    "steady": "● steady",
    "left roll": "left roll",
}
#: The default risk bands (``queue.band_multiples``), most severe first.
BANDS = ("very high", "high", "raised", "typical")

_CSS = """
@page { size: A4; margin: 12mm 10mm 14mm; }
* { box-sizing: border-box; }
html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body { font-family: "Segoe UI", Arial, Helvetica, sans-serif; font-size: 10pt; color: #111;
       max-width: 190mm; margin: 0 auto; padding: 6mm 0; line-height: 1.35; }
h1 { font-size: 17pt; margin: 0 0 1mm; }
h2 { font-size: 13.5pt; margin: 0 0 2mm; border-bottom: 1.5px solid #1f4e8c;
     padding-bottom: 1mm; color: #0d2f5c; }
h3 { font-size: 11pt; margin: 4mm 0 1.5mm; }
p, li { margin: 1mm 0; }
.meta { color: #333; font-size: 9pt; }
.marking { font-weight: bold; letter-spacing: 0.05em; font-size: 8.5pt; color: #7a0c0c; }
.judgement { border: 1.5px solid #1f4e8c; background: #eef3fa; padding: 2mm 3mm; margin: 3mm 0; }
.synthetic { border: 1.5px dashed #8a5a00; background: #fff6e0; padding: 2mm 3mm; margin: 3mm 0; }
.notes { border: 1px solid #c9a227; background: #fffbea; padding: 2mm 3mm; margin: 3mm 0; }
.flags { border: 1.5px solid #b3261e; background: #fdf0ef; padding: 2mm 3mm; margin: 2mm 0; }
.ok { border: 1px solid #6a8f3b; background: #f1f7ea; padding: 2mm 3mm; margin: 2mm 0; }
section { margin: 0 0 6mm; }
section.page { break-before: page; page-break-before: always; padding-top: 2mm; }
.kpis { display: flex; flex-wrap: wrap; gap: 3mm; margin: 3mm 0; }
.kpi { border: 1px solid #bbb; border-radius: 2mm; padding: 2mm 3mm; min-width: 40mm; flex: 1;
       break-inside: avoid; }
.kpi .value { font-size: 18pt; font-weight: 700; display: block; }
.kpi .label { font-size: 8.5pt; color: #333; }
.kpi .detail { font-size: 8.5pt; color: #333; display: block; }
table { border-collapse: collapse; width: 100%; margin: 1.5mm 0 3mm; font-size: 8.5pt; }
caption { text-align: left; font-weight: bold; font-size: 9pt; padding: 1mm 0; }
th, td { border: 1px solid #bbb; padding: 0.9mm 1.3mm; vertical-align: top; text-align: left; }
th { background: #e8edf3; font-weight: 600; }
thead { display: table-header-group; }
tr { break-inside: avoid; page-break-inside: avoid; }
td.num, th.num { text-align: right; white-space: nowrap; }
td.suppressed { color: #444; font-style: italic; }
table.pupils td { font-size: 8.2pt; }
table.pupils td.who { white-space: nowrap; width: 23mm; }
table.pupils td.risk { width: 27mm; }
table.pupils td.trend { width: 36mm; }
table.pupils ul { margin: 0; padding-left: 3.5mm; }
table.pupils li { margin: 0.3mm 0; }
.code { font-family: "DejaVu Sans Mono", Consolas, monospace; font-size: 8pt; }
.small { font-size: 7.5pt; color: #444; }
.band { display: inline-block; padding: 0.2mm 1.5mm; border-radius: 1mm; font-weight: 600;
        font-size: 7.8pt; border: 1px solid #777; }
.band-very-high { background: #7a0c0c; color: #fff; border-color: #7a0c0c; }
.band-high { background: #e8a33d; color: #111; border-color: #b57514; }
.band-raised { background: #f6e7a8; color: #111; }
.band-typical { background: #eee; color: #111; }
.status { display: inline-block; margin-top: 0.8mm; font-size: 7.8pt; }
.changes { margin-top: 1mm; color: #333; }
.changes strong { font-weight: 600; }
svg { display: block; }
svg.spark { margin-bottom: 0.3mm; }
svg.timeline { margin-top: 1mm; }
.legend { font-size: 7.5pt; color: #444; }
footer { margin-top: 8mm; font-size: 8pt; color: #555; border-top: 1px solid #ccc;
         padding-top: 2mm; }
@media print {
  body { padding: 0; max-width: none; }
  section.page { padding-top: 0; }
  .kpi { border-color: #888; }
}
"""


def _e(value: object) -> str:
    return escape("" if value is None else str(value))


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _school_cell(urn: object) -> str:
    """The child's school by URN, or plainly none (a child missing education often has none)."""
    if urn is None or _missing(urn) or str(urn).strip() == "":
        return "no school on roll"
    return f'URN <span class="code">{_e(str(urn))}</span>'


def _percent(value: float | None, digits: int = 1) -> str:
    if _missing(value):
        return "–"
    return f"{100 * float(value):.{digits}f}%"


def _metric(name: str, value: float | None) -> str:
    """A metric at a precision a reader can use: rare-outcome figures keep two
    significant digits (0.12%, 0.0013), never "0.0%" or "0.000" for something small."""
    if _missing(value):
        return "–"
    value = float(value)
    if name in PERCENT_METRICS:
        points = 100 * value
        digits = (
            1
            if points == 0 or abs(points) >= 1
            else max(1, 1 - math.floor(math.log10(abs(points))))
        )
        return f"{points:.{digits}f}%"
    if value == 0 or abs(value) >= 0.1:
        return f"{value:.3f}"
    return f"{value:.2g}" if abs(value) >= 1e-4 else f"{value:.1e}"


def _count_cell(text: str) -> str:
    css = "num suppressed" if text.startswith("<") or text == SECONDARY else "num"
    return f'<td class="{css}">{_e(text)}</td>'


def _header(pack: LocalityPack, generated: datetime, synthetic: bool = False) -> str:
    run = pack.run
    published = run.published_at
    published_text = published.strftime("%Y-%m-%d %H:%M UTC") if published else "–"
    return (
        '<header><p class="marking">OFFICIAL-SENSITIVE: PERSONAL DATA ABOUT CHILDREN '
        "(PSEUDONYMISED). FOR THE INCLUSION PARTNERSHIP ONLY.</p>"
        f"<h1>Inclusion partnership meeting pack: {_e(pack.locality)}</h1>"
        f'<p class="meta">Week of Monday {run.as_of:%d %B %Y}. Scoring run '
        f'<span class="code">{_e(run.run_id)}</span>, published {_e(published_text)}. '
        f"Pack generated {generated:%Y-%m-%d %H:%M} UTC by cmooe-risk {_e(__version__)}.</p>"
        '<div class="judgement"><strong>These lists support professional judgement; they '
        "never decide alone.</strong> A place on a list is a prompt to look at a child's "
        "situation with those who know them, not a finding about the child or family. No "
        "decision about a child may rest on a score. Pupils appear by pseudonym and queue "
        "item number only; re-identification happens in the case management system, under "
        "the LA's own controls.</div>"
        + (
            '<p class="synthetic"><strong>Synthetic data.</strong> The models behind this '
            "pack were evaluated against a synthetic LA's true risk: every child here is "
            "made up, and no real child appears.</p>"
            if synthetic
            else ""
        )
        + "</header>"
    )


def _glance(
    pack: LocalityPack, threshold: int, schools: dict[str, str], band_names: Sequence[str]
) -> str:
    roll = show_count(pack.roll, threshold) if pack.roll is not None else "not recorded"
    kpis = [
        '<div class="kpi" id="kpi-roll"><span class="value">'
        f'{_e(roll)}</span><span class="label">children scored in {_e(pack.locality)} '
        "(on a school roll or known to the LA)</span></div>"
    ]
    rows, concentration = [], []
    for outcome in OUTCOMES:
        listed = pack.outcome_items(outcome)
        size = show_count(len(listed), threshold)
        new = show_count(int((listed["movement"] == "new").sum()), threshold)
        outstanding = show_count(pack.outstanding.get(outcome, 0), threshold)
        kpis.append(
            f'<div class="kpi" id="kpi-{outcome}"><span class="value">{_e(size)}</span>'
            f'<span class="label">on the {_TITLES[outcome].lower()} list '
            f"(capacity {pack.capacity})</span>"
            f'<span class="detail">{_e(new)} new this week · {_e(outstanding)} actions '
            "outstanding</span></div>"
        )
        bands = [int((listed["band"] == band).sum()) for band in band_names]
        cells = [_count_cell(size), _count_cell(new), _count_cell(outstanding)]
        cells += [_count_cell(text) for text in suppress_column(bands, threshold)]
        shares = (
            pack.run.manifest.get("school_concentration", {}).get(outcome, {}).get(pack.locality)
        )
        if shares and len(listed):
            concentration.append(
                f"the {_TITLES[outcome].lower()} list takes "
                f"{shares['top_school_share']:.0%} of its places from one school and "
                f"{shares['top_two_share']:.0%} from two"
            )
        rows.append(f"<tr><th>{_e(_TITLES[outcome])}</th>{''.join(cells)}</tr>")
    bands = "".join(f'<th class="num">{_e(band)}</th>' for band in band_names)
    table = (
        '<table class="headline" id="headline"><caption>This week\'s lists</caption><thead>'
        '<tr><th rowspan="2">List</th><th class="num" rowspan="2">On the list</th>'
        '<th class="num" rowspan="2">New this week</th>'
        '<th class="num" rowspan="2">Actions outstanding</th>'
        f'<th colspan="{len(band_names)}">On the list, by risk band</th></tr>'
        f"<tr>{bands}</tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
    )
    statuses = ", ".join(s.replace("_", " ") for s in OUTSTANDING)
    notes = (
        f'<p class="small">New this week: listed now and not last week. Actions outstanding: '
        f"this locality's open items with status {statuses}, listed this week or not. "
        "Bands compare a child's risk with the list's cut-off (the risk of the last child "
        "listed in the locality): very high is four times it or more, high twice or more. "
        + (
            "Places by school: " + "; ".join(concentration) + ". High shares mean one "
            "school's practice shapes the list; a cap per school is a setting, and training "
            "measures what it costs. "
            if concentration
            else ""
        )
        + "Counts from 1 to "
        f"{threshold - 1} are shown as &lt;{threshold}; {SECONDARY}: withheld so that a "
        "small count cannot be worked out from a total.</p>"
    )
    return (
        '<section id="glance"><h2>This week at a glance</h2><div class="kpis">'
        + "".join(kpis)
        + "</div>"
        + table
        + notes
        + _schools(pack, threshold, schools)
        + "</section>"
    )


def _schools(pack: LocalityPack, threshold: int, schools: dict[str, str]) -> str:
    listed = pack.items[pack.items["section"] == "list"]
    items = listed.assign(urn=listed["urn"].fillna(""))
    counts = items.groupby(["urn", "outcome"]).size().unstack(fill_value=0)
    counts = counts.reindex(columns=list(OUTCOMES), fill_value=0)
    if counts.empty:
        return "<p>No pupils are listed this week.</p>"
    counts = counts.sort_index(key=lambda index: index.map(lambda u: (u == "", u)))
    shown = {o: suppress_column([int(c) for c in counts[o]], threshold) for o in OUTCOMES}
    rows = []
    for position, urn in enumerate(counts.index):
        if urn:
            name = schools.get(urn, "")
            school = f'<span class="code">{_e(urn)}</span> {_e(name)}'
        else:
            school = "No school (home educated, missing education or awaiting a place)"
        cells = "".join(_count_cell(shown[o][position]) for o in OUTCOMES)
        rows.append(f"<tr><td>{school}</td>{cells}</tr>")
    heads = "".join(f'<th class="num">{_e(_TITLES[o])}</th>' for o in OUTCOMES)
    return (
        '<table class="schools" id="school-summary"><caption>Listed pupils by school '
        f"(school of the pupil's current enrolment)</caption><thead><tr><th>School (URN)</th>"
        f"{heads}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _bullets(sentences: Sequence[str]) -> str:
    if not sentences:
        return ""
    return "<ul>" + "".join(f"<li>{_e(s)}</li>" for s in sentences) + "</ul>"


def _pupil_row(row, trends: PupilTrends, as_of) -> str:
    pupil = str(row.pupil_pseudonym)
    if row.year_group in (None, ""):
        year = "year not recorded"
    else:
        year = "Reception" if row.year_group == "R" else f"Year {row.year_group}"
    band = str(row.band or "typical")
    movement = _MOVEMENT.get(str(row.movement), str(row.movement))
    if not row.changes_known:
        changes = '<div class="changes small">What changed: not kept for earlier weeks.</div>'
    elif row.changes:
        changes = (
            '<div class="changes"><strong>Since last week:</strong>'
            + _bullets(row.changes)
            + "</div>"
        )
    else:
        changes = '<div class="changes small">No change in the main figures since last week.</div>'
    rates = trends.attendance(pupil)
    suspensions = trends.suspensions(pupil)
    permanent = trends.permanent_exclusions(pupil)
    known = [r for r in rates if r is not None]
    attendance = (
        f"latest {known[-1]:.0%}, lowest {min(known):.0%}" if known else "no attendance marks"
    )
    events = counted(len(suspensions), "suspension") if suspensions else "no suspensions"
    if permanent:
        events += ", permanent exclusion"
    sparkline = attendance_sparkline(rates, weeks_to=as_of)
    timeline = suspension_timeline(suspensions, as_of=as_of, permanent=permanent)
    status = str(row.status).replace("_", " ")
    return (
        f'<tr class="pupil" data-item="{int(row.item_id)}">'
        f'<td class="num">{int(row.rank)}</td>'
        f'<td class="who"><span class="code pseudonym">{_e(shown(pupil))}</span><br>'
        f'<span class="small">item {int(row.item_id)}</span><br>'
        f"{_school_cell(row.urn)}<br>{_e(year)}</td>"
        f'<td class="risk"><span class="band band-{band.replace(" ", "-")}">{_e(band)}</span> '
        f"{_percent(row.risk)}<br>"
        f'<span class="small">{_e(movement)}</span><br>'
        f'<span class="status">Status: <strong>{_e(status)}</strong></span></td>'
        f'<td class="why">{_bullets(row.reasons)}{changes}</td>'
        f'<td class="trend">{sparkline}<div class="small">{_e(attendance)}</div>'
        f'{timeline}<div class="small">{_e(events)}</div></td>'
        "</tr>"
    )


def _outcome_list(pack: LocalityPack, outcome: str, trends: PupilTrends) -> str:
    listed = pack.outcome_items(outcome)
    title = _TITLES[outcome]
    roll = f" of {pack.roll:,} children" if pack.roll else ""
    intro = (
        f"<p>The {len(listed)} children{roll} in {_e(pack.locality)} with the highest "
        f"estimated risk of {_e(_WHAT[outcome])} in the next 13 weeks, as of "
        f"{pack.run.as_of:%d %B %Y}. Reasons are the model's three largest contributions, "
        "in the child's own figures; check them against what you know.</p>"
        f'<p class="legend">Attendance: share of possible sessions attended, week by week, '
        f"for the {TREND_WEEKS} weeks before the as-of date (dashed line: 90%, below which "
        "a pupil is persistently absent; red dots: weeks below it; gaps: no sessions). "
        "Suspensions: the 12 months before the as-of date, a tick per month; dots are "
        "suspensions, a dark square a permanent exclusion. Status: the caseworker's status "
        "of the item now.</p>"
    )
    if listed.empty:
        body = "<p>No pupils are listed for this outcome this week.</p>"
    else:
        rows = "".join(_pupil_row(row, trends, pack.run.as_of) for row in listed.itertuples())
        body = (
            f'<table class="pupils" id="list-{outcome}"><thead><tr><th class="num">#</th>'
            "<th>Pupil</th><th>Risk</th><th>Why on the list</th>"
            "<th>Attendance and suspensions</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>"
        )
    return (
        f'<section class="page outcome-list" id="section-{outcome}">'
        f"<h2>{_e(title)}: ranked list</h2>{intro}{body}"
        f"{_known_cases(pack, outcome)}</section>"
    )


def _known_cases(pack: LocalityPack, outcome: str) -> str:
    """Children who already have the outcome: cases to work, listed apart, never ranked."""
    known = pack.known_cases(outcome)
    if known.empty:
        return ""
    rows = []
    for row in known.itertuples():
        if row.year_group in (None, ""):
            year = "year not recorded"
        else:
            year = "Reception" if row.year_group == "R" else f"Year {row.year_group}"
        status = str(row.status).replace("_", " ")
        rows.append(
            f'<tr data-item="{int(row.item_id)}"><td class="who"><span class="code pseudonym">'
            f"{_e(shown(row.pupil_pseudonym))}</span><br>"
            f'<span class="small">item {int(row.item_id)}</span></td>'
            f"<td>{_school_cell(row.urn)}<br>{_e(year)}</td>"
            f"<td>{_bullets(row.reasons)}</td><td>{_e(status)}</td></tr>"
        )
    return (
        f'<h3 id="known-{outcome}">Known cases ({len(known)})</h3>'
        "<p>Children who already have the outcome, so they take no place on the ranked "
        "list above: the service knows of them already. They are shown so that the "
        "meeting sees the whole picture, not because of any score.</p>"
        f'<table class="known" id="known-cases-{outcome}"><thead><tr><th>Pupil</th>'
        "<th>School and year</th><th>Known because</th><th>Status</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _fairness(pack: LocalityPack, threshold: int) -> str:
    parts = [
        '<section class="page" id="fairness"><h2>Fairness of this week\'s lists</h2>'
        "<p>Who is on the live lists of the whole LA, compared with who is on its roll, by "
        "group. The audit runs every week with the scoring; outcomes are not known yet, so "
        "it can show who is selected, not whether the selection is right. Groups with "
        f"fewer than {threshold} children are suppressed.</p>"
    ]
    for outcome in OUTCOMES:
        result = pack.fairness.get(outcome)
        parts.append(f"<h3>{_e(_TITLES[outcome])}</h3>")
        if result is None:
            parts.append(
                '<p class="notes">No live-list fairness audit was found for this week '
                f"(runs/{pack.run.as_of}/live-fairness-{outcome}.json).</p>"
            )
            continue
        parts.append(_fairness_outcome(result, threshold, outcome))
    config = next(
        (r.metadata.get("config", {}) for r in pack.fairness.values() if r is not None), {}
    )
    low, high = config.get("flag_ratio_low", 0.8), config.get("flag_ratio_high", 1.25)
    rate = config.get("false_discovery_rate", 0.05)
    parts.append(
        '<p class="small">A ratio is flagged when its whole 95% confidence interval lies '
        f"outside {low:g} to {high:g} and it stands out among all the groups compared "
        f"(false discovery rate {rate:.0%}), a convention for drawing attention to a gap, "
        "not a law: a flag is a prompt to look closer, and its absence does not show that a "
        "list is fair. Detailed ethnic groups are audited too; their full table, and "
        "differences that did not stand out, are in the analyst's audit in the run folder "
        "(live-fairness-*.html).</p></section>"
    )
    return "".join(parts)


#: Flagged ratios the pack names in words for each list; the rest are marked in its table.
PACK_FLAGS = 5


def _fairness_outcome(result, threshold: int, outcome: str) -> str:
    from cmooe_risk.audit import NOT_CROSSED, OVERALL, attribute_title, group_labels

    flags = result.flags
    if flags.empty:
        box = '<div class="ok">No ratio was flagged.</div>'
    else:
        # The table below shows each group's share of the list against its share of the
        # roll, so the box names those flags (most certain first) and leaves comparisons
        # between two groups, which say the same thing twice, to the analyst's audit.
        shares = flags[flags["versus"] == OVERALL] if "versus" in flags else flags
        shares = shares if not shares.empty else flags
        shown = shares.head(PACK_FLAGS)
        n, rest = len(shares), len(shares) - len(shown)
        items = "".join(f"<li>{_e(s)}</li>" for s in shown["sentence"])
        more = (
            f'<p class="small">{counted(rest, "more flagged ratio")} '
            f"{'is' if rest == 1 else 'are'} marked ⚑ in the table.</p>"
            if rest
            else ""
        )
        box = (
            f'<div class="flags"><strong>{counted(n, "flagged ratio")}</strong>'
            f"<ol>{items}</ol>{more}"
            '<p class="small">Children with more recorded risk factors (free school meals, '
            "special educational needs, children's social care) are expected to be "
            "over-represented on a list of risk: a flag asks whether the size of the gap is "
            "what the meeting would expect, not only whether there is one.</p></div>"
        )
    groups = result.groups
    # The detailed ethnic groups are audited (their flags are in the box above), but
    # their table, mostly of small suppressed groups, stays in the analyst's report.
    groups = groups[
        (groups["kind"] == "attribute")
        & (groups["attribute"] != OVERALL)
        & ~groups["attribute"].isin(NOT_CROSSED)
    ]
    comparisons = result.comparisons
    ratio = comparisons[
        (comparisons["metric"] == "selection_rate") & (comparisons["versus"] == OVERALL)
    ].set_index(["attribute", "group"])
    rows = []
    for attribute, block in groups.groupby("attribute", sort=False):
        first = True
        for _, group in block.iterrows():
            name = group_labels(attribute, group["group"])
            head = (
                f'<th rowspan="{len(block)}">{_e(attribute_title(attribute))}</th>' if first else ""
            )
            first = False
            if group["suppressed"]:
                cells = (
                    f'<td class="suppressed" colspan="4">suppressed (fewer than {threshold})</td>'
                )
            else:
                raw = group.get("selected")
                selected = 0 if _missing(raw) else round(float(raw))
                listed = show_count(selected, threshold)
                if 0 < selected < threshold:
                    share, ratio_text = "–", "–"
                elif selected == 0:
                    # a ratio of 0 with a bootstrap CI of 0 to 0 says nothing more than this
                    share, ratio_text = "0%", "none listed"
                else:
                    share = _percent(group.get("share_of_list"))
                    key = (attribute, group["group"])
                    ratio_text = "–"
                    if key in ratio.index:
                        r = ratio.loc[key]
                        if not _missing(r["ratio"]):
                            ratio_text = f"{r['ratio']:.2f}"
                            if not _missing(r["ratio_ci_low"]):
                                ratio_text += f" ({r['ratio_ci_low']:.2f}–{r['ratio_ci_high']:.2f})"
                            if bool(r["flagged"]):
                                ratio_text = "⚑ " + ratio_text
                cells = (
                    f'<td class="num">{_percent(group.get("share_of_roll"))}</td>'
                    f"{_count_cell(listed)}"
                    f'<td class="num">{share}</td><td class="num">{_e(ratio_text)}</td>'
                )
            rows.append(f"<tr>{head}<td>{_e(name)}</td>{cells}</tr>")
    table = (
        f'<table class="fairness" id="fairness-{outcome}"><thead><tr><th>Attribute</th>'
        '<th>Group</th><th class="num">Share of roll</th><th class="num">On the lists</th>'
        '<th class="num">Share of lists</th><th class="num">List share ÷ roll share '
        "(95% CI)</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
    )
    return box + table


def _policies_note(card: ChampionCard) -> str:
    """The list by school, and what spreading it across schools would cost, in words."""
    if card.concentration is None:
        return ""
    top, two = card.concentration
    text = (
        f"In the backtest, {top:.0%} of a list's places on average went to the school with "
        f"most children on it, and {two:.0%} to the top two."
    )
    words = {
        "within_school": "ranking children within their own school",
        "school_cap": f"capping each school's places (at {card.tags.get('cmooe.school_cap_measured', 'a')})",
    }
    for policy, (precision, ratio, low, high) in card.policies.items():
        if _missing(ratio):
            continue
        change = (
            "about the same precision"
            if not _missing(low) and low <= 1 <= high
            else f"{abs(1 - ratio):.0%} {'lower' if ratio < 1 else 'higher'} precision"
        )
        text += f" {words[policy].capitalize()} would give {change} ({_percent(precision)})."
    return text


def _model_card(cards: Sequence[ChampionCard]) -> str:
    parts = [
        '<section class="page" id="model-card"><h2>About the models (model card)</h2>',
        f"<h3>Purpose</h3><p>{_e(PURPOSE)}</p>",
        f"<h3>Data</h3><p>{_e(DATA.format(features=len(load_catalog().model_features)))}</p>",
        "<h3>How well the models did in their backtest</h3>"
        "<p>Measured on past weeks the models never saw in training (temporal test "
        "windows), where the lists are used: each locality's top k every term-time Monday. "
        "The ranges are 95% bootstrap confidence intervals over pupils.</p>",
    ]
    from cmooe_risk.train import describe_model  # here: train's import is heavy

    for card in cards:
        title = _TITLES.get(card.outcome, card.outcome)
        parts.append(
            f"<h3>{_e(title)}: {_e(describe_model(card.model))}</h3>"
            f'<p class="small">Model <span class="code">{_e(card.model)}</span>, version '
            f"{_e(card.version)} of cmooe-{_e(card.outcome)}; MLflow run "
            f'<span class="code">{_e(card.run_id[:12])}</span>.</p>'
        )
        if card.error:
            parts.append(f'<p class="notes">Metrics unavailable: {_e(card.error)}.</p>')
            continue
        rows = []
        for name, label in CARD_METRICS.items():
            if name not in card.metrics:
                continue
            value, low, high = card.metrics[name]
            ci = "–" if _missing(low) else f"{_metric(name, low)} to {_metric(name, high)}"
            rows.append(
                f'<tr data-metric="{_e(name)}"><td>{_e(label)}</td>'
                f'<td class="num">{_metric(name, value)}</td><td class="num">{_e(ci)}</td></tr>'
            )
        parts.append(
            f'<table class="metrics" id="metrics-{_e(card.outcome)}"><thead><tr><th>Metric</th>'
            '<th class="num">Value</th><th class="num">95% CI</th></tr></thead><tbody>'
            + "".join(rows)
            + "</tbody></table>"
        )
        findings = [
            card.tags.get("cmooe.recommendation", ""),
            card.tags.get("cmooe.calibration_note", ""),
            _policies_note(card),
        ]
        findings = [f for f in findings if f]
        if findings:
            parts.append(
                f'<ul class="findings" id="findings-{_e(card.outcome)}">'
                + "".join(f"<li>{_e(f)}</li>" for f in findings)
                + "</ul>"
            )
        notes = []
        if card.ceiling_ratio is not None and not _missing(card.ceiling_ratio):
            notes.append(
                f"On this synthetic LA, its precision at capacity is {card.ceiling_ratio:.0%} of "
                "the best the LA's records allow (the recorded-data ceiling)"
                + (
                    f", and {card.oracle_ratio:.0%} of what knowing each child's true state "
                    "would achieve."
                    if card.oracle_ratio is not None and not _missing(card.oracle_ratio)
                    else "."
                )
            )
        elif card.oracle_ratio is not None and not _missing(card.oracle_ratio):
            notes.append(
                f"On this synthetic LA, its precision at capacity is {card.oracle_ratio:.0%} of "
                "what the true risk would achieve (the oracle)."
            )
        accepted = card.tags.get("cmooe.fairness.accepted_risk")
        if accepted:
            notes.append(f"Promoted with a recorded fairness risk: “{accepted}”.")
        if notes:
            parts.append(f'<p class="small">{_e(" ".join(notes))}</p>')
    parts.append(
        '<h3>Known limits, including the published record of such models</h3><ul id="limits">'
        + "".join(f"<li>{_e(text)}</li>" for text in LIMITS)
        + "</ul>"
    )
    parts.append(
        f'<h3>Intended use</h3><div class="judgement"><p>{_e(INTENDED_USE)}</p></div></section>'
    )
    return "".join(parts)


def render_pack(
    pack: LocalityPack,
    trends: PupilTrends,
    cards: Sequence[ChampionCard],
    *,
    threshold: int = 10,
    schools: dict[str, str] | None = None,
    bands: Sequence[str] = BANDS,
    generated: datetime | None = None,
) -> str:
    """One locality's meeting pack as a self-contained HTML page.

    Parameters
    ----------
    pack : LocalityPack
        From :func:`~cmooe_risk.report.locality_pack`.
    trends : PupilTrends
        Weekly attendance and suspensions of (at least) the pack's listed pupils.
    cards : sequence of ChampionCard
        The models that scored the week, with their backtest metrics.
    threshold : int, default 10
        Counts of children from 1 to ``threshold - 1`` in summaries are shown as
        ``<threshold``; the ranked lists themselves are not suppressed.
    schools : dict, optional
        URN -> school name for the school summary.
    bands : sequence of str
        Risk band names, most severe first (``queue.band_multiples`` and ``typical``).
    generated : datetime, optional
        Time stamp printed in the header (UTC); default now.

    Returns
    -------
    str
        The HTML document: inline CSS and SVG, no scripts and no external resources.
    """
    generated = generated or datetime.now(UTC)
    title = f"Meeting pack: {pack.locality}, week of {pack.run.as_of.isoformat()}"
    body = [
        # a model evaluated against the ground truth was trained on a synthetic LA
        _header(pack, generated, any(card.oracle_ratio is not None for card in cards)),
        _glance(pack, threshold, schools or {}, bands),
        *(_outcome_list(pack, outcome, trends) for outcome in OUTCOMES),
        _fairness(pack, threshold),
        _model_card(cards),
        "<footer>"
        + _e(
            f"cmooe-risk {__version__}. {pack.locality}, week of {pack.run.as_of}; run "
            f"{pack.run.run_id}. Counts below {threshold} in summaries are suppressed. "
            "Pseudonymised data: do not copy beyond the partnership; destroy printed copies "
            "after the meeting."
        )
        + "</footer>",
    ]
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>"
        + "".join(body)
        + "</body></html>\n"
    )
