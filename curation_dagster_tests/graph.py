"""The whole graph on sample rows, as the integration tests run it: every day's `daily_curation_job`, then
`topic_model_job`, then `pool_refresh_job`, in process on an ephemeral instance.

The first two steps are the slow part and are the same for every whole-graph test on `sample_small`, so
conftest runs them once per session (`small_topic_modelled`) and a test copies the folder (`copy_graph`)
and runs the pool refresh under its own settings (an LLM endpoint, a documents folder, run config).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg

from curation_dagster.defs.resources import build_resources
from curation_dagster.definitions import build_definitions
from curation_dagster.lib.warehouse import write_generations

DAYS = ["2026-11-01", "2026-11-02", "2026-11-03"]  # sample_small's days


def run_days_and_topic_model(data_dir, generations, labels, day_order=DAYS, instance=None, **topic_config):
    """Write the rows to the warehouse, run the daily job for each day in `day_order`, fit the topic model.
    Nothing is sampled or published yet."""
    write_generations(Path(data_dir) / "warehouse.duckdb", generations, labels)
    defs = build_definitions(resources=build_resources("local", data_dir=data_dir))
    instance = instance or dg.DagsterInstance.ephemeral()
    daily = defs.resolve_job_def("daily_curation_job")
    for day in day_order:
        assert daily.execute_in_process(partition_key=day, instance=instance).success
    run_config = {"ops": {"topic_model": {"config": topic_config}}} if topic_config else None
    assert defs.resolve_job_def("topic_model_job").execute_in_process(instance=instance, run_config=run_config).success
    return defs, instance


def refresh_pool(data_dir, defs=None, instance=None, run_config=None):
    """`pool_refresh_job` on the folder: cluster assignment, sample, judge, export, report. Definitions are
    built now unless given, so environment set by the caller (an LLM endpoint) is what the run sees."""
    defs = defs or build_definitions(resources=build_resources("local", data_dir=data_dir))
    res = defs.resolve_job_def("pool_refresh_job").execute_in_process(
        instance=instance or dg.DagsterInstance.ephemeral(), run_config=run_config)
    assert res.success
    return res


def run_pipeline(data_dir, generations, labels, day_order=DAYS, **topic_config):
    """The whole graph from an empty folder; the pool refresh's result."""
    defs, instance = run_days_and_topic_model(data_dir, generations, labels, day_order, **topic_config)
    return refresh_pool(data_dir, defs, instance)


def copy_graph(src, dst) -> Path:
    """A private copy of a finished graph folder (warehouse, pipeline tables, caches, exports)."""
    shutil.copytree(src, dst, dirs_exist_ok=True)
    return Path(dst)
