"""The demo job: every stage of the weekly run, on a synthetic local authority.

It grows issue by issue into the whole weekly job. Today: generate a synthetic LA,
validate and load its extracts, build this week's features for the whole cohort, train
and evaluate every model of both shipped experiments (with the synthetic LA's ground
truth as the oracle ceiling) and promote each outcome's challenger to champion.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from importlib import resources
from pathlib import Path

from cmooe_risk.config import Workspace
from cmooe_risk.errors import ConfigError
from cmooe_risk.features import monday_on_or_after, write_features
from cmooe_risk.ingest import IngestReport, ingest
from cmooe_risk.pseudonym import generate_key_file, load_key

__all__ = [
    "DEMO_PUPILS",
    "DEMO_YEARS",
    "DemoResult",
    "fixture_dir",
    "run_demo",
    "train_and_promote",
]

#: Large enough that models have events to learn from (issue #7 asks for >= 30k x 3 years).
DEMO_PUPILS = 30_000
DEMO_YEARS = 3
DEMO_SEED = 2026


@dataclass
class DemoResult:
    ingest_report: IngestReport
    messages: list[str] = field(default_factory=list)
    next_steps: list[str] = field(default_factory=list)
    training: list = field(default_factory=list)
    promotions: list[str] = field(default_factory=list)
    score: object | None = None  # the weekly job's ScoreResult


def fixture_dir() -> Path:
    """The tiny valid LA shipped with the package."""
    return Path(str(resources.files("cmooe_risk") / "_fixtures" / "mini_la"))


def _ensure_key(workspace: Workspace, messages: list[str]) -> None:
    try:
        load_key(workspace)
    except ConfigError:
        path = generate_key_file(workspace.key_file)
        messages.append(
            f"Generated a demo pseudonymisation key at {path}. For real data, create your own "
            "with `cmooe-risk keygen` or set CMOOE_PSEUDONYM_KEY, and keep it safe."
        )


def run_demo(
    workspace: Workspace,
    *,
    use_fixture: bool = False,
    pupils: int = DEMO_PUPILS,
    years: int = DEMO_YEARS,
    train: bool = True,
) -> DemoResult:
    """Run every stage that exists so far on a freshly generated synthetic LA."""
    messages: list[str] = []
    _ensure_key(workspace, messages)
    if use_fixture:
        source, extract_date = fixture_dir(), date(2026, 1, 31)
        messages.append(f"Extracts: the shipped fixture LA in {source} (8 fictitious pupils).")
    else:
        from cmooe_risk.synth import generate

        manifest = generate(
            "england",
            pupils=pupils,
            years=years,
            seed=DEMO_SEED,
            out=workspace.path("synthetic-la"),
        )
        source, extract_date = manifest.out_dir, manifest.end
        messages.append(
            f"Extracts: a freshly generated synthetic LA in {source} ({pupils:,} pupils, "
            f"{', '.join(manifest.academic_years)}, seed {DEMO_SEED}; "
            f"{manifest.row_counts.get('attendance_marks', 0):,} session marks). "
            "No real child is in it."
        )
    report = ingest(workspace, source, extract_date=extract_date, force=True)
    result = DemoResult(ingest_report=report, messages=messages)
    result.next_steps = [
        f"Warehouse: {workspace.warehouse_path}",
        f"Ingest report and quarantine: {report.output_dir}",
    ]
    if use_fixture or not train:
        as_of = monday_on_or_after(extract_date + timedelta(days=1))  # the Monday after
        features_file = workspace.path("features") / f"features-{as_of.isoformat()}.parquet"
        _, audit_file, rows = write_features(workspace, [as_of], features_file)
        messages.append(
            f"Features as of {as_of.isoformat()} (the Monday after the extract) for {rows:,} "
            f"children in the cohort: {features_file}"
        )
        result.next_steps.append(
            f"Feature catalog: docs/features.md; audit attributes: {audit_file}"
        )
    if use_fixture:
        messages.append("Training and scoring skipped: the fixture LA is too small to learn from.")
    elif train:
        from cmooe_risk.report import write_meeting_packs
        from cmooe_risk.score import score_week

        train_and_promote(workspace, source, result)
        result.score = score_week(workspace)
        result.next_steps += _scoring_next_steps(workspace, result.score)
        packs_dir = workspace.path("reports") / "meeting-packs"
        packs = write_meeting_packs(workspace, packs_dir, actor="cmooe-risk demo")
        result.next_steps += [
            f"Meeting pack for {pack.locality} (opens offline, prints on A4): {pack.path}"
            for pack in packs
        ]
        result.next_steps.append(
            f"Meeting packs again: cmooe-risk -w {workspace.root} report --out {packs_dir}"
        )
        result.next_steps += _demo_account(workspace, sorted(pack.locality for pack in packs))
    result.next_steps += [
        f"MLflow runs and registered models: mlflow ui --backend-store-uri "
        f"{workspace.mlflow_tracking_uri}",
        f"Compare runs: cmooe-risk -w {workspace.root} models compare --outcome "
        "permanent_exclusion",
        "Calibration of the synthetic LA: cmooe-risk synth --profile england "
        "--pupils 20000 --years 2 --seed 11 --out DIR --check",
    ]
    return result


#: The web queue's demo account: a caseworker of the demo LA's first locality.
DEMO_ACCOUNT = "demo-caseworker"


def _demo_account(workspace: Workspace, localities: list[str]) -> list[str]:
    """A caseworker account for the web queue, with a fresh random password, and how to
    sign in. Synthetic data only: the password is printed so that the demo can be tried."""
    import secrets

    from cmooe_risk.queue import add_account, list_accounts, open_store, reset_password

    if not localities:
        return []
    store = open_store(workspace)
    password = secrets.token_urlsafe(12)
    if any(a.username == DEMO_ACCOUNT for a in list_accounts(store)):
        reset_password(store, DEMO_ACCOUNT, password, by="cmooe-risk demo")
    else:
        add_account(
            store,
            DEMO_ACCOUNT,
            role="caseworker",
            localities=(localities[0],),
            password=password,
            by="cmooe-risk demo",
        )
    store.engine.dispose()
    return [
        f"The caseworkers' web queue: cmooe-risk -w {workspace.root} serve, then open "
        f"http://127.0.0.1:8080/ and sign in as {DEMO_ACCOUNT} (a caseworker of "
        f"{localities[0]}) with the password {password} (a demo account on synthetic "
        "data; real accounts: cmooe-risk users add, docs/web.md)",
    ]


def _scoring_next_steps(workspace: Workspace, scored) -> list[str]:
    root = workspace.root
    locality = next(iter(scored.exports), "LOCALITY")
    return [
        f"Queue database: {workspace.queue_database_url}",
        f"This week's run manifest: {scored.manifest_path}",
        f"Locality workbooks: {scored.run_dir / 'exports'}",
        f"Live-list fairness: {scored.run_dir}/live-fairness-*.html",
        f"A locality's queue: cmooe-risk -w {root} queue list --locality '{locality}'",
        f"Record a decision: cmooe-risk -w {root} queue update ITEM --status in_review "
        "--note 'Discussed with the school' --by 'Your Name'",
        f"Export for a meeting: cmooe-risk -w {root} queue export --locality '{locality}'",
        f"Score again (nothing changes for the same week): cmooe-risk -w {root} score",
    ]


def train_and_promote(
    workspace: Workspace,
    synthetic_la: Path,
    result: DemoResult,
    experiments: Mapping[str, Path] | None = None,
) -> None:
    """Train both experiments (default: the shipped ones) and promote each challenger.

    The shipped experiments make the challenger whichever model was best at capacity on
    the backtest (``challenger: best``), so the champion is chosen by evidence, a simple
    baseline included. The challenger becomes the champion if it passes the promotion
    gates. A refusal by the
    precision gate (a rerun that does not beat the champion) is reported, not raised. A
    refusal by the fairness gate only is overridden with :data:`DEMO_ACCEPTED_RISK`,
    recorded in MLflow and printed, so the demo's weekly job has a champion; on real data
    that decision belongs to the partnership, never to a script.
    """
    from cmooe_risk.train import load_experiment, shipped_experiments, train_experiment

    experiments = experiments or shipped_experiments()
    for outcome in ("permanent_exclusion", "missing_education"):
        config = load_experiment(experiments[outcome])
        trained = train_experiment(workspace, config, ground_truth=synthetic_la)
        result.training.append(trained)
        challenger = trained.model_runs.get(trained.challenger or "")
        if challenger is None:
            continue
        result.promotions.append(_promote(workspace, outcome, challenger, trained))


#: What the demo records when it promotes despite fairness flags, so that the weekly job
#: has a champion to run: on synthetic data, for illustration, and said out loud.
DEMO_ACCEPTED_RISK = (
    "make demo on a synthetic LA: promoted for illustration; the flags are in the "
    "fairness report for review"
)


def _promote(workspace: Workspace, outcome: str, run_id: str, trained) -> str:
    from cmooe_risk.errors import StateError
    from cmooe_risk.train import promote_run

    try:
        promotion = promote_run(workspace, outcome, run_id)
    except StateError as refused:
        if "fairness audit" not in refused.message or "precision at capacity:" in refused.message:
            return refused.message  # a rerun that does not beat the champion: say so, go on
        promotion = promote_run(workspace, outcome, run_id, accept_fairness_risk=DEMO_ACCEPTED_RISK)
        report = trained.audit.html_path if trained.audit else "the fairness report"
        flags = len(trained.audit.blocking) if trained.audit else 0
        return (
            f"cmooe-{outcome} version {promotion.version} ({promotion.model}) is the champion, "
            f"promoted despite {flags} fairness flag{'' if flags == 1 else 's'} on the gate "
            f"metrics, accepted for the demo only and recorded in MLflow. Read {report}: "
            "on real data, the partnership decides."
        )
    return (
        f"cmooe-{outcome} version {promotion.version} ({promotion.model}) is the champion "
        "(registry alias)."
    )
