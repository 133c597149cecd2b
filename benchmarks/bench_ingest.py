"""Ingest throughput at national-LA scale: 100k pupils, 3 academic years of session marks.

The extract here is a uniform "shape" extract made directly in DuckDB (every pupil on
roll every school day, a fixed share of illness marks), not the synthetic LA: it
measures how fast contracts are checked and loaded, independent of the generator.

    python -m benchmarks ingest [--pupils 100000] [--days 570] [--workdir bench-output/ingest]
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

import duckdb

from benchmarks._measure import run_measured
from cmooe_risk.contracts._upn import upn_check_sql

KEY = "benchmark-key-0123456789abcdef"


def make_shape_extract(pupils: int, school_days: int, out: Path) -> int:
    """Write all nine extracts as Parquet; returns the number of attendance marks."""
    out.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(config={"memory_limit": "4GB"})
    con.execute(
        f"CREATE TABLE p AS SELECT i, '9372025' || lpad(CAST(i AS VARCHAR), 5, '0') AS body "
        f"FROM range({pupils}) t(i)"
    ).fetchall()
    con.execute(
        f"CREATE TABLE pupils AS SELECT {upn_check_sql(chr(40) + chr(39) + 'X' + chr(39) + ' || body)')} "
        "|| body AS pupil_id, CASE WHEN i % 2 = 0 THEN 'M' ELSE 'F' END AS sex, "
        "'2012-0' || CAST(1 + i % 9 AS VARCHAR) AS year_month_of_birth, 'WHIT' AS ethnicity_major, "
        "'WBRI' AS ethnicity_minor, 'N' AS eal, 1 + i % 10 AS idaci_decile, 'North' AS locality, "
        "100001 + i % 40 AS urn FROM p"
    ).fetchall()

    def copy(select: str, name: str) -> None:
        con.execute(f"COPY ({select}) TO '{out / name}.parquet' (FORMAT parquet)").fetchall()

    copy(
        "SELECT DISTINCT urn, 'School ' || urn AS name, 'SECONDARY' AS phase, 'ACADEMY' AS type, "
        "'North' AS locality FROM pupils",
        "schools",
    )
    copy("SELECT * EXCLUDE (urn) FROM pupils", "pupils")
    copy(
        "SELECT pupil_id, urn, DATE '2023-09-01' AS start_date, CAST(NULL AS DATE) AS end_date, "
        "'C' AS enrolment_status, CAST(NULL AS VARCHAR) AS leaving_reason, "
        "CAST(NULL AS INTEGER) AS destination_urn FROM pupils",
        "enrolments",
    )
    copy(
        "SELECT pupil_id, urn, DATE '2023-09-01' + CAST(d AS INTEGER) AS session_date, s AS session, "
        "CASE WHEN hash(pupil_id, d, s) % 20 = 0 THEN 'I' WHEN s = 'AM' THEN '/' ELSE '\\' END AS code, "
        "CAST(DATE '2023-09-01' + CAST(d AS INTEGER) AS TIMESTAMP) + INTERVAL 9 HOUR AS recorded_at "
        f"FROM pupils, range({school_days}) r(d), (VALUES ('AM'), ('PM')) v(s)",
        "attendance_marks",
    )
    episodes = {
        "fsm_episodes": "pupil_id, DATE '2024-01-01' AS start_date, CAST(NULL AS DATE) AS end_date",
        "exclusions": "pupil_id, urn, DATE '2024-02-01' AS start_date, 'FIXD' AS category, "
        "2 AS sessions, 'PD' AS reason_1, CAST(NULL AS VARCHAR) AS reason_2, "
        "CAST(NULL AS VARCHAR) AS reason_3, 'UPHELD' AS status",
        "send_episodes": "pupil_id, DATE '2022-01-01' AS start_date, CAST(NULL AS DATE) AS end_date, "
        "'K' AS provision, 'SEMH' AS primary_need, CAST(NULL AS DATE) AS ehcp_request_date, "
        "CAST(NULL AS DATE) AS ehcp_issued_date",
        "social_care_episodes": "pupil_id, 'CIN' AS episode_type, CAST(NULL AS VARCHAR) AS cpp_category, "
        "DATE '2024-01-01' AS start_date, CAST(NULL AS DATE) AS end_date",
        "register_events": "pupil_id, 'REDUCED_TIMETABLE' AS event_type, urn, DATE '2024-03-01' AS "
        "start_date, CAST(NULL AS DATE) AS end_date, CAST(NULL AS VARCHAR) AS outcome",
    }
    for name, columns in episodes.items():
        copy(f"SELECT {columns} FROM pupils WHERE hash(pupil_id) % 10 = 0", name)
    con.close()
    return pupils * school_days * 2


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks ingest")
    parser.add_argument("--pupils", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=570, help="school days (190 a year)")
    parser.add_argument("--workdir", type=Path, default=Path("bench-output/ingest"))
    args = parser.parse_args(argv)
    shutil.rmtree(args.workdir, ignore_errors=True)
    extracts = args.workdir / "extracts"
    marks = make_shape_extract(args.pupils, args.days, extracts)
    seconds, peak_gb = run_measured(
        [
            sys.executable,
            "-m",
            "cmooe_risk",
            "-w",
            str(args.workdir / "ws"),
            "ingest",
            str(extracts),
            "--extract-date",
            "2026-08-31",
        ],
        env={"CMOOE_PSEUDONYM_KEY": KEY},
    )
    print(
        f"ingest: {args.pupils:,} pupils, {marks:,} session marks: {seconds:.1f} s wall, "
        f"{peak_gb:.2f} GB peak RSS, {marks / seconds / 1e6:.2f} M marks/s"
    )


if __name__ == "__main__":
    main(sys.argv[1:])
