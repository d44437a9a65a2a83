# The layer rule of docs/ARCHITECTURE.md, checked over every #include line:
#   errors.hpp <- kinematics <- data <- learn <- solve <- serve      (apps/ and tests/ may use any)
# A file of one layer may include only its own layer or a lower one (include/deepik/<layer>/ and
# src/<layer>/ alike). And the core library never sees libtorch: no file outside the learning
# library's sources includes a torch, ATen or c10 header or a header of the learning library.
# Usage: cmake -DSOURCE_DIR=<repo> -P check_layers.cmake
set(layers kinematics data learn solve serve)
# The learning library (CMakeLists.txt, DEEPIK_LEARN_SOURCES) and the headers that expose libtorch.
set(learn_files
  src/kinematics/torch_fk.cpp src/learn/network.cpp src/learn/losses.cpp src/learn/trainer.cpp
  src/learn/blas_check.cpp src/learn/distributed.cpp include/deepik/learn/distributed.hpp
  src/learn/train_epoch.cpp src/learn/train_checkpoint.cpp src/learn/train_ranks.cpp
  src/learn/train_ranks.hpp src/learn/training_run.hpp
  include/deepik/kinematics/torch_fk.hpp include/deepik/learn/network.hpp
  include/deepik/learn/losses.hpp include/deepik/learn/trainer.hpp include/deepik/learn/blas_check.hpp)
set(learn_headers deepik/kinematics/torch_fk.hpp deepik/learn/network.hpp deepik/learn/losses.hpp
  deepik/learn/blas_check.hpp deepik/learn/trainer.hpp deepik/learn/distributed.hpp
  learn/train_ranks.hpp learn/training_run.hpp)

function(layer_rank name out)
  list(FIND layers "${name}" rank)
  set(${out} ${rank} PARENT_SCOPE)
endfunction()

set(violations "")
set(checked 0)
file(GLOB_RECURSE files RELATIVE "${SOURCE_DIR}" "${SOURCE_DIR}/include/deepik/*.hpp"
     "${SOURCE_DIR}/src/*.hpp" "${SOURCE_DIR}/src/*.cpp")
foreach(file IN LISTS files)
  if(file MATCHES "^(include/deepik|src)/([a-z_]+)/")
    set(layer "${CMAKE_MATCH_2}")
  else()
    set(layer "")  # include/deepik/errors.hpp: below every layer
  endif()
  layer_rank("${layer}" own)
  list(FIND learn_files "${file}" in_learn)
  file(STRINGS "${SOURCE_DIR}/${file}" includes REGEX "^[ \t]*#[ \t]*include")
  math(EXPR checked "${checked} + 1")
  foreach(line IN LISTS includes)
    if(NOT line MATCHES "#[ \t]*include[ \t]*[<\"]([^>\"]+)[>\"]")
      continue()
    endif()
    set(target "${CMAKE_MATCH_1}")
    # deepik/<layer>/x.hpp (public) or <layer>/x.hpp (internal headers under src/).
    if(target MATCHES "^(deepik/)?(kinematics|data|learn|solve|serve)/")
      layer_rank("${CMAKE_MATCH_2}" theirs)
      if(own EQUAL -1 OR theirs GREATER own)
        list(APPEND violations "${file}: layer '${layer}' includes ${target} (layer '${CMAKE_MATCH_2}')")
      endif()
    elseif(target MATCHES "^deepik/" AND NOT target STREQUAL "deepik/errors.hpp")
      list(APPEND violations "${file}: ${target} is in no layer")
    endif()
    if(in_learn EQUAL -1)
      list(FIND learn_headers "${target}" learn_header)
      if(target MATCHES "^(torch|ATen|c10)/" OR NOT learn_header EQUAL -1)
        list(APPEND violations "${file}: the core library includes ${target} (libtorch)")
      endif()
    endif()
  endforeach()
endforeach()
if(checked LESS 40)
  message(FATAL_ERROR "only ${checked} files found under ${SOURCE_DIR}: wrong SOURCE_DIR?")
endif()
if(violations)
  list(JOIN violations "\n  " text)
  message(FATAL_ERROR "layer rule broken:\n  ${text}")
endif()
message(STATUS "layer rule holds for ${checked} files")
