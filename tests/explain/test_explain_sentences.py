"""Sentences: every catalog template renders, with the pupil's figures, in order."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from tests.explain.conftest import FEATURES, hand_made

from cmooe_risk.explain import WHEN_MISSING, explain
from cmooe_risk.explain._inputs import template_fields
from cmooe_risk.explain._render import missing_sentence, render
from cmooe_risk.features import Feature, load_catalog

#: Plausible values of each unit, for rendering every template.
PLAUSIBLE = {
    "rate": [0.0, 0.07, 0.815, 1.0],
    "count": [0, 1, 4],
    "days": [0, 3, 180],
    "weeks": [1, 52],
    "sessions": [0, 6, 380],
    "flag": [0, 1],
    "years": [4.5, 15.9],
    "category": [1, 9, 13],
    "decile": [1, 10],
    "per_week": [-0.021, 0.004],
}
CATEGORIES = {"sex": ["F", "M"], "ethnicity_major": ["White", "Asian"]}


def _render(feature: Feature, values, **others) -> list[str]:
    values = np.asarray(values, dtype=object if feature.dtype == "category" else float)
    columns = {"value": values}
    for name in template_fields(feature.template):
        columns[name] = np.full(len(values), others.get(name, 0.9))
    return list(render(feature, columns))


@pytest.mark.parametrize("feature", load_catalog().features, ids=lambda f: f.name)
def test_every_catalog_template_renders_with_plausible_values(feature) -> None:
    values = CATEGORIES.get(feature.name, PLAUSIBLE[feature.unit])
    if feature.unit == "rate" and "minus" in feature.description:
        values = [-0.25, 0.0, 0.05]  # a change in rate
    sentences = _render(feature, values)
    for sentence in sentences:
        assert sentence
        assert not any(bad in sentence for bad in ("{", "}", "nan", "None", "not recorded"))
    if "{value" in feature.template:
        assert len(set(sentences)) == len(values), sentences
    # A missing value never renders as "nan": it falls back to a sentence of its own.
    missing = _render(feature, [None if feature.dtype == "category" else np.nan])
    assert missing == [missing_sentence(feature)]
    assert "nan" not in missing[0].lower().split()


def test_sentences_use_the_pupils_own_figures() -> None:
    catalog = load_catalog()

    def one(name, value, **others):
        return _render(catalog.feature(name), [value], **others)[0]

    assert one("attendance_rate_6w", 0.81) == "Attendance 81% over the last 6 weeks"
    assert one("suspensions_13w", 2) == "2 suspensions in the last 13 weeks"
    assert one("suspensions_13w", 1) == "1 suspension in the last 13 weeks"
    assert one("attendance_change_6w", -0.12, attendance_rate_6w=0.81) == (
        "Attendance fell by 12 percentage points in the last 6 weeks against the 7 weeks "
        "before (81% now)"
    )
    assert one("nc_year", 9.0) == "In Year 9"
    assert one("cin_current", 1) == "Child in need now"
    # A flag's template states the "yes" case; at 0 saying it would be false.
    assert one("cin_current", 0) == "Child in need now: no"
    assert one("days_since_last_suspension", np.nan) == "No suspension on record"
    assert one("attendance_rate_6w", np.nan) == (
        "Share of possible sessions attended in the 6 weeks before the as-of date: not recorded"
    )
    # Missing in another feature the template shows is missing too.
    assert one("attendance_change_6w", -0.12, attendance_rate_6w=np.nan).endswith("not recorded")


def test_a_value_the_format_cannot_take_falls_back_to_the_description() -> None:
    feature = Feature(
        name="odd", description="An odd feature.", domain="context", unit="count",
        window="ever", template="{value:d} odd things",
    )  # fmt: skip
    assert _render(feature, [2.5, np.nan]) == [
        "An odd feature: 2.5",
        "An odd feature: not recorded",
    ]


def test_missing_wordings_name_catalog_features_that_can_be_empty() -> None:
    catalog = load_catalog()
    for name in WHEN_MISSING:
        assert "empty if" in catalog.feature(name).description, name


def test_reasons_and_protective_factors_follow_the_catalog_direction() -> None:
    # attendance_rate_6w, attendance_rate_13w, attendance_change_6w: more lowers the risk;
    # suspensions_52w, cin_current: more raises it; days_since_last_suspension: lowers
    features = FEATURES[:6]
    typical = {
        "attendance_rate_6w": 0.95,
        "attendance_rate_13w": 0.95,
        "attendance_change_6w": 0.0,
        "suspensions_52w": 0.0,
        "cin_current": 0.0,
        "days_since_last_suspension": 100.0,
    }
    frame, predictions = hand_made(
        [
            [0.5, -0.2, 0.9, 0.3, -0.7, 0.1],
            [0.4, 0.4, 0.0, 0.4, -0.2, -0.3],
        ],
        values=[
            # attendance low (risk side), 13w high (protective), change down (risk),
            # 2 suspensions (risk), not in need (protective), 20 days (risk side)
            [0.70, 0.97, -0.10, 2, 0, 20],
            # attendance high yet "raising" risk (an interaction): on the protective side,
            # so no reason; 0 suspensions "raising" risk: not a reason either
            [0.99, 0.99, 0.0, 0, 0, 300],
        ],
        features=features,
        index=pd.Index(["p1", "p2"], name="pupil_pseudonym"),
    )
    why = explain(frame, predictions, top=3, protective=2, min_abs=0.15, typical=typical)
    items = why.frame
    pick = lambda row, kind: items.loc[[row]].query("kind == @kind")["feature"].tolist()  # noqa: E731
    assert pick("p1", "reason") == [features[2], features[0], features[3]]
    assert pick("p1", "protective") == [features[4], features[1]]
    assert pick("p2", "reason") == []  # nothing on the risk side raised the risk
    assert pick("p2", "protective") == [features[5], features[4]]
    assert list(items.columns) == [
        "row", "kind", "rank", "feature", "domain", "value", "contribution", "effect", "sentence",
    ]  # fmt: skip
    sentences = why.sentences()
    assert sentences.index.equals(predictions.index)
    assert sentences["p2"] == []  # fewer than three reasons is the honest answer
    assert why.sentences("protective", annotate=True)["p1"][0].endswith("(lowers risk)")


def test_school_facts_are_school_context_not_reasons() -> None:
    frame, predictions = hand_made(
        [[0.9, 0.2]],
        values=[[0.4, 1]],
        features=["school_prior_year_suspension_rate", "cin_current"],
    )
    why = explain(
        frame, predictions, typical={"school_prior_year_suspension_rate": 0.1, "cin_current": 0}
    )
    assert why.sentences("reason").iloc[0] == ["Child in need now"]
    school = why.sentences("school").iloc[0]
    assert school == [
        "Their school's suspension rate last school year was 40 per 100 pupils (raises risk)"
    ]
    summary = why.summary()
    assert summary["why_1"].iloc[0] == "Child in need now"
    assert summary["school_1"].iloc[0] == school[0]


@pytest.mark.parametrize("name", ["lightgbm", "logistic", "rules_checklist"])
def test_no_sentence_contradicts_the_direction(name, scorers, toy_test) -> None:
    """Property over every toy pupil: a reason raises the risk from the risk side, a
    protective factor lowers it from the protective side, and nothing without a
    direction is either."""
    predictions = scorers[name].predict(toy_test)
    why = explain(toy_test, predictions)
    catalog = load_catalog()
    medians = toy_test.median(numeric_only=True)
    assert why.sentences().map(len).le(3).all()
    for row in why.frame.itertuples():
        feature = catalog.feature(row.feature)
        direction = feature.direction_for(None)
        assert direction != "either", row.feature
        value, typical = row.value, medians[row.feature]
        if row.kind == "reason":
            assert row.contribution > 0
            assert value > typical if direction == "raises" else value < typical, row
        elif row.kind == "protective":
            assert row.contribution < 0
            if not np.isnan(value):
                assert value <= typical if direction == "raises" else value >= typical, row
    # Within a row and kind, contributions never increase down the ranks.
    for kind, sign in (("reason", 1), ("protective", -1)):
        block = why.frame[why.frame["kind"] == kind]
        step = block.groupby("row")["contribution"].diff().dropna() * sign
        assert (step <= 0).all()


def test_summary_and_records_are_one_json_ready_row_per_pupil(scorers, toy_test) -> None:
    frame = toy_test.set_index(pd.Index([f"pupil{i}" for i in range(len(toy_test))], name="pupil"))
    predictions = scorers["rules_checklist"].predict(frame)
    why = explain(frame, predictions)
    summary = why.summary()
    assert summary.index.equals(frame.index)
    assert {"risk", "raw_score", "attendance", "why_3", "why_3_feature", "protective_2"} <= set(
        summary.columns
    )
    records = why.records()
    assert len(records) == len(frame)
    assert records[0]["pupil"] == "pupil0"
    text = json.dumps(records, allow_nan=False)  # no NaN: missing is null
    assert "why_1" in text
    assert records[0]["why_1"] == why.sentences().iloc[0][0]


def test_bad_arguments_are_named() -> None:
    frame, predictions = hand_made([[0.1, 0.2, 0.3], [0.3, 0.2, 0.1]])
    with pytest.raises(ValueError, match="top must be a whole number >= 0; got -1"):
        explain(frame, predictions, top=-1)
    with pytest.raises(ValueError, match="min_abs must be a finite number >= 0; got nan"):
        explain(frame, predictions, min_abs=float("nan"))
    with pytest.raises(ValueError, match="same index"):
        explain(frame.iloc[::-1], predictions)
    with pytest.raises(ValueError, match=r"lacks column.*'attendance_change_6w'"):
        explain(frame.drop(columns="attendance_change_6w"), predictions)
    with pytest.raises(ValueError, match="'attendance_rate_6w'"):
        # attendance_change_6w's template shows attendance_rate_6w, so it is needed.
        explain(*hand_made([[0.1]], features=["attendance_change_6w"]))
    _, renamed = hand_made([[0.1]], features=["not_a_feature"])
    with pytest.raises(ValueError, match="not in the feature catalog: not_a_feature"):
        explain(frame, renamed)
    with pytest.raises(ValueError, match=r"lacks column.*raw_score"):
        explain(frame, predictions.drop(columns="raw_score"))
    text = frame.astype({"attendance_rate_13w": object})
    text.loc[0, "attendance_rate_13w"] = "high"
    with pytest.raises(ValueError, match="column 'attendance_rate_13w' is not numeric"):
        explain(text, predictions)
    with pytest.raises(ValueError, match="kind must be one or more of"):
        explain(frame, predictions).sentences("reasons")


def test_no_rows_and_more_reasons_than_features() -> None:
    frame, predictions = hand_made([[0.1, 0.2, 0.3]], values=[[0.5, 0.5, -0.5]])
    empty = explain(frame.iloc[:0], predictions.iloc[:0])
    assert empty.frame.empty
    assert empty.sentences().empty
    assert len(empty.summary()) == 0
    # Asking for more than the model has gives every qualifying feature once.
    typical = {"attendance_rate_6w": 0.9, "attendance_rate_13w": 0.9, "attendance_change_6w": 0}
    why = explain(frame, predictions, top=10, protective=10, typical=typical)
    assert why.frame["feature"].tolist() == ["attendance_change_6w", "attendance_rate_13w",
                                             "attendance_rate_6w"]  # fmt: skip
    assert why.sentences().iloc[0][0] == (
        "Attendance fell by 50 percentage points in the last 6 weeks against the 7 weeks "
        "before (50% now)"
    )


def _plurals(template: str) -> list[tuple[str, str]]:
    """The (one, many) pairs of a template's {value:plural:ONE:MANY} fields."""
    import string

    pairs = []
    for _, field, spec, _ in string.Formatter().parse(template):
        if field == "value" and spec and spec.startswith("plural:"):
            _, one, many = spec.split(":", 2)
            pairs.append((one, many))
    return pairs


@pytest.mark.parametrize("feature", load_catalog().features, ids=lambda f: f.name)
def test_every_template_reads_correctly_at_its_boundaries(feature) -> None:
    """0, 1 and 2 (and a rise, a fall and no change for differences): plurals agree with
    the number, no "(s)", no signed zero, and a change says which way it went."""
    import re

    if feature.dtype == "category":
        return
    difference = feature.unit == "rate" and "minus" in feature.description
    if difference:
        values = [-0.2, -0.004, 0.0, 0.004, 0.2]
    elif feature.unit == "per_week":
        values = [-0.02, 0.0, 0.02]
    elif feature.unit == "rate":
        values = [0.0, 0.01, 0.5, 1.0]
    else:
        values = [0, 1, 2]
    sentences = _render(feature, values)
    for value, sentence in zip(values, sentences, strict=True):
        assert "(s)" not in sentence, sentence
        assert not re.search(r"[+-]0(\.0)?%|(^|\s)-0(\s|$)", sentence), sentence
        words = re.findall(r"[a-z]+", sentence.lower())
        for one, many in _plurals(feature.template):
            if one == many:
                continue
            if round(value) == 1:
                assert many not in words, sentence
            else:
                assert one not in words or many in words, sentence
        if "change_pp" in feature.template or "trend_pp" in feature.template:
            shown = round(abs(value) * 100, 1 if "trend_pp" in feature.template else 0)
            if shown == 0:
                assert "unchanged" in sentence or "steady" in sentence, sentence
            elif value > 0:
                assert "rose by" in sentence, sentence
            else:
                assert "fell by" in sentence, sentence
            assert "percentage point" in sentence or shown == 0, sentence
        if feature.unit == "years":
            assert not re.search(r"\d\.\d", sentence), sentence  # "Aged 14", not "Aged 14.2"
