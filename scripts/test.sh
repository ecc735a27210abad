#!/usr/bin/env bash
# One command: set up .venv and run the whole test suite (slow end-to-end cases included).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
# Chromium, docker-compose and PostgreSQL for the topology tests (a no-op when already there).
./scripts/install-system-deps.sh
exec .venv/bin/python -m pytest "$@"
