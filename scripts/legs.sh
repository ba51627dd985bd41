#!/usr/bin/env bash
# Runs the legs of `make test` side by side, each as `name=command`, its lines prefixed with its
# name (and kept whole in reports/legs/<name>.log), then prints a table of each leg's wall time and
# result (also into reports/legs/legs.md). Fails when any leg failed, after every leg has ended.
# `--append`: the rows go below the table an earlier call wrote (a sequential step, then parallel legs).
#   scripts/legs.sh 'checks=make test-unit' && scripts/legs.sh --append 'docker=jest ...' 'conformance=...'
set -uo pipefail
dir=reports/legs
mkdir -p "$dir"
append=
if [ "${1:-}" = --append ]; then append=1; shift; fi
[ -n "$append" ] && [ -f "$dir/legs.md" ] || printf '| leg | result | wall (s) |\n|---|---|---|\n' > "$dir/legs.md"
started=$(date +%s)
names=(); pids=()
for leg in "$@"; do
  name=${leg%%=*}; command=${leg#*=}
  names+=("$name")
  (
    t0=$(date +%s)
    bash -c "$command" > >(sed -u "s/^/[$name] /" | tee "$dir/$name.log") 2>&1
    code=$?
    echo "$code $(( $(date +%s) - t0 ))" > "$dir/$name.result"
    exit "$code"
  ) &
  pids+=($!)
done
failed=0
for i in "${!pids[@]}"; do wait "${pids[$i]}" || failed=1; done
wall=$(( $(date +%s) - started ))
{
  for name in "${names[@]}"; do
    read -r code secs < "$dir/$name.result" || { code=?; secs=?; }
    echo "| $name | $([ "$code" = 0 ] && echo passed || echo "FAILED ($code)") | $secs |"
  done
  [ ${#names[@]} -gt 1 ] && echo "| (these ${#names[@]} side by side) | $([ $failed = 0 ] && echo passed || echo FAILED) | $wall |"
} >> "$dir/legs.md"
echo
echo "make test legs so far (logs in $dir/):"
cat "$dir/legs.md"
exit $failed
