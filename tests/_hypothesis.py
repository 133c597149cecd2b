"""Hypothesis profiles, and how many examples the costly properties run under each.

``make test`` (and CI) load the "ci" profile: derandomised, so a red run fails the same
way on a developer's machine, with the blob to reproduce it printed. Any other run uses
"dev", which explores new examples each time.
"""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None)
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "dev")
settings.load_profile(PROFILE)

#: Share of its examples a property that ingests once per example runs under "ci".
#: Derandomised, CI draws the same examples on every run, so its extra examples would
#: never find anything new; a developer's run ("dev") draws the full count afresh each
#: time, and so, over many runs, explores far more than CI could.
CI_SHARE = 0.5


def examples(full: int) -> int:
    """``max_examples`` for a property that costs an ingest per example.

    Parameters
    ----------
    full : int
        The examples a developer's run draws; CI runs :data:`CI_SHARE` of them, at least 5.
    """
    if PROFILE == "ci":
        return max(5, round(full * CI_SHARE))
    return full
