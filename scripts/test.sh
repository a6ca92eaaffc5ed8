#!/usr/bin/env bash
# test.sh — the whole check, as CI runs it: dependencies, configure, build, every test but the soaks;
# then the sanitizer stage: a second tree under AddressSanitizer and UndefinedBehaviorSanitizer.
#
# usage: scripts/test.sh    (from anywhere; builds in <repo>/build and <repo>/build-asan)
#
# The sanitizer stage (docs/guide-testing.md): build-asan, configured with
# -DTERN_SANITIZE=address,undefined, builds only what its tests need (target sanitize-tests: the
# simulator only for tiny and default, whose boards the usb tests run) and runs the unit (with the
# protocol tests), model, usb and fuzz (corpus replay) labels. Its Verilated C++ is compiled with
# the same flags as in build (not instrumented: cmake/TernSanitize.cmake), so with ccache the
# second tree takes those objects from the cache instead of compiling them again. A test
# fails on a sanitizer report (the program exits non-zero); a report in the output of a test that
# passed anyway (a command whose failure the test expected) fails the stage too.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
jobs=$(nproc 2>/dev/null || echo 2)

echo "== dependencies"
bash scripts/install-deps.sh

# ccache when installed; paths relative to the clone, so that build-asan hits what build stored
launcher=()
if command -v ccache > /dev/null 2>&1; then
    export CCACHE_BASEDIR="$root"
    launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi

echo "== configure"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo "${launcher[@]}"

echo "== build"
cmake --build build -j"$jobs"

echo "== test"
status=0
ctest --test-dir build --output-on-failure -j"$jobs" -LE soak || status=$?
if [[ $status -ne 0 ]]; then
    echo "== ctest failed (exit status $status); the sanitizer stage runs all the same" >&2
fi

echo "== sanitizers: configure build-asan (address, undefined)"
start=$SECONDS
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTERN_SANITIZE=address,undefined \
    -DTERN_SIM_CONFIGS=tiny,default -DTERN_BUILD_BENCH=OFF "${launcher[@]}"

echo "== sanitizers: build"
cmake --build build-asan -j"$jobs" --target sanitize-tests

echo "== sanitizers: test (labels unit, model, usb, fuzz)"
asan_status=0
ctest --test-dir build-asan --output-on-failure -j"$jobs" -L '^(unit|model|usb|fuzz)$' -LE soak || asan_status=$?
# every test's whole output, passed or failed, is in ctest's log
reports=$(grep -aE '^(==[0-9]+==ERROR: (Address|Leak)Sanitizer|SUMMARY: (Address|Leak|UndefinedBehavior)Sanitizer)|: runtime error: ' \
    build-asan/Testing/Temporary/LastTest.log || true)
if [[ -n $reports ]]; then
    echo "== sanitizer reports in the tests' output (build-asan/Testing/Temporary/LastTest.log):" >&2
    echo "$reports" >&2
    [[ $asan_status -ne 0 ]] || asan_status=1
fi
echo "== sanitizer stage: $((SECONDS - start)) s"
if [[ $asan_status -ne 0 ]]; then
    echo "== sanitizer stage failed (exit status $asan_status)" >&2
    [[ $status -ne 0 ]] || status=$asan_status
fi

if [[ $status -eq 0 ]]; then
    echo "== all tests passed"
else
    echo "== tests failed (exit status $status)" >&2
fi
exit "$status"
