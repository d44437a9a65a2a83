#!/usr/bin/env bash
# Configures and builds deepik (Release) into build/. Incremental: re-running rebuilds only what changed.
#   bash scripts/build.sh              everything: the library, the command, the plugin, every test
#   bash scripts/build.sh TARGET...    only these CMake targets and what they need
#                                      (scripts/demo.sh: deepik_cli deepik_learn_commands)
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)
launcher=()
# ccache (installed by setup.sh) makes a rebuild of unchanged sources, in this clone or another one
# anywhere on the machine, a cache hit: paths are taken relative to the repository.
if command -v ccache >/dev/null 2>&1; then
  export CCACHE_BASEDIR="$PWD"
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=ON "${launcher[@]}" >/dev/null
targets=()
for target in "$@"; do targets+=(--target "$target"); done
cmake --build build -j"$jobs" "${targets[@]}"
