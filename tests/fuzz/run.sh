#!/usr/bin/env bash
# run.sh - build and run the fuzz targets of oss_resumable.h.
#
#   tests/fuzz/run.sh replay BUILD_DIR
#       Builds each target without libFuzzer, linked with replay_main.c, under
#       AddressSanitizer and UndefinedBehaviorSanitizer, and runs it over its corpus
#       (tests/fuzz/corpus/<target>/). Ends with "fuzz-replay: N passed, M failed";
#       exits non-zero when a target fails to build or its replay fails.
#   tests/fuzz/run.sh fuzz BUILD_DIR [RUNS]
#       Builds each target with libFuzzer (clang only) and runs it for RUNS executions
#       (default 10000000), one target after the other, starting from its committed
#       corpus; new inputs go to BUILD_DIR/fuzz/corpus/<target>/ (the committed one is
#       not written). Prints per target the executions, executions per second, coverage
#       and the result; a failing input is saved under BUILD_DIR/fuzz/artifacts/. Ends
#       with "fuzz: N passed, M failed"; exits non-zero when a target found a failure.
#   tests/fuzz/run.sh merge BUILD_DIR
#       Adds to each committed corpus the inputs of BUILD_DIR/fuzz/corpus/<target>/ that
#       reach new coverage (libFuzzer -merge=1, with freshly built targets). Inputs that
#       fail are left out; keep each directory small (~500 files, ~2 MB).
#
# Environment: CC (replay compiler; default clang, else gcc), FUZZ_CFLAGS (extra compiler
# flags), FUZZ_TARGETS (a subset, e.g. "fuzz_http fuzz_xml"), FUZZ_ARGS (extra libFuzzer
# flags, e.g. "-max_total_time=600").
# Runs from any directory; a relative BUILD_DIR is taken from the current one.
set -u

here=$(cd "$(dirname "$0")" && pwd)
mode=${1:-}
build=${2:-}
runs=${3:-10000000}
targets=${FUZZ_TARGETS:-"fuzz_http fuzz_xml fuzz_checkpoint fuzz_endpoint"}
san="-fsanitize=address,undefined -fno-sanitize-recover=all"
flags="-std=c99 -O1 -g -Wall -Wextra ${FUZZ_CFLAGS:-}"
libs="-lbearssl -lpthread"

usage() {
    echo "usage: $0 replay BUILD_DIR | fuzz BUILD_DIR [RUNS] | merge BUILD_DIR" >&2
    exit 2
}
[ -n "$build" ] || usage
case "$build" in /*) ;; *) build="$PWD/$build" ;; esac
out="$build/fuzz"
mkdir -p "$out" || exit 2

# Largest input per target: about what the library ever hands the function.
max_len() {
    case "$1" in
        fuzz_http) echo 4096 ;;        # response heads (the library allows 16 KiB)
        fuzz_xml) echo 4096 ;;         # reply bodies: errors, Initiate, Complete, ~12 parts
        fuzz_checkpoint) echo 5120 ;;  # a 4 KiB fixed part and a dozen slots
        fuzz_endpoint) echo 2048 ;;    # a URL, or a request of up to ~90 lines to sign
        *) echo 4096 ;;
    esac
}

passed=0
failed=0

case "$mode" in
replay)
    if [ -n "${CC:-}" ]; then cc=$CC
    elif command -v clang >/dev/null 2>&1; then cc=clang
    else cc=gcc
    fi
    for t in $targets; do
        bin="$out/replay_$t"
        log="$out/replay_$t.log"
        if ! $cc $flags $san "$here/$t.c" "$here/replay_main.c" -o "$bin" $libs; then
            echo "replay $t: FAILED to build"
            failed=$((failed + 1))
            continue
        fi
        if "$bin" "$here/corpus/$t" >"$log" 2>&1; then
            tail -n 1 "$log"
            passed=$((passed + 1))
        else
            echo "replay $t: FAILED (log: $log)"
            tail -n 30 "$log"
            failed=$((failed + 1))
        fi
    done
    echo "fuzz-replay: $passed passed, $failed failed"
    ;;
fuzz)
    if ! command -v clang >/dev/null 2>&1; then
        echo "fuzz: clang with libFuzzer is required" >&2
        exit 2
    fi
    mkdir -p "$out/artifacts"
    for t in $targets; do
        bin="$out/$t"
        log="$out/$t.log"
        corpus="$here/corpus/$t"
        work="$out/corpus/$t"
        mkdir -p "$corpus" "$work"
        if ! clang $flags -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
                "$here/$t.c" -o "$bin" $libs; then
            echo "fuzz $t: FAILED to build"
            failed=$((failed + 1))
            continue
        fi
        start=$(date +%s)
        # shellcheck disable=SC2086
        "$bin" "$work" "$corpus" -runs="$runs" -max_len="$(max_len "$t")" -timeout=10 \
            -rss_limit_mb=2048 -print_final_stats=1 \
            -artifact_prefix="$out/artifacts/$t-" ${FUZZ_ARGS:-} >"$log" 2>&1
        rc=$?
        secs=$(( $(date +%s) - start ))
        execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
        rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
        cov=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$log" | tail -n 1)
        if [ "${rate:-0}" = 0 ] && [ -n "$execs" ] && [ "$secs" -gt 0 ]; then rate=$((execs / secs)); fi
        if [ $rc -eq 0 ]; then
            result=ok
            passed=$((passed + 1))
        else
            result="FAILED (exit $rc; log: $log)"
            failed=$((failed + 1))
        fi
        echo "fuzz $t: ${execs:-?} execs in ${secs}s, ${rate:-?} exec/s, ${cov:-no coverage line}: $result"
        if [ $rc -ne 0 ]; then
            grep -E 'ERROR: |SUMMARY: |check failed|runtime error|Test unit written' "$log" | head -n 8
        fi
    done
    echo "fuzz: $passed passed, $failed failed"
    ;;
merge)
    if ! command -v clang >/dev/null 2>&1; then
        echo "merge: clang with libFuzzer is required" >&2
        exit 2
    fi
    mkdir -p "$out/artifacts"
    for t in $targets; do
        bin="$out/merge_$t"
        log="$out/merge_$t.log"
        if [ ! -d "$out/corpus/$t" ]; then
            echo "merge $t: no corpus in $out/corpus; run \"$0 fuzz\" first"
            failed=$((failed + 1))
            continue
        fi
        if ! clang $flags -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
                "$here/$t.c" -o "$bin" $libs; then
            echo "merge $t: FAILED to build"
            failed=$((failed + 1))
            continue
        fi
        before=$(find "$here/corpus/$t" -type f | wc -l)
        if "$bin" -merge=1 -max_len="$(max_len "$t")" -timeout=10 -artifact_prefix="$out/artifacts/$t-" \
                "$here/corpus/$t" "$out/corpus/$t" >"$log" 2>&1; then
            after=$(find "$here/corpus/$t" -type f | wc -l)
            echo "merge $t: $before -> $after inputs, $(du -sk "$here/corpus/$t" | cut -f1) KiB"
            passed=$((passed + 1))
        else
            echo "merge $t: FAILED (log: $log)"
            failed=$((failed + 1))
        fi
    done
    echo "fuzz-merge: $passed passed, $failed failed"
    ;;
*)
    usage
    ;;
esac
[ "$failed" -eq 0 ]
