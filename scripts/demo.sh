#!/usr/bin/env bash
# One command: set up .venv, seed ~3,000 sample generations over 14 days into data/warehouse.duckdb,
# materialize every asset for every day, print a summary and where the JSONL is.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
export DAGSTER_HOME="${DAGSTER_HOME:-$PWD/.dagster_home}"
mkdir -p "$DAGSTER_HOME"
cp dagster.yaml "$DAGSTER_HOME/dagster.yaml"
exec .venv/bin/curation demo "$@"
