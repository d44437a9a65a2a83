// deepik's extension modules other than _core (_learn, _geometry) raise _core's InputError, so that
// the package has one exception class for bad input whatever module found it.
#pragma once

#include <pybind11/pybind11.h>

#include <exception>

#include "deepik/errors.hpp"

namespace deepik::python {

/// Translates deepik::InputError thrown by this module's functions into deepik._core.InputError.
inline void TranslateInputErrorsToCore() {
  namespace py = pybind11;
  static PyObject* input_error =
      py::object(py::module_::import("deepik._core").attr("InputError")).release().ptr();
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const InputError& e) {
      PyErr_SetString(input_error, e.what());
    }
  });
}

}  // namespace deepik::python
