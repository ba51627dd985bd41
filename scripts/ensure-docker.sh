#!/usr/bin/env bash
# `make lab`, `make test` and the other Docker targets call this first: when no Docker engine with
# Compose v2 answers, bring one up where the machine allows it (root on Debian/Ubuntu, with
# scripts/provision-docker.sh), saying so in one line; elsewhere say what to do and fail.
# `--soft`: print the reason and succeed anyway (make test outside CI skips the Docker suites).
set -uo pipefail
soft=${1:-}
docker info >/dev/null 2>&1 && docker compose version >/dev/null 2>&1 && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "carbon-labs: no Docker engine with Compose v2 answers: bringing one up (scripts/provision-docker.sh, root on a Debian-like machine)" >&2
  bash "$(dirname "$0")/provision-docker.sh" >&2 && exit 0
  echo "carbon-labs: scripts/provision-docker.sh could not bring up Docker (see above)" >&2
else
  echo "carbon-labs: no Docker engine with Compose v2 answers, and this machine does not let carbon-labs start one (needs root on Debian/Ubuntu). Try: start Docker (with the compose plugin), or as root: bash scripts/provision-docker.sh" >&2
fi
[ "$soft" = --soft ] && exit 0
exit 2
