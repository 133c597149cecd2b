"""The synthetic LA: ingest accepts everything, determinism, calibration, ground truth."""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pyarrow.parquet as pq
import pytest
import yaml
from tests.conftest import TEST_KEY
from tests.synth._profiles import with_rates

from cmooe_risk.config import Workspace
from cmooe_risk.errors import ConfigError
from cmooe_risk.ingest import ingest
from cmooe_risk.pseudonym import PseudonymKey
from cmooe_risk.synth import Manifest, Profile, check_calibration, generate, load_profile

END = date(2026, 11, 22)


@pytest.fixture(scope="module")
def la_parquet(tmp_path_factory: pytest.TempPathFactory) -> Manifest:
    out = tmp_path_factory.mktemp("la") / "parquet"
    return generate("england", pupils=4000, years=2, seed=3, out=out, end=END)


def _ingest_all(manifest: Manifest, tmp_path: Path):
    report = ingest(Workspace.open(tmp_path / "ws"), Path(manifest.out_dir), extract_date=END)
    for item in report.files:
        source = item.file.rsplit(".", 1)[0]
        assert item.quarantined == 0, (item.file, dict(item.rule_counts))
        assert item.rows_in == item.accepted == manifest.row_counts[source]
    return report


@pytest.mark.slow  # a synthetic LA ingested in full
def test_ingest_accepts_every_row_parquet(la_parquet: Manifest, tmp_path: Path) -> None:
    _ingest_all(la_parquet, tmp_path)
    # ground truth joins to the warehouse after pseudonymisation of its raw UPNs
    ground_truth = pq.read_table(Path(la_parquet.out_dir) / "ground_truth" / "ground_truth.parquet")
    upns = ground_truth.column("pupil_id").cast("string").to_pylist()[:50]
    key = PseudonymKey(TEST_KEY.encode(), "test")
    pseudonyms = {key.pseudonymise(u) for u in upns}
    connection = duckdb.connect(str(tmp_path / "ws" / "warehouse.duckdb"), read_only=True)
    try:
        found = connection.execute(
            "SELECT count(DISTINCT pupil_pseudonym) FROM pupils WHERE pupil_pseudonym IN "
            f"({', '.join('?' for _ in pseudonyms)})",
            list(pseudonyms),
        ).fetchall()[0][0]
    finally:
        connection.close()
    assert found == len(pseudonyms)


@pytest.mark.slow  # a synthetic LA written and ingested in full
def test_ingest_accepts_every_row_csv(tmp_path: Path) -> None:
    manifest = generate(
        "england", pupils=1500, years=2, seed=4, out=tmp_path / "csv", fmt="csv", end=END
    )
    text = (tmp_path / "csv" / "attendance_marks.csv").read_text(encoding="utf-8").splitlines()
    assert text[0] == '"pupil_id","urn","session_date","session","code","recorded_at"'
    # UK dates and MIS-style timestamps
    fields = text[1].split(",")
    assert fields[2].count("/") == 2
    assert fields[5].count("/") == 2
    assert ":" in fields[5]
    _ingest_all(manifest, tmp_path)


def test_marks_have_the_expected_shape(la_parquet: Manifest) -> None:
    con = duckdb.connect()
    marks = f"read_parquet('{Path(la_parquet.out_dir) / 'attendance_marks.parquet'}')"
    codes = dict(con.execute(f"SELECT code, count(*) FROM {marks} GROUP BY code").fetchall())
    for code in ("/", "\\", "I", "O", "N", "E", "#", "C2", "L", "G", "M"):
        assert codes.get(code, 0) > 0, code
    present_am = con.execute(
        f"SELECT count(*) FROM {marks} WHERE code = '/' AND session = 'PM'"
    ).fetchall()[0][0]
    assert present_am == 0
    weekend = con.execute(
        f"SELECT count(*) FROM {marks} WHERE isodow(session_date) > 5"
    ).fetchall()[0][0]
    assert weekend == 0
    # every N that was corrected has a later version of the same mark
    corrected = con.execute(
        f"SELECT count(*) FROM (SELECT pupil_id, urn, session_date, session, count(*) n, "
        f"arg_min(code, recorded_at) first FROM {marks} GROUP BY ALL) WHERE n = 2 AND first = 'N'"
    ).fetchall()[0][0]
    assert corrected > 0
    late = con.execute(
        f"SELECT count(*) FROM {marks} WHERE CAST(recorded_at AS DATE) < session_date"
    ).fetchall()[0][0]
    assert late == 0


def test_deterministic_for_a_seed(tmp_path: Path) -> None:
    kwargs = {"pupils": 800, "years": 1, "end": date(2026, 3, 1)}
    a = generate("england", seed=9, out=tmp_path / "a", **kwargs)
    b = generate("england", seed=9, out=tmp_path / "b", **kwargs)
    c = generate("england", seed=10, out=tmp_path / "c", **kwargs)
    assert a.row_counts == b.row_counts
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*.parquet"))
    assert len(files) == 11
    for rel in files:
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes(), rel
    assert (tmp_path / "a" / "pupils.parquet").read_bytes() != (
        tmp_path / "c" / "pupils.parquet"
    ).read_bytes()
    del c


def test_calibration_passes_at_small_scale(la_parquet: Manifest) -> None:
    result = check_calibration(la_parquet.out_dir)
    assert len(result.rows) == len(load_profile("england").calibration)
    assert result.ok, [(r.figure, r.target, r.generated, r.tolerance) for r in result.failures]
    # the headline figures are actually tested at this size, not waved through
    tested = {r.figure for r in result.rows if math.isfinite(r.tolerance)}
    assert {
        "pex_rate",
        "suspension_rate",
        "overall_absence",
        "persistent_absence",
        "ehe_census",
    } <= tested


def _boosted() -> Profile:
    """England with frequent outcomes, so a small LA has enough events to test against."""
    return with_rates("england", pex_per_100=2.5, cme_new_per_year=0.05)


@pytest.mark.slow  # a synthetic LA large enough for deciles
def test_ground_truth_is_calibrated_by_decile(tmp_path: Path) -> None:
    manifest = generate(
        _boosted(), pupils=3000, years=2, seed=21, out=tmp_path / "gt", end=date(2026, 7, 31)
    )
    out_dir = Path(manifest.out_dir)
    connection = duckdb.connect()
    connection.execute(
        f"CREATE VIEW gt AS SELECT * FROM read_parquet('{out_dir / 'ground_truth' / 'ground_truth.parquet'}')"
    ).fetchall()
    connection.execute(
        f"""CREATE VIEW ev AS
        SELECT pupil_id, 'pex' AS o, start_date AS d FROM read_parquet('{out_dir / "exclusions.parquet"}')
          WHERE category = 'PERM' AND status IN ('UPHELD', 'PENDING')
        UNION ALL
        SELECT pupil_id, 'me', start_date FROM read_parquet('{out_dir / "register_events.parquet"}')
          WHERE event_type = 'CME_REFERRAL'"""
    ).fetchall()
    checked = 0
    for horizon in (6, 13, 26, 39):
        # non-overlapping windows, so the outcome residuals are uncorrelated (martingale
        # differences); pupils leaving the LA within the window count as no outcome
        data = connection.execute(
            f"""
            WITH g AS (SELECT *, (as_of - (SELECT min(as_of) FROM gt)) // 7 AS wk FROM gt
                       WHERE horizon_weeks = {horizon}
                       AND as_of + INTERVAL {7 * horizon} DAY <= DATE '{manifest.end}' + INTERVAL 1 DAY)
            SELECT g.p_permanent_exclusion AS p_pex, g.p_missing_education AS p_me,
              g.p_permanent_exclusion_from_records AS p_pex_records,
              g.p_missing_education_from_records AS p_me_records,
              EXISTS (SELECT 1 FROM ev WHERE ev.pupil_id = g.pupil_id AND o = 'pex'
                      AND d >= g.as_of AND d < g.as_of + INTERVAL {7 * horizon} DAY) AS y_pex,
              EXISTS (SELECT 1 FROM ev WHERE ev.pupil_id = g.pupil_id AND o = 'me'
                      AND d >= g.as_of AND d < g.as_of + INTERVAL {7 * horizon} DAY) AS y_me
            FROM g WHERE wk % {horizon} = 0"""
        ).fetchnumpy()
        # the oracle, and the recorded-data ceiling: both are conditional expectations of
        # the outcome (given the latent state, given the records), so both are calibrated
        for outcome, score in (
            ("pex", "pex"),
            ("me", "me"),
            ("pex", "pex_records"),
            ("me", "me_records"),
        ):
            predicted = np.asarray(data[f"p_{score}"], dtype=float)
            outcomes = np.asarray(data[f"y_{outcome}"], dtype=float)
            order = np.argsort(predicted, kind="stable")
            for part in np.array_split(order, 10):
                expected, observed, variance = (
                    predicted[part].sum(),
                    outcomes[part].sum(),
                    (predicted[part] * (1 - predicted[part])).sum(),
                )
                # 99.9% band of a Poisson-binomial count, with a continuity allowance
                assert abs(observed - expected) <= 3.3 * math.sqrt(variance) + 1.5, (
                    horizon,
                    score,
                    expected,
                    observed,
                    variance,
                )
                checked += 1
            total_expected = predicted.sum()
            assert total_expected > 20, (horizon, score, total_expected)
    assert checked == 160


def test_bias_injection_raises_recorded_risk_only_for_the_group(tmp_path: Path) -> None:
    profile = load_profile("england")
    profile = profile.model_copy(
        update={
            "bias": profile.bias.model_copy(
                update={"enabled": True, "sex": ["M"], "ethnicity_minor": [], "multiplier": 2.0}
            )
        }
    )
    manifest = generate(
        profile, pupils=800, years=1, seed=2, out=tmp_path / "bias", end=date(2026, 3, 1)
    )
    ground_truth = pq.read_table(
        Path(manifest.out_dir) / "ground_truth" / "ground_truth.parquet"
    ).to_pandas()
    pupils = (
        pq.read_table(Path(manifest.out_dir) / "pupils.parquet").to_pandas().set_index("pupil_id")
    )
    ground_truth["sex"] = ground_truth["pupil_id"].astype(str).map(pupils["sex"])
    boys, girls = ground_truth[ground_truth.sex == "M"], ground_truth[ground_truth.sex == "F"]
    assert (girls.p_permanent_exclusion == girls.p_permanent_exclusion_unbiased).all()
    assert (boys.p_permanent_exclusion >= boys.p_permanent_exclusion_unbiased - 1e-12).all()
    assert boys.p_permanent_exclusion.mean() > 1.5 * boys.p_permanent_exclusion_unbiased.mean()
    assert manifest.bias_enabled


def test_profiles_load_and_bad_keys_are_named(tmp_path: Path) -> None:
    for name in ("england", "dorset", "wiltshire"):
        profile = load_profile(name)
        assert profile.calibration
        assert profile.default_pupils >= 100
        assert all(t.source for t in profile.calibration.values())
    raw = load_profile("england").model_dump(mode="json")
    raw["rates"]["pex_per_100"]["value"] = "lots"
    path = tmp_path / "mine.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"rates\.pex_per_100\.value"):
        load_profile(path)
    raw = load_profile("england").model_dump(mode="json")
    raw["calibration"]["made_up_figure"] = {"target": 1, "tolerance": 1, "source": "x"}
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    with pytest.raises(ConfigError, match="made_up_figure"):
        load_profile(path)
    raw = load_profile("england").model_dump(mode="json")
    raw["schools"]["unknown_key"] = 3
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"schools\.unknown_key"):
        load_profile(path)
    with pytest.raises(ConfigError, match="narnia"):
        load_profile("narnia")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"pupils": 10}, "got 10"),
        ({"years": 7}, "got 7"),
        ({"seed": -1}, "got -1"),
        ({"fmt": "xlsx"}, "'xlsx'"),
    ],
)
def test_bad_arguments_name_the_value(tmp_path: Path, kwargs: dict, match: str) -> None:
    args = {"pupils": 500, "years": 1, "seed": 0, "out": tmp_path / "x"} | kwargs
    with pytest.raises(ConfigError, match=match):
        generate("england", **args)


def test_cli_synth_check_exit_codes(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from cmooe_risk.cli._main import app

    runner = CliRunner()
    args = ["synth", "--pupils", "600", "--years", "1", "--seed", "1", "--end", "2026-03-01"]
    ok = runner.invoke(app, [*args, "--out", str(tmp_path / "ok")])
    assert ok.exit_code == 0, ok.output
    assert (tmp_path / "ok" / "manifest.json").exists()
    # an impossible target makes --check fail with exit code 6
    raw = load_profile("england").model_dump(mode="json")
    raw["calibration"]["overall_absence"]["target"] = 60.0
    raw["calibration"]["overall_absence"]["tolerance"] = 0.1
    path = tmp_path / "impossible.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    bad = runner.invoke(
        app, [*args, "--profile", str(path), "--out", str(tmp_path / "bad"), "--check"]
    )
    assert bad.exit_code == 6, bad.output
    assert "overall_absence" in bad.output


def test_school_names_stay_unique_when_an_la_has_more_schools_than_place_names() -> None:
    # 1M pupils need about 1,800 primary schools, against 300 place names: generating
    # such an LA once looped forever looking for an unused name.
    from cmooe_risk.synth._population import build_schools

    small = build_schools(load_profile("england"), 3000, np.random.default_rng(1))
    large = build_schools(load_profile("england"), 1_000_000, np.random.default_rng(1))
    assert len(large) > 2000
    assert len(set(large.name)) == len(large.name)
    assert all(name.strip() == name and "  " not in name for name in large.name)
    # a small LA's names come from the places alone, as before
    assert not any(" No. " in name for name in small.name)
