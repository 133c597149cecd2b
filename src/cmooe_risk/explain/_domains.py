"""Contributions summed by domain: attendance, behaviour, SEND, social care and so on."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cmooe_risk.explain._inputs import (
    Contributions,
    domain_codes,
    read_contributions,
    resolve_catalog,
)
from cmooe_risk.features import DOMAINS, FeatureCatalog

__all__ = ["domain_contributions", "domain_matrix"]


def domain_contributions(
    predictions: pd.DataFrame, catalog: FeatureCatalog | None = None
) -> pd.DataFrame:
    """Each row's contributions summed over the features of each domain.

    Parameters
    ----------
    predictions : pandas.DataFrame
        Output of ``Scorer.predict``: ``raw_score``, ``contribution__<feature>`` per
        model feature and ``contribution__baseline``.
    catalog : FeatureCatalog, optional
        Gives each feature's domain; the shipped catalog by default.

    Returns
    -------
    pandas.DataFrame
        Same index as ``predictions``; one column per domain of the catalog, in the
        catalog's order (0 for a domain the model does not use, so frames from different
        models line up), then ``baseline``. The domain columns add up to
        ``raw_score - baseline``.

    Raises
    ------
    ValueError
        If a contribution column names a feature not in the catalog, or the
        contributions do not add up to the raw score.

    Examples
    --------
    >>> domain_contributions(scorer.predict(frame)).round(2).head(1)  # doctest: +SKIP
       attendance  behaviour  send  social_care  mobility  registers  context  baseline
    0        1.12       0.85  0.10         0.31      -0.02       0.00    -0.20     -4.71
    """
    catalog = resolve_catalog(catalog)
    contributions = read_contributions(predictions, catalog)
    frame = pd.DataFrame(
        domain_matrix(contributions, catalog), index=predictions.index, columns=list(DOMAINS)
    )
    frame["baseline"] = contributions.baseline
    return frame


def domain_matrix(contributions: Contributions, catalog: FeatureCatalog) -> np.ndarray:
    """(n_rows, len(DOMAINS)) sums: one matrix product with a feature-to-domain indicator."""
    codes = domain_codes(contributions.features, catalog)
    membership = np.zeros((len(codes), len(DOMAINS)))
    membership[np.arange(len(codes)), codes] = 1.0
    return contributions.matrix @ membership
