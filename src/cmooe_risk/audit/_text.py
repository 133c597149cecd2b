"""Plain-English wording of the audit: metric names, flag sentences and caveats."""

from __future__ import annotations

from cmooe_risk.audit._config import FairnessConfig
from cmooe_risk.audit._groups import (
    ALL_PUPILS,
    INTERSECTION,
    OVERALL,
    attribute_title,
    value_label,
)
from cmooe_risk.metric_registry import AUDIT_METRICS

__all__ = [
    "METRIC_TITLES",
    "caveats",
    "describe_group",
    "flag_sentence",
    "suppression_reason",
]

#: Column headings of the metrics (``metric_registry``).
METRIC_TITLES = {metric.name: metric.title for metric in AUDIT_METRICS}


#: Groups as a sentence names them ("girls", "pupils on SEN support"), where the
#: attribute's title and value alone read awkwardly ("Sex: F").
_GROUP_PHRASES = {
    # the census codes, and the words the weekly job's live audit carries
    "sex": {"F": "girls", "M": "boys", "Female": "girls", "Male": "boys"},
    "fsm": {
        "1": "pupils eligible for free school meals",
        "0": "pupils not eligible for free school meals",
    },
    "sen": {
        "E": "pupils with an EHC plan",
        "K": "pupils on SEN support",
        "N": "pupils with no special educational needs recorded",
    },
    "eal": {
        "1": "pupils with English as an additional language",
        "0": "pupils with English as their first language",
    },
    "care": {
        "CLA": "looked-after children",
        "CIN-CPP": "children in need or on a protection plan",
        "none": "pupils known to neither children's social care service",
    },
}


def _group_phrase(attribute: str, value: str) -> str:
    phrase = _GROUP_PHRASES.get(attribute, {}).get(value)
    if phrase:
        return phrase
    if attribute.startswith("ethnicity"):
        return f"pupils recorded as {value_label(attribute, value)}"
    return f"pupils with {attribute_title(attribute)}: {value_label(attribute, value)}"


def describe_group(attribute: str, group: str) -> str:
    """The group as a sentence names it: ``"girls"``, ``"pupils on SEN support"``; a pair
    of attributes as ``"pupils who are in both groups (girls; pupils on SEN support)"``."""
    if attribute == OVERALL or group == ALL_PUPILS:
        return "pupils overall"
    attributes = attribute.split(INTERSECTION)
    values = group.split(INTERSECTION)
    if len(attributes) != len(values):
        return f"pupils in group {group!r} of {attribute}"
    parts = [_group_phrase(a, v) for a, v in zip(attributes, values, strict=True)]
    if len(parts) == 1:
        return parts[0]
    return "pupils who are in both groups (" + "; ".join(parts) + ")"


def _times(ratio: float) -> str:
    return f"{ratio:.2f} times"


def flag_sentence(
    metric: str,
    kind: str,
    attribute: str,
    group: str,
    versus: str,
    reference_group: str,
    ratio: float,
    ci_low: float,
    ci_high: float,
    outcome: str,
) -> str:
    """One sentence a partnership meeting can read, for one flagged ratio."""
    who = describe_group(attribute, group)
    than = "pupils overall" if versus == OVERALL else describe_group(attribute, reference_group)
    ci = f"(95% CI {ci_low:.2f} to {ci_high:.2f})"
    more = ratio > 1
    x = _times(ratio)
    if metric == "selection_rate":
        if kind == "live" and versus == OVERALL:
            text = (
                f"{who} make up {x} as large a share of the current list as of the roll {ci}: "
                f"{'over' if more else 'under'}-represented on the list"
            )
        else:
            text = f"{who} were put on the list {x} as often as {than} {ci}"
    elif metric == "tpr":
        text = (
            f"among pupils who went on to have the outcome ({outcome}), {who} were on the "
            f"list {x} as often as {than} {ci}: the list "
            f"{'finds more' if more else 'misses more'} of them"
        )
    elif metric == "fpr":
        text = (
            f"among pupils who did not go on to have the outcome ({outcome}), {who} were on "
            f"the list {x} as often as {than} {ci}: "
            f"{'more' if more else 'fewer'} false alarms for them"
        )
    elif metric == "precision":
        text = (
            f"a listed pupil among {who} was {x} as likely to go on to have the outcome "
            f"({outcome}) as a listed pupil among {than} {ci}"
        )
    elif metric == "predicted_truth_ratio":
        text = (
            f"measured against true (behaviour-driven) risk, the scores of {who} are {x} "
            f"as high as those of {than} {ci}: the model {'over' if more else 'under'}-"
            "predicts for them relative to their behaviour"
        )
    elif metric == "recorded_truth_ratio":
        text = (
            f"outcomes ({outcome}) are recorded for {who} {x} as often, relative to their "
            f"true (behaviour-driven) risk, as for {than} {ci}: the records, and so any "
            f"model trained on them, {'over' if more else 'under'}state their risk"
        )
    elif metric == "calibration_ratio":
        text = (
            f"the model's predicted risk for {who}, against their recorded outcomes, is "
            f"{x} that of {than} {ci}: it {'over' if more else 'under'}states their risk"
        )
    else:
        title = METRIC_TITLES.get(metric, metric)
        text = f"{title} of {who} is {x} that of {than} {ci}"
    return text[0].upper() + text[1:] + "."


def suppression_reason(reason: str, config: FairnessConfig, outcome: str) -> str:
    """What is withheld for a group and why, in words; ``reason`` is ``"pupils"`` or
    ``"positives"``."""
    if reason == "pupils":
        return f"all figures withheld (fewer than {config.min_group_size} pupils)"
    return (
        f"figures that count outcomes withheld (fewer than {config.min_group_positives} "
        f"pupils with {outcome}); its selection rate and predicted risk are still shown"
    )


def caveats(
    config: FairnessConfig, kind: str, has_truth: bool, n_boot: int, outcome: str
) -> tuple[str, ...]:
    """What every reader of the figures should keep in mind, in plain English."""
    low, high = config.flag_ratio_low, config.flag_ratio_high
    notes = [
        f"A ratio is flagged when its whole 95% confidence interval lies outside "
        f"{low:g} to {high:g}. That band echoes the 'four-fifths rule' (80%). As "
        "fairlearn's documentation stresses, the four-fifths rule comes from one area of "
        "US employment law and has no validity outside it: it is a convention for drawing "
        "attention to a gap, not a law of nature, and neither a flag nor its absence shows "
        "that the list is fair or unfair.",
        "Many groups and metrics are compared, so some ratios fall outside the band by "
        "chance. Each ratio is tested against the band and the Benjamini–Hochberg procedure "
        f"keeps the expected share of chance flags below {config.false_discovery_rate:.0%}, "
        "separately for the comparisons the promotion gate rests on and for the rest; "
        "a pair of attributes is flagged only where it differs beyond both attributes on "
        "their own. Ratios outside the band that do not survive are listed for the analyst, "
        "not flagged. Treat a flag as a prompt to look closer, not as a finding.",
        "Selection is measured where the list is used: on each as-of date each locality's "
        "caseworkers take the top k pupils by score (k = the locality's capacity), not a "
        "0.5 threshold. Where tied scores straddle the cut-off, each tied pupil counts as "
        "selected with the same fractional probability (random tie-breaking).",
        f"Confidence intervals come from {n_boot} bootstrap replicates that resample pupils, "
        "so a pupil's weeks stay together; intersections and small groups have wide "
        "intervals.",
        f"Groups with fewer than {config.min_group_size} pupils are suppressed, as in "
        "official statistics: no figures are shown or flagged for them."
        + (
            f" Groups with fewer than {config.min_group_positives} pupils with the outcome "
            "have the figures that count outcomes withheld (recall, false positive rate, "
            "precision, observed rate, calibration); their selection rate and predicted "
            "risk need no outcomes and are shown."
            if kind == "labelled"
            else ""
        )
        + " Secondary suppression is not applied: where one group of an attribute is "
        "suppressed, its size can be estimated from the others and the total, so check "
        "before publishing beyond the partnership.",
    ]
    if kind == "labelled":
        notes.append(
            "A higher selection rate is expected for a group whose recorded rate of "
            f"{outcome} is higher; the true and false positive rates and precision compare "
            "pupils with the same outcome. But the outcomes are as recorded: if schools "
            "exclude some groups more often for the same behaviour, a model can match the "
            "records and still over-select those groups."
        )
    else:
        notes.append(
            "A live list has no outcomes yet: a group's share of the list is compared with "
            "its share of the roll. Over-representation can reflect genuinely higher need; "
            "read it alongside the labelled audit of past lists."
        )
    if has_truth:
        notes.append(
            "'True risk' is the frame's truth column, e.g. the synthetic LA's "
            "behaviour-driven risk without recording bias; it does not exist for a real LA. "
            "Predicted ÷ true risk above 1 means the scores over-predict against it; "
            "compare groups by the ratio of their ratios, since the truth may be on a "
            "different overall scale."
        )
    return tuple(notes)
