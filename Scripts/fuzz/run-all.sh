#!/usr/bin/env bash
# Fuzzes every parser of user files for SECONDS each (default 60) with libFuzzer, starting
# from the committed inputs; new crashing inputs land in fuzz-findings/TARGET/.
# Linux, Swift 6.3. README "Reliability" explains the build flags.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds="${1:-60}"
swift build --product fable-fuzz -Xswiftc -sanitize=fuzzer -Xswiftc -parse-as-library \
    -Xswiftc -DFUZZING -Xswiftc -Xclang-linker -Xswiftc -fuse-ld=lld --scratch-path .build-fuzz
for target in vocab-json merges-txt special-tokens npy-header npy-tokens npy-dataset safetensors \
              training-config model-config metrics-jsonl; do
    corpus="fuzz-corpus/$target"; findings="fuzz-findings/$target"
    mkdir -p "$corpus" "$findings"
    cp -n Tests/Fixtures/fuzz/"$target"/* "$corpus"/ 2>/dev/null || true
    echo "== $target ($seconds s)"
    FABLE_FUZZ_TARGET="$target" .build-fuzz/debug/fable-fuzz -max_total_time="$seconds" -timeout=10 \
        -rss_limit_mb=4096 -artifact_prefix="$findings/" "$corpus" 2>&1 | grep -E "^(#[0-9]+ +DONE|==|SUMMARY|artifact)" || true
done
ls fuzz-findings/*/ 2>/dev/null
