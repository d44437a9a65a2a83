#!/usr/bin/env bash
# Configures and builds deepik (Release) into build/. Incremental: re-running rebuilds only what changed.
#   bash scripts/build.sh              everything: the library, the command, the plugin, every test
#   bash scripts/build.sh TARGET...    only these CMake targets and what they need
#                                      (scripts/demo.sh: deepik_cli deepik_learn_commands)
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=ON >/dev/null
targets=()
for target in "$@"; do targets+=(--target "$target"); done
cmake --build build -j"$jobs" "${targets[@]}"
