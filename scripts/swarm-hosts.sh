#!/usr/bin/env bash
# Several Docker engines on this machine, joined into one swarm: `make swarm HOSTS=3` (up) and
# `make swarm-down` (down). Each "host" is a container of carbon-labs/engine (the local base image
# plus Debian's docker.io) running its own dockerd, its /var/lib/docker on a volume of its own and
# its API on /run/carbon-labs/hosts/host-N/docker.sock here. All are swarm managers (three keep a
# Raft quorum when one host is lost); host-1 runs the managers, host-2 the workers and host-3 the
# database (node labels, docs/swarm.md); more hosts carry workers. Every carbon-labs/* image of this
# engine is loaded into each host (one `docker save`, its layers once), as there is no registry.
#   scripts/swarm-hosts.sh up 3     scripts/swarm-hosts.sh down     scripts/swarm-hosts.sh status
#   scripts/swarm-hosts.sh run status --pattern 3 --product sim   (the CLI on host-1: make lab ... HOSTS=3)
# CARBON_LABS_HOST_IMAGES="a b": only those images (a test's). Re-running `up` is a no-op but for
# images added since.
set -euo pipefail
cd "$(dirname "$0")/.."
IMAGE=carbon-labs/engine:bookworm
# Which version of this image's recipe made it (rebuilt on a change).
RECIPE=1
NETWORK=carbon-labs-hosts
SUBNET_PREFIX=10.213.250
SOCKETS=/run/carbon-labs/hosts
LABEL=carbon-labs.host
say() { echo "[hosts] $*" >&2; }
die() { echo "carbon-labs: $1. Try: $2" >&2; exit 1; }
host_engine() { local n=$1; shift; timeout 120 docker -H "unix://$SOCKETS/host-$n/docker.sock" "$@"; }
hosts() { docker ps -a --filter "label=$LABEL" --format '{{.Names}}' | sort; }

engine_image() {
  [ "$(docker image inspect --format "{{index .Config.Labels \"$LABEL.recipe\"}}" "$IMAGE" 2>/dev/null)" = "$RECIPE" ] && return
  docker image inspect carbon-labs/base:bookworm >/dev/null 2>&1 || {
    say "the local base image first (make images)"
    node dist/generator/cli.js images --product sim >/dev/null
  }
  say "building $IMAGE (the base image and Debian's docker.io)"
  printf 'FROM carbon-labs/base:bookworm\nLABEL %s.recipe=%s\nRUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker.io iptables >/dev/null && rm -rf /var/lib/apt/lists/*\n' "$LABEL" "$RECIPE" |
    DOCKER_BUILDKIT=0 docker build -q -t "$IMAGE" - >/dev/null
}

# --privileged where this machine's capabilities allow it; else (a machine that lacks one in its
# bounding set, as this project's: no CAP_SYS_RESOURCE) every capability it has, unconfined.
start_host() {
  local n=$1 name=carbon-labs-host-$1 common
  mkdir -p "$SOCKETS/host-$n"
  # The project folder at the same path, so the harness's bind mounts (lab folders) mean the same there.
  # This machine's docker CLI, Compose v2 plugin and Node.js too (Debian 12's docker.io CLI deploys
  # no stack file without a version key and has no Compose v2; its Node.js is 18, the harness's is
  # 20): the CLI runs on host-1 as on this machine.
  local cli compose node
  cli=$(readlink -f "$(command -v docker)")
  node=$(readlink -f "$(command -v node)")
  compose=$(readlink -f "$(docker info --format '{{range .ClientInfo.Plugins}}{{if eq .Name "compose"}}{{.Path}}{{end}}{{end}}')")
  # --init: a PID 1 that reaps what `docker exec` leaves (a CLI run stopped midway), so no zombie
  # keeps its share of the machine gate.
  common=(-d --init --name "$name" --hostname "host-$n" --label "$LABEL=$n" --network "$NETWORK" --ip "$SUBNET_PREFIX.$((10 + n))"
    -v "$name:/var/lib/docker" -v "$SOCKETS/host-$n:/run/engine" -v "$SOCKETS:$SOCKETS" -v "$PWD:$PWD" --tmpfs /run --tmpfs /tmp
    -v "$cli:/usr/local/bin/docker:ro" -v "$compose:/usr/local/lib/docker/cli-plugins/docker-compose:ro" -v "$node:/usr/local/bin/node:ro")
  local args=("$IMAGE" dockerd --cgroup-parent "$name" -H unix:///run/engine/docker.sock -H unix:///var/run/docker.sock)
  if ! docker run --privileged "${common[@]}" "${args[@]}" >/dev/null 2>/tmp/carbon-labs-host.err; then
    grep -q 'apply caps' /tmp/carbon-labs-host.err || { cat /tmp/carbon-labs-host.err >&2; exit 1; }
    docker rm -f "$name" >/dev/null
    local drop=()
    # CAP_SYS_RESOURCE is bit 24 of the bounding set.
    (( (0x$(awk '/^CapBnd:/ {print $2}' /proc/self/status) >> 24) & 1 )) || drop=(--cap-drop SYS_RESOURCE)
    docker run --cap-add ALL "${drop[@]}" --security-opt seccomp=unconfined --security-opt apparmor=unconfined \
      --security-opt systempaths=unconfined -v /sys/fs/cgroup:/sys/fs/cgroup:rw "${common[@]}" "${args[@]}" >/dev/null
  fi
}

wait_engine() {
  local n=$1
  for _ in $(seq 1 60); do host_engine "$n" info >/dev/null 2>&1 && return; sleep 1; done
  docker logs --tail 20 "carbon-labs-host-$n" >&2
  die "the engine of host-$n did not answer in 60 s (its log is above)" "make swarm-down, then make swarm HOSTS=3"
}

up() {
  local count=$1
  [[ "$count" =~ ^[0-9]+$ ]] && [ "$count" -ge 3 ] && [ "$count" -le 5 ] || die "HOSTS must be 3 to 5 (got \"$count\"; one host is make swarm alone)" "make swarm HOSTS=3"
  local existing; existing=$(hosts | wc -l)
  [ "$existing" = 0 ] || [ "$existing" = "$count" ] || die "$existing engine containers run already ($(hosts | tr '\n' ' '))" "make swarm-down, then make swarm HOSTS=$count"
  engine_image
  docker network inspect "$NETWORK" >/dev/null 2>&1 || docker network create --label "$LABEL=network" --subnet "$SUBNET_PREFIX.0/24" "$NETWORK" >/dev/null
  for n in $(seq 1 "$count"); do
    docker inspect "carbon-labs-host-$n" >/dev/null 2>&1 || { say "starting host-$n (its own dockerd)"; start_host "$n"; }
    [ "$(docker inspect --format '{{.State.Running}}' "carbon-labs-host-$n")" = true ] || docker start "carbon-labs-host-$n" >/dev/null
  done
  for n in $(seq 1 "$count"); do wait_engine "$n"; done

  if [ "$(host_engine 1 info --format '{{.Swarm.LocalNodeState}}')" != active ]; then
    say "host-1: docker swarm init"
    host_engine 1 swarm init --advertise-addr "$SUBNET_PREFIX.11" >/dev/null
  fi
  local token; token=$(host_engine 1 swarm join-token -q manager)
  for n in $(seq 2 "$count"); do
    if [ "$(host_engine "$n" info --format '{{.Swarm.LocalNodeState}}')" != active ]; then
      say "host-$n: joins as a manager"
      host_engine "$n" swarm join --token "$token" --advertise-addr "$SUBNET_PREFIX.$((10 + n))" "$SUBNET_PREFIX.11:2377" >/dev/null
    fi
  done
  host_engine 1 node update --label-add carbon-labs.role.manager=true host-1 >/dev/null
  host_engine 1 node update --label-add carbon-labs.role.worker=true host-2 >/dev/null
  host_engine 1 node update --label-add carbon-labs.db=true host-3 >/dev/null
  for n in $(seq 4 "$count"); do host_engine 1 node update --label-add carbon-labs.role.worker=true "host-$n" >/dev/null; done
  # How the harness (on host-1, or here) reaches each node's engine: every socket is at the same path in every host.
  for n in $(seq 1 "$count"); do host_engine 1 node update --label-add "carbon-labs.engine=unix://$SOCKETS/host-$n/docker.sock" "host-$n" >/dev/null; done

  local images
  images=${CARBON_LABS_HOST_IMAGES:-$(docker images --format '{{.Repository}}:{{.Tag}}' | grep '^carbon-labs/' | grep -v "^$IMAGE\$" | sort)}
  for n in $(seq 1 "$count"); do
    local missing=()
    for image in $images; do
      [ "$(host_engine "$n" image inspect --format '{{.Id}}' "$image" 2>/dev/null)" = "$(docker image inspect --format '{{.Id}}' "$image")" ] || missing+=("$image")
    done
    [ ${#missing[@]} = 0 ] && continue
    local t0; t0=$(date +%s)
    say "host-$n: loading ${#missing[@]} images (${missing[*]})"
    docker save "${missing[@]}" | host_engine "$n" load -q >/dev/null
    say "host-$n: loaded in $(( $(date +%s) - t0 )) s"
  done
  status
  say "a swarm of $count engines: make lab PATTERN=3 TARGET=swarm HOSTS=$count (the CLI on host-1; its 127.0.0.1 URLs are host-1's); make swarm-down removes it"
}

status() {
  [ -n "$(hosts)" ] || { say "no engine containers (make swarm HOSTS=3)"; return 0; }
  host_engine 1 node ls --format '{{.Hostname}} {{.Status}} {{.ManagerStatus}} {{.Availability}}' |
    while read -r node state manager availability; do
      echo "$node $state ${manager:-worker} $availability $(host_engine 1 node inspect --format '{{range $k, $v := .Spec.Labels}}{{$k}} {{end}}' "$node")"
    done
}

down() {
  local names; names=$(hosts)
  if [ -n "$names" ]; then say "removing $(echo "$names" | tr '\n' ' ')"; docker rm -f -v $names >/dev/null; fi
  for volume in $(docker volume ls -q --filter name=carbon-labs-host-); do docker volume rm "$volume" >/dev/null; done
  docker network inspect "$NETWORK" >/dev/null 2>&1 && docker network rm "$NETWORK" >/dev/null
  rm -rf "$SOCKETS"
  # The cgroups the hosts' engines made (their --cgroup-parent), empty once the hosts are gone.
  for dir in /sys/fs/cgroup/*/carbon-labs-host-*; do [ -d "$dir" ] && find "$dir" -depth -type d -exec rmdir {} + 2>/dev/null; done
  rmdir /run/carbon-labs 2>/dev/null || true
  say "no engine containers, volumes or network left (the image $IMAGE is kept: docker rmi $IMAGE)"
}

# The CLI on host-1, the swarm's first manager (as on a real cluster: deploy from a manager host);
# its 127.0.0.1 is host-1's.
run() {
  [ -n "$(hosts)" ] || die "no engine containers run" "make swarm HOSTS=3"
  docker exec -i -w "$PWD" -e CARBON_LABS_VIA_MAKE -e CARBON_LABS_FAILOVER_RUNS -e CARBON_LABS_SLOTS carbon-labs-host-1 node dist/generator/cli.js "$@"
}

case "${1:-}" in
  up) up "${2:-3}" ;;
  run) shift; run "$@" ;;
  down) down ;;
  status) status ;;
  *) die "usage: $0 up N | down | status | run <carbon-labs arguments>" "make swarm HOSTS=3" ;;
esac
