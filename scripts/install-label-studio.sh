#!/usr/bin/env bash
# Install Label Studio into its own virtual environment (.label-studio/venv), apart from the
# project's: it is a separate service, as in production, and its pins need not fit ours.
# Re-running is a no-op unless the pinned version changes. Prints the label-studio executable.
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION="${LABEL_STUDIO_VERSION:-1.23.2}"
PY="${PYTHON:-python3}"
VENV=".label-studio/venv"
stamp="$VENV/.installed-$VERSION-sentry2"
if [ ! -f "$stamp" ]; then
  echo "Installing label-studio==$VERSION into $VENV (first time: about 2 minutes)" >&2
  "$PY" -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip >&2
  # sentry-sdk 3.0 (2026-12) refuses the options label-studio 1.23 starts it with ("Unknown option
  # 'send_default_pii'"), and label-studio does not cap it
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "label-studio==$VERSION" "sentry-sdk<3" >&2
  rm -f "$VENV"/.installed-*
  touch "$stamp"
fi
echo "$PWD/$VENV/bin/label-studio"
