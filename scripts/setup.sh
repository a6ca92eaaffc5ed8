#!/usr/bin/env bash
# setup.sh — the README's first command: install what is missing, build, and run the main job.
#
# usage: scripts/setup.sh    (from anywhere; builds in <repo>/build)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
jobs=$(nproc 2>/dev/null || echo 2)

echo "== dependencies"
bash scripts/install-deps.sh

echo "== configure and build"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build -j"$jobs"

echo "== main job"
bash scripts/demo.sh
