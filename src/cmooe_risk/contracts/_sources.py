"""The contracts of the nine source extracts an LA provides.

Order matters: schools and pupils come first because every other extract
refers to them.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from cmooe_risk.contracts import _codes as codes
from cmooe_risk.contracts._schema import Column, Contract, Rule, end_before_start
from cmooe_risk.contracts._upn import UPN_PATTERN, upn_check_letter, upn_check_sql

__all__ = ["CONTRACTS", "contract"]


def _pupil_ref(description: str = "The pupil's UPN (pseudonymised on ingest).") -> Column:
    return Column(
        "pupil_id",
        "text",
        description,
        references="pupils",
        pupil_identifier=True,
        stored_as="pupil_pseudonym",
    )


def _urn(description: str, *, nullable: bool = False) -> Column:
    return Column(
        "urn",
        "integer",
        description,
        nullable=nullable,
        minimum=100000,
        maximum=999999,
        references="schools",
    )


SCHOOLS = Contract(
    name="schools",
    description="Schools and other settings in the LA (Get Information About Schools), with "
    "the locality whose inclusion team serves each.",
    columns=(
        Column("urn", "integer", "Unique Reference Number.", minimum=100000, maximum=999999),
        Column("name", "text", "Establishment name."),
        Column("phase", "text", "Phase of education.", codes=codes.SCHOOL_PHASES),
        Column("type", "text", "Type of establishment, by governance.", codes=codes.SCHOOL_TYPES),
        Column("locality", "text", "LA locality (inclusion team area) the school belongs to."),
    ),
    key=("urn",),
)

PUPILS = Contract(
    name="pupils",
    description="Every child the LA knows of: on a school roll now or in the extract's "
    "period, electively home educated, or missing education. One row per child.",
    columns=(
        Column(
            "pupil_id",
            "text",
            "Unique Pupil Number (UPN); replaced by a keyed hash on ingest.",
            pattern=UPN_PATTERN,
            pupil_identifier=True,
            stored_as="pupil_pseudonym",
        ),
        Column("sex", "text", "Sex as recorded by the school.", codes=codes.SEX),
        Column(
            "year_month_of_birth",
            "text",
            "Year and month of birth as yyyy-mm. Full dates of birth are never loaded.",
            pattern="[0-9]{4}-(0[1-9]|1[0-2])",
        ),
        Column("ethnicity_major", "text", "Ethnic major group.", codes=codes.ETHNICITY_MAJOR),
        Column("ethnicity_minor", "text", "Ethnicity (main code).", codes=codes.ETHNICITY_MINOR),
        Column(
            "eal",
            "text",
            "First language known or believed to be other than English.",
            codes=codes.YES_NO_UNKNOWN,
        ),
        Column(
            "idaci_decile",
            "integer",
            "IDACI decile of the home postcode (1 = most deprived); empty if unknown.",
            nullable=True,
            minimum=1,
            maximum=10,
        ),
        Column("locality", "text", "LA locality of the home address."),
    ),
    key=("pupil_id",),
    extra_rules=(
        Rule(
            "pupils.pupil_id.check_letter",
            "row",
            "The UPN's first character is the check letter of the other twelve.",
            f"pupil_id IS NOT NULL AND regexp_full_match(pupil_id, '{UPN_PATTERN}') "
            f"AND substr(pupil_id, 1, 1) <> {upn_check_sql('pupil_id')}",
            # Valid body, wrong letter: the right one shifted by one place.
            {
                "pupil_id": ("A" if upn_check_letter("937201510002") != "A" else "B")
                + "937201510002"
            },
        ),
        Rule(
            "pupils.ethnicity.inconsistent",
            "row",
            "ethnicity_minor belongs to ethnicity_major.",
            "ethnicity_minor IS NOT NULL AND ethnicity_major IS NOT NULL AND "
            "ethnicity_major <> CASE ethnicity_minor "
            + " ".join(
                f"WHEN '{minor}' THEN '{major}'"
                for minor, major in codes.ETHNICITY_MINOR_TO_MAJOR.items()
            )
            + " END",
            {"ethnicity_major": "ASIA", "ethnicity_minor": "WBRI"},
        ),
        Rule(
            "pupils.year_month_of_birth.age_out_of_range",
            "row",
            "The child is aged 2 to 20 on the extract date.",
            "regexp_full_match(year_month_of_birth, '[0-9]{4}-(0[1-9]|1[0-2])') AND "
            "CAST(year_month_of_birth || '-01' AS DATE) NOT BETWEEN "
            "$extract_date - INTERVAL 21 YEAR AND $extract_date - INTERVAL 2 YEAR",
            {"year_month_of_birth": "1960-05"},
        ),
    ),
)

ENROLMENTS = Contract(
    name="enrolments",
    description="Admission register episodes: one row per pupil per school registration.",
    columns=(
        _pupil_ref(),
        _urn("URN of the school."),
        Column("start_date", "date", "Date of admission (on roll from)."),
        Column("end_date", "date", "Date of leaving; empty while on roll.", nullable=True),
        Column("enrolment_status", "text", "Registration type.", codes=codes.ENROLMENT_STATUS),
        Column(
            "leaving_reason",
            "text",
            "Why the pupil came off roll; empty while on roll.",
            nullable=True,
            codes=codes.LEAVING_REASONS,
        ),
        Column(
            "destination_urn",
            "integer",
            "URN of the next school when known (may be outside the LA).",
            nullable=True,
            minimum=100000,
            maximum=999999,
        ),
    ),
    key=("pupil_id", "urn", "start_date"),
    overlap=(("pupil_id", "urn"), "start_date", "end_date"),
    extra_rules=(
        end_before_start("enrolments"),
        Rule(
            "enrolments.leaving_reason.without_end",
            "row",
            "A leaving reason is given only for an enrolment that has ended.",
            "leaving_reason IS NOT NULL AND end_date IS NULL",
            {"end_date": "", "leaving_reason": "TRANSFER"},
        ),
    ),
)

FSM_EPISODES = Contract(
    name="fsm_episodes",
    description="Free school meal eligibility episodes (School Census FSM periods).",
    columns=(
        _pupil_ref(),
        Column("start_date", "date", "Eligibility start date."),
        Column("end_date", "date", "Eligibility end date; empty if ongoing.", nullable=True),
    ),
    key=("pupil_id", "start_date"),
    overlap=(("pupil_id",), "start_date", "end_date"),
    extra_rules=(end_before_start("fsm_episodes"),),
)

ATTENDANCE_MARKS = Contract(
    name="attendance_marks",
    description="Session marks from registers (e.g. a Group Call or Wonde feed). A mark that "
    "was changed appears once per version, each with the time it was recorded.",
    columns=(
        _pupil_ref(),
        _urn("URN of the school whose register holds the mark."),
        Column("session_date", "date", "Date of the session."),
        Column("session", "text", "AM or PM register.", codes=codes.SESSIONS),
        Column("code", "text", "Attendance code.", codes=codes.ATTENDANCE_CODES),
        Column(
            "recorded_at",
            "timestamp",
            "When this version of the mark was entered; empty when the feed does not say "
            "(the session date is then assumed).",
            nullable=True,
        ),
    ),
    key=("pupil_id", "urn", "session_date", "session", "recorded_at"),
    versions=(("pupil_id", "urn", "session_date", "session"), "recorded_at"),
    extra_rules=(
        Rule(
            "attendance_marks.recorded_at.before_session",
            "row",
            "A mark is not recorded before the day of its session.",
            "recorded_at IS NOT NULL AND session_date IS NOT NULL AND "
            "CAST(recorded_at AS DATE) < session_date",
            {"session_date": "10/01/2024", "recorded_at": "09/01/2024 09:00"},
        ),
    ),
)

EXCLUSIONS = Contract(
    name="exclusions",
    description="Suspensions and permanent exclusions (CBDS exclusions module).",
    columns=(
        _pupil_ref(),
        _urn("URN of the excluding school."),
        Column("start_date", "date", "First day of the exclusion."),
        Column(
            "category",
            "text",
            "Suspension or permanent exclusion.",
            codes=codes.EXCLUSION_CATEGORIES,
        ),
        Column(
            "sessions",
            "integer",
            "Sessions missed through a suspension (at most 90: 45 school days a year); "
            "empty for a permanent exclusion.",
            nullable=True,
            minimum=1,
            maximum=90,
        ),
        Column("reason_1", "text", "Main reason.", codes=codes.EXCLUSION_REASONS),
        Column("reason_2", "text", "Second reason.", nullable=True, codes=codes.EXCLUSION_REASONS),
        Column("reason_3", "text", "Third reason.", nullable=True, codes=codes.EXCLUSION_REASONS),
        Column("status", "text", "Outcome of review.", codes=codes.EXCLUSION_STATUS),
    ),
    key=("pupil_id", "urn", "start_date", "category"),
    extra_rules=(
        Rule(
            "exclusions.sessions.required_for_suspension",
            "row",
            "A suspension (FIXD or LNCH) says how many sessions it lasted.",
            "category IN ('FIXD', 'LNCH') AND sessions__raw IS NULL",
            {"category": "FIXD", "sessions": ""},
        ),
    ),
)

SEND_EPISODES = Contract(
    name="send_episodes",
    description="Special educational needs provision episodes, with EHC plan dates.",
    columns=(
        _pupil_ref(),
        Column("start_date", "date", "Start of this provision."),
        Column("end_date", "date", "End of this provision; empty if current.", nullable=True),
        Column("provision", "text", "SEN provision.", codes=codes.SEN_PROVISION),
        Column(
            "primary_need",
            "text",
            "Primary type of need.",
            nullable=True,
            codes=codes.SEN_PRIMARY_NEED,
        ),
        Column(
            "ehcp_request_date",
            "date",
            "Date an EHC needs assessment was requested.",
            nullable=True,
        ),
        Column("ehcp_issued_date", "date", "Date the EHC plan was issued.", nullable=True),
    ),
    key=("pupil_id", "start_date"),
    overlap=(("pupil_id",), "start_date", "end_date"),
    extra_rules=(
        end_before_start("send_episodes"),
        Rule(
            "send_episodes.primary_need.required",
            "row",
            "SEN support (K) and EHC plans (E) name a primary need.",
            "provision IN ('K', 'E') AND primary_need__raw IS NULL",
            {"provision": "K", "primary_need": ""},
        ),
        Rule(
            "send_episodes.ehcp_issued_date.required",
            "row",
            "An EHC plan episode (E) gives the date the plan was issued.",
            "provision = 'E' AND ehcp_issued_date__raw IS NULL",
            {"provision": "E", "primary_need": "SEMH", "ehcp_issued_date": ""},
        ),
    ),
)

SOCIAL_CARE_EPISODES = Contract(
    name="social_care_episodes",
    description="Children's social care episodes: children in need, child protection plans "
    "(CIN census) and periods looked after (SSDA903).",
    columns=(
        _pupil_ref(),
        Column("episode_type", "text", "Kind of episode.", codes=codes.SOCIAL_CARE_EPISODES),
        Column(
            "cpp_category",
            "text",
            "Initial category of abuse, for child protection plans only.",
            nullable=True,
            codes=codes.CPP_CATEGORIES,
        ),
        Column("start_date", "date", "Episode start."),
        Column("end_date", "date", "Episode end; empty if open.", nullable=True),
    ),
    key=("pupil_id", "episode_type", "start_date"),
    overlap=(("pupil_id", "episode_type"), "start_date", "end_date"),
    extra_rules=(
        end_before_start("social_care_episodes"),
        Rule(
            "social_care_episodes.cpp_category.required",
            "row",
            "A child protection plan gives its category of abuse.",
            "episode_type = 'CPP' AND cpp_category__raw IS NULL",
            {"episode_type": "CPP", "cpp_category": ""},
        ),
        Rule(
            "social_care_episodes.cpp_category.only_for_cpp",
            "row",
            "Only child protection plans carry a category of abuse.",
            "episode_type IN ('CIN', 'CLA') AND cpp_category IS NOT NULL",
            {"episode_type": "CIN", "cpp_category": "NEG"},
        ),
    ),
)

REGISTER_EVENTS = Contract(
    name="register_events",
    description="LA register episodes: CME referrals, elective home education, reduced "
    "timetables, managed moves, off-site directions, alternative provision and medical (s.19).",
    columns=(
        _pupil_ref(),
        Column("event_type", "text", "Kind of episode.", codes=codes.REGISTER_EVENTS),
        _urn("URN of the school or setting involved, when there is one.", nullable=True),
        Column("start_date", "date", "Referral, registration or start date."),
        Column("end_date", "date", "Date the episode closed; empty if open.", nullable=True),
        Column(
            "outcome",
            "text",
            "How the episode closed; empty if open.",
            nullable=True,
            codes=codes.REGISTER_OUTCOMES,
        ),
    ),
    key=("pupil_id", "event_type", "start_date"),
    overlap=(("pupil_id", "event_type"), "start_date", "end_date"),
    extra_rules=(
        end_before_start("register_events"),
        Rule(
            "register_events.outcome.without_end",
            "row",
            "An outcome is given only for an episode that has closed.",
            "outcome IS NOT NULL AND end_date IS NULL",
            {"end_date": "", "outcome": "COMPLETED"},
        ),
    ),
)

CONTRACTS: Mapping[str, Contract] = MappingProxyType(
    {
        c.name: c
        for c in (
            SCHOOLS,
            PUPILS,
            ENROLMENTS,
            FSM_EPISODES,
            ATTENDANCE_MARKS,
            EXCLUSIONS,
            SEND_EPISODES,
            SOCIAL_CARE_EPISODES,
            REGISTER_EVENTS,
        )
    }
)


def contract(name: str) -> Contract:
    """Look up a contract by source name, with an error that lists the valid names."""
    try:
        return CONTRACTS[name]
    except KeyError:
        raise KeyError(f"no contract named {name!r}; known: {', '.join(CONTRACTS)}") from None
