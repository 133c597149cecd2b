"""The model card section of a meeting pack: what the models are for, how well the
champions did in their backtest (from MLflow), and what is known about their limits.

The text follows ``docs/model-card.md``; the figures are read from the MLflow runs of
the models that scored the week (``scoring_runs.models``), so the pack states the
performance of the very models behind its lists.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from cmooe_risk.config import Workspace

__all__ = ["CARD_METRICS", "ChampionCard", "champion_cards"]

logger = logging.getLogger(__name__)

#: Metric (as logged by ``train``) -> what the pack calls it, in display order.
CARD_METRICS = {
    "precision_at_capacity": "Precision of each locality's list (top k)",
    "recall_at_capacity": "Recall of each locality's list (top k)",
    "roc_auc": "ROC AUC (ranking of all pupils)",
    "average_precision": "Average precision",
    "brier": "Brier score (lower is better)",
    "prevalence": "Share of pupil-weeks with the outcome",
}
#: Metrics shown as percentages.
PERCENT_METRICS = frozenset(
    {"precision_at_capacity", "recall_at_capacity", "average_precision", "prevalence"}
)

PURPOSE = (
    "For each child on a school roll or known to the LA (home educated, missing "
    "education, awaiting a place; Years 1 to 11) the models estimate the probability of a "
    "permanent exclusion, and of missing education (a CME referral, or 20 school days "
    "with no school, home education or alternative provision), in the next 13 weeks. "
    "Each locality's list is its highest estimated risks, up to what its team can work "
    "with in a week. The list decides whom to look at first: a conversation with the "
    "school, a check on where a child is, an offer of support."
)
DATA = (
    "The LA's own extracts (schools, pupils, enrolments, session marks, exclusions, SEND, "
    "social care, free school meals and the LA's registers), checked against the data "
    "contracts and pseudonymised on ingest. Each of the {features} features uses only what "
    "was recorded before the as-of Monday. Sex and ethnicity are not model features; they are "
    "used only to audit the lists for fairness. Names, UPNs and dates of birth never "
    "reach the models, the queues or this pack."
)
LIMITS = (
    "The published record of such models is poor. What Works for Children's Social Care "
    "(2020), Machine learning in children's services: does it work?, tested models in "
    "four local authorities: none met the success threshold set in advance, and "
    "performance fell on later data. Expect the same here unless this LA's own backtest, "
    "above, shows otherwise.",
    "Accurate ranking is not impact. Wisconsin's Dropout Early Warning System ranked "
    "pupils well yet showed little evidence of improving graduation, and school-level "
    "features alone targeted about as well (Perdomo, Britton, Hardt and Abebe, 2023). A "
    "list is only as good as what is done with it.",
    "Recorded outcomes carry recording bias: a permanent exclusion is a school's "
    "decision, so groups that are excluded more for the same behaviour look riskier in "
    "the data. The fairness summary above is where that would show.",
    "The outcomes are rare: most children on any list will not be permanently excluded or "
    "go missing from education. A place on the list is a prompt to look, not a "
    "prediction about the child.",
    "Policy, school practice and the cohort change; performance measured on past data "
    "may not hold this year. Late marks, missing feeds and children moving between LAs "
    "weaken the signal.",
)
INTENDED_USE = (
    "The lists support professional judgement; they never decide alone. No decision about "
    "a child (an exclusion, a referral, a service or its withdrawal) may rest on a score. "
    "The reasons are the model's own largest contributions, in the child's own figures, "
    "so that those who know the child can check them and disagree. Not for judging "
    "schools or families, allocating funding, or any use outside the LA's duties."
)


@dataclass(frozen=True)
class ChampionCard:
    """The model that scored one outcome, with its backtest metrics.

    Attributes
    ----------
    outcome : str
    version, run_id, model : str
        Registry version of ``cmooe-<outcome>``, MLflow run and model name.
    metrics : dict
        ``{metric: (value, ci_low, ci_high)}`` for :data:`CARD_METRICS` found in the run;
        a CI is None where the run has none.
    oracle_ratio : float or None
        Precision at capacity as a share of the true risk's (synthetic LAs only).
    ceiling_ratio : float or None
        The same as a share of the best achievable from the LA's records (synthetic LAs
        only; see ``cmooe_risk.synth``).
    tags : dict
        The run's ``cmooe.*`` tags (fairness flags, accepted risk, horizon).
    error : str or None
        Why the metrics could not be read, if they could not.
    """

    outcome: str
    version: str
    run_id: str
    model: str
    metrics: dict[str, tuple[float, float | None, float | None]] = field(default_factory=dict)
    oracle_ratio: float | None = None
    ceiling_ratio: float | None = None
    #: the list drawn other ways: policy -> (precision, ratio to the plain list, low, high)
    policies: dict[str, tuple[float, float, float, float]] = field(default_factory=dict)
    #: share of a list's places from its top school, and from its top two (backtest)
    concentration: tuple[float, float] | None = None
    tags: dict[str, str] = field(default_factory=dict)
    error: str | None = None


def champion_cards(workspace: Workspace, models: dict[str, dict]) -> list[ChampionCard]:
    """Read each scoring model's run from MLflow.

    Parameters
    ----------
    workspace : Workspace
    models : dict
        ``scoring_runs.models`` of the week: outcome -> ``{version, run_id, model}``.

    Returns
    -------
    list of ChampionCard
        One per outcome. When the tracking store can't be read, each card says why
        instead of failing the pack.
    """
    cards = []
    reason = None
    try:
        from cmooe_risk.tracking import client_for, quiet_mlflow

        client = client_for(workspace)
    except Exception as error:  # the pack is still useful without the figures
        logger.warning("Model metrics unavailable: %s", error)
        client, reason = None, f"the MLflow tracking store could not be opened ({error})"
    order = ("permanent_exclusion", "missing_education")
    ranked = sorted(
        models.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else len(order)
    )
    for outcome, described in ranked:
        base = {
            "outcome": outcome,
            "version": str(described.get("version", "?")),
            "run_id": str(described.get("run_id", "")),
            "model": str(described.get("model", "?")),
        }
        if client is None:
            cards.append(ChampionCard(**base, error=reason))
            continue
        try:
            with quiet_mlflow():
                run = client.get_run(base["run_id"])
        except Exception as error:
            cards.append(
                ChampionCard(**base, error=f"run {base['run_id'][:12]} not found ({error})")
            )
            continue
        logged = run.data.metrics
        metrics = {
            name: (
                float(logged[name]),
                logged.get(f"{name}_ci_low"),
                logged.get(f"{name}_ci_high"),
            )
            for name in CARD_METRICS
            if name in logged
        }
        tags = {k: v for k, v in run.data.tags.items() if k.startswith("cmooe.")}
        cards.append(
            ChampionCard(
                **base,
                metrics=metrics,
                oracle_ratio=logged.get("ratio_to_oracle.precision_at_capacity"),
                ceiling_ratio=logged.get("ratio_to_ceiling.precision_at_capacity"),
                policies={
                    policy: (
                        logged[f"list_policy.{policy}.precision_at_capacity"],
                        logged.get(f"list_policy.{policy}.ratio_to_risk", float("nan")),
                        logged.get(f"list_policy.{policy}.ratio_to_risk_ci_low", float("nan")),
                        logged.get(f"list_policy.{policy}.ratio_to_risk_ci_high", float("nan")),
                    )
                    for policy in ("within_school", "school_cap")
                    if f"list_policy.{policy}.precision_at_capacity" in logged
                },
                concentration=(
                    (
                        logged["school_concentration.top_school_share"],
                        logged["school_concentration.top_two_share"],
                    )
                    if "school_concentration.top_school_share" in logged
                    else None
                ),
                tags=tags,
            )
        )
    return cards
