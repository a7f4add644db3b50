#!/usr/bin/env bash
# Runs the ablation sweeps (docs/ablations.md) one after another at the lowest CPU priority, then,
# after each, rewrites its aggregate, its HTML report and the SVG figures docs/ablations.md embeds.
#
# Every step is resumable: run the script again after a kill, a reboot or a failed run and the
# finished runs are skipped, the unfinished ones continue from their last checkpoint.
#
#   sweeps/run-all.sh                                  # the three ablations, runs under sweeps/
#   sweeps/run-all.sh ablation-rae                     # only some, in the order given
#   OUT=/work/sweep-out sweeps/run-all.sh              # runs elsewhere; the aggregates are copied
#                                                      # into sweeps/<name>/ for committing
#
# Needs a built CLI (npm run build). Exit status: 0 when every run of every sweep finished.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT="${OUT:-sweeps}"
SPIRAL=(node bin/spiral.js)
if [ ! -f dist/cli/main.js ]; then echo "run-all: build the CLI first (npm run build)" >&2; exit 2; fi
if [ "$#" -gt 0 ]; then names=("$@"); else names=(ablation-opponents ablation-rae ablation-games); fi

# nice alone does not yield here: with the kernel's autogroup scheduling, CPU is shared between
# sessions first, so the session itself is set to the lowest priority too (where the kernel has it).
if [ -w /proc/self/autogroup ]; then echo 19 > /proc/self/autogroup || true; fi

status=0
for name in "${names[@]}"; do
  grid="sweeps/$name.yaml"
  if [ ! -f "$grid" ]; then echo "run-all: no grid $grid" >&2; status=2; continue; fi
  echo "run-all: $name ($(date -u +%FT%TZ))" >&2
  # A failed run is recorded in sweep.json and retried next time; go on to the figures and the next sweep.
  nice -n 19 "${SPIRAL[@]}" sweep "$grid" --out "$OUT" >/dev/null || status=1
  # The aggregate of whatever has finished (also after a failure), the report and the figures.
  "${SPIRAL[@]}" sweep "$grid" --out "$OUT" --aggregate-only >/dev/null || { status=1; continue; }
  "${SPIRAL[@]}" report "$OUT/$name" --out "$OUT/$name/report.html" --figures "docs/ablations/$name" || status=1
  if [ "$(realpath "$OUT")" != "$(realpath sweeps)" ]; then
    mkdir -p "sweeps/$name"
    cp "$OUT/$name/aggregate.json" "$OUT/$name/aggregate.md" "$OUT/$name/curves.csv" "$OUT/$name/report.html" "sweeps/$name/"
  fi
done
echo "run-all: done ($(date -u +%FT%TZ)), status $status" >&2
exit "$status"
