"""Rebuild the mini LA fixture: `python src/cmooe_risk/_fixtures/build_mini_la.py` from the repo root.

A tiny, valid, hand-readable LA (4 schools, 8 pupils, three weeks of marks) that the
rule tests break one rule at a time. Every UPN is fictitious (LA code 937).
"""

import csv
import datetime as dt
import sys

sys.path.insert(0, "src")
from cmooe_risk.contracts import upn_check_letter

out = "src/cmooe_risk/_fixtures/mini_la/"


def upn(n):
    body = f"9372025{n:05d}"
    return upn_check_letter(body) + body


def w(name, header, rows):
    with open(out + name + ".csv", "w", newline="", encoding="utf-8") as f:
        c = csv.writer(f, lineterminator="\n")
        c.writerow(header)
        c.writerows(rows)


w(
    "schools",
    ["urn", "name", "phase", "type", "locality"],
    [
        [100001, "Ashdown Primary", "PRIMARY", "MAINTAINED", "North"],
        [100002, "Beacon Academy", "SECONDARY", "ACADEMY", "North"],
        [100003, "Castle Hill School", "SECONDARY", "MAINTAINED", "South"],
        [100004, "Southway Pupil Referral Unit", "AP", "PRU", "South"],
    ],
)
pupils = [
    (upn(1), "M", "2014-03", "WHIT", "WBRI", "N", 3, "North", 100001),
    (upn(2), "F", "2014-11", "ASIA", "APKN", "Y", 2, "North", 100001),
    (upn(3), "M", "2011-06", "BLAC", "BCRB", "N", 1, "North", 100002),
    (upn(4), "F", "2011-01", "MIXD", "MWBC", "N", 5, "North", 100002),
    (upn(5), "M", "2010-09", "WHIT", "WROM", "N", 1, "South", 100003),
    (upn(6), "F", "2010-12", "WHIT", "WBRI", "N", 8, "South", 100003),
    (upn(7), "M", "2011-04", "WHIT", "WBRI", "U", "", "South", 100003),
    (upn(8), "M", "2010-02", "AOEG", "OOTH", "Y", 4, "South", 100003),
]
w(
    "pupils",
    [
        "pupil_id",
        "sex",
        "year_month_of_birth",
        "ethnicity_major",
        "ethnicity_minor",
        "eal",
        "idaci_decile",
        "locality",
    ],
    [p[:8] for p in pupils],
)
enrol = [[p[0], p[8], "01/09/2025", "", "C", "", ""] for p in pupils]
enrol[7] = [upn(8), 100003, "01/09/2025", "13/10/2025", "C", "PERMANENT_EXCLUSION", 100004]
enrol.append([upn(8), 100004, "14/10/2025", "", "C", "", ""])
w(
    "enrolments",
    [
        "pupil_id",
        "urn",
        "start_date",
        "end_date",
        "enrolment_status",
        "leaving_reason",
        "destination_urn",
    ],
    enrol,
)
w(
    "fsm_episodes",
    ["pupil_id", "start_date", "end_date"],
    [[upn(3), "01/04/2024", ""], [upn(5), "15/09/2023", "31/08/2025"], [upn(5), "01/09/2025", ""]],
)
marks = []
day = dt.date(2025, 9, 1)
codes = {upn(3): "/N", upn(5): "/O", upn(7): "/C2"}
while day <= dt.date(2025, 9, 19):
    if day.weekday() < 5:
        for p in pupils:
            for sess, present in (("AM", "/"), ("PM", "\\")):
                code = present
                if p[0] == upn(3) and day.weekday() == 0:
                    code = "N" if sess == "AM" else "I"
                if p[0] == upn(5) and day.day % 3 == 0:
                    code = "O"
                if p[0] == upn(7) and sess == "PM":
                    code = "C2"
                stamp = day.strftime("%d/%m/%Y") + (" 09:05" if sess == "AM" else " 13:35")
                marks.append([p[0], p[8], day.strftime("%d/%m/%Y"), sess, code, stamp])
                if code == "N":
                    marks.append(
                        [
                            p[0],
                            p[8],
                            day.strftime("%d/%m/%Y"),
                            sess,
                            "I",
                            (day + dt.timedelta(days=2)).strftime("%d/%m/%Y") + " 10:12",
                        ]
                    )
    day += dt.timedelta(days=1)
w("attendance_marks", ["pupil_id", "urn", "session_date", "session", "code", "recorded_at"], marks)
w(
    "exclusions",
    [
        "pupil_id",
        "urn",
        "start_date",
        "category",
        "sessions",
        "reason_1",
        "reason_2",
        "reason_3",
        "status",
    ],
    [
        [upn(5), 100003, "15/09/2025", "FIXD", 4, "PD", "VA", "", "UPHELD"],
        [upn(8), 100003, "22/09/2025", "FIXD", 6, "PA", "", "", "UPHELD"],
        [upn(8), 100003, "08/10/2025", "PERM", "", "PA", "OW", "", "UPHELD"],
    ],
)
w(
    "send_episodes",
    [
        "pupil_id",
        "start_date",
        "end_date",
        "provision",
        "primary_need",
        "ehcp_request_date",
        "ehcp_issued_date",
    ],
    [
        [upn(5), "01/09/2022", "", "K", "SEMH", "", ""],
        [upn(7), "01/09/2021", "31/03/2024", "K", "ASD", "15/09/2023", ""],
        [upn(7), "01/04/2024", "", "E", "ASD", "15/09/2023", "01/04/2024"],
    ],
)
w(
    "social_care_episodes",
    ["pupil_id", "episode_type", "cpp_category", "start_date", "end_date"],
    [
        [upn(3), "CIN", "", "10/01/2025", ""],
        [upn(5), "CPP", "NEG", "01/02/2024", "30/11/2024"],
        [upn(6), "CLA", "", "15/06/2023", ""],
    ],
)
w(
    "register_events",
    ["pupil_id", "event_type", "urn", "start_date", "end_date", "outcome"],
    [
        [upn(7), "REDUCED_TIMETABLE", 100003, "08/09/2025", "", ""],
        [upn(8), "ALTERNATIVE_PROVISION", 100004, "14/10/2025", "", ""],
        [upn(4), "MANAGED_MOVE", 100003, "01/06/2025", "10/07/2025", "BROKE_DOWN"],
    ],
)
print(len(marks), "marks")
