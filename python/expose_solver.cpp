// deepik.Solver and deepik.SolveResults: IK through the library's SolveRequest, NumPy in and out.
#include <Eigen/Geometry>
#include <algorithm>
#include <cmath>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "arrays.hpp"
#include "deepik/data/csv.hpp"
#include "deepik/learn/model.hpp"
#include "deepik/solve/solve_request.hpp"
#include "deepik/solve/solvers.hpp"
#include "expose.hpp"

namespace deepik::python {
namespace {

// Status strings are at most this long ("out of reach"): the NumPy dtype of `status`.
constexpr int kStatusChars = 12;

// The results of a batch solve, as NumPy arrays with one row per target.
struct SolveResults {
  py::object q, reached, reached_quat, error, angle_error, status, iterations;
};

// A solver and the request settings it was made with (time budget, tolerances).
struct PySolver {
  std::unique_ptr<Solver> solver;
  SolveRequest settings;
};

// SolveRequest::IsValid as a ValueError in Python's words: the field as its keyword
// ("timeout_seconds: ..." -> "timeout: ..."), the range text as the library's.
void ThrowUnlessValid(const SolveRequest& request) {
  std::string error;
  if (request.IsValid(&error)) return;
  const std::string seconds = "timeout_seconds:";
  if (error.rfind(seconds, 0) == 0) error = "timeout" + error.substr(seconds.size() - 1);
  throw py::value_error(error);
}

// Per-axis bounds of the error twist: the CLI's --bounds text ("rz=free", "x=1e-3,y=1e-3"), or 6
// numbers x, y, z (m), rx, ry, rz (rad), >= 0, inf for free.
Vector6d Bounds(const py::object& bounds) {
  if (bounds.is_none()) return Vector6d::Zero();
  if (py::isinstance<py::str>(bounds)) return ParseAxisBounds(bounds.cast<std::string>());
  const py::array_t<double> values = py::array_t<double, py::array::forcecast>::ensure(bounds);
  if (!values || values.ndim() != 1 || values.shape(0) != 6) {
    throw py::value_error(
        "bounds: expected a text such as 'rz=free' or 6 numbers x, y, z (m), rx, ry, rz (rad), got " +
        std::string(py::repr(bounds)));
  }
  Vector6d out;
  for (int i = 0; i < 6; ++i) {
    out[i] = values.at(i);
    if (!(out[i] >= 0)) {
      throw py::value_error("bounds: item " + std::to_string(i) +
                            ": expected a number >= 0 (inf: free), got " + FormatDouble(out[i]));
    }
  }
  return out;
}

// The CLI's rule: a quaternion whose norm is off by more than 1e-6 is refused.
void CheckQuaternions(const Rows& rows) {
  for (py::ssize_t r = 0; r < rows.count; ++r) {
    const double norm = Eigen::Vector4d(rows(r, 3), rows(r, 4), rows(r, 5), rows(r, 6)).norm();
    if (std::abs(norm - 1.0) > 1e-6) {
      throw py::value_error("targets: row " + std::to_string(r) +
                            ": expected a unit quaternion qw, qx, qy, qz (norm within 1e-6 of 1), got norm " +
                            FormatDouble(norm));
    }
  }
}

// The output arrays of a solve, written row by row (with the GIL released).
struct SolveOutputs {
  SolveOutputs(py::ssize_t n, int dof)
      : dof(dof),
        q(std::vector<py::ssize_t>{n, dof}),
        reached(std::vector<py::ssize_t>{n, 3}),
        reached_quat(std::vector<py::ssize_t>{n, 4}),
        error(n),
        angle_error(n),
        status(py::dtype("<U" + std::to_string(kStatusChars)), std::vector<py::ssize_t>{n}),
        iterations(n),
        q_out(q.mutable_data()),
        reached_out(reached.mutable_data()),
        quat_out(reached_quat.mutable_data()),
        error_out(error.mutable_data()),
        angle_out(angle_error.mutable_data()),
        status_out(static_cast<char32_t*>(status.mutable_data())),
        iterations_out(iterations.mutable_data()) {}

  void Set(py::ssize_t r, const SolveResult& result) {
    Eigen::Map<Eigen::VectorXd>(q_out + r * dof, dof) = result.q;
    Eigen::Map<Eigen::Vector3d>(reached_out + 3 * r) = result.p_reached;
    error_out[r] = result.error;
    const Eigen::Quaterniond& Q = result.Q_reached;
    quat_out[4 * r] = Q.w();
    quat_out[4 * r + 1] = Q.x();
    quat_out[4 * r + 2] = Q.y();
    quat_out[4 * r + 3] = Q.z();
    angle_out[r] = result.angle_error;
    char32_t* text = status_out + r * kStatusChars;
    std::fill(text, text + kStatusChars, U'\0');
    const char* name = ToString(result.status);
    for (int i = 0; name[i] != '\0' && i < kStatusChars; ++i) text[i] = static_cast<char32_t>(name[i]);
    iterations_out[r] = result.iterations;
  }

  SolveResults Results(bool single) {
    SolveResults out;
    if (!single) {
      out = {q, reached, reached_quat, error, angle_error, status, iterations};
      return out;
    }
    out.q = q.attr("reshape")(dof);
    out.reached = reached.attr("reshape")(3);
    out.reached_quat = reached_quat.attr("reshape")(4);
    out.error = py::float_(error_out[0]);
    out.angle_error = py::float_(angle_out[0]);
    out.status = status.attr("item")(0);
    out.iterations = py::int_(iterations_out[0]);
    return out;
  }

  int dof;
  py::array_t<double> q, reached, reached_quat, error, angle_error;
  py::array status;
  py::array_t<int32_t> iterations;
  double *q_out, *reached_out, *quat_out, *error_out, *angle_out;
  char32_t* status_out;
  int32_t* iterations_out;
};

SolveResults Solve(const PySolver& self, const py::handle& targets_object, int threads,
                   const py::object& bounds_object) {
  SolveRequest request = self.settings;
  request.threads = threads;
  ThrowUnlessValid(request);
  const Vector6d bounds = Bounds(bounds_object);
  const Rows rows = ReadRows(targets_object, "targets", {3, 7}, "(n, 3), (n, 7), (3,) or (7,)");
  CheckValues(rows, "targets", kMaxTargetCoordinate);
  const bool poses = rows.array.shape(1) == 7;
  if (poses) CheckQuaternions(rows);
  const Solver& solver = *self.solver;
  SolveOutputs outputs(rows.count, solver.chain().num_joints());
  // In blocks, so that the intermediate vectors stay small and are reused rather than mapped and
  // faulted in afresh for every call (the outputs are the only large allocations), and so that
  // Ctrl-C is seen between them.
  const py::ssize_t per_thread = threads;
  InterruptibleBlocks(rows.count, 16 * per_thread, 1024 * per_thread)
      .Run([&](py::ssize_t first, py::ssize_t last) {
        request.targets.resize(static_cast<size_t>(last - first));
        for (py::ssize_t r = first; r < last; ++r) {
          IkTarget& target = request.targets[static_cast<size_t>(r - first)];
          target.p_BT = Eigen::Vector3d(rows(r, 0), rows(r, 1), rows(r, 2));
          target.bounds = bounds;
          target.Q_BT.reset();
          if (poses)
            target.Q_BT = Eigen::Quaterniond(rows(r, 3), rows(r, 4), rows(r, 5), rows(r, 6)).normalized();
        }
        const std::vector<ManySolutions> answers = RunSolveRequest(solver, request);
        for (py::ssize_t r = first; r < last; ++r)
          outputs.Set(r, answers[static_cast<size_t>(r - first)].solutions[0]);
      });
  return outputs.Results(rows.single);
}

// Solver(model_or_arm, name=None, ...): a Model makes any solver (default refined), an Arm the
// ones that need no model (default lm). The settings are SolveRequest's, with its ranges.
PySolver MakePySolver(const py::object& source, const std::optional<std::string>& name, double timeout,
                      double position_tolerance, double angle_tolerance) {
  SolveRequest settings;
  settings.timeout_seconds = timeout;
  settings.position_tolerance = position_tolerance;
  settings.angle_tolerance = angle_tolerance;
  ThrowUnlessValid(settings);
  if (py::isinstance<IkModel>(source)) {
    const IkModel& model = source.cast<const IkModel&>();
    return PySolver{
        MakeSolver(name.value_or(DefaultSolverName(true)), model.chain(), &model, settings.solver_settings()),
        settings};
  }
  if (py::isinstance<Chain>(source)) {
    return PySolver{MakeSolver(name.value_or(DefaultSolverName(false)), source.cast<const Chain&>(), nullptr,
                               settings.solver_settings()),
                    settings};
  }
  throw py::type_error("Solver: expected a deepik.Model or a deepik.Arm, got " +
                       std::string(py::str(source.get_type().attr("__name__"))));
}

}  // namespace

void ExposeSolver(py::module_& m) {
  py::class_<SolveResults>(m, "SolveResults", R"doc(
What Solver.solve returns, one row per target (no batch dimension for a single (3,) target):
  q          (n, dof) float64  joint values (rad or m), chain order; always finite and within the limits
  reached    (n, 3)   float64  FK(q) tip position (m, base frame)
  reached_quat (n, 4) float64  FK(q) tip orientation, unit quaternion [qw, qx, qy, qz] with qw >= 0
  error      (n,)     float64  |reached - target| (m)
  angle_error (n,)    float64  angle of the rotation between reached and target orientation (rad);
                               NaN for position targets
  status     (n,)     str      'converged', 'approximate', 'out of reach' or 'failed' (the CLI's words)
  iterations (n,)     int32    the solver's iterations)doc")
      .def_readonly("q", &SolveResults::q)
      .def_readonly("reached", &SolveResults::reached)
      .def_readonly("reached_quat", &SolveResults::reached_quat)
      .def_readonly("error", &SolveResults::error)
      .def_readonly("angle_error", &SolveResults::angle_error)
      .def_readonly("status", &SolveResults::status)
      .def_readonly("iterations", &SolveResults::iterations)
      .def("__repr__", [](const SolveResults& r) {
        return "deepik.SolveResults(q=" + std::string(py::repr(r.q)) +
               ", status=" + std::string(py::repr(r.status)) + ")";
      });

  py::class_<PySolver>(m, "Solver", R"doc(
An IK solver, as `deepik solve --solver NAME`: tip targets in the arm's base frame B -> joint
values. Const and thread-safe.

Solver(model, name="refined", timeout=0.005, position_tolerance=1e-9, angle_tolerance=1e-9)
    model: a deepik.Model; name: any of solver_names(): network (the network alone), refined
    (network + exact refinement), lm, analytic (seed arm), kdl-nr, kdl-nr-restarts, kdl-lma,
    kdl-lma-restarts
Solver(arm, name="lm", ...)
    arm: a deepik.Arm, for the solvers that need no model: lm (deepik's Levenberg-Marquardt from
    mid-range with restarts), analytic, kdl-*
timeout: time budget per target in s (the CLI's --timeout, which is in ms) of pose refinement, lm
    and the KDL restarts, in [1e-6, 60]
position_tolerance: position error (m) that counts as reached (lm, refined), in [1e-15, 1]
angle_tolerance: angle error (rad) that counts as reached (lm, refined; pose targets), in [1e-15, 1]

solve(targets, threads=1, bounds=None) -> SolveResults
    targets: float64 array of shape (n, 3) tip positions [x, y, z] (m, base frame), or (n, 7) tip
    poses [x, y, z, qw, qx, qy, qz] (unit quaternion, w first, base frame), or one (3,) or (7,).
    Results: q (n, dof) float64 joint values (rad or m), reached (n, 3), reached_quat (n, 4),
    error (n,) m, angle_error (n,) rad, status (n,) str, iterations (n,) int32.

Raises deepik.InputError (a ValueError) for an unknown name or a solver that needs a model, with
the CLI's message; ValueError for settings out of range; TypeError for anything but a Model or an
Arm.)doc")
      .def(py::init(&MakePySolver), py::arg("model_or_arm"), py::arg("name") = py::none(),
           py::arg("timeout") = SolveRequest{}.timeout_seconds,
           py::arg("position_tolerance") = SolveRequest{}.position_tolerance,
           py::arg("angle_tolerance") = SolveRequest{}.angle_tolerance, py::keep_alive<1, 2>())
      .def_property_readonly("name", [](const PySolver& s) { return s.solver->name(); })
      .def_property_readonly(
          "arm", [](const PySolver& s) -> const Chain& { return s.solver->chain(); },
          py::return_value_policy::reference_internal, "the deepik.Arm solved for")
      .def("solve", &Solve, py::arg("targets"), py::arg("threads") = 1, py::arg("bounds") = py::none(), R"doc(
Solves IK for tip targets in the arm's base frame B.

targets: shape (n, 3): tip positions [x, y, z] in m; or shape (n, 7): full tip poses
    [x, y, z, qw, qx, qy, qz], the orientation a unit quaternion, w first, either sign (a norm off
    by more than 1e-6 raises ValueError); or one target of shape (3,) or (7,) (then the results
    have no batch dimension). dtype float64 is read in place, without a copy (any strides);
    float32 and integer arrays and nested lists are converted.
threads: 1..256 threads share the batch; the GIL is released while solving, and Ctrl-C
    (KeyboardInterrupt) is honoured within about 50 ms plus one target's time budget.
bounds: per-axis slack of the error, in the target tool frame, as the CLI's --bounds: a text
    such as "rz=free" (any turn about the tool's z axis) or "x=1e-3,y=1e-3,z=1e-3" (a +-1 mm
    box), or 6 numbers [x, y, z (m), rx, ry, rz (rad)], each >= 0, inf for free. None: exact.

Returns SolveResults, one row per target (see help(deepik.SolveResults)):
    q (n, dof) float64 joint values (rad for revolute, m for prismatic joints; chain order),
    reached (n, 3) float64 m, reached_quat (n, 4) float64 [qw, qx, qy, qz], error (n,) float64 m,
    angle_error (n,) float64 rad (NaN for position targets), status (n,) str, iterations (n,) int32.

Raises ValueError for a wrong shape ("targets: expected shape (n, 3), (n, 7), (3,) or (7,), got
(4, 2)"), NaN or inf, coordinates beyond +-1e4 m, or bad bounds; TypeError for a non-numeric dtype;
deepik.InputError for a target the model cannot take (a pose model given positions only).)doc")
      .def("__repr__", [](const PySolver& s) { return "deepik.Solver('" + s.solver->name() + "')"; });

  m.def("solver_names", &SolverNames, "the names Solver(model, name) knows");
}

}  // namespace deepik::python
