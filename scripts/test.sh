#!/usr/bin/env bash
# test.sh — the whole check, as CI runs it: dependencies, configure, build, every test but the soaks.
#
# usage: scripts/test.sh    (from anywhere; builds in <repo>/build)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
jobs=$(nproc 2>/dev/null || echo 2)

echo "== dependencies"
bash scripts/install-deps.sh

echo "== configure"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo

echo "== build"
cmake --build build -j"$jobs"

echo "== test"
status=0
ctest --test-dir build --output-on-failure -j"$jobs" -LE soak || status=$?
if [[ $status -eq 0 ]]; then
    echo "== all tests passed"
else
    echo "== ctest failed (exit status $status)" >&2
fi
exit "$status"
