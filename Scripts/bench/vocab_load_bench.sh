#!/usr/bin/env bash
# Vocabulary load A/B: FableFormats' JSONParser against the one-purpose vocab.json reader
# of commit 01a2d16 (fetched with `git show`, not kept in the tree), on GPT-2's vocab.json.
# Builds a small -O binary with swiftc (no whole-package release build needed).
#
#   Scripts/bench/vocab_load_bench.sh [VOCAB_JSON] [ROUNDS]
#
# VOCAB_JSON defaults to ../shared/fixtures/gpt2_vocab.json, ROUNDS to 21. Prints thread
# CPU time medians, MB/s, the new/old ratios and the load average.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
shared=${FABLE_SHARED:-$(cd "$root/.." && pwd)/shared}
vocab=${1:-$shared/fixtures/gpt2_vocab.json}
rounds=${2:-21}
work=${VOCAB_BENCH_DIR:-$(mktemp -d)}
mkdir -p "$work"
[ -n "${VOCAB_BENCH_DIR:-}" ] || trap 'rm -rf "$work"' EXIT
cd "$root"
git show 01a2d16:Sources/FableTokenizer/VocabularyJSON.swift > "$work/OldVocabularyJSON.swift"
# FableFormats as its own module, as in the package; the vocabulary files compile into
# the benchmark module (their FableFormats import resolves to it).
swiftc -O -wmo -parse-as-library -package-name Fable -module-name FableFormats \
    -emit-module -emit-module-path "$work/FableFormats.swiftmodule" -emit-library -static \
    -o "$work/libFableFormats.a" Sources/FableFormats/*.swift
swiftc -O -wmo -parse-as-library -package-name Fable -module-name VocabLoadBench -I "$work" -L "$work" -lFableFormats \
    -o "$work/vocab_load_bench" Scripts/bench/vocab_load_bench.swift "$work/OldVocabularyJSON.swift" \
    Sources/FableTokenizer/{ByteLevel,Vocabulary,Vocabulary+Listing,VocabularyFiles,VocabularyFileError}.swift
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
"$work/vocab_load_bench" "$vocab" "$rounds"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
