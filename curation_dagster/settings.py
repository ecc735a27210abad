"""Where the project keeps its files; every path can be moved with an environment variable."""

from __future__ import annotations

import os
from pathlib import Path


def data_dir() -> Path:
    """CURATION_DATA_DIR, default ./data (relative to where dagster / the CLI runs)."""
    return Path(os.environ.get("CURATION_DATA_DIR", "data")).resolve()


def warehouse_path() -> Path:
    return Path(os.environ.get("CURATION_WAREHOUSE_PATH", str(data_dir() / "warehouse.duckdb"))).resolve()


def storage_path() -> Path:
    return Path(os.environ.get("CURATION_STORAGE_PATH", str(data_dir() / "pipeline.duckdb"))).resolve()


def export_dir() -> Path:
    return Path(os.environ.get("CURATION_EXPORT_DIR", str(data_dir() / "exports"))).resolve()


#: the first daily partition when CURATION_START_DATE is unset
DEFAULT_START_DATE = "2026-11-01"


def partitions_start_date() -> str:
    return os.environ.get("CURATION_START_DATE") or DEFAULT_START_DATE


def deployment() -> str:
    return os.environ.get("DAGSTER_DEPLOYMENT", "local")
