// deepik._core: arms, forward kinematics, models, solvers and datasets for Python (NumPy in, NumPy
// out). Links the core library only; training is in deepik._learn. One expose function per type
// (python/expose_*.cpp), as Pinocchio's bindings.
#include <pybind11/pybind11.h>

#include <exception>

#include "deepik/errors.hpp"
#include "expose.hpp"

namespace py = pybind11;

PYBIND11_MODULE(_core, m) {
  using namespace deepik;
  m.doc() =
      "deepik's core: arms, forward kinematics, models and solvers (no libtorch). Units: m and rad; "
      "frames: positions and orientations of the tip T in the arm's base frame B.";

  // Bad input from the caller: the messages of the command line (without its "deepik: error: ").
  static py::exception<InputError> input_error(m, "InputError", PyExc_ValueError);
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const InputError& e) {
      input_error(e.what());
    }
  });

  python::ExposeArm(m);
  python::ExposeModel(m);
  python::ExposeSolver(m);
  python::ExposeDataset(m);
}
