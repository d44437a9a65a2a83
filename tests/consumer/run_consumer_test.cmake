# Installs the deepik build into a fresh prefix, then configures, builds and runs a consumer
# project (CONSUMER_SOURCE_DIR) with CONSUMER_ARGS; with CHECK_LIBRARIES (the path of
# check_libraries.cmake) its executable must not load libtorch.
file(REMOVE_RECURSE "${WORK_DIR}")
function(run)
  execute_process(COMMAND ${ARGV} RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "failed: ${ARGV}\n${out}\n${err}")
  endif()
  message(STATUS "${out}")
endfunction()
run(${CMAKE_COMMAND} --install "${DEEPIK_BUILD_DIR}" --prefix "${WORK_DIR}/prefix")
run(${CMAKE_COMMAND} -S "${CONSUMER_SOURCE_DIR}" -B "${WORK_DIR}/build" -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix
    -DCMAKE_BUILD_TYPE=Release)
run(${CMAKE_COMMAND} --build "${WORK_DIR}/build")
run("${WORK_DIR}/build/consumer" ${CONSUMER_ARGS})
if(CHECK_LIBRARIES)
  run(${CMAKE_COMMAND} -DFILES=${WORK_DIR}/build/consumer -DFORBID=torch -P "${CHECK_LIBRARIES}")
endif()
message(STATUS "consumer built against the installed deepik and ran")
