#!/usr/bin/env bash
# A/B wall time of `fable tokenizer encode` for two builds of fable, run alternately so a
# loaded machine hurts both alike. Includes loading the tokenizer (vocab.json parse).
#
#   Scripts/bench/encode_ab.sh BEFORE/fable AFTER/fable [INPUT] [ROUNDS]
#
# Uses GPT-2's vocab/merges from ../shared/fixtures; INPUT defaults to
# ../shared/data/owt_sample.txt, ROUNDS to 3. Prints each time, the medians and the ratio
# after/before, with the load average.
set -euo pipefail
before=$1; after=$2
shared=${FABLE_SHARED:-$(cd "$(dirname "$0")/../../.." && pwd)/shared}
input=${3:-$shared/data/owt_sample.txt}
rounds=${4:-3}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
run() {
    local start end
    start=$(date +%s.%N)
    "$1" tokenizer encode --vocab "$shared/fixtures/gpt2_vocab.json" --merges "$shared/fixtures/gpt2_merges.txt" \
        --input "$input" --output "$out/ids.npy" --quiet > /dev/null
    end=$(date +%s.%N)
    echo "$end - $start" | bc
}
b=(); a=()
for ((i = 0; i < rounds; i++)); do
    b+=("$(run "$before")"); a+=("$(run "$after")")
    echo "round $((i + 1)): before ${b[-1]} s, after ${a[-1]} s"
done
median() { printf '%s\n' "$@" | sort -n | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
mb=$(median "${b[@]}"); ma=$(median "${a[@]}")
echo "median before $mb s, after $ma s, after/before $(echo "scale=3; $ma / $mb" | bc)"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
