"""Champion by evidence: the model best at capacity, and whether a simpler one does as well."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Recommendation", "describe_model", "recommend"]

#: plain names of the shipped models, for people
_MODEL_WORDS = {
    "lightgbm": "LightGBM (gradient-boosted trees)",
    "lightgbm_precursors": "LightGBM learning from suspensions as well as exclusions",
    "logistic": "logistic regression",
    "rules_checklist": "the rules checklist",
    "prior_events": "prior events only",
}

#: baselines a partnership could run without a model
_SIMPLE = ("rules_checklist", "prior_events")


@dataclass(frozen=True)
class Recommendation:
    """The model best at capacity on the backtest, and how sure that is.

    Attributes
    ----------
    model : str
        Highest precision at capacity over all test windows (point estimate).
    precision : tuple of float
        Its precision at capacity and 95% CI.
    as_good : dict
        Every other model whose precision is not distinguishable from the best's: the
        paired ratio best / other and its 95% CI, which includes 1.
    text : str
        The finding in plain words, for the CLI, the model card and the pack.
    """

    model: str
    precision: tuple[float, float, float]
    as_good: dict[str, tuple[float, float, float]]
    text: str


def describe_model(name: str) -> str:
    """A shipped model's plain name ("the rules checklist"); any other model's own name.

    Parameters
    ----------
    name : str
        The model's name in an experiment.

    Returns
    -------
    str
        Words a headteacher would use for it.
    """
    return _MODEL_WORDS.get(name, name)


def recommend(pooled, models: tuple[str, ...]) -> Recommendation:
    """The model best at capacity over all test windows, and the models as good as it.

    A model is as good when the 95% CI of the paired ratio best / other includes 1.

    Parameters
    ----------
    pooled : EvaluationResult
        Every test window's rows evaluated together, with paired ratios between models.
    models : tuple of str
        The experiment's models, in its order (which breaks ties).

    Returns
    -------
    Recommendation
    """
    metric = "precision_at_capacity"
    values = {m: pooled.value(m, metric) for m in models}
    best = max(models, key=lambda m: (values[m], -models.index(m)))
    row = pooled.metrics[(pooled.metrics["score"] == best) & (pooled.metrics["metric"] == metric)]
    precision = (values[best], float(row["ci_low"].iloc[0]), float(row["ci_high"].iloc[0]))
    as_good = {}
    for other in models:
        if other == best:
            continue
        try:
            ratio = pooled.ratio(best, other, metric)
        except KeyError:
            continue
        if not (ratio[1] > 1.0):  # the CI of best / other reaches 1 (or is undefined)
            as_good[other] = ratio
    return Recommendation(best, precision, as_good, _finding(best, precision, as_good))


def _finding(best: str, precision: tuple, as_good: dict) -> str:
    """The recommendation in plain words; a simpler list that does as well is said so."""
    label = describe_model
    text = (
        f"Best at capacity on the backtest: {label(best)}, precision "
        f"{precision[0]:.3f} [{precision[1]:.3f}, {precision[2]:.3f}]."
    )
    if not as_good:
        return text + " Better than every other model beyond the 95% CI."
    others = "; ".join(
        f"{label(m)} (ratio {r[0]:.2f} [{r[1]:.2f}, {r[2]:.2f}])" for m, r in as_good.items()
    )
    text += " Not better, within the 95% CI, than: " + others + "."
    if any(m in _SIMPLE for m in as_good):
        text += " A simpler list would do as well on this evidence."
    return text
