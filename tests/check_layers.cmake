# The layer rule of docs/ARCHITECTURE.md, checked over every #include line:
#   errors.hpp <- kinematics <- data <- geometry <- learn <- solve <- serve (apps/, tests/: any)
# A file of one layer may include only its own layer or a lower one (include/deepik/<layer>/ and
# src/<layer>/ alike). And the core library never sees libtorch: no file outside the learning
# library's sources includes a torch, ATen or c10 header or a header of the learning library; nor
# an assimp, FCL or qhull header or a header of the geometry library (deepik::geometry).
# And the core never sees the HTTP server: only the server library's files (src/serve/, deepik::serve)
# include httplib or OpenSSL headers, and CMakeLists.txt builds every src/serve/ file into
# deepik_serve (DEEPIK_SERVE_SOURCES) and none into deepik_core (DEEPIK_CORE_SOURCES).
# Usage: cmake -DSOURCE_DIR=<repo> -P check_layers.cmake
set(layers kinematics data geometry learn solve serve)
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

# The geometry library (CMakeLists.txt, deepik_geometry): the only files that see assimp, FCL and qhull.
set(geometry_files src/geometry/mesh.cpp src/geometry/exact_checker.cpp src/geometry/sphere_fit.cpp
  src/geometry/convex_hull.cpp src/geometry/hull_tree.cpp src/geometry/fcl_bvh.hpp src/geometry/convex_hull.hpp
  include/deepik/geometry/mesh.hpp include/deepik/geometry/exact_checker.hpp include/deepik/geometry/sphere_fit.hpp)
set(geometry_headers geometry/fcl_bvh.hpp geometry/convex_hull.hpp deepik/geometry/mesh.hpp deepik/geometry/exact_checker.hpp deepik/geometry/sphere_fit.hpp)

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
  list(FIND geometry_files "${file}" in_geometry)
  file(STRINGS "${SOURCE_DIR}/${file}" includes REGEX "^[ \t]*#[ \t]*include")
  math(EXPR checked "${checked} + 1")
  foreach(line IN LISTS includes)
    if(NOT line MATCHES "#[ \t]*include[ \t]*[<\"]([^>\"]+)[>\"]")
      continue()
    endif()
    set(target "${CMAKE_MATCH_1}")
    # deepik/<layer>/x.hpp (public) or <layer>/x.hpp (internal headers under src/).
    if(target MATCHES "^(deepik/)?(kinematics|data|geometry|learn|solve|serve)/")
      layer_rank("${CMAKE_MATCH_2}" theirs)
      if(own EQUAL -1 OR theirs GREATER own)
        list(APPEND violations "${file}: layer '${layer}' includes ${target} (layer '${CMAKE_MATCH_2}')")
      endif()
    elseif(target MATCHES "^deepik/" AND NOT target STREQUAL "deepik/errors.hpp")
      list(APPEND violations "${file}: ${target} is in no layer")
    endif()
    if(target MATCHES "^(httplib\\.h|openssl/)" AND NOT file MATCHES "^src/serve/")
      list(APPEND violations "${file}: only the server library (src/serve/) may include ${target}")
    endif()
    if(in_geometry EQUAL -1 AND in_learn EQUAL -1)
      list(FIND geometry_headers "${target}" geometry_header)
      if(target MATCHES "^(assimp|fcl|libqhull_r)/" OR NOT geometry_header EQUAL -1)
        list(APPEND violations "${file}: the core library includes ${target} (assimp/FCL/qhull)")
      endif()
    endif()
    if(in_learn EQUAL -1)
      list(FIND learn_headers "${target}" learn_header)
      if(target MATCHES "^(torch|ATen|c10)/" OR NOT learn_header EQUAL -1)
        list(APPEND violations "${file}: the core library includes ${target} (libtorch)")
      endif()
    endif()
  endforeach()
endforeach()
# The libraries' source lists.
file(READ "${SOURCE_DIR}/CMakeLists.txt" main_cmake)
foreach(list_name DEEPIK_CORE_SOURCES DEEPIK_SERVE_SOURCES)
  if(NOT main_cmake MATCHES "set\\(${list_name}([^)]*)\\)")
    list(APPEND violations "CMakeLists.txt: no set(${list_name} ...)")
    continue()
  endif()
  string(REGEX MATCHALL "src/[a-z_/]+\\.cpp" sources "${CMAKE_MATCH_1}")
  foreach(source IN LISTS sources)
    if(list_name STREQUAL "DEEPIK_CORE_SOURCES" AND source MATCHES "^src/serve/")
      list(APPEND violations "CMakeLists.txt: the core library builds ${source} (the server's)")
    elseif(list_name STREQUAL "DEEPIK_SERVE_SOURCES" AND NOT source MATCHES "^src/serve/")
      list(APPEND violations "CMakeLists.txt: the server library builds ${source} (not src/serve/)")
    endif()
  endforeach()
  set(${list_name}_files ${sources})
endforeach()
file(GLOB serve_files RELATIVE "${SOURCE_DIR}" "${SOURCE_DIR}/src/serve/*.cpp")
foreach(source IN LISTS serve_files)
  list(FIND DEEPIK_SERVE_SOURCES_files "${source}" listed)
  if(listed EQUAL -1)
    list(APPEND violations "CMakeLists.txt: ${source} is in no DEEPIK_SERVE_SOURCES")
  endif()
endforeach()

if(checked LESS 40)
  message(FATAL_ERROR "only ${checked} files found under ${SOURCE_DIR}: wrong SOURCE_DIR?")
endif()
if(violations)
  list(JOIN violations "\n  " text)
  message(FATAL_ERROR "layer rule broken:\n  ${text}")
endif()
message(STATUS "layer rule holds for ${checked} files")
