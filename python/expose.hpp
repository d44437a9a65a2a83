// The parts of deepik._core, one expose function per type (Pinocchio's expose-*.cpp style); the
// module (core_module.cpp) calls them in order.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

namespace deepik::python {

namespace py = pybind11;

void ExposeArm(py::module_& m);      ///< deepik.Arm (expose_arm.cpp)
void ExposeModel(py::module_& m);    ///< deepik.Model (expose_model.cpp)
void ExposeSolver(py::module_& m);   ///< deepik.Solver, deepik.SolveResults, solver_names (expose_solver.cpp)
void ExposeDataset(py::module_& m);  ///< deepik.make_dataset (expose_dataset.cpp)

}  // namespace deepik::python
