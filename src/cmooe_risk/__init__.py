"""cmooe-risk: early, explained and fair risk lists for English local authorities.

Every output supports professional judgement; none is an automated decision
about a child.
"""

from cmooe_risk._version import __version__

__all__ = ["__version__"]
