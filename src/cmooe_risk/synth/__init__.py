"""Synthetic local authority: realistic extracts, calibrated to published figures, with
exact ground-truth risk.

The generator builds places (localities, schools) and pupils, runs a latent weekly
Markov chain per pupil (behaviour and engagement, placement, home education, missing
education), turns it into the nine source extracts of :mod:`cmooe_risk.contracts`, and
writes the true probability of each outcome for every pupil and school week to
``ground_truth/``, beside the best probability achievable from the LA's records (the
recorded-data ceiling, ``CEILING_COLUMNS``). See ``docs/synthetic-la.md``.

Examples
--------
>>> from cmooe_risk.synth import generate, check_calibration  # doctest: +SKIP
>>> manifest = generate("england", pupils=5000, years=2, seed=1, out="la")  # doctest: +SKIP
>>> check_calibration(manifest).ok  # doctest: +SKIP
True
"""

from cmooe_risk.synth._check import FIGURES, CalibrationResult, CalibrationRow, check_calibration
from cmooe_risk.synth._generate import GENERATOR_VERSION, Manifest, generate
from cmooe_risk.synth._ground_truth import CEILING_COLUMNS, HORIZONS
from cmooe_risk.synth._latent import STATE_NAMES
from cmooe_risk.synth._profile import BUILTIN_PROFILES, Profile, load_profile

__all__ = [
    "BUILTIN_PROFILES",
    "CEILING_COLUMNS",
    "FIGURES",
    "GENERATOR_VERSION",
    "HORIZONS",
    "STATE_NAMES",
    "CalibrationResult",
    "CalibrationRow",
    "Manifest",
    "Profile",
    "check_calibration",
    "generate",
    "load_profile",
]
