"""Package discovery only; all metadata is in pyproject.toml.

The feature definitions live in the top-level ``features/`` directory, where analysts
look for them, and are installed as the package ``cmooe_risk.feature_definitions``.
"""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages("src"), "cmooe_risk.feature_definitions"],
    package_dir={"": "src", "cmooe_risk.feature_definitions": "features"},
)
