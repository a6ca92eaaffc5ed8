#!/usr/bin/env bash
# fuzz.sh — build the libFuzzer targets (clang, ASan + UBSan) in build-fuzz/ and run each for a while.
#
# usage: scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...] [--json FILE]
#   SECONDS_PER_TARGET  default 60; targets run one after the other (one fuzzing process at a time)
#   TARGET              checkpoint tokenizer_file tokenizer client refdev (default: every fuzz/fuzz_*.c)
#   --json FILE         also write the table as JSON
# Prints a table: target, executions, execs/s, corpus size, findings. The working corpus grows in
# build-fuzz/corpus/<target>/ (seeded from the committed fuzz/corpus/<target>/); crashes, leaks,
# timeouts and out-of-memory inputs go to build-fuzz/findings/<target>/, the log to
# build-fuzz/logs/<target>.log. Exit status 1 when anything was found. Environment: TERN_FUZZ_BUILD
# (the build directory), TERN_FUZZ_NICE (default 10), TERN_FUZZ_JOBS (build jobs, default nproc).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${TERN_FUZZ_BUILD:-$root/build-fuzz}
nice_level=${TERN_FUZZ_NICE:-10}
jobs=${TERN_FUZZ_JOBS:-$(nproc 2>/dev/null || echo 2)}
seconds=60
json=
pos=()
while [[ $# -gt 0 ]]; do
    case $1 in
    --json) json=${2:?--json needs a file}; shift 2 ;;
    --json=*) json=${1#--json=}; shift ;;
    -h|--help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "${BASH_SOURCE[0]}"; exit 0 ;;
    -*) echo "fuzz.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) pos+=("$1"); shift ;;
    esac
done
if [[ ${#pos[@]} -gt 0 && ${pos[0]} =~ ^[0-9]+$ ]]; then
    seconds=${pos[0]}
    pos=("${pos[@]:1}")
fi
targets=("${pos[@]}")
all=()
for f in "$root"/fuzz/fuzz_*.c; do
    all+=("$(basename "$f" .c | sed 's/^fuzz_//')")
done
[[ ${#targets[@]} -gt 0 ]] || targets=("${all[@]}")
for t in "${targets[@]}"; do
    [[ -f $root/fuzz/fuzz_$t.c ]] || { echo "fuzz.sh: no target '$t' (known: ${all[*]})" >&2; exit 2; }
done
[[ -z $json ]] || json=$(cd "$(dirname "$json")" && pwd)/$(basename "$json")

# the largest input each target is given (the encoder is quadratic in its text)
max_len() {
    case $1 in
    checkpoint|tokenizer_file) echo 8192 ;;
    tokenizer) echo 2048 ;;
    *) echo 4096 ;;
    esac
}

cc=$(command -v clang || command -v clang-14 || true)
[[ -n $cc ]] || { echo "fuzz.sh: clang is not installed (scripts/install-deps.sh installs it)" >&2; exit 1; }
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)

echo "== configure $build (clang, TERN_FUZZ=ON)"
mkdir -p "$build/logs"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER="$cc" \
    -DTERN_FUZZ=ON -DTERN_BUILD_TESTS=OFF -DTERN_BUILD_BENCH=OFF \
    -DCMAKE_DISABLE_FIND_PACKAGE_verilator=ON "${launcher[@]}" >"$build/logs/configure.log" 2>&1 ||
    { cat "$build/logs/configure.log" >&2; exit 1; }
echo "== build ${targets[*]/#/fuzz_}"
cmake --build "$build" -j"$jobs" --target "${targets[@]/#/fuzz_}" >"$build/logs/build.log" 2>&1 ||
    { tail -40 "$build/logs/build.log" >&2; exit 1; }

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
rows=()
status=0
for t in "${targets[@]}"; do
    corpus=$build/corpus/$t
    findings=$build/findings/$t
    log=$build/logs/$t.log
    mkdir -p "$corpus" "$findings"
    before=$(find "$findings" -type f | wc -l)
    echo "== fuzz $t for ${seconds}s"
    rc=0
    nice -n "$nice_level" "$build/fuzz/fuzz_$t" "$corpus" "$root/fuzz/corpus/$t" \
        -max_total_time="$seconds" -print_final_stats=1 -max_len="$(max_len "$t")" -timeout=30 \
        -rss_limit_mb=2048 -artifact_prefix="$findings/" >"$log" 2>&1 || rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    size=$(find "$corpus" -type f | wc -l)
    found=$(( $(find "$findings" -type f | wc -l) - before ))
    if [[ $rc -ne 0 && $found -eq 0 ]]; then
        echo "fuzz.sh: fuzz_$t exited with status $rc and left no finding; see $log" >&2
        found=1
    fi
    [[ $found -eq 0 ]] || { status=1; grep -E "^==[0-9]+==ERROR|runtime error|fuzz invariant|SUMMARY" "$log" | head -5 >&2 || true; }
    rows+=("$t ${execs:-0} ${rate:-0} $size $found")
done

printf '\n%-16s %14s %10s %8s %9s\n' target executions execs/s corpus findings
total=0
for r in "${rows[@]}"; do
    read -r t e x c f <<<"$r"
    printf '%-16s %14s %10s %8s %9s\n' "$t" "$e" "$x" "$c" "$f"
    total=$((total + e))
done
printf '%-16s %14s\n' total "$total"
echo "findings (if any): $build/findings/<target>/   logs: $build/logs/"

if [[ -n $json ]]; then
    {
        printf '{\n  "seconds_per_target": %s,\n  "total_executions": %s,\n  "targets": [\n' "$seconds" "$total"
        n=${#rows[@]}
        for i in "${!rows[@]}"; do
            read -r t e x c f <<<"${rows[$i]}"
            printf '    {"target": "%s", "executions": %s, "execs_per_s": %s, "corpus": %s, "findings": %s, "findings_dir": "%s"}' \
                "$t" "$e" "$x" "$c" "$f" "$build/findings/$t"
            [[ $i -lt $((n - 1)) ]] && printf ',\n' || printf '\n'
        done
        printf '  ]\n}\n'
    } >"$json"
    echo "wrote $json"
fi
exit "$status"
