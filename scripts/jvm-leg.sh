#!/usr/bin/env bash
# make test's JVM-pace leg: pattern 1 of the stand-in at a JVM's pace with a short boot (20 s),
# checked by the real product's timing; every check must end with a verdict (no harness time-out).
set -euo pipefail
cli="node dist/generator/cli.js"
trap '$cli down --name jvmpace >/dev/null 2>&1 || true' EXIT
$cli up --name jvmpace --pattern 1 --product sim --pace jvm --boot-seconds 20
$cli conformance --name jvmpace
