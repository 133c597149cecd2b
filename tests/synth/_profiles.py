"""Profiles for the synth tests: a built-in profile with some rates changed."""

from __future__ import annotations

from cmooe_risk.synth import Profile, load_profile
from cmooe_risk.synth._profile import Sourced


def with_rates(name: str, **rates: float) -> Profile:
    """The built-in profile ``name`` with the ``rates`` given (say, frequent outcomes, so
    a small LA has enough events to test against)."""
    profile = load_profile(name)
    changed = {rate: Sourced(value=value) for rate, value in rates.items()}
    return profile.model_copy(update={"rates": profile.rates.model_copy(update=changed)})
