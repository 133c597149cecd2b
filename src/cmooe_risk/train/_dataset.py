"""The modelling table: point-in-time features joined to outcome labels (and the oracle).

Features for every as-of date of every split are built in one pass and cached as Parquet
in the workspace, keyed by the ingest run, the dates and the feature definitions, so the
two outcomes (and reruns on the same data) share them. Labels come from the ``outcomes``
stage. DuckDB does the joins and the negative sampling; pandas only sees the rows a model
is fitted or scored on.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd

from cmooe_risk._definitions import definitions
from cmooe_risk._progress import step
from cmooe_risk.config import Workspace
from cmooe_risk.errors import InputDataError, StateError
from cmooe_risk.features import audit_path, load_catalog, write_features
from cmooe_risk.outcomes import ELIGIBLE, build_labels, eligibility_sql, load_outcomes
from cmooe_risk.pseudonym import load_key
from cmooe_risk.train._splits import DataSpan
from cmooe_risk.warehouse import connect_workspace, fetch_all, fetch_scalar, table_exists

__all__ = [
    "ModellingData",
    "data_span",
    "feature_cache_path",
    "latest_ingest",
    "school_weeks",
]

KEYS = ["pupil_pseudonym", "as_of"]
#: Spine columns carried beside the features, for ranking within localities.
CONTEXT = ["locality", "urn", "roll_status"]


def data_span(con: duckdb.DuckDBPyConnection) -> DataSpan:
    if not table_exists(con, "attendance_marks"):
        raise StateError("The warehouse has no attendance data. Run `cmooe-risk ingest` first.")
    first, last = fetch_all(
        con, "SELECT min(session_date), max(session_date) FROM attendance_marks"
    )[0]
    if first is None:
        raise StateError("The warehouse's attendance_marks table is empty: nothing to train on.")
    return DataSpan(first=first, last=last)


def school_weeks(con: duckdb.DuckDBPyConnection) -> frozenset[date]:
    """Mondays of the weeks with at least one school day, read from the registers.

    The rule is the outcomes stage's (``school_days.sql``): a school day has marks other
    than '#' numbering at least a quarter of the median day's. Models are trained and
    tested on term-time as-of dates only: the weekly job runs in term, and a holiday
    Monday adds no information that the Monday before it did not have.
    """
    rows = fetch_all(
        con,
        """
        WITH daily AS (
            SELECT session_date, SUM(CASE WHEN code <> '#' THEN 1 ELSE 0 END) AS marks
            FROM attendance_marks WHERE superseded_at IS NULL GROUP BY session_date
        ), typical AS (SELECT MEDIAN(marks) AS median_marks FROM daily)
        SELECT DISTINCT CAST(d.session_date - CAST(isodow(d.session_date) - 1 AS INTEGER) AS DATE)
        FROM daily AS d CROSS JOIN typical AS t
        WHERE d.marks > 0 AND d.marks >= 0.25 * t.median_marks
        """,
    )
    return frozenset(monday for (monday,) in rows)


def latest_ingest(con: duckdb.DuckDBPyConnection) -> dict:
    """The last ingest run and its files' hashes and counts: no personal data."""
    if not table_exists(con, "ingest_runs"):
        raise StateError("Nothing has been ingested yet. Run `cmooe-risk ingest SOURCE_DIR`.")
    run_id, extract_date, finished = fetch_all(
        con,
        "SELECT run_id, extract_date, finished_at FROM ingest_runs "
        "ORDER BY finished_at DESC LIMIT 1",
    )[0]
    files = fetch_all(
        con,
        "SELECT source, file, sha256, rows_in, accepted, quarantined FROM ingest_files "
        "WHERE run_id = ? ORDER BY position",
        [run_id],
    )
    return {
        "ingest_run_id": run_id,
        "extract_date": extract_date.isoformat(),
        "ingested_at": finished.isoformat(timespec="seconds"),
        "files": [
            dict(
                zip(
                    ("source", "file", "sha256", "rows_in", "accepted", "quarantined"),
                    f,
                    strict=True,
                )
            )
            for f in files
        ],
    }


def _definitions_hash() -> str:
    digest = hashlib.sha256()
    root = definitions("features")
    for item in sorted(root.iterdir(), key=lambda p: p.name):
        if item.name.endswith((".sql", ".yaml")):
            digest.update(item.name.encode() + item.read_bytes())
    return digest.hexdigest()[:16]


def feature_cache_path(workspace: Workspace, ingest_run_id: str, dates: Sequence[date]) -> Path:
    key = json.dumps([ingest_run_id, _definitions_hash(), [d.isoformat() for d in dates]])
    name = hashlib.sha256(key.encode()).hexdigest()[:16]
    return workspace.path("features") / "training" / f"features-{name}.parquet"


@dataclass
class ModellingData:
    """Features and labels for one outcome, on an open read-only warehouse connection."""

    con: duckdb.DuckDBPyConnection
    features: tuple[str, ...]
    features_file: Path
    outcome: str
    horizon_weeks: int
    label_summary: object
    #: SQL CASE over ``f`` giving each row's eligibility (see cmooe_risk.outcomes)
    eligibility: str = f"'{ELIGIBLE}'"
    #: whether ``precursor_labels`` exists (rows then carry ``precursor``, 0/1)
    precursors: bool = False
    oracle_available: bool = False
    ceiling_available: bool = False
    manifest: dict = field(default_factory=dict)

    @classmethod
    @contextmanager
    def open(
        cls,
        workspace: Workspace,
        outcome: str,
        horizon_weeks: int,
        dates: Sequence[date],
        *,
        ground_truth: Path | None = None,
        oracle_dates: Sequence[date] = (),
        precursors: bool = False,
    ) -> Iterator[ModellingData]:
        dates = sorted(set(dates))
        with connect_workspace(workspace, read_only=True) as con:
            ingest_info = latest_ingest(con)
        features_file = feature_cache_path(workspace, ingest_info["ingest_run_id"], dates)
        if not features_file.exists():
            with step(f"Features for {len(dates)} as-of dates"):
                write_features(workspace, dates, features_file)
        spec = load_outcomes()[outcome]
        catalog = tuple(f.name for f in load_catalog().model_features)
        with connect_workspace(workspace, read_only=True) as con:
            path = str(features_file).replace("'", "''")
            con.execute(
                f"CREATE TEMP VIEW modelling_features AS SELECT * FROM read_parquet('{path}')"
            ).fetchall()
            audit = str(audit_path(features_file)).replace("'", "''")
            con.execute(
                f"CREATE TEMP VIEW modelling_audit AS SELECT * FROM read_parquet('{audit}')"
            ).fetchall()
            with step(f"Labels: {outcome}, {horizon_weeks}-week horizon"):
                summary = build_labels(
                    con, spec, keys="modelling_features", horizon_weeks=horizon_weeks, into="labels"
                )
            precursor_summary = None
            if precursors:
                with step(f"Labels: {outcome}'s precursor events"):
                    precursor_summary = build_labels(
                        con,
                        spec,
                        keys="modelling_features",
                        horizon_weeks=horizon_weeks,
                        into="precursor_labels",
                        precursors=True,
                    )
            data = cls(
                con=con,
                features=catalog,
                features_file=features_file,
                outcome=outcome,
                horizon_weeks=horizon_weeks,
                label_summary=summary,
                eligibility=eligibility_sql(spec.eligibility, "f"),
                precursors=precursors,
            )
            data.manifest = {
                **ingest_info,
                "feature_file_sha256_prefix": features_file.stem.removeprefix("features-"),
                "feature_definitions_sha256_prefix": _definitions_hash(),
                "labels": {
                    k: (v.isoformat() if isinstance(v, date) else v)
                    for k, v in vars(summary).items()
                },
            }
            if precursor_summary is not None:
                data.manifest["precursor_labels"] = {
                    k: (v.isoformat() if isinstance(v, date) else v)
                    for k, v in vars(precursor_summary).items()
                }
            if ground_truth is not None:
                with step("Oracle: joining the synthetic LA's ground-truth risk"):
                    data._attach_oracle(workspace, ground_truth, oracle_dates)
            yield data

    def _attach_oracle(
        self, workspace: Workspace, ground_truth: Path, dates: Sequence[date]
    ) -> None:
        candidates = [ground_truth / "ground_truth" / "ground_truth.parquet"]
        candidates += [ground_truth / "ground_truth.parquet", ground_truth]
        file = next((c for c in candidates if c.is_file()), candidates[0])
        if not file.exists():
            raise InputDataError(
                f"No ground truth at {file}: --ground-truth takes the synthetic LA's "
                "directory (the one `cmooe-risk synth --out` wrote) or its ground_truth/ folder."
            )
        columns = [
            c for (c,) in fetch_all(self.con, f"SELECT name FROM parquet_schema('{_q(file)}')")
        ]
        wanted = f"p_{self.outcome}"
        if wanted not in columns or "horizon_weeks" not in columns:
            raise InputDataError(
                f"{file} is not a synthetic LA's ground truth (no {wanted} column)."
            )
        horizons = {
            h
            for (h,) in fetch_all(
                self.con, f"SELECT DISTINCT horizon_weeks FROM read_parquet('{_q(file)}')"
            )
        }
        if self.horizon_weeks not in horizons:
            self.manifest["oracle"] = (
                f"not available: the ground truth has horizons {sorted(horizons)}, "
                f"not {self.horizon_weeks} weeks"
            )
            return
        key = load_key(workspace)
        date_list = ", ".join(f"DATE '{d.isoformat()}'" for d in sorted(set(dates)))
        # The behaviour-driven risk, without any injected recording bias, for the audit.
        unbiased = f"{wanted}_unbiased" if f"{wanted}_unbiased" in columns else wanted
        # The best risk achievable from the LA's records (older synthetic LAs lack it).
        from_records = f"{wanted}_from_records"
        self.ceiling_available = from_records in columns
        ceiling = f"g.{from_records}" if self.ceiling_available else "CAST(NULL AS DOUBLE)"
        sql = (
            "CREATE OR REPLACE TEMP TABLE oracle AS "
            f"SELECT {key.sql('g.pupil_id')} AS pupil_pseudonym, g.as_of, "
            f"g.{wanted} AS oracle_risk, g.{unbiased} AS oracle_unbiased, "
            f"{ceiling} AS ceiling_risk "
            f"FROM (SELECT * REPLACE (CAST(pupil_id AS VARCHAR) AS pupil_id) "
            f"FROM read_parquet('{_q(file)}') WHERE horizon_weeks = {int(self.horizon_weeks)} "
            f"AND as_of IN ({date_list})) AS g"
        )
        self.con.execute(sql, key.params_for(sql)).fetchall()
        self.oracle_available = True
        self.manifest["oracle"] = f"ground truth {file.name}, horizon {self.horizon_weeks} weeks"
        self.manifest["ceiling"] = (
            f"recorded-data ceiling ({from_records})"
            if self.ceiling_available
            else "not available: the synthetic LA predates the recorded-data ceiling"
        )

    def rows(
        self,
        dates: Sequence[date],
        *,
        negative_sample_rate: float = 1.0,
        seed: int = 0,
        with_oracle: bool = False,
        with_audit: bool = False,
    ) -> pd.DataFrame:
        """Labelled rows of the eligible cohort at ``dates`` (censored rows and children
        who take no place on the list dropped, see ``cmooe_risk.outcomes``), features as
        float32.

        ``with_oracle`` adds the ground truth's ``oracle_risk`` (as recorded),
        ``oracle_unbiased`` (behaviour-driven) and ``ceiling_risk`` (the best achievable
        from the records); ``with_audit`` adds the audit-only
        attributes (sex, ethnicity) for the fairness audit.

        With ``negative_sample_rate < 1`` a deterministic hash of (pupil, as-of, seed)
        keeps that share of the negatives and every positive (of the outcome, and with
        precursors of a precursor event too): training rows only. With precursors, rows
        carry ``precursor`` (1 if a precursor event fell in the window).
        """
        date_list = ", ".join(f"DATE '{d.isoformat()}'" for d in sorted(set(dates)))
        columns = ", ".join(f"CAST(f.{name} AS FLOAT) AS {name}" for name in self.features)
        sample = ""
        precursor_column, precursor_join, kept = "", "", "l.label = 1"
        if self.precursors:
            precursor_column = ", COALESCE(p.label, 0) AS precursor"
            precursor_join = (
                "LEFT JOIN precursor_labels AS p "
                "ON p.pupil_pseudonym = f.pupil_pseudonym AND p.as_of = f.as_of"
            )
            kept = "l.label = 1 OR p.label = 1"
        if negative_sample_rate < 1.0:
            threshold = int(negative_sample_rate * 1_000_000)
            sample = (
                f"AND ({kept} OR hash(f.pupil_pseudonym, f.as_of, {int(seed)}) "
                f"% 1000000 < {threshold})"
            )
        oracle_column, oracle_join = "", ""
        if with_oracle and self.oracle_available:
            oracle_column = (
                ", COALESCE(o.oracle_risk, 0.0) AS oracle_risk, "
                "COALESCE(o.oracle_unbiased, 0.0) AS oracle_unbiased, "
                "COALESCE(o.ceiling_risk, 0.0) AS ceiling_risk, "
                "o.oracle_risk IS NOT NULL AS oracle_known"
            )
            oracle_join = "LEFT JOIN oracle AS o ON o.pupil_pseudonym = f.pupil_pseudonym AND o.as_of = f.as_of"
        audit_column, audit_join = "", ""
        if with_audit:
            audit_column = ", a.sex, a.ethnicity_major, a.ethnicity_minor"
            audit_join = (
                "LEFT JOIN modelling_audit AS a "
                "ON a.pupil_pseudonym = f.pupil_pseudonym AND a.as_of = f.as_of"
            )
        sql = (
            f"SELECT f.pupil_pseudonym, f.as_of, COALESCE(f.locality, 'Unknown') AS locality, "
            f"f.urn, f.roll_status, CAST(l.label AS TINYINT) AS label, {columns}"
            f"{oracle_column}{audit_column}{precursor_column} "
            "FROM modelling_features AS f "
            "JOIN labels AS l ON l.pupil_pseudonym = f.pupil_pseudonym AND l.as_of = f.as_of "
            f"{oracle_join} {audit_join} {precursor_join} "
            f"WHERE l.label IS NOT NULL AND f.as_of IN ({date_list}) "
            f"AND {self.eligibility} = '{ELIGIBLE}' {sample} "
            "ORDER BY f.as_of, f.pupil_pseudonym"
        )
        return self.con.execute(sql).df()

    def eligibility_counts(self, dates: Sequence[date]) -> dict[str, int]:
        """Labelled rows at ``dates`` by eligibility (``eligible``, ``known_case``, ...)."""
        date_list = ", ".join(f"DATE '{d.isoformat()}'" for d in sorted(set(dates)))
        rows = fetch_all(
            self.con,
            f"SELECT {self.eligibility} AS status, count(*) FROM modelling_features AS f "
            "JOIN labels AS l ON l.pupil_pseudonym = f.pupil_pseudonym AND l.as_of = f.as_of "
            f"WHERE l.label IS NOT NULL AND f.as_of IN ({date_list}) GROUP BY 1",
        )
        return {status: int(n) for status, n in rows}

    def label_counts(self, dates: Sequence[date]) -> dict[str, int]:
        date_list = ", ".join(f"DATE '{d.isoformat()}'" for d in sorted(set(dates)))
        rows = fetch_all(
            self.con,
            f"SELECT status, count(*) FROM labels WHERE as_of IN ({date_list}) GROUP BY status",
        )
        return {status: int(n) for status, n in rows}

    def roll_size(self, as_of: date) -> int:
        return int(
            fetch_scalar(
                self.con, "SELECT count(*) FROM modelling_features WHERE as_of = ?", [as_of]
            )
        )


def _q(path: Path) -> str:
    return str(path).replace("'", "''")
