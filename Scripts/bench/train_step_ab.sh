#!/usr/bin/env bash
# A/B median step time of `fable bench train-step` for two builds of fable, run alternately
# so a loaded machine hurts both alike.
#
#   Scripts/bench/train_step_ab.sh BEFORE/fable AFTER/fable [ROUNDS] [bench train-step options]
#
# ROUNDS defaults to 3; options default to the command's own (tinystories-17m, batches 8,32).
# Prints each round's JSON lines with the load average, then the ratio after/before of the
# median step times per batch size.
set -euo pipefail
before=$1; after=$2; rounds=${3:-3}; shift $(( $# >= 3 ? 3 : 2 ))
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for round in $(seq 1 "$rounds"); do
    for which in before after; do
        bin=$before; [ "$which" = after ] && bin=$after
        echo "== round $round $which  load: $(cut -d' ' -f1-3 /proc/loadavg)"
        "$bin" bench train-step --json "$@" | sed "s/^/$which /" | tee -a "$log"
    done
done
python3 - "$log" <<'PY'
import json, statistics, sys
runs = {}
for line in open(sys.argv[1]):
    which, _, body = line.partition(" ")
    row = json.loads(body)
    runs.setdefault(row["batch"], {}).setdefault(which, []).append(row["step_ms"])
for batch, sides in sorted(runs.items()):
    b, a = statistics.median(sides["before"]), statistics.median(sides["after"])
    print(f"batch {batch}: before {b:.1f} ms, after {a:.1f} ms, after/before {a / b:.3f}")
PY
