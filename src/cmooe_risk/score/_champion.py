"""The models the weekly job uses: each outcome's ``@champion`` in the MLflow registry."""

from __future__ import annotations

from dataclasses import dataclass

from cmooe_risk.config import Workspace
from cmooe_risk.errors import StateError

__all__ = ["Champion", "load_champions"]

OUTCOMES = ("permanent_exclusion", "missing_education")


@dataclass(frozen=True)
class Champion:
    """A registered model version holding the ``champion`` alias, loaded for scoring."""

    outcome: str
    version: str
    run_id: str
    model: str
    scorer: object  # the pyfunc's Scorer: the registered code, not this package's copy

    @property
    def features(self) -> list[str]:
        return list(self.scorer.features)

    def describe(self) -> dict:
        return {"version": self.version, "run_id": self.run_id, "model": self.model}

    def typical_values(self) -> dict[str, float]:
        """The training medians of its features: the typical child its explanations
        compare a child's value with (the same in every engine and every week)."""
        values = self.scorer.spec.get("reference_values") or []
        return {
            name: float(value)
            for name, value in zip(self.scorer.features, values, strict=False)
            if value is not None
        }


def load_champions(workspace: Workspace, outcomes: tuple[str, ...] = OUTCOMES) -> dict:
    """Load every outcome's champion; outcomes without one are left out.

    Raises
    ------
    StateError
        When no outcome has a champion, saying how to train and promote one.
    """
    from cmooe_risk.tracking import (
        CHAMPION,
        client_for,
        has_runs_store,
        quiet_mlflow,
        registered_model_name,
        version_by_alias,
    )

    champions = {}
    # Nothing trained yet: opening the store would create one, only to find it empty.
    trained = has_runs_store(workspace)
    client = client_for(workspace) if trained else None
    for outcome in outcomes if trained else ():
        version = version_by_alias(client, outcome, CHAMPION)
        if version is None:
            continue
        with quiet_mlflow():
            import mlflow

            pyfunc = mlflow.pyfunc.load_model(
                f"models:/{registered_model_name(outcome)}@{CHAMPION}"
            )
        run = client.get_run(version.run_id)
        champions[outcome] = Champion(
            outcome=outcome,
            version=str(version.version),
            run_id=version.run_id,
            model=run.data.tags.get("cmooe.model", "?"),
            scorer=pyfunc.unwrap_python_model().scorer,
        )
    if not champions:
        raise StateError(
            "No champion model is registered yet, so there is nothing to score with. Train "
            "and promote one for each outcome: `cmooe-risk train -e permanent_exclusion`, "
            "`cmooe-risk models compare -o permanent_exclusion`, then `cmooe-risk models "
            "promote -o permanent_exclusion --run RUN` (likewise for missing_education); "
            "`make demo` does all of this on a synthetic LA."
        )
    return champions
