"""Package discovery only; all metadata is in pyproject.toml.

Analysts look for feature definitions, model specifications and experiment configs at
the top level (``features/``, ``models/``, ``experiments/``); they are installed as the
packages ``cmooe_risk.feature_definitions``, ``cmooe_risk.model_specs`` and
``cmooe_risk.experiment_configs``.
"""

from setuptools import find_namespace_packages, setup

DATA_PACKAGES = {
    "cmooe_risk.feature_definitions": "features",
    "cmooe_risk.model_specs": "models",
    "cmooe_risk.experiment_configs": "experiments",
}

setup(
    # namespace packages too: data folders such as cmooe_risk/outcomes/sql ship as packages
    packages=[*find_namespace_packages("src", exclude=["*.__pycache__"]), *DATA_PACKAGES],
    package_dir={"": "src", **DATA_PACKAGES},
)
