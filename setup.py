"""Package discovery and the definitions folders; all other metadata is in pyproject.toml.

Analysts look for feature definitions, model specifications and experiment configs at
the top level (``features/``, ``models/``, ``experiments/``). A source checkout and an
editable install read them there (``cmooe_risk._definitions``); a built wheel carries
copies at ``cmooe_risk/definitions/<folder>``, put there by ``build_py`` below. The
package itself is a plain ``src`` layout, so an editable install is a path entry and
``pip install -e .`` has nothing to warn about.
"""

import shutil
from pathlib import Path

from setuptools import find_namespace_packages, setup
from setuptools.command.build_py import build_py

FOLDERS = ("features", "models", "experiments")
DATA_SUFFIXES = (".sql", ".yaml", ".md")


class BuildWithDefinitions(build_py):
    """``build_py``, plus the top-level definitions folders copied into the package."""

    def run(self):
        super().run()
        if self.editable_mode:
            return  # an editable install reads the folders where they are
        for folder in FOLDERS:
            target = Path(self.build_lib, "cmooe_risk", "definitions", folder)
            target.mkdir(parents=True, exist_ok=True)
            for source in sorted(Path(folder).iterdir()):
                if source.is_file() and source.suffix in DATA_SUFFIXES:
                    shutil.copy2(source, target / source.name)


setup(
    # namespace packages too: data folders such as cmooe_risk/outcomes/sql ship as packages
    packages=find_namespace_packages("src", exclude=["*.__pycache__"]),
    package_dir={"": "src"},
    cmdclass={"build_py": BuildWithDefinitions},
)
