"""Code lists of English school data items, defined once.

Sources: DfE school attendance guidance (codes in force from 19 August 2024),
the Common Basic Data Set (CBDS) for exclusions, SEN and ethnicity, and the
Children in Need census. ``shared/reference/uk-data-items.md`` summarises them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

__all__ = [
    "ATTENDANCE_CATEGORIES",
    "ATTENDANCE_CODES",
    "CODE_LISTS",
    "CodeList",
]


@dataclass(frozen=True)
class CodeList:
    """A closed list of codes, each with its meaning, and where it comes from."""

    name: str
    codes: Mapping[str, str]
    source: str

    def __contains__(self, code: object) -> bool:
        return code in self.codes

    def __iter__(self):
        return iter(self.codes)


def _codes(name: str, source: str, codes: dict[str, str]) -> CodeList:
    return CodeList(name=name, codes=MappingProxyType(codes), source=source)


# Attendance codes with the statistical category each falls in. `possible` says
# whether the session counts towards possible sessions in absence statistics.
# The treatment of D and X (not possible) is the DfE's as we understand it;
# shared/reference marks it unverified.
_ATTENDANCE = {
    "/": ("Present (AM)", "present", True),
    "\\": ("Present (PM)", "present", True),
    "L": ("Late, arrived before the register closed", "present", True),
    "K": ("Attending education provision arranged by the LA", "approved_activity", True),
    "V": ("Attending an educational visit or trip", "approved_activity", True),
    "P": ("Participating in a supervised sporting activity", "approved_activity", True),
    "W": ("Attending work experience", "approved_activity", True),
    "B": ("Attending any other approved educational activity", "approved_activity", True),
    "D": ("Dual registered, attending the other school", "not_possible", False),
    "C1": ("Leave for a regulated performance or employment abroad", "authorised", True),
    "C2": ("Leave for a part-time timetable (compulsory school age)", "authorised", True),
    "C": ("Leave for exceptional circumstances", "authorised", True),
    "M": ("Medical or dental appointment", "authorised", True),
    "J1": ("Interview", "authorised", True),
    "S": ("Study leave", "authorised", True),
    "T": ("Parent travelling for occupational purposes", "authorised", True),
    "R": ("Religious observance", "authorised", True),
    "I": ("Illness (not medical or dental appointment)", "authorised", True),
    "E": ("Suspended or permanently excluded, no alternative provision", "authorised", True),
    "G": ("Holiday not granted by the school", "unauthorised", True),
    "N": ("Reason for absence not yet provided", "unauthorised", True),
    "O": ("Absent in other or unknown circumstances", "unauthorised", True),
    "U": ("Arrived in school after the register closed", "unauthorised", True),
    "Q": ("Unable to attend: LA has not made access arrangements", "not_possible", False),
    "Y1": ("Unable to attend: transport not available", "not_possible", False),
    "Y2": ("Unable to attend: widespread travel disruption", "not_possible", False),
    "Y3": ("Unable to attend: part of the school premises closed", "not_possible", False),
    "Y4": ("Unable to attend: unexpected whole-school closure", "not_possible", False),
    "Y5": ("Unable to attend: criminal justice detention", "not_possible", False),
    "Y6": ("Unable to attend: public health guidance or law", "not_possible", False),
    "Y7": ("Unable to attend: any other unavoidable cause", "not_possible", False),
    "Z": ("Prospective pupil not on admission register", "administrative", False),
    "#": ("Planned whole-school closure", "administrative", False),
    "X": ("Non-compulsory school age pupil not required to attend", "administrative", False),
}

ATTENDANCE_CODES = _codes(
    "attendance_code",
    "DfE Working together to improve school attendance (codes from 19 August 2024)",
    {code: meaning for code, (meaning, _, _) in _ATTENDANCE.items()},
)
#: code -> (statistical category, counts as a possible session)
ATTENDANCE_CATEGORIES: Mapping[str, tuple[str, bool]] = MappingProxyType(
    {code: (category, possible) for code, (_, category, possible) in _ATTENDANCE.items()}
)

SESSIONS = _codes("session", "Two registers a day", {"AM": "Morning", "PM": "Afternoon"})

SEX = _codes("sex", "CBDS 100269 (gender)", {"M": "Male", "F": "Female"})

ETHNICITY_MAJOR = _codes(
    "ethnicity_major",
    "CBDS ethnic major groups",
    {
        "WHIT": "White",
        "MIXD": "Mixed / multiple ethnic groups",
        "ASIA": "Asian / Asian British",
        "BLAC": "Black / African / Caribbean / Black British",
        "CHIN": "Chinese",
        "AOEG": "Any other ethnic group",
        "UNCL": "Unclassified (refused or not obtained)",
    },
)

#: minor code -> (meaning, major group)
_ETHNICITY_MINOR = {
    "WBRI": ("White - British", "WHIT"),
    "WIRI": ("White - Irish", "WHIT"),
    "WIRT": ("Traveller of Irish heritage", "WHIT"),
    "WROM": ("Gypsy / Roma", "WHIT"),
    "WOTH": ("Any other White background", "WHIT"),
    "MWBC": ("White and Black Caribbean", "MIXD"),
    "MWBA": ("White and Black African", "MIXD"),
    "MWAS": ("White and Asian", "MIXD"),
    "MOTH": ("Any other Mixed background", "MIXD"),
    "AIND": ("Indian", "ASIA"),
    "APKN": ("Pakistani", "ASIA"),
    "ABAN": ("Bangladeshi", "ASIA"),
    "AOTH": ("Any other Asian background", "ASIA"),
    "BCRB": ("Black Caribbean", "BLAC"),
    "BAFR": ("Black - African", "BLAC"),
    "BOTH": ("Any other Black background", "BLAC"),
    "CHNE": ("Chinese", "CHIN"),
    "OOTH": ("Any other ethnic group", "AOEG"),
    "REFU": ("Refused", "UNCL"),
    "NOBT": ("Information not yet obtained", "UNCL"),
}
ETHNICITY_MINOR = _codes(
    "ethnicity_minor",
    "CBDS ethnicity main codes",
    {code: meaning for code, (meaning, _) in _ETHNICITY_MINOR.items()},
)
ETHNICITY_MINOR_TO_MAJOR: Mapping[str, str] = MappingProxyType(
    {code: major for code, (_, major) in _ETHNICITY_MINOR.items()}
)

YES_NO_UNKNOWN = _codes(
    "eal", "CBDS first language, grouped", {"Y": "Yes", "N": "No", "U": "Not known"}
)

SCHOOL_PHASES = _codes(
    "school_phase",
    "Get Information About Schools phase, grouped",
    {
        "PRIMARY": "Primary (Reception to Year 6)",
        "SECONDARY": "Secondary (Year 7 to Year 11, with or without sixth form)",
        "ALL_THROUGH": "All-through (Reception to Year 11)",
        "SPECIAL": "Special school",
        "AP": "Alternative provision or pupil referral unit",
    },
)

SCHOOL_TYPES = _codes(
    "school_type",
    "Get Information About Schools type, grouped by governance",
    {
        "MAINTAINED": "LA-maintained (community, foundation, voluntary)",
        "ACADEMY": "Academy or free school",
        "MAINTAINED_SPECIAL": "LA-maintained special school",
        "ACADEMY_SPECIAL": "Special academy or special free school",
        "PRU": "Pupil referral unit (LA-maintained AP)",
        "ACADEMY_AP": "AP academy or AP free school",
        "INDEPENDENT": "Independent school (including independent special)",
    },
)

ENROLMENT_STATUS = _codes(
    "enrolment_status",
    "CBDS 100203 enrolment status",
    {
        "C": "Current, single registration",
        "M": "Current, main dual registration",
        "S": "Current, subsidiary dual registration",
        "G": "Guest pupil",
    },
)

LEAVING_REASONS = _codes(
    "leaving_reason",
    "LA grouping of reasons for deletion from the admission register (Pupil Registration "
    "Regulations 2006, reg. 9)",
    {
        "TRANSFER": "Registered at another school",
        "END_OF_PHASE": "Completed the school's final year (e.g. Year 6 or Year 11)",
        "MOVED_OUT_OF_LA": "Moved out of the local authority",
        "EHE": "Parents elected to home educate",
        "PERMANENT_EXCLUSION": "Permanently excluded",
        "MANAGED_MOVE": "Managed move to another school",
        "CME": "Left with no known destination (children missing education procedures)",
        "MEDICAL": "Medically unfit to attend, no return expected before compulsory age ends",
        "OTHER": "Other reason",
    },
)

EXCLUSION_CATEGORIES = _codes(
    "exclusion_category",
    "CBDS 100194 exclusion category",
    {
        "FIXD": "Suspension (fixed period)",
        "LNCH": "Lunchtime suspension",
        "PERM": "Permanent exclusion",
    },
)

EXCLUSION_REASONS = _codes(
    "exclusion_reason",
    "CBDS 100196 exclusion reason (up to three reasons since 2020/21)",
    {
        "PP": "Physical assault against a pupil",
        "PA": "Physical assault against an adult",
        "VP": "Verbal abuse or threatening behaviour against a pupil",
        "VA": "Verbal abuse or threatening behaviour against an adult",
        "OW": "Use or threat of use of an offensive weapon or prohibited item",
        "BU": "Bullying",
        "RA": "Racist abuse",
        "LG": "Abuse against sexual orientation and gender identity",
        "DS": "Abuse relating to disability",
        "SM": "Sexual misconduct",
        "DA": "Drug and alcohol related",
        "DM": "Damage",
        "TH": "Theft",
        "PD": "Persistent disruptive behaviour",
        "MT": "Inappropriate use of social media or online technology",
        "PH": "Wilful and repeated transgression of public health measures",
        "OT": "Other (being phased out)",
    },
)

EXCLUSION_STATUS = _codes(
    "exclusion_status",
    "Outcome of the governing board and independent review process",
    {
        "UPHELD": "Upheld (or not challenged)",
        "PENDING": "Awaiting governing board or independent review decision",
        "REINSTATED": "Overturned: the pupil was reinstated",
        "WITHDRAWN": "Withdrawn by the headteacher",
    },
)

SEN_PROVISION = _codes(
    "sen_provision",
    "CBDS 100173 SEN provision",
    {
        "N": "No special educational need",
        "K": "SEN support",
        "E": "Education, Health and Care plan",
    },
)

SEN_PRIMARY_NEED = _codes(
    "sen_primary_need",
    "CBDS 100218 SEN type of need",
    {
        "SPLD": "Specific learning difficulty",
        "MLD": "Moderate learning difficulty",
        "SLD": "Severe learning difficulty",
        "PMLD": "Profound and multiple learning difficulty",
        "SEMH": "Social, emotional and mental health",
        "SLCN": "Speech, language and communication needs",
        "HI": "Hearing impairment",
        "VI": "Visual impairment",
        "MSI": "Multi-sensory impairment",
        "PD": "Physical disability",
        "ASD": "Autistic spectrum disorder",
        "DS": "Down syndrome (from 2026 in some returns)",
        "OTH": "Other difficulty or disability",
        "NSA": "SEN support but no specialist assessment of type of need",
    },
)

SOCIAL_CARE_EPISODES = _codes(
    "social_care_episode",
    "Children in Need census and SSDA903",
    {
        "CIN": "Child in need (open CIN episode or CIN plan)",
        "CPP": "Child protection plan",
        "CLA": "Child looked after",
    },
)

CPP_CATEGORIES = _codes(
    "cpp_category",
    "Children in Need census, initial category of abuse",
    {
        "NEG": "Neglect",
        "PHY": "Physical abuse",
        "EMO": "Emotional abuse",
        "SEX": "Sexual abuse",
        "MUL": "Multiple",
    },
)

REGISTER_EVENTS = _codes(
    "register_event",
    "LA registers kept for s.436A Education Act 1996 and related duties",
    {
        "CME_REFERRAL": "Referred under children missing education procedures",
        "EHE": "Registered as electively home educated",
        "REDUCED_TIMETABLE": "On a reduced (part-time) timetable",
        "MANAGED_MOVE": "Managed move (trial placement at another school)",
        "OFF_SITE_DIRECTION": "Directed off-site by the governing board",
        "ALTERNATIVE_PROVISION": "Placed in alternative provision",
        "MEDICAL_S19": "Medical needs: education arranged under s.19",
    },
)

REGISTER_OUTCOMES = _codes(
    "register_outcome",
    "How a register episode ended",
    {
        "RETURNED_TO_SCHOOL": "Returned to (or started at) a school",
        "REGISTERED_ELSEWHERE": "Registered at another school",
        "MOVED_OUT_OF_LA": "Moved out of the local authority",
        "EHE": "Parents elected to home educate",
        "AP_PLACEMENT": "Placed in alternative provision",
        "FULL_TIME": "Returned to a full-time timetable",
        "COMPLETED": "Completed as planned",
        "BROKE_DOWN": "Placement or arrangement broke down",
        "CHILD_LOCATED": "Child located and education confirmed",
        "UNRESOLVED": "Closed without resolution (whereabouts unknown)",
        "OTHER": "Other",
    },
)

CODE_LISTS: Mapping[str, CodeList] = MappingProxyType(
    {
        code_list.name: code_list
        for code_list in (
            ATTENDANCE_CODES,
            SESSIONS,
            SEX,
            ETHNICITY_MAJOR,
            ETHNICITY_MINOR,
            YES_NO_UNKNOWN,
            SCHOOL_PHASES,
            SCHOOL_TYPES,
            ENROLMENT_STATUS,
            LEAVING_REASONS,
            EXCLUSION_CATEGORIES,
            EXCLUSION_REASONS,
            EXCLUSION_STATUS,
            SEN_PROVISION,
            SEN_PRIMARY_NEED,
            SOCIAL_CARE_EPISODES,
            CPP_CATEGORIES,
            REGISTER_EVENTS,
            REGISTER_OUTCOMES,
        )
    }
)
