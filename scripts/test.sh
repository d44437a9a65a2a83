#!/usr/bin/env bash
# Sets up, builds and runs every test (the README's test command; .ci/run calls it).
#   bash scripts/test.sh             build/ (Release) and every test, the fuzz targets included
#   bash scripts/test.sh --sanitize  the tests that need no libtorch (ctest labels `core`, `core_threads`) under
#                                    AddressSanitizer + UndefinedBehaviorSanitizer in build-asan/,
#                                    then those that run solvers on many threads (label `core_threads`)
#                                    under ThreadSanitizer in build-tsan/
set -euo pipefail
cd "$(dirname "$0")/.."

mode=all
case "${1:-}" in
  "") ;;
  --sanitize) mode=sanitize ;;
  *)
    echo "usage: bash scripts/test.sh [--sanitize]" >&2
    exit 2
    ;;
esac

bash scripts/setup.sh

if [ "$mode" = all ]; then
  bash scripts/build.sh
  cd build
  ctest --output-on-failure -j2 --timeout 900
  exit
fi

# Configures and builds the targets $3.. into folder $1 with sanitizers $2 (gcc, -O1 with
# assertions on: Eigen's index checks too). libtorch is not sanitized, so nothing here links it.
sanitized_build() {
  local dir=$1 sanitizers=$2
  shift 2
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" \
    -DDEEPIK_SANITIZE="$sanitizers" -DDEEPIK_BUILD_BENCHMARKS=OFF -DBUILD_TESTING=ON >/dev/null
  cmake --build "$dir" -j"$(nproc 2>/dev/null || echo 2)" --target "$@"
}

# Any finding fails its test: UBSan stops at the first report (-fno-sanitize-recover), ASan and
# TSan with halt_on_error (tests/tsan.supp: accesses inside the uninstrumented httplib); LeakSanitizer
# reports leaks at exit.
export ASAN_OPTIONS=detect_leaks=1:detect_stack_use_after_return=1:check_initialization_order=1:strict_init_order=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$PWD/tests/tsan.supp"

# Both runs happen even when the first fails; the exit status says whether both passed.
status=0
sanitized_build build-asan address,undefined core_tests deepik_cli &&
  (cd build-asan && ctest --output-on-failure -j2 --timeout 1800 -L '^core') || status=1
sanitized_build build-tsan thread thread_tests deepik_cli &&
  (cd build-tsan && ctest --output-on-failure -j2 --timeout 1800 -L 'threads$') || status=1
exit $status
