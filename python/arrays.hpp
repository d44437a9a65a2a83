// NumPy arrays in and out of deepik._core: rows of float64 read in place when they can be, and
// the checks every function applies to them.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

namespace deepik::python {

namespace py = pybind11;

/// "(4, 2)": an array's shape as NumPy prints it.
std::string ShapeText(const py::array& a);

/// A caller's array of rows as native float64: read in place when it is native float64 already
/// (any strides: a slice or a transposed view is not copied); other real dtypes, and float64 of
/// the other byte order ('>f8' on this machine), are converted; anything else is a TypeError.
/// A 1-D array of `columns` values is one row (`single`).
struct Rows {
  py::array_t<double> array;  ///< keeps the memory alive
  const char* base = nullptr;
  py::ssize_t row_stride = 0, column_stride = 0;  ///< bytes
  py::ssize_t count = 0;
  bool single = false;
  double operator()(py::ssize_t r, py::ssize_t c) const {
    return *reinterpret_cast<const double*>(base + r * row_stride + c * column_stride);
  }
};

/// Reads `object` as Rows of one of the widths `columns`; `what` and `shape_text` name it in errors.
/// @throws py::type_error for a non-numeric dtype; py::value_error for a wrong shape.
Rows ReadRows(const py::handle& object, const std::string& what, const std::vector<py::ssize_t>& columns,
              const std::string& shape_text);

/// The first value that is not finite (or beyond `bound`), as a ValueError naming row and column.
void CheckValues(const Rows& rows, const std::string& what, double bound);

/// A NumPy vector of `values`.
py::array_t<double> Vector(const std::vector<double>& values);

/// Work in blocks with the GIL released, and Ctrl-C between them: a block grows (doubling from
/// `first` items, up to `most`) while it takes less than 50 ms, so that a signal is seen within
/// about that time plus one item, whatever the work per item.
class InterruptibleBlocks {
 public:
  InterruptibleBlocks(py::ssize_t count, py::ssize_t first, py::ssize_t most)
      : count_(count), size_(first), most_(most) {}
  /// Runs work(begin, end) over [0, count) block by block, the GIL released during each block;
  /// between blocks, Python's signal handlers run (KeyboardInterrupt is raised from here).
  template <typename Work>
  void Run(const Work& work) {
    for (py::ssize_t begin = 0; begin < count_;) {
      const py::ssize_t end = std::min(count_, begin + size_);
      const auto start = std::chrono::steady_clock::now();
      {
        py::gil_scoped_release release;
        work(begin, end);
      }
      if (PyErr_CheckSignals() != 0) throw py::error_already_set();
      if (std::chrono::steady_clock::now() - start < std::chrono::milliseconds(50))
        size_ = std::min(most_, 2 * size_);
      begin = end;
    }
  }

 private:
  py::ssize_t count_, size_, most_;
};

}  // namespace deepik::python
