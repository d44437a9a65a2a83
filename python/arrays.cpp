#include "arrays.hpp"

#include <algorithm>
#include <cmath>

#include "deepik/data/csv.hpp"

namespace deepik::python {

std::string ShapeText(const py::array& a) {
  std::string text = "(";
  for (py::ssize_t i = 0; i < a.ndim(); ++i) text += (i ? ", " : "") + std::to_string(a.shape(i));
  return text + (a.ndim() == 1 ? ",)" : ")");
}

Rows ReadRows(const py::handle& object, const std::string& what, const std::vector<py::ssize_t>& columns,
              const std::string& shape_text) {
  py::array a = py::array::ensure(object);
  if (!a) throw py::type_error(what + ": expected a NumPy array (or nested lists) of shape " + shape_text);
  const char kind = a.dtype().kind();
  if (kind != 'f' && kind != 'i' && kind != 'u') {
    throw py::type_error(what + ": expected real numbers (float64, float32 or integers) of shape " +
                         shape_text + ", got dtype " + std::string(py::str(a.dtype())));
  }
  if (kind == 'f' && a.itemsize() > 8) {
    throw py::type_error(what + ": expected float64 or float32, got dtype " +
                         std::string(py::str(a.dtype())));
  }
  Rows rows;
  const bool width_ok =
      a.ndim() >= 1 && std::find(columns.begin(), columns.end(), a.shape(a.ndim() - 1)) != columns.end();
  if (a.ndim() == 1 && width_ok) {
    rows.single = true;
    a = a.attr("reshape")(1, a.shape(0));
  } else if (a.ndim() != 2 || !width_ok) {
    throw py::value_error(what + ": expected shape " + shape_text + ", got " + ShapeText(a));
  }
  // In place only for float64 in this machine's byte order: '>f8' read as native bytes would give
  // silently wrong values, so it is converted like any other dtype.
  const bool native_double = kind == 'f' && a.itemsize() == 8 && a.dtype().attr("isnative").cast<bool>();
  rows.array = native_double ? py::reinterpret_borrow<py::array_t<double>>(a)
                             : py::array_t<double>(a.attr("astype")("float64"));
  rows.count = rows.array.shape(0);
  rows.base = reinterpret_cast<const char*>(rows.array.data());
  rows.row_stride = rows.array.strides(0);
  rows.column_stride = rows.array.strides(1);
  return rows;
}

void CheckValues(const Rows& rows, const std::string& what, double bound) {
  for (py::ssize_t r = 0; r < rows.count; ++r) {
    for (py::ssize_t c = 0; c < rows.array.shape(1); ++c) {
      const double v = rows(r, c);
      if (!std::isfinite(v)) {
        throw py::value_error(what + ": row " + std::to_string(r) + ", column " + std::to_string(c) +
                              ": expected a finite number, got " + FormatDouble(v));
      }
      if (std::abs(v) > bound) {
        throw py::value_error(what + ": row " + std::to_string(r) + ", column " + std::to_string(c) +
                              ": expected a value within +-" + FormatDouble(bound) + ", got " +
                              FormatDouble(v));
      }
    }
  }
}

py::array_t<double> Vector(const std::vector<double>& values) {
  py::array_t<double> out(static_cast<py::ssize_t>(values.size()));
  std::copy(values.begin(), values.end(), out.mutable_data());
  return out;
}

}  // namespace deepik::python
