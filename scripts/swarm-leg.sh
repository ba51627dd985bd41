#!/usr/bin/env bash
# make test's swarm leg: pattern 3 of the stand-in as a stack on this machine's one-node swarm.
set -euo pipefail
cli="node dist/generator/cli.js"
trap '$cli down --name swarm3 >/dev/null 2>&1 || true' EXIT
$cli up --name swarm3 --pattern 3 --product sim --target swarm
$cli conformance --name swarm3
