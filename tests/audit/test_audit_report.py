"""JSON round trip, the HTML page, derive_groups, the config and argument checks."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
from tests.audit._data import HAND_CAPACITY, hand_frame, numpy_la

from cmooe_risk.audit import (
    AuditResult,
    FairnessConfig,
    MitigationResult,
    audit_list,
    audit_live_list,
    compare_mitigation,
    derive_groups,
    render_html,
)

CAPACITIES = {"North": 60, "South": 60, "East": 60}


@pytest.fixture(scope="module")
def audited():
    frame = numpy_la(inflate=2.0, pupils=1500)
    # A small third group, suppressed under the default thresholds.
    frame.loc[frame["cluster"].isin([f"p{i}" for i in range(5)]), "group"] = "C"
    result = audit_list(frame, CAPACITIES, attributes=["group", "fsm"], config={"bootstrap": 40})
    mitigation = compare_mitigation(frame, CAPACITIES, attribute="group")
    return result, mitigation


def test_json_round_trip(audited) -> None:
    result, mitigation = audited
    text = json.dumps(result.to_json(), allow_nan=False)  # plain JSON: no NaN, no numpy
    back = AuditResult.from_json(json.loads(text))
    for name in ("groups", "comparisons", "flags", "suppression"):
        pd.testing.assert_frame_equal(getattr(back, name), getattr(result, name))
    assert back.to_json() == result.to_json()
    assert back.kind == "labelled"
    assert back.caveats == result.caveats
    payload = json.loads(text)
    assert {"metadata", "groups", "comparisons", "flags", "suppression", "caveats"} <= set(payload)
    assert payload["metadata"]["config"]["flag_ratio_low"] == 0.8
    assert payload["metadata"]["as_of"][0] == "2026-01-05T00:00:00"
    # Suppressed groups carry no numbers in the JSON either.
    hidden = [g for g in payload["groups"] if g["suppressed"]]
    assert hidden
    assert all(g["pupils"] is None and g["selection_rate"] is None for g in hidden)

    text = json.dumps(mitigation.to_json(), allow_nan=False)
    back = MitigationResult.from_json(json.loads(text))
    pd.testing.assert_frame_equal(back.summary, mitigation.summary)
    pd.testing.assert_frame_equal(back.groups, mitigation.groups)
    with pytest.raises(ValueError, match="not an audit result"):
        AuditResult.from_json(mitigation.to_json())
    with pytest.raises(ValueError, match="schema"):
        AuditResult.from_json({"schema": "something/else"})


def test_html_is_self_contained_and_shows_flags_suppression_and_caveats(audited) -> None:
    result, mitigation = audited
    html = render_html(result, mitigation)
    assert html.startswith("<!DOCTYPE html>")
    # Nothing is fetched: no URLs, links, scripts, images, fonts or imports.
    assert "http" not in html.lower()
    for pattern in (r"<script", r"<link", r"<img", r"src\s*=", r"url\(", r"@import", r"<iframe"):
        assert not re.search(pattern, html, re.IGNORECASE), pattern
    assert "<style>" in html
    assert "size: A4" in html
    # Flags highlighted, suppressed cells named, caveats present.
    assert html.count('class="ci flag"') >= len(result.flags[result.flags["attribute"] == "group"])
    assert "suppressed (n&lt;10)" in html
    assert "four-fifths" in html
    assert "not a law of nature" in html
    assert "Not applied" in html
    # Suppressed groups are never printed with numbers: the row is the label only.
    row = re.search(r"<tr[^>]*><td>C</td>(.*?)</tr>", html)
    assert row is not None
    assert re.findall(r'class="num"', row.group(1)) == []
    # The page renders from stored JSON too.
    assert render_html(AuditResult.from_json(result.to_json())) == render_html(result)


def test_live_html_names_list_and_roll_shares() -> None:
    frame = hand_frame().drop(columns="label")
    result = audit_live_list(frame, HAND_CAPACITY, config={"min_group_size": 1, "bootstrap": 10})
    html = render_html(result)
    assert "Share of roll" in html
    assert "List share ÷ roll share" in html
    assert "http" not in html.lower()


def test_derive_groups_builds_the_seven_attributes() -> None:
    keys = pd.DataFrame(
        {"pupil_pseudonym": ["a", "b", "c", "d", "e"], "as_of": pd.Timestamp("2026-01-05")}
    )
    features = keys.assign(
        fsm_current=[1, 0, 0, 1, 0],
        sen_support_current=[1, 1, 0, 0, 0],
        ehcp_current=[1, 0, 0, 0, 0],  # an EHC plan outranks SEN support
        eal=[0, 1, 0, 0, 0],
        cla_current=[1, 0, 0, 0, 0],  # looked after outranks CIN / CPP
        cin_current=[1, 1, 0, 0, 0],
        cpp_current=[0, 0, 1, 0, 0],
    )
    # The audit file comes in another order and lacks pupil e.
    audit = keys.iloc[[3, 1, 0, 2]].assign(
        sex=["M", "F", "F", None],
        ethnicity_major=["BLAC", "WHIT", "XXXX", "ASIA"],
        ethnicity_minor=["BAFR", "WIRT", None, "APKN"],
    )
    groups = derive_groups(features, audit)
    assert list(groups["pupil_pseudonym"]) == ["a", "b", "c", "d", "e"]
    assert list(groups["sex"]) == ["Female", "Female", "not recorded", "Male", "not recorded"]
    assert list(groups["ethnicity_major"]) == [
        "XXXX",  # an unknown code is kept as it is
        "White",
        "Asian / Asian British",
        "Black / African / Caribbean / Black British",
        "not recorded",
    ]
    # Minor codes by their DfE names: Irish Traveller is a group of its own inside White.
    assert list(groups["ethnicity_minor"]) == [
        "not recorded",
        "Traveller of Irish heritage",
        "Pakistani",
        "Black - African",
        "not recorded",
    ]
    assert list(groups["fsm"]) == [1, 0, 0, 1, 0]
    assert list(groups["sen"]) == ["E", "K", "N", "N", "N"]
    assert list(groups["eal"]) == [0, 1, 0, 0, 0]
    assert list(groups["care"]) == ["CLA", "CIN-CPP", "CIN-CPP", "none", "none"]
    with pytest.raises(ValueError, match="repeated"):
        derive_groups(features, pd.concat([audit, audit]))
    with pytest.raises(ValueError, match="'cla_current'"):
        derive_groups(features.drop(columns="cla_current"), audit)


def test_missing_and_float_coded_attributes_become_readable_groups() -> None:
    frame = hand_frame()
    frame["fsm"] = frame["fsm"].astype(float)  # a 0/1 flag read back as 1.0
    frame.loc[0, "sex"] = None
    result = audit_list(
        frame, HAND_CAPACITY, config={"min_group_size": 1, "min_group_positives": 0}
    )
    groups = result.groups
    assert set(groups.loc[groups["attribute"] == "fsm", "group"]) == {"0", "1"}
    assert "not recorded" in set(groups.loc[groups["attribute"] == "sex", "group"])


def test_config_defaults_and_checks() -> None:
    config = FairnessConfig()
    assert (config.flag_ratio_low, config.flag_ratio_high) == (0.8, 1.25)
    assert (config.min_group_size, config.min_group_positives, config.bootstrap) == (10, 10, 200)
    assert config.reference_groups == {}
    assert FairnessConfig(reference_groups={"fsm": 0}).reference_groups == {"fsm": "0"}
    with pytest.raises(ValueError, match=r"flag_ratio_low \(1\.0\) must be below"):
        FairnessConfig(flag_ratio_low=1.0, flag_ratio_high=1.0)
    with pytest.raises(ValueError, match="extra"):
        FairnessConfig(bootstraps=10)


@pytest.mark.parametrize(
    ("change", "kwargs", "match"),
    [
        (lambda f: f.assign(score=np.where(f.index == 3, 1.7, f["score"])), {}, r"1\.7 at row 3"),
        (lambda f: f.assign(label=np.where(f.index == 2, 2, f["label"])), {}, r"found 2 at row 2"),
        (lambda f: f.assign(label=np.nan), {}, "audit_live_list"),
        (lambda f: f.drop(columns="cluster"), {}, "'cluster'"),
        (lambda f: f, {"attributes": ["colour"]}, "'colour' is not a column"),
        (lambda f: f, {"attributes": ["score"]}, "reserved"),
        (lambda f: f, {"config": {"min_group_size": 0}}, "min_group_size"),
        (lambda f: f, {"config": {"flag_band": 1}}, "unknown key 'flag_band'"),
        (lambda f: f, {"seed": -1}, "got -1"),
        (lambda f: f.assign(truth=np.where(f.index == 4, np.nan, 0.1)), {}, "'truth'"),
        (lambda f: f.drop(columns=["sex", "fsm"]), {}, "none of the group attributes"),
    ],
)
def test_bad_arguments_name_the_value(change, kwargs, match) -> None:
    with pytest.raises(ValueError, match=match):
        audit_list(change(hand_frame()), HAND_CAPACITY, **kwargs)


def test_bad_capacities_and_mitigation_arguments_name_the_value() -> None:
    with pytest.raises(ValueError, match=r"'North'.*got 0"):
        audit_list(hand_frame(), {"North": 0})
    with pytest.raises(ValueError, match="'quota'"):
        compare_mitigation(hand_frame(), HAND_CAPACITY, attribute="sex", bases=["quota"])
    with pytest.raises(ValueError, match="one column name"):
        compare_mitigation(hand_frame(), HAND_CAPACITY, attribute=["sex"])
    result = audit_list(hand_frame(), {"North": 2, "Narnia": 3}, 2, config={"bootstrap": 0})
    assert any("'Narnia'" in note for note in result.notes)
