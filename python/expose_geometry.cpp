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
#include "deepik/learn/model.hpp"
#include "deepik/solve/collision_solver.hpp"
#include "deepik/solve/solve_request.hpp"
#include "deepik/solve/solvers.hpp"
#include "input_error.hpp"

namespace py = pybind11;

namespace deepik::cli {
// apps/geometry/run.cpp (compiled into this module): the command's collision world.
CollisionWorld MakeCollisionWorld(const CollisionSetupOptions& options, std::ostream& log);
}  // namespace deepik::cli

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

// The mode deepik.solve asks for: `collisions` ("" = the default), with `scene` given or not.
CollisionMode SolveMode(const std::string& collisions, bool scene, const ArmSpec& arm,
                        const std::string& spheres) {
  if (scene && !collisions.empty() && collisions != "all")
    throw InputError("scene: expected collisions='all' (or none) with a scene, got '" + collisions + "'");
  if (!collisions.empty()) return ParseCollisionMode(collisions);
  if (scene) return CollisionMode::kAll;
  // As `deepik solve`: self when the arm has collision geometry and a sphere model.
  const bool geometry = !ArmUrdfPath(arm).empty();
  const bool sphere_model = !spheres.empty() || !BuiltinCollisionFile(arm.arm, "spheres").empty();
  return geometry && sphere_model ? CollisionMode::kSelf : CollisionMode::kOff;
}

py::dict Solve(const std::string& arm, const py::handle& targets_object, const std::string& solver_name,
               const std::string& model_path, const std::string& collisions, double clearance,
               const std::string& scene_text, const std::string& scene_path, const std::string& base,
               const std::string& tip, const std::vector<std::string>& package_path,
               const std::string& matrix, const std::string& spheres, double timeout) {
  std::shared_ptr<const IkModel> model;
  if (!model_path.empty()) model = std::make_shared<const IkModel>(IkModel::Load(model_path));
  const ArmSpec spec{arm.empty() && model ? model->chain().name() : arm, base, tip};
  const Chain chain = model ? model->chain() : LoadArm(spec);
  SolveRequest request;
  request.timeout_seconds = timeout;
  request.clearance = clearance;
  std::string invalid;
  if (!request.IsValid(&invalid)) throw py::value_error(invalid);
  const bool has_scene = !scene_text.empty() || !scene_path.empty();
  const CollisionMode mode = SolveMode(collisions, has_scene, spec, spheres);
  const SolverSettings settings = request.solver_settings();
  const std::string name = solver_name.empty() ? DefaultSolverName(model != nullptr) : solver_name;
  std::unique_ptr<Solver> solver = MakeSolver(name, chain, model, settings);
  if (mode != CollisionMode::kOff) {
    if (name != "lm" && name != "refined")
      throw InputError("collisions: expected solver lm or refined (they avoid collisions), got " + name);
    if (ArmUrdfPath(spec).empty()) {
      throw InputError(
          std::string("collisions='") + ToString(mode) +
          "': the arm has no collision geometry (a URDF arm has it: panda, ur5, iiwa14 or a .urdf "
          "file); use collisions='off'");
    }
    cli::CollisionSetupOptions setup;
    setup.geometry.arm = spec;
    setup.geometry.search.package_paths = package_path;
    setup.geometry.matrix_path = matrix;
    setup.geometry.spheres_path = spheres;
    setup.mode = mode;
    setup.scene_path = scene_path;
    if (!scene_text.empty()) setup.scene = ParseScene(scene_text, "scene");
    std::ostringstream log;
    CollisionSolveOptions clear;
    clear.clearance = clearance;
    solver = std::make_unique<ClearSolver>(std::move(solver), cli::MakeCollisionWorld(setup, log),
                                           settings.pose, clear);
  }
  const Rows rows = ReadRows(targets_object, "targets", {3, 7}, "(n, 3), (n, 7), (3,) or (7,)");
  CheckValues(rows, "targets", 1e4);
  const bool poses = rows.array.shape(1) == 7;
  const int dof = chain.num_joints();
  std::vector<SolveResult> results(static_cast<size_t>(rows.count));
  InterruptibleBlocks(rows.count, 1, 256).Run([&](py::ssize_t begin, py::ssize_t end) {
    for (py::ssize_t r = begin; r < end; ++r) {
      IkTarget target;
      target.p_BT = Eigen::Vector3d(rows(r, 0), rows(r, 1), rows(r, 2));
      if (poses)
        target.Q_BT = Eigen::Quaterniond(rows(r, 3), rows(r, 4), rows(r, 5), rows(r, 6)).normalized();
      results[static_cast<size_t>(r)] = solver->Solve(target);
    }
  });
  py::array_t<double> q(std::vector<py::ssize_t>{rows.count, dof}),
      reached(std::vector<py::ssize_t>{rows.count, 3});
  py::array_t<double> error(rows.count), angle_error(rows.count), min_distance(rows.count);
  py::list status;
  for (py::ssize_t r = 0; r < rows.count; ++r) {
    const SolveResult& result = results[static_cast<size_t>(r)];
    for (int j = 0; j < dof; ++j) q.mutable_at(r, j) = result.q[j];
    for (int k = 0; k < 3; ++k) reached.mutable_at(r, k) = result.p_reached[k];
    error.mutable_at(r) = result.error;
    angle_error.mutable_at(r) = result.angle_error;
    min_distance.mutable_at(r) = result.collision_distance;
    status.append(ToString(result.status));
  }
  using namespace py::literals;
  py::dict out("q"_a = q, "reached"_a = reached, "error"_a = error, "angle_error"_a = angle_error,
               "status"_a = status, "min_distance"_a = min_distance, "collisions"_a = ToString(mode),
               "single"_a = rows.single);
  return out;
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
  m.def("solve", &python::Solve, py::arg("arm"), py::arg("targets"), py::arg("solver"), py::arg("model"),
        py::arg("collisions"), py::arg("clearance"), py::arg("scene_text"), py::arg("scene_path"),
        py::arg("base"), py::arg("tip"), py::arg("package_path"), py::arg("matrix"), py::arg("spheres"),
        py::arg("timeout"));
}
