// deepik._geometry: `deepik collide` from Python (links deepik::geometry, assimp and FCL;
// deepik/__init__.py imports it only when deepik.collide is called). It builds the command's own
// checker (apps/geometry/run.cpp, MakeCollideChecker), so the arm, matrix, spheres, messages and
// answers are the command's.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cmath>
#include <sstream>
#include <string>
#include <vector>

#include "../apps/geometry/geometry_commands.hpp"
#include "arrays.hpp"
#include "deepik/errors.hpp"
#include "input_error.hpp"

namespace py = pybind11;

namespace deepik::python {
namespace {

py::dict Collide(const std::string& arm, const py::handle& q_object, const std::string& model,
                 const std::string& base, const std::string& tip,
                 const std::vector<std::string>& package_path, const std::string& matrix,
                 const std::string& spheres) {
  cli::GeometryInputOptions options;
  options.arm = ArmSpec{arm, base, tip};
  options.search.package_paths = package_path;
  options.matrix_path = matrix;
  options.spheres_path = spheres;
  std::ostringstream log;  // the command's notes (which matrix, which spheres): not printed here
  const cli::CollideChecker made = cli::MakeCollideChecker(options, model, log);
  const int dof = made.num_joints;
  const std::string shape = "(n, " + std::to_string(dof) + ") or (" + std::to_string(dof) + ",)";
  const Rows q = ReadRows(q_object, "q", {dof}, shape);
  CheckValues(q, "q", INFINITY);
  std::vector<CollisionReport> reports(static_cast<size_t>(q.count));
  InterruptibleBlocks(q.count, 64, 1 << 16).Run([&](py::ssize_t begin, py::ssize_t end) {
    Eigen::VectorXd values(dof);
    for (py::ssize_t r = begin; r < end; ++r) {
      for (int i = 0; i < dof; ++i) values[i] = q(r, i);
      reports[static_cast<size_t>(r)] = made.checker->Check(values);
    }
  });
  py::array_t<bool> in_collision(q.count);
  py::array_t<double> min_distance(q.count);
  py::list link_a, link_b;
  const auto name = [&](int index) {
    return index < 0 ? std::string() : made.checker->link_names()[static_cast<size_t>(index)];
  };
  for (py::ssize_t r = 0; r < q.count; ++r) {
    const CollisionReport& report = reports[static_cast<size_t>(r)];
    in_collision.mutable_at(r) = report.in_collision;
    min_distance.mutable_at(r) = report.min_distance;
    link_a.append(name(report.link_a));
    link_b.append(name(report.link_b));
  }
  py::dict result;
  result["in_collision"] = in_collision;
  result["min_distance"] = min_distance;
  result["link_a"] = link_a;
  result["link_b"] = link_b;
  return result;
}

}  // namespace
}  // namespace deepik::python

PYBIND11_MODULE(_geometry, m) {
  using namespace deepik;
  m.doc() = "deepik's collision checks (assimp, FCL); use deepik.collide";
  python::TranslateInputErrorsToCore();  // one exception class for the package
  m.def("collide", &python::Collide, py::arg("arm"), py::arg("q"), py::arg("model") = "exact",
        py::arg("base") = "", py::arg("tip") = "", py::arg("package_path") = std::vector<std::string>{},
        py::arg("matrix") = "", py::arg("spheres") = "");
}
