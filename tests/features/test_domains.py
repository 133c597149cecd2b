"""Behaviour, SEND, social care, mobility, registers and context: hand-checked values.

Every expected value below is counted by hand from the mini LA fixture
(src/cmooe_risk/_fixtures/mini_la) or from the rows a test adds to its copy.
Pupils are named by their index in pupils.csv.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from tests.conftest import TEST_KEY, read_rows, write_rows

from cmooe_risk.config import Workspace
from cmooe_risk.demo import fixture_dir
from cmooe_risk.features import build_features, load_catalog
from cmooe_risk.ingest import ingest
from cmooe_risk.pseudonym import PseudonymKey
from cmooe_risk.warehouse import connect_workspace

KEY = PseudonymKey(TEST_KEY.encode(), "test")
EXTRACT_DATE = date(2026, 1, 31)
MY_DOMAINS = ("behaviour", "send", "social_care", "mobility", "registers", "context")
AS_OF = [
    date(2025, 9, 8),
    date(2025, 9, 15),
    date(2025, 9, 22),
    date(2025, 9, 29),
    date(2025, 10, 6),
    date(2025, 10, 13),
    date(2025, 10, 20),
    date(2025, 11, 3),
    date(2025, 11, 10),
    date(2025, 12, 29),
    date(2026, 1, 26),
    date(2026, 9, 7),  # next academic year: school rates for 2025/26 become known
]


@dataclass(frozen=True)
class Built:
    features: pd.DataFrame
    spine_rows: int
    domain_rows: dict[str, tuple[int, int, int]]  # rows, distinct keys, keys matching spine
    pupils: list[str]  # pseudonyms in pupils.csv order


def _build(root: Path, extracts: Path) -> Built:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CMOOE_PSEUDONYM_KEY", TEST_KEY)
        workspace = Workspace.open(root / "workspace")
        report = ingest(workspace, extracts, extract_date=EXTRACT_DATE)
        assert report.quarantined == 0
        catalog = load_catalog()
        with connect_workspace(workspace, read_only=True) as con:
            build_features(con, AS_OF, catalog)
            spine_rows = con.execute("SELECT count(*) FROM spine").fetchall()[0][0]
            domain_rows = {}
            for stage in catalog.stages:
                if stage.domain in MY_DOMAINS:
                    domain_rows[stage.domain] = con.execute(
                        f"""SELECT count(*),
                            count(DISTINCT (t.pupil_pseudonym, t.as_of)),
                            count(s.pupil_pseudonym)
                        FROM {stage.name} AS t
                        LEFT JOIN spine AS s USING (pupil_pseudonym, as_of)"""
                    ).fetchall()[0]
            features = con.sql("SELECT * FROM feature_matrix").df()
    upns = [row["pupil_id"] for row in read_rows(extracts / "pupils.csv")[1]]
    return Built(features, spine_rows, domain_rows, [KEY.pseudonymise(u) for u in upns])


@pytest.fixture(scope="module")
def shipped(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """Features of the shipped mini LA, unchanged."""
    root = tmp_path_factory.mktemp("shipped")
    shutil.copytree(fixture_dir(), root / "extracts")
    return _build(root, root / "extracts")


def _append(extracts: Path, source: str, rows: list[dict[str, str]]) -> None:
    header, existing = read_rows(extracts / f"{source}.csv")
    write_rows(extracts / f"{source}.csv", header, existing + rows)


@pytest.fixture(scope="module")
def extended(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """The mini LA plus valid rows for what the shipped fixture does not exercise."""
    root = tmp_path_factory.mktemp("extended")
    extracts = root / "extracts"
    shutil.copytree(fixture_dir(), extracts)
    upn = [row["pupil_id"] for row in read_rows(extracts / "pupils.csv")[1]]
    blank = {"reason_2": "", "reason_3": ""}
    _append(
        extracts,
        "exclusions",
        [
            # pupil 1 is in Year 6 at a primary school
            {"pupil_id": upn[1], "urn": "100001", "start_date": "06/10/2025", "category": "FIXD",
             "sessions": "2", "reason_1": "PD", **blank, "status": "UPHELD"},
            # pupil 2: a lunchtime suspension
            {"pupil_id": upn[2], "urn": "100002", "start_date": "05/11/2025", "category": "LNCH",
             "sessions": "1", "reason_1": "VP", **blank, "status": "UPHELD"},
        ],
    )  # fmt: skip
    # the permanent exclusion of pupil 7 was later overturned: its status must not matter
    header, rows = read_rows(extracts / "exclusions.csv")
    for row in rows:
        if row["pupil_id"] == upn[7] and row["category"] == "PERM":
            row["status"] = "REINSTATED"
    write_rows(extracts / "exclusions.csv", header, rows)
    _append(
        extracts,
        "send_episodes",
        [
            {"pupil_id": upn[2], "start_date": "01/09/2025", "end_date": "", "provision": "K",
             "primary_need": "SLCN", "ehcp_request_date": "01/10/2025", "ehcp_issued_date": ""},
        ],
    )  # fmt: skip
    _append(
        extracts,
        "social_care_episodes",
        [
            {"pupil_id": upn[3], "episode_type": "CPP", "cpp_category": "NEG",
             "start_date": "01/10/2025", "end_date": ""},
        ],
    )  # fmt: skip
    _append(
        extracts,
        "register_events",
        [
            {"pupil_id": upn[0], "event_type": "EHE", "urn": "", "start_date": "01/06/2025",
             "end_date": "31/08/2025", "outcome": "RETURNED_TO_SCHOOL"},
            {"pupil_id": upn[0], "event_type": "CME_REFERRAL", "urn": "",
             "start_date": "02/06/2024", "end_date": "20/06/2024", "outcome": "CHILD_LOCATED"},
            {"pupil_id": upn[5], "event_type": "MEDICAL_S19", "urn": "100003",
             "start_date": "01/10/2025", "end_date": "", "outcome": ""},
        ],
    )  # fmt: skip
    return _build(root, extracts)


def _row(built: Built, pupil: int, as_of: date) -> pd.Series:
    frame = built.features
    match = frame[
        (frame.pupil_pseudonym == built.pupils[pupil]) & (frame.as_of == pd.Timestamp(as_of))
    ]
    assert len(match) == 1, f"pupil {pupil} is not in the spine at {as_of}"
    return match.iloc[0]


@pytest.mark.parametrize("fixture", ["shipped", "extended"])
def test_each_domain_returns_one_row_per_spine_row(
    fixture: str, request: pytest.FixtureRequest
) -> None:
    built: Built = request.getfixturevalue(fixture)
    assert built.spine_rows > 0
    assert set(built.domain_rows) == set(MY_DOMAINS)
    for domain, (rows, keys, matched) in built.domain_rows.items():
        assert (rows, keys, matched) == (built.spine_rows,) * 3, domain
    assert len(built.features) == built.spine_rows


def test_catalog_entries_of_these_domains_are_complete() -> None:
    catalog = load_catalog()
    for domain in MY_DOMAINS:
        features = catalog.by_domain(domain)
        assert features, domain
        for feature in features:
            assert feature.description, feature.name
            assert "{value" in feature.template or feature.unit == "flag", feature.name
    model = [f for f in catalog.model_features if f.domain in MY_DOMAINS]
    assert len(model) >= 40


def test_permanent_exclusion_counts_from_its_start_date(shipped: Built) -> None:
    # pupil 7: suspended 22/09/2025 (6 sessions, PA), permanently excluded 08/10/2025
    before, after = _row(shipped, 7, date(2025, 10, 6)), _row(shipped, 7, date(2025, 10, 13))
    assert before.previous_permanent_exclusion == 0
    assert after.previous_permanent_exclusion == 1
    assert before.suspensions_ever == after.suspensions_ever == 1  # a PERM is no suspension
    assert before.days_since_last_suspension == 14
    assert before.suspension_sessions_13w == 6
    assert before.physical_assault_exclusion_52w == 1
    assert before.persistent_disruption_share == 0


def test_suspension_windows(shipped: Built) -> None:
    # pupil 4: one suspension on Monday 15/09/2025, 4 sessions, reasons PD and VA
    on_the_day = _row(shipped, 4, date(2025, 9, 15))
    assert on_the_day.suspensions_ever == 0  # it starts on t: not yet known
    assert pd.isna(on_the_day.days_since_last_suspension)
    assert pd.isna(on_the_day.persistent_disruption_share)
    week_after = _row(shipped, 4, date(2025, 9, 22))
    assert week_after.suspensions_6w == week_after.suspensions_52w == 1
    assert week_after.suspensions_ytd == 1
    assert week_after.suspension_sessions_13w == 4
    assert week_after.suspension_reasons_52w == 2
    assert week_after.persistent_disruption_share == 1.0
    assert week_after.physical_assault_exclusion_52w == 0
    assert week_after.suspensions_primary_phase == 0  # Year 10 at a secondary school
    seven_weeks = _row(shipped, 4, date(2025, 11, 3))  # 49 days later
    assert (seven_weeks.suspensions_6w, seven_weeks.suspensions_13w) == (0, 1)
    fifteen_weeks = _row(shipped, 4, date(2025, 12, 29))  # 105 days later
    assert (fifteen_weeks.suspensions_13w, fifteen_weeks.suspensions_26w) == (0, 1)
    assert fifteen_weeks.suspension_sessions_13w == 0
    assert fifteen_weeks.suspension_sessions_ever == 4
    next_year = _row(shipped, 4, date(2026, 9, 7))
    assert (next_year.suspensions_ytd, next_year.suspensions_52w) == (0, 1)
    assert next_year.days_since_last_suspension == 357


def test_moves_and_alternative_provision(shipped: Built) -> None:
    # pupil 7: off the roll of 100003 after 13/10/2025, at the PRU and in AP from 14/10/2025
    at_13_oct, at_20_oct = (
        _row(shipped, 7, date(2025, 10, 13)),
        _row(shipped, 7, date(2025, 10, 20)),
    )
    assert (at_13_oct.ap_placements_ever, at_13_oct.ap_placement_current) == (0, 0)
    assert (at_20_oct.ap_placements_ever, at_20_oct.ap_placement_current) == (1, 1)
    assert at_13_oct.schools_attended == 1
    assert at_13_oct.days_since_enrolment_start == 42
    assert at_13_oct.mid_year_admission == 0
    assert at_20_oct.schools_attended == 2
    assert at_20_oct.school_moves_52w == 1
    assert at_20_oct.in_year_admissions_ever == 1
    assert at_20_oct.mid_year_admission == 1
    assert at_20_oct.days_since_enrolment_start == 6
    # pupil 3: a managed move from 01/06/2025 that broke down on 10/07/2025
    moved = _row(shipped, 3, date(2025, 10, 6))
    assert (moved.managed_moves_ever, moved.managed_move_current) == (1, 0)
    assert (moved.school_moves_52w, moved.dual_registered_current) == (0, 0)
    assert (moved.off_site_directions_ever, moved.off_site_direction_current) == (0, 0)


def test_send(shipped: Built) -> None:
    # pupil 4: SEN support (SEMH) since 01/09/2022
    support = _row(shipped, 4, date(2025, 10, 6))
    assert (support.sen_support_current, support.ehcp_current) == (1, 0)
    assert (support.sen_need_semh, support.sen_need_asd, support.sen_need_learning) == (1, 0, 0)
    assert support.weeks_since_sen_support_start == pytest.approx(
        (date(2025, 10, 6) - date(2022, 9, 1)).days / 7
    )
    assert pd.isna(support.weeks_since_ehcp_issued)
    # pupil 6: SEN support (ASD) to 31/03/2024, EHC plan issued 01/04/2024
    plan = _row(shipped, 6, date(2026, 1, 26))
    assert (plan.sen_support_current, plan.ehcp_current, plan.sen_need_asd) == (0, 1, 1)
    assert plan.weeks_since_ehcp_issued == 95.0  # 665 days
    assert plan.ehcp_requested_not_issued == 0
    assert pd.isna(plan.weeks_since_sen_support_start)
    none = _row(shipped, 0, date(2025, 10, 6))
    assert (none.sen_support_current, none.ehcp_current, none.sen_need_semh) == (0, 0, 0)


def test_social_care(shipped: Built) -> None:
    t = date(2025, 10, 6)
    cin = _row(shipped, 2, t)  # CIN open since 10/01/2025
    assert (cin.cin_current, cin.cpp_current, cin.cla_current) == (1, 0, 0)
    assert (cin.social_worker_6y, cin.cin_episodes_ever) == (1, 1)
    assert pd.isna(cin.weeks_since_social_care_ended)
    cpp = _row(shipped, 4, t)  # CPP (neglect) 01/02/2024 to 30/11/2024
    assert (cpp.cin_current, cpp.cpp_current, cpp.cpp_neglect_current) == (0, 0, 0)
    assert (cpp.social_worker_6y, cpp.cpp_episodes_ever) == (1, 1)
    assert cpp.weeks_since_social_care_ended == pytest.approx((t - date(2024, 11, 30)).days / 7)
    cla = _row(shipped, 5, t)  # looked after since 15/06/2023
    assert (cla.cin_current, cla.cpp_current, cla.cla_current) == (0, 0, 1)
    assert (cla.social_worker_6y, cla.cla_episodes_ever) == (0, 1)
    nobody = _row(shipped, 0, t)
    assert (nobody.cin_current, nobody.social_worker_6y, nobody.cla_episodes_ever) == (0, 0, 0)


def test_reduced_timetable(shipped: Built) -> None:
    # pupil 6: reduced timetable from Monday 08/09/2025, still open
    assert _row(shipped, 6, date(2025, 9, 8)).reduced_timetable_current == 0
    week = _row(shipped, 6, date(2025, 9, 15))
    assert (week.reduced_timetable_current, week.reduced_timetable_weeks) == (1, 1.0)
    assert week.reduced_timetables_ever == 1
    assert _row(shipped, 6, date(2026, 1, 26)).reduced_timetable_weeks == 20.0
    other = _row(shipped, 5, date(2026, 1, 26))
    assert other.reduced_timetable_current == 0
    assert pd.isna(other.reduced_timetable_weeks)


def test_context_age_and_prior_year_school_rates(shipped: Built) -> None:
    assert _row(shipped, 4, date(2025, 10, 13)).age_years == 15.1  # born 2010-09: 181 months
    assert _row(shipped, 0, date(2026, 1, 26)).age_years == 11.8  # born 2014-03: 142 months
    this_year = _row(shipped, 4, date(2025, 10, 13))
    assert pd.isna(this_year.school_prior_year_suspension_rate)  # no 2024/25 data
    assert pd.isna(this_year.school_prior_year_absence_rate)
    # 100003 in 2025/26: 2 suspensions (the PERM is none) over 4 pupils on roll;
    # 4 pupils x 15 days x 2 = 120 possible sessions, of which 10 O and 15 C2 absent
    castle_hill = _row(shipped, 4, date(2026, 9, 7))
    assert castle_hill.school_prior_year_suspension_rate == 0.5
    assert castle_hill.school_prior_year_absence_rate == pytest.approx(25 / 120)
    # 100002: no suspensions; 6 Monday absences of 60 sessions, the N marks corrected to I
    beacon = _row(shipped, 2, date(2026, 9, 7))
    assert beacon.school_prior_year_suspension_rate == 0
    assert beacon.school_prior_year_absence_rate == pytest.approx(6 / 60)


def test_review_outcome_of_an_exclusion_is_never_read(shipped: Built, extended: Built) -> None:
    for t in (date(2025, 10, 6), date(2025, 10, 13), date(2025, 10, 20)):
        assert (
            _row(extended, 7, t).previous_permanent_exclusion
            == _row(shipped, 7, t).previous_permanent_exclusion
        )
    assert _row(extended, 7, date(2025, 10, 13)).previous_permanent_exclusion == 1


def test_added_behaviour_rows(extended: Built) -> None:
    # pupil 1, Year 6 at a primary school: suspended on Monday 06/10/2025 for PD
    assert _row(extended, 1, date(2025, 10, 6)).suspensions_primary_phase == 0
    primary = _row(extended, 1, date(2025, 10, 13))
    assert (primary.suspensions_primary_phase, primary.persistent_disruption_share) == (1, 1.0)
    # pupil 2: a lunchtime suspension on Wednesday 05/11/2025
    assert _row(extended, 2, date(2025, 11, 3)).lunchtime_suspensions_52w == 0
    lunch = _row(extended, 2, date(2025, 11, 10))
    assert (lunch.lunchtime_suspensions_52w, lunch.suspensions_6w) == (1, 1)
    assert lunch.suspension_sessions_13w == 1


def test_added_send_and_social_care_rows(extended: Built) -> None:
    # pupil 2: SEN support (SLCN) from 01/09/2025, EHC needs assessment requested 01/10/2025
    asked = _row(extended, 2, date(2025, 10, 6))
    assert (asked.sen_support_current, asked.sen_need_slcn) == (1, 1)
    assert asked.ehcp_requested_not_issued == 1
    assert _row(extended, 2, date(2025, 9, 29)).ehcp_requested_not_issued == 0
    # pupil 3: child protection plan (neglect) from 01/10/2025
    assert _row(extended, 3, date(2025, 9, 29)).cpp_current == 0
    plan = _row(extended, 3, date(2025, 10, 6))
    assert (plan.cpp_current, plan.cpp_neglect_current, plan.cpp_abuse_current) == (1, 1, 0)
    assert (plan.social_worker_6y, plan.cpp_episodes_ever) == (1, 1)


def test_added_register_rows(extended: Built) -> None:
    # pupil 0: home educated 01/06/2025 to 31/08/2025; CME referral in June 2024, closed
    returned = _row(extended, 0, date(2025, 10, 6))
    assert (returned.ehe_ever, returned.ehe_current, returned.ehe_ended) == (1, 0, 1)
    assert (returned.cme_referrals_ever, returned.cme_referrals_52w) == (1, 0)
    assert returned.cme_open == 0
    # pupil 5: education for medical needs (s.19) from 01/10/2025
    assert _row(extended, 5, date(2025, 9, 29)).medical_s19_ever == 0
    medical = _row(extended, 5, date(2025, 10, 6))
    assert (medical.medical_s19_ever, medical.medical_s19_current) == (1, 1)
