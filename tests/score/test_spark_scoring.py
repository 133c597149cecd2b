"""Scoring on Spark gives the DuckDB weekly job's lists: same pupils, ranks, risks, reasons.

The trained LA's champions score a smaller roll as of one week both ways:
``score_roll_spark`` (features built on Spark, the champion applied in ``mapInPandas``,
ranks from a Spark window) and ``score_week`` (DuckDB and pandas, whose ``scores.parquet``
keeps every pupil's rank, risk and reasons). The roll is another synthetic LA of 800
pupils loaded into a copy of the trained workspace: Spark's feature build costs about
50 s for the 3,000-pupil LA's 3.4 million marks (the attendance windows over every week),
and what is tested, the same lists from both engines, does not need that many.
"""

from __future__ import annotations

import json
import time
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tests._spark import require_spark

require_spark()

AS_OF = date(2026, 7, 6)
WHY = ["why_1", "why_2", "why_3"]


@pytest.fixture
def smaller_roll(champions_copy):
    """The champions' workspace with its warehouse replaced by an 800-pupil LA's."""
    from tests._trained import boosted_profile

    from cmooe_risk.ingest import ingest
    from cmooe_risk.synth import generate

    workspace = champions_copy.workspace
    extracts = workspace.root.parent / "smaller-la"
    generate(boosted_profile(), pupils=800, years=2, seed=11, out=extracts, end=date(2026, 7, 24))
    ingest(workspace, extracts, extract_date=date(2026, 7, 24), force=True)
    return workspace


def _text(frame: pd.DataFrame) -> pd.DataFrame:
    """Reasons as plain objects, a missing one as None, whichever string dtype holds them."""
    out = frame.copy()
    for column in WHY:
        values = out[column].astype(object)
        out[column] = values.where(values.notna(), None)
    # a rank as a whole number, or None for a child not ranked (either engine's NULL)
    ranks = [None if pd.isna(r) else int(r) for r in out["rank"]]
    out["rank"] = pd.Series(ranks, index=out.index, dtype=object)
    return out


def test_spark_scores_match_the_duckdb_job(spark, smaller_roll, tmp_path: Path) -> None:
    from cmooe_risk.score import score_week
    from cmooe_risk.score._spark import OUTPUT_COLUMNS, score_roll_spark

    workspace = smaller_roll
    started = time.perf_counter()
    counts = score_roll_spark(spark, workspace, AS_OF, tmp_path / "spark")
    spark_seconds = time.perf_counter() - started
    result = score_week(workspace, AS_OF)
    duck = pd.read_parquet(result.run_dir / "scores.parquet")
    assert set(counts["outcomes"]) == set(duck["outcome"].unique())

    for outcome, info in counts["outcomes"].items():
        ours = pd.read_parquet(info["path"])
        assert list(ours.columns) == list(OUTPUT_COLUMNS)
        theirs = duck[duck["outcome"] == outcome]
        assert len(ours) == len(theirs) == counts["pupils"]
        assert info["listed"] == int(theirs["listed"].sum())
        keys = ["locality", "rank", "pupil_pseudonym"]  # the unranked (not eligible) last
        ours = _text(ours.sort_values(keys, ignore_index=True))
        theirs = _text(theirs.sort_values(keys, ignore_index=True))
        # every pupil, not only the top k: same pupil at the same rank in the same locality,
        # the same known cases and children who take no place, the same bands
        for column in ("locality", "pupil_pseudonym", "rank", "listed", "section", "band"):
            assert ours[column].tolist() == theirs[column].tolist(), (outcome, column)
        np.testing.assert_allclose(ours["risk"], theirs["risk"], rtol=0, atol=1e-9)
        for column in WHY:
            differ = ours[column].to_numpy() != theirs[column].to_numpy()
            assert not differ.any(), (
                outcome,
                column,
                ours.loc[differ, ["pupil_pseudonym", column]].head(3).to_dict("records"),
                theirs.loc[differ, ["pupil_pseudonym", column]].head(3).to_dict("records"),
            )
        assert ours["listed"].any()
    manifest = json.loads((tmp_path / "spark" / "manifest.json").read_text())
    assert manifest["pupils"] == counts["pupils"]
    stages = manifest["timings_seconds"]
    expected = {"load_models", "export_tables", "features", "total"}
    assert expected | {f"score_{o}" for o in counts["outcomes"]} == set(stages)
    # the manifest rounds to 0.01 s
    assert 0 < stages["features"] < stages["total"] <= spark_seconds + 0.01
    print(f"Spark scoring: {spark_seconds:.1f} s for {counts['pupils']} pupils")
