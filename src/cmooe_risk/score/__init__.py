"""The weekly job: score the whole roll with the registered champions into the queues."""

from cmooe_risk.score._champion import Champion, load_champions
from cmooe_risk.score._drift import population_stability
from cmooe_risk.score._job import ScoreResult, default_as_of, score_week
from cmooe_risk.score._spark import write_scores_spark

__all__ = [
    "Champion",
    "ScoreResult",
    "default_as_of",
    "load_champions",
    "population_stability",
    "score_week",
    "write_scores_spark",
]
