#!/usr/bin/env bash
# System packages the test suite needs, on Debian/Ubuntu: headless Chromium (+ chromedriver) for
# the UI browser test, docker-compose (1.29, the compose file parser used to validate
# docker-compose.yml; no Docker engine needed) and PostgreSQL (run/event storage of the
# production topology test). Idempotent and fast when everything is there: apt runs only when
# something is missing, and the PostgreSQL cluster is started only when it is not online.
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-system-deps: no apt-get here; install chromium, chromium-driver, docker-compose and" \
       "postgresql yourself (the topology tests need them)" >&2
  exit 0
fi

apt_updated=0
apt_install() {
  if [ "$apt_updated" -eq 0 ]; then
    $SUDO apt-get update -qq
    apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$@"
}

if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ] || ! command -v docker-compose >/dev/null 2>&1; then
  echo "install-system-deps: installing chromium, chromium-driver, docker-compose"
  apt_install chromium chromium-driver docker-compose
fi

if ! command -v pg_ctlcluster >/dev/null 2>&1 || [ -z "$(ls /etc/postgresql 2>/dev/null)" ]; then
  echo "install-system-deps: installing postgresql"
  apt_install postgresql
fi

# Start the cluster when it is not online (CI machines and containers have no systemd).
for version in $(ls /etc/postgresql); do
  if ! pg_lsclusters --no-header 2>/dev/null | awk -v v="$version" '$1 == v && $2 == "main" && $4 ~ /online/ {found=1} END {exit !found}'; then
    echo "install-system-deps: starting PostgreSQL $version/main"
    $SUDO pg_ctlcluster --skip-systemctl-redirect "$version" main start
  fi
done
