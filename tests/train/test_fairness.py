"""The fairness audit of trained runs: the injected recording bias, the gate, the CLI."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from tests._trained import copy_workspace
from tests.conftest import TEST_KEY

from cmooe_risk.audit import audit_run
from cmooe_risk.errors import StateError
from cmooe_risk.tracking import client_for
from cmooe_risk.train import CHAMPION, promote_run, registered_model_name

PEX = "permanent_exclusion"


def _flags(audit, attribute: str, metric: str):
    flags = audit.flags
    return flags[(flags["attribute"] == attribute) & (flags["metric"] == metric)]


def test_train_audits_the_challenger_and_records_it(trained) -> None:
    result = trained.results[PEX]
    assert result.audit is not None
    assert result.audit.html_path.exists()
    assert "http" not in result.audit.html_path.read_text().replace("https://www.w3", "")
    run = client_for(trained.workspace).get_run(result.model_runs["lightgbm_quick"])
    assert run.data.tags["cmooe.fairness.audited"] == "true"
    assert int(run.data.tags["cmooe.fairness.blocking_flags"]) == len(result.audit.blocking)
    assert "fairness/audit.json" in {
        a.path for a in client_for(trained.workspace).list_artifacts(run.info.run_id, "fairness")
    }


#: The gate metrics: how far scores, or the records themselves, stray from true risk.
GATE_METRICS = ("calibration_ratio", "predicted_truth_ratio", "recorded_truth_ratio")
#: "At most a handful" of gate flags on an LA without injected bias.
HANDFUL = 3


def test_the_audit_finds_injected_recording_bias(trained_biased) -> None:
    """Boys recorded as excluded 2.5x as often for the same behaviour: through training,
    the audit sees that outcomes are recorded out of proportion to behaviour-driven risk,
    the flag survives false discovery control, and it blocks."""
    audit = trained_biased.results[PEX].audit
    flagged = _flags(audit, "sex", "recorded_truth_ratio")
    boys_over = flagged[(flagged["group"] == "Male") & (flagged["ratio_ci_low"] > 1.25)]
    girls_under = flagged[(flagged["group"] == "Female") & (flagged["ratio_ci_high"] < 0.8)]
    assert len(boys_over) + len(girls_under) > 0, audit.flags[["group", "metric", "ratio"]]
    assert (flagged["q_value"] <= 0.05).all()
    assert not audit.blocking.empty  # it blocks promotion
    assert set(audit.blocking["metric"]) <= set(GATE_METRICS)
    assert "recorded" in " ".join(flagged["sentence"])


def test_without_injected_bias_at_most_a_handful_of_gate_flags(trained) -> None:
    for outcome, result in trained.results.items():
        blocking = result.audit.blocking
        assert len(blocking) <= HANDFUL, (outcome, blocking[["attribute", "group", "metric"]])
        flags = result.audit.flags
        # and the flags a pack would show are few, each a single q-controlled finding
        assert (flags["q_value"] <= 0.05).all()


def test_the_fairness_gate_needs_an_audit_and_records_an_accepted_risk(trained_biased, tmp_path):
    workspace = copy_workspace(trained_biased.workspace, tmp_path / "workspace")
    runs = trained_biased.results[PEX].model_runs
    with pytest.raises(StateError, match="has not been audited"):
        promote_run(workspace, PEX, runs["logistic"])
    with pytest.raises(StateError, match=r"flag.*accept-fairness-risk"):
        promote_run(workspace, PEX, runs["lightgbm_quick"])
    promotion = promote_run(
        workspace, PEX, runs["lightgbm_quick"], accept_fairness_risk="reviewed by the board"
    )
    client = client_for(workspace)
    version = client.get_model_version_by_alias(registered_model_name(PEX), CHAMPION)
    assert str(version.version) == promotion.version
    assert version.tags["cmooe.fairness.accepted_risk"] == "reviewed by the board"
    assert (
        client.get_run(runs["lightgbm_quick"]).data.tags["cmooe.fairness.accepted_risk"]
        == "reviewed by the board"
    )
    # Auditing the logistic run (through the API) lets the gate read its flags.
    audited = audit_run(workspace, runs["logistic"][:12])
    assert client.get_run(audited.run_id).data.tags["cmooe.fairness.audited"] == "true"


def test_audit_command_writes_the_report(trained_copy) -> None:
    run_id = trained_copy.results["missing_education"].model_runs["logistic"]
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "cmooe_risk",
            "-w",
            str(trained_copy.workspace.root),
            "audit",
            "--run",
            run_id[:12],
        ],
        env={**os.environ, "CMOOE_PSEUDONYM_KEY": TEST_KEY, "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Fairness audit of logistic for missing education" in done.stdout
    assert "Report:" in done.stdout
    assert "Traceback" not in done.stderr
