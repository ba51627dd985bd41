#!/usr/bin/env bash
# Runs the legs of `make test`, each given as `lane:name=command`: the legs of one lane one after
# another (stopping at the first that fails), the lanes side by side. Each leg's lines are prefixed
# with its name (and kept whole in reports/legs/<name>.log). At the end a table of each leg's wall
# time and result, each lane's and the whole run's (also into reports/legs/legs.md). Fails when any
# leg failed, after every lane has ended.
# `--append`: the rows go below the table an earlier call wrote (a first step, then the lanes).
#   scripts/legs.sh 'a:checks=make test-unit' && scripts/legs.sh --append 'a:docker=jest ...' 'b:conformance=...'
set -uo pipefail
dir=reports/legs
mkdir -p "$dir"
append=
if [ "${1:-}" = --append ]; then append=1; shift; fi
[ -n "$append" ] && [ -f "$dir/legs.md" ] || printf '| lane | leg | result | wall (s) |\n|---|---|---|---|\n' > "$dir/legs.md"
started=$(date +%s)
# The CPUs' busy and idle jiffies (/proc/stat's first line; iowait counts as idle): over the lanes,
# how busy the machine was, beside how busy the machine gate says it kept it.
cpu_ticks() { awk '/^cpu /{ print $2+$3+$4+$7+$8+$9, $5+$6 }' /proc/stat 2>/dev/null; }
read -r busy0 idle0 <<< "$(cpu_ticks)"

lanes=()
declare -A lane_legs=()
for leg in "$@"; do
  lane=${leg%%:*}; rest=${leg#*:}
  [ -n "${lane_legs[$lane]+x}" ] || lanes+=("$lane")
  lane_legs[$lane]+="${rest}"$'\n'
done

run_leg() {
  local name=$1 command=$2 t0 code
  t0=$(date +%s)
  bash -c "$command" > >(sed -u "s/^/[$name] /" | tee "$dir/$name.log") 2>&1
  code=$?
  echo "$code $(( $(date +%s) - t0 ))" > "$dir/$name.result"
  return "$code"
}

pids=()
for lane in "${lanes[@]}"; do
  (
    t0=$(date +%s); code=0
    while IFS= read -r leg; do
      [ -n "$leg" ] || continue
      name=${leg%%=*}
      if [ $code = 0 ]; then run_leg "$name" "${leg#*=}" || code=$?; else echo "skipped (an earlier leg of lane $lane failed)" > "$dir/$name.skipped"; rm -f "$dir/$name.result"; fi
    done <<< "${lane_legs[$lane]}"
    echo "$code $(( $(date +%s) - t0 ))" > "$dir/lane-$lane.result"
    exit "$code"
  ) &
  pids+=($!)
done
failed=0
for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
wall=$(( $(date +%s) - started ))
read -r busy1 idle1 <<< "$(cpu_ticks)"
cpu_busy=
[ -n "${busy0:-}" ] && [ -n "${busy1:-}" ] && (( busy1 + idle1 > busy0 + idle0 )) && cpu_busy=$(( 100 * (busy1 - busy0) / (busy1 + idle1 - busy0 - idle0) ))
{
  for lane in "${lanes[@]}"; do
    while IFS= read -r leg; do
      [ -n "$leg" ] || continue
      name=${leg%%=*}
      if [ -f "$dir/$name.skipped" ]; then echo "| $lane | $name | not run (an earlier leg of its lane failed) | - |"; rm -f "$dir/$name.skipped"; continue; fi
      read -r code secs < "$dir/$name.result" || { code=?; secs=?; }
      echo "| $lane | $name | $([ "$code" = 0 ] && echo passed || echo "FAILED ($code)") | $secs |"
    done <<< "${lane_legs[$lane]}"
    [ ${#lanes[@]} -gt 1 ] && { read -r code secs < "$dir/lane-$lane.result"; echo "| $lane | (lane $lane in all) | $([ "$code" = 0 ] && echo passed || echo FAILED) | $secs |"; }
  done
  [ ${#lanes[@]} -gt 1 ] && echo "| | (lanes ${lanes[*]} side by side) | $([ $failed = 0 ] && echo passed || echo FAILED) | $wall |"
  [ -n "$cpu_busy" ] && echo "| | (the CPUs busy over these legs) | $cpu_busy % | $wall |"
} >> "$dir/legs.md"
echo
echo "make test legs so far (logs in $dir/):"
cat "$dir/legs.md"
# Why each failed leg failed, last (a CI log is often read from its tail): its failure lines.
for lane in "${lanes[@]}"; do
  while IFS= read -r leg; do
    name=${leg%%=*}
    [ -n "$name" ] && [ -f "$dir/$name.result" ] || continue
    read -r code _ < "$dir/$name.result"
    [ "$code" = 0 ] && continue
    echo
    echo "why $name failed (its failure lines; the whole log is $dir/$name.log):"
    # A refusal of the CLI (one line naming the fix) matches none of these: then the log's last lines.
    grep -E 'FAILED|not run:|✕|● |Error:|error:' "$dir/$name.log" | grep -v ' passed' | tail -n 20 | grep . || tail -n 5 "$dir/$name.log"
  done <<< "${lane_legs[$lane]}"
done
exit $failed
