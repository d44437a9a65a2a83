# Installs the build into PREFIX and imports the installed package deepik with PYTHON from
# PREFIX/PACKAGE_DIR (the Python path of Debian's python3 for the prefix /usr/local), then solves.
file(REMOVE_RECURSE ${PREFIX})
execute_process(COMMAND ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${PREFIX}
                RESULT_VARIABLE result OUTPUT_QUIET)
if(result)
  message(FATAL_ERROR "cmake --install failed: ${result}")
endif()
set(script "import deepik, numpy as np\nassert deepik.__file__.startswith('${PREFIX}'), deepik.__file__\nsolver = deepik.Solver(deepik.Model('${MODEL}'), 'refined')\nr = solver.solve(solver.arm.fk(np.full((5, solver.arm.dof), 0.3))[:, :3])\nassert (r.status == 'converged').all(), r.status\nimport os\nfor stub in ('_core.pyi', 'py.typed'):\n    assert os.path.exists(os.path.join(os.path.dirname(deepik.__file__), stub)), stub\nprint('installed deepik at', deepik.__file__)")
execute_process(COMMAND ${CMAKE_COMMAND} -E env PYTHONPATH=${PREFIX}/${PACKAGE_DIR} ${PYTHON} -c "${script}"
                RESULT_VARIABLE result)
if(result)
  message(FATAL_ERROR "the installed package did not import or solve: ${result}")
endif()
