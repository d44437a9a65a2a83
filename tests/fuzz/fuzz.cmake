# The ctest side of the fuzz targets (tests/CMakeLists.txt registers the tests):
#   MODE=build: configures tests/fuzz with clang into BINARY_DIR and builds every target.
#   MODE=run:   replays NAME's regression inputs (each must pass), then fuzzes for SECONDS from the
#               committed seed corpus and those inputs with a fixed SEED; new inputs go to BINARY_DIR/corpus/NAME
#               (emptied first: one run is one seed's search), crashes to BINARY_DIR/artifacts/NAME.
cmake_minimum_required(VERSION 3.20)
get_filename_component(FUZZ_DIR ${CMAKE_CURRENT_LIST_DIR} ABSOLUTE)

if(MODE STREQUAL "build")
  if(NOT CXX)
    message(FATAL_ERROR "no clang++ found: scripts/setup.sh installs clang and libclang-rt-14-dev (libFuzzer)")
  endif()
  set(launcher)
  if(LAUNCHER)
    set(launcher -DCMAKE_CXX_COMPILER_LAUNCHER=${LAUNCHER})
  endif()
  execute_process(COMMAND ${CMAKE_COMMAND} -S ${FUZZ_DIR} -B ${BINARY_DIR} -DCMAKE_CXX_COMPILER=${CXX} ${launcher}
                  RESULT_VARIABLE rc OUTPUT_QUIET)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "configuring ${FUZZ_DIR} failed (${rc})")
  endif()
  execute_process(COMMAND ${CMAKE_COMMAND} --build ${BINARY_DIR} -j2 RESULT_VARIABLE rc OUTPUT_VARIABLE out
                  ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "building the fuzz targets failed (${rc}):\n${out}")
  endif()
  message(STATUS "fuzz targets built in ${BINARY_DIR}")
  return()
endif()

if(NOT MODE STREQUAL "run")
  message(FATAL_ERROR "MODE must be build or run, got '${MODE}'")
endif()
set(fuzzer ${BINARY_DIR}/${NAME}_fuzz)
if(NOT EXISTS ${fuzzer})
  message(FATAL_ERROR "${fuzzer} is missing: fuzz_build failed or did not run")
endif()

# Leaks inside third-party libraries that deepik cannot free (each one explained in the file).
set(ENV{LSAN_OPTIONS} "suppressions=${FUZZ_DIR}/lsan.supp:print_suppressions=0")
# The targets' scratch files (fuzz_util.hpp) go to the build folder: libFuzzer ends with _Exit.
file(MAKE_DIRECTORY ${BINARY_DIR}/tmp)
set(ENV{TMPDIR} ${BINARY_DIR}/tmp)

# 1. Every input that once failed must pass now (libFuzzer runs files given by name once each).
file(GLOB regressions ${FUZZ_DIR}/regressions/${NAME}/*)
list(FILTER regressions EXCLUDE REGEX "README")
list(LENGTH regressions regression_count)
if(regression_count GREATER 0)
  execute_process(COMMAND ${fuzzer} ${regressions} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${NAME}: a regression input fails again:\n${out}")
  endif()
endif()
message(STATUS "${NAME}: ${regression_count} regression inputs pass")

# 2. A bounded, seeded search from the committed corpus.
set(work ${BINARY_DIR}/corpus/${NAME})
set(artifacts ${BINARY_DIR}/artifacts/${NAME}/)
file(REMOVE_RECURSE ${work})
file(MAKE_DIRECTORY ${work} ${artifacts})
set(dict)
if(EXISTS ${FUZZ_DIR}/${NAME}.dict)
  set(dict -dict=${FUZZ_DIR}/${NAME}.dict)
endif()
# The regression inputs seed the search too (libFuzzer writes only to the first folder).
set(regression_dir)
if(regression_count GREATER 0)
  set(regression_dir ${FUZZ_DIR}/regressions/${NAME})
endif()
set(log ${BINARY_DIR}/${NAME}.log)
execute_process(
  COMMAND ${fuzzer} -seed=${SEED} -max_total_time=${SECONDS} -timeout=20 -rss_limit_mb=2048
          -print_final_stats=1 -artifact_prefix=${artifacts} ${dict} ${work} ${FUZZ_DIR}/corpus/${NAME} ${regression_dir}
  RESULT_VARIABLE rc OUTPUT_FILE ${log} ERROR_FILE ${log})
file(READ ${log} text)
string(REGEX MATCH "Done [0-9]+ runs in [0-9]+ second" done "${text}")
string(REGEX MATCH "stat::number_of_executed_units: [0-9]+" units "${text}")
string(REGEX MATCH "#[0-9]+\tDONE[^\n]*" last "${text}")
file(GLOB corpus_files ${work}/*)
list(LENGTH corpus_files new_inputs)
if(NOT rc EQUAL 0)
  file(GLOB found ${artifacts}*)
  string(LENGTH "${text}" length)
  math(EXPR start "${length} - 6000")
  if(start LESS 0)
    set(start 0)
  endif()
  string(SUBSTRING "${text}" ${start} -1 tail)
  message(FATAL_ERROR "${NAME}: the fuzzer failed (${rc}); input kept in ${found}. Fix it, then copy the "
                      "input to tests/fuzz/regressions/${NAME}/. Log ${log}, its end:\n${tail}")
endif()
message(STATUS "${NAME}: ${done}s, ${units}; last status: ${last}; ${new_inputs} new corpus inputs")
