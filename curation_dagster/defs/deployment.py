"""What one deployment of the code location changes: where tables live, the first daily partition,
when the schedules tick, how often Label Studio is polled.

Read from the environment once, when the definitions are built (`build_definitions`, which Dagster
calls when it loads the code location), never when a module is imported: so the CLI can hand its own
start date to `build_definitions(deployment=...)` instead of setting a variable before an import.
Assets are declared with the defaults below (`daily_partitions` starting at DEFAULT_START_DATE, kind
`duckdb`); `Deployment.place` gives them this deployment's partitions and storage kind.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from datetime import date
from functools import lru_cache
from typing import Mapping

import dagster as dg

from curation_dagster.settings import DEFAULT_START_DATE

#: env var -> Deployment field; the README's settings table lists the same names
ENV_VARS = {
    "DAGSTER_DEPLOYMENT": "name",
    "CURATION_START_DATE": "start_date",
    "CURATION_POOL_REFRESH_CRON": "pool_refresh_cron",
    "CURATION_TOPIC_MODEL_CRON": "topic_model_cron",
    "CURATION_REVIEW_POLL_SECONDS": "review_poll_seconds",
}

#: the kind tag an asset stored by the pipeline's IO manager is declared with (the local default)
DECLARED_STORAGE_KIND = "duckdb"
STORAGE_KINDS = {"local": "duckdb", "prod": "snowflake"}


class DeploymentError(ValueError):
    """A deployment variable with a value the code location cannot use (the message names it)."""


@lru_cache(maxsize=None)
def daily_partitions_from(start_date: str) -> dg.DailyPartitionsDefinition:
    """One partition per UTC day of `created_at`, from `start_date` (one object per date, so every
    asset and job of a code location shares it)."""
    return dg.DailyPartitionsDefinition(start_date=start_date, timezone="UTC")


#: what the daily assets are declared with; `Deployment.place` swaps in the deployment's start date
daily_partitions = daily_partitions_from(DEFAULT_START_DATE)


@dataclass(frozen=True)
class Deployment:
    name: str = "local"
    start_date: str = DEFAULT_START_DATE
    pool_refresh_cron: str = "0 4 * * *"
    topic_model_cron: str = "0 3 * * 1"
    review_poll_seconds: int = 60

    def __post_init__(self) -> None:
        if self.name not in STORAGE_KINDS:
            raise DeploymentError(f"DAGSTER_DEPLOYMENT={self.name!r}: expected one of {sorted(STORAGE_KINDS)}")
        try:
            date.fromisoformat(self.start_date)
        except ValueError:
            raise DeploymentError(f"CURATION_START_DATE={self.start_date!r}: expected a date, YYYY-MM-DD") from None
        if int(self.review_poll_seconds) < 1:
            raise DeploymentError(f"CURATION_REVIEW_POLL_SECONDS={self.review_poll_seconds!r}: expected seconds >= 1")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides) -> "Deployment":
        """The deployment the environment describes (unset or empty variables keep the defaults);
        `overrides` win over the environment (the CLI's --from date, say)."""
        env = os.environ if environ is None else environ
        values: dict = {field: env[var].strip() for var, field in ENV_VARS.items() if (env.get(var) or "").strip()}
        if "review_poll_seconds" in values:
            try:
                values["review_poll_seconds"] = int(values["review_poll_seconds"])
            except ValueError:
                raise DeploymentError(f"CURATION_REVIEW_POLL_SECONDS={values['review_poll_seconds']!r}: "
                                      "expected a whole number of seconds") from None
        return cls(**{**values, **overrides})

    def schedule(self, field: str, **kwargs) -> dg.ScheduleDefinition:
        """A schedule ticking on the cron this deployment gives `field`; a bad cron names its variable."""
        cron = getattr(self, field)
        try:
            return dg.ScheduleDefinition(cron_schedule=cron, execution_timezone="UTC", **kwargs)
        except dg.DagsterInvalidDefinitionError:
            var = next(v for v, f in ENV_VARS.items() if f == field)
            raise DeploymentError(f"{var}={cron!r}: not a cron schedule (e.g. '0 4 * * *')") from None

    def with_start_date(self, start_date: str) -> "Deployment":
        return replace(self, start_date=start_date)

    @property
    def storage_kind(self) -> str:
        return STORAGE_KINDS[self.name]

    @property
    def daily_partitions(self) -> dg.DailyPartitionsDefinition:
        return daily_partitions_from(self.start_date)

    def place(self, spec: dg.AssetSpec) -> dg.AssetSpec:
        """`spec` as this deployment runs it: the daily partitions from its start date, its storage
        kind for the tables the pipeline's IO manager stores."""
        changes: dict = {}
        if spec.partitions_def == daily_partitions and self.daily_partitions != daily_partitions:
            changes["partitions_def"] = self.daily_partitions
        if DECLARED_STORAGE_KIND in spec.kinds and self.storage_kind != DECLARED_STORAGE_KIND:
            changes["kinds"] = {self.storage_kind if k == DECLARED_STORAGE_KIND else k for k in spec.kinds}
            # kinds live in tags; replace_attributes would keep the old kind tag beside the new one
            changes["tags"] = {k: v for k, v in spec.tags.items() if not k.startswith("dagster/kind/")}
        return spec.replace_attributes(**changes) if changes else spec
