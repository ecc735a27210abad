#!/usr/bin/env bash
# Install Label Studio into its own virtual environment (.label-studio/venv), apart from the
# project's: it is a separate service, as in production, and its pins need not fit ours.
# Re-running is a no-op unless the pinned version changes. Prints the label-studio executable.
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION="${LABEL_STUDIO_VERSION:-1.23.2}"
PY="${PYTHON:-python3}"
VENV=".label-studio/venv"
stamp="$VENV/.installed-$VERSION"
if [ ! -f "$stamp" ]; then
  echo "Installing label-studio==$VERSION into $VENV (first time: about 2 minutes)" >&2
  "$PY" -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip >&2
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "label-studio==$VERSION" >&2
  rm -f "$VENV"/.installed-*
  touch "$stamp"
fi
echo "$PWD/$VENV/bin/label-studio"
