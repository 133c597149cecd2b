"""What the phases of ``train`` hand each other: small frozen records, not argument lists.

``train_experiment`` runs the phases in order (see ``_train.py``): the backtest fits and
scores every split (:class:`Backtest`), the evaluation measures the scores
(:class:`Evaluation`), the recommendation picks a model, and logging, list policies and
the audit read the whole :class:`ExperimentOutcome`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from cmooe_risk.risk_model import Scorer
from cmooe_risk.train._experiment import ExperimentConfig
from cmooe_risk.train._recommend import Recommendation
from cmooe_risk.train._splits import TemporalSplit

if TYPE_CHECKING:  # evaluate is imported when first used: it brings matplotlib
    from cmooe_risk.evaluate import EvaluationResult

__all__ = [
    "CEILING",
    "ORACLE",
    "POOLED",
    "REFERENCES",
    "Backtest",
    "Evaluation",
    "ExperimentOutcome",
    "ScoredWindow",
]

ORACLE = "oracle"
#: the best risk achievable from the LA's records (synthetic LA only, see synth/_ceiling.py)
CEILING = "ceiling"
#: what every model is measured against on a synthetic LA, in this order
REFERENCES = (ORACLE, CEILING)
#: The headline evaluation: every test window's rows together.
POOLED = "all_test_windows"


@dataclass(frozen=True)
class ScoredWindow:
    """One test window's rows and what every model (and reference) gave them.

    Attributes
    ----------
    frame : pandas.DataFrame
        One row per pupil per as-of date: ``as_of``, ``locality``, ``cluster``, ``label``,
        ``urn`` and the columns the fairness audit makes groups from.
    scores : dict of str to numpy.ndarray
        Each model's calibrated risk (and the oracle's and ceiling's), in row order.
    ranks : dict of str to numpy.ndarray
        What each score's lists rank by: the model's raw score.
    """

    frame: pd.DataFrame
    scores: dict[str, np.ndarray]
    ranks: dict[str, np.ndarray]

    @classmethod
    def pool(cls, windows: Sequence[ScoredWindow]) -> ScoredWindow:
        """Every window's rows one after the other, with their scores and ranks."""
        names = list(windows[0].scores)
        return cls(
            frame=pd.concat([w.frame for w in windows], ignore_index=True),
            scores={n: np.concatenate([w.scores[n] for w in windows]) for n in names},
            ranks={n: np.concatenate([w.ranks[n] for w in windows]) for n in names},
        )


@dataclass(frozen=True)
class Backtest:
    """Every split fitted: the test windows scored, the deployment fit kept.

    Attributes
    ----------
    splits : list of TemporalSplit
        The test windows, then the deployment split.
    scored : dict of str to ScoredWindow
        Each test window's scores, by split name.
    deployed : dict of str to Scorer
        Each model refitted on the newest data: what MLflow stores.
    explain_sample : pandas.DataFrame
        Feature rows of the last test window for the global explanation plots.
    manifest : dict
        The data behind the run (extract, eligibility, splits, row counts), as logged.
    oracle : bool
        Whether the synthetic LA's ground truth gave an oracle.
    """

    splits: list[TemporalSplit]
    scored: dict[str, ScoredWindow]
    deployed: dict[str, Scorer]
    explain_sample: pd.DataFrame
    manifest: dict
    oracle: bool


@dataclass(frozen=True)
class Evaluation:
    """The backtest measured: each test window, and all of them pooled (the headline).

    Attributes
    ----------
    windows : dict of str to EvaluationResult
        Each test window's metrics, by split name.
    pooled : EvaluationResult
        Every test window's rows together.
    summary : pandas.DataFrame
        The headline metrics, one row per model, then the references.
    """

    windows: Mapping[str, EvaluationResult]
    pooled: EvaluationResult
    summary: pd.DataFrame


@dataclass(frozen=True)
class ExperimentOutcome:
    """Everything one ``train`` learnt, before it is logged: what logging reads.

    Attributes
    ----------
    config : ExperimentConfig
        The experiment as run.
    backtest : Backtest
        The fitted and scored splits.
    evaluation : Evaluation
        Their metrics.
    recommendation : Recommendation
        The model best at capacity, and how sure that is.
    challenger : str or None
        The model to register as challenger (``challenger: best`` resolved), if any.
    """

    config: ExperimentConfig
    backtest: Backtest
    evaluation: Evaluation
    recommendation: Recommendation
    challenger: str | None

    @property
    def listed_model(self) -> str:
        """The model whose lists are measured other ways: the challenger, else the best."""
        return self.challenger or self.recommendation.model
