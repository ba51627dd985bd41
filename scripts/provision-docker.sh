#!/usr/bin/env bash
# Brings up a Docker engine with Compose v2 on a bare Debian 12 machine (root), as the CI machines
# need it. Every step checks first and installs second, so a re-run on a ready machine is quick.
# The Debian mirror is read from the machine's own apt configuration, never written here.
set -euo pipefail
log() { printf '[provision] %s\n' "$*"; }
state_dir=${CARBON_LABS_STATE:-/var/tmp/carbon-labs}
mkdir -p "$state_dir"

apt_updated=
apt_install() {
  [ -n "$apt_updated" ] || { apt-get update -qq; apt_updated=1; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

if ! command -v dockerd >/dev/null 2>&1; then
  log "installing the Docker engine (Debian's docker.io)"
  apt_install docker.io
fi

if ! docker info >/dev/null 2>&1; then
  # A dockerd that was killed leaves its pid file, and a new one refuses to start ("pid file found"):
  # removed when no process has that pid.
  if [ -f /var/run/docker.pid ] && ! kill -0 "$(cat /var/run/docker.pid 2>/dev/null)" 2>/dev/null; then
    log "removing /var/run/docker.pid of a dockerd that is gone"
    rm -f /var/run/docker.pid
  fi
  log "starting dockerd (log: $state_dir/dockerd.log)"
  nohup dockerd >"$state_dir/dockerd.log" 2>&1 &
  echo $! >"$state_dir/dockerd.pid"
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 0.5; done
  docker info >/dev/null 2>&1 || { log "dockerd did not answer in 30 s; see $state_dir/dockerd.log"; tail -20 "$state_dir/dockerd.log"; exit 1; }
fi

if ! docker compose version >/dev/null 2>&1; then
  if ! [ -x /usr/bin/docker-compose ] || ! /usr/bin/docker-compose version 2>/dev/null | grep -q 'v2\.'; then
    log "installing Compose v2 from Debian's trixie suite (one package, private apt lists)"
    mirror=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
    [ -n "$mirror" ] || mirror=$(awk '/^deb / {print $2; exit}' /etc/apt/sources.list)
    tmp=$(mktemp -d)
    echo "deb $mirror trixie main" >"$tmp/sources.list"
    mkdir -p "$tmp/lists/partial"
    opts=(-o "Dir::Etc::sourcelist=$tmp/sources.list" -o "Dir::Etc::sourceparts=-" -o "Dir::State::Lists=$tmp/lists")
    apt-get "${opts[@]}" update -qq
    (cd "$tmp" && apt-get "${opts[@]}" download docker-compose >/dev/null)
    dpkg -i "$tmp"/docker-compose_*.deb >/dev/null
    rm -rf "$tmp"
  fi
  mkdir -p /usr/local/lib/docker/cli-plugins
  ln -sf /usr/bin/docker-compose /usr/local/lib/docker/cli-plugins/docker-compose
fi
docker compose version
