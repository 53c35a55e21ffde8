#!/bin/sh
# fuzz.sh BUILD_DIR SECONDS: runs every libFuzzer target built in BUILD_DIR
# (cmake -DWB_FUZZ=ON, clang) for SECONDS each, starting from its seed
# corpus in fuzz/corpus/<target>/. New inputs go to a scratch corpus so the
# committed seeds stay small; a crash leaves crash-* in fuzz/ and fails.
set -eu
build=${1:-build-fuzz}
secs=${2:-30}
top=$(cd "$(dirname "$0")/.." && pwd)
status=0
for bin in "$build"/fuzz_*; do
    case "$bin" in *_replay) continue ;; esac
    [ -x "$bin" ] || continue
    name=$(basename "$bin")
    scratch=$(mktemp -d)
    echo "== $name: ${secs}s"
    if ! "$bin" -max_total_time="$secs" -print_final_stats=1 \
        -artifact_prefix="$top/fuzz/" "$scratch" "$top/fuzz/corpus/$name" \
        2>"$scratch.log"; then
        tail -40 "$scratch.log"
        status=1
    else
        grep -E "stat::number_of_executed_units|cov:" "$scratch.log" | tail -2
    fi
    rm -rf "$scratch" "$scratch.log"
done
exit $status
