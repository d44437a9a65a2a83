// deepik._core: arms, forward kinematics, models, solvers and datasets for Python (NumPy in, NumPy
// out). Links the core library only; training is in deepik._learn.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cmath>
#include <cstring>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "deepik/data/csv.hpp"
#include "deepik/data/dataset.hpp"
#include "deepik/errors.hpp"
#include "deepik/kinematics/arm_spec.hpp"
#include "deepik/kinematics/fk.hpp"
#include "deepik/learn/model.hpp"
#include "deepik/solve/solvers.hpp"
#ifdef DEEPIK_WITH_ONNX
#include "deepik/learn/onnx_export.hpp"
#endif

namespace py = pybind11;

namespace deepik::python {
namespace {

// Status strings are at most this long ("out of reach"): the NumPy dtype of `status`.
constexpr int kStatusChars = 12;

std::string ShapeText(const py::array& a) {
  std::string text = "(";
  for (py::ssize_t i = 0; i < a.ndim(); ++i) text += (i ? ", " : "") + std::to_string(a.shape(i));
  return text + (a.ndim() == 1 ? ",)" : ")");
}

// A caller's array of rows as float64, read in place when it is float64 already (any strides: a
// slice or a transposed view is not copied); other real dtypes are converted, anything else is a
// TypeError. A 1-D array of `columns` values is one row (`single`).
struct Rows {
  py::array_t<double> array;  // keeps the memory alive
  const char* base = nullptr;
  py::ssize_t row_stride = 0, column_stride = 0;  // bytes
  py::ssize_t count = 0;
  bool single = false;
  double operator()(py::ssize_t r, py::ssize_t c) const {
    return *reinterpret_cast<const double*>(base + r * row_stride + c * column_stride);
  }
};

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
  rows.array = kind == 'f' && a.itemsize() == 8 ? py::reinterpret_borrow<py::array_t<double>>(a)
                                                : py::array_t<double>(a.attr("astype")("float64"));
  rows.count = rows.array.shape(0);
  rows.base = reinterpret_cast<const char*>(rows.array.data());
  rows.row_stride = rows.array.strides(0);
  rows.column_stride = rows.array.strides(1);
  return rows;
}

// The first row holding a value that is not finite (or beyond `bound`), as a ValueError.
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

// Tip poses [x, y, z, qw, qx, qy, qz] (m, unit quaternion with qw >= 0, base frame), as `deepik fk`.
py::array_t<double> Fk(const Chain& chain, const py::handle& q_object) {
  const int dof = chain.num_joints();
  const std::string shape = "(n, " + std::to_string(dof) + ") or (" + std::to_string(dof) + ",)";
  const Rows q = ReadRows(q_object, "q", {dof}, shape);
  CheckValues(q, "q", INFINITY);
  py::array_t<double> out(std::vector<py::ssize_t>{q.count, 7});
  double* poses = out.mutable_data();
  {
    py::gil_scoped_release release;
    Eigen::VectorXd values(dof);
    for (py::ssize_t r = 0; r < q.count; ++r) {
      for (int i = 0; i < dof; ++i) values[i] = q(r, i);
      const Eigen::Isometry3d X_BT = TipPose(chain, values);
      Eigen::Quaterniond quat(X_BT.linear());
      if (quat.w() < 0) quat.coeffs() = -quat.coeffs();
      double* row = poses + 7 * r;
      Eigen::Map<Eigen::Vector3d>{row} = X_BT.translation();
      row[3] = quat.w();
      row[4] = quat.x();
      row[5] = quat.y();
      row[6] = quat.z();
    }
  }
  if (q.single) return out.attr("reshape")(7);
  return out;
}

// One field of every joint, chain order, as a NumPy vector (the limits).
py::array_t<double> JointValues(const Chain& chain, double Joint::*field) {
  std::vector<double> values;
  for (const Joint& j : chain.joints()) values.push_back(j.*field);
  return Vector(values);
}

py::list Joints(const Chain& chain) {
  py::list joints;
  for (const Joint& joint : chain.joints()) {
    py::dict d;
    d["name"] = joint.name;
    d["type"] = ToString(joint.type);
    d["lower"] = joint.lower;
    d["upper"] = joint.upper;
    d["axis"] = py::make_tuple(joint.axis_J.x(), joint.axis_J.y(), joint.axis_J.z());
    d["continuous"] = joint.continuous;
    joints.append(d);
  }
  return joints;
}

// The results of a batch solve, as NumPy arrays with one row per target.
struct SolveResults {
  py::object q, reached, reached_quat, error, angle_error, status, iterations;
};

// A solver and what it needs alive (its Python owner is kept alive by keep_alive as well).
struct PySolver {
  std::unique_ptr<Solver> solver;
};

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

SolveResults Solve(const PySolver& self, const py::handle& targets_object, int threads,
                   const py::object& bounds_object) {
  if (threads < 1 || threads > 256) {
    throw py::value_error("threads: expected 1..256, got " + std::to_string(threads));
  }
  const Vector6d bounds = Bounds(bounds_object);
  const Rows rows = ReadRows(targets_object, "targets", {3, 7}, "(n, 3), (n, 7), (3,) or (7,)");
  CheckValues(rows, "targets", kMaxTargetCoordinate);
  const bool poses = rows.array.shape(1) == 7;
  if (poses) {  // the CLI's rule: a quaternion whose norm is off by more than 1e-6 is refused
    for (py::ssize_t r = 0; r < rows.count; ++r) {
      const double norm = Eigen::Vector4d(rows(r, 3), rows(r, 4), rows(r, 5), rows(r, 6)).norm();
      if (std::abs(norm - 1.0) > 1e-6) {
        throw py::value_error(
            "targets: row " + std::to_string(r) +
            ": expected a unit quaternion qw, qx, qy, qz (norm within 1e-6 of 1), got norm " +
            FormatDouble(norm));
      }
    }
  }
  const Solver& solver = *self.solver;
  const int dof = solver.chain().num_joints();
  const py::ssize_t n = rows.count;
  py::array_t<double> q(std::vector<py::ssize_t>{n, dof});
  py::array_t<double> reached(std::vector<py::ssize_t>{n, 3});
  py::array_t<double> reached_quat(std::vector<py::ssize_t>{n, 4});
  py::array_t<double> error(n), angle_error(n);
  py::array status(py::dtype("<U" + std::to_string(kStatusChars)), std::vector<py::ssize_t>{n});
  py::array_t<int32_t> iterations(n);
  double *q_out = q.mutable_data(), *reached_out = reached.mutable_data(), *error_out = error.mutable_data();
  double *quat_out = reached_quat.mutable_data(), *angle_out = angle_error.mutable_data();
  auto* status_out = static_cast<char32_t*>(status.mutable_data());
  int32_t* iterations_out = iterations.mutable_data();
  {
    py::gil_scoped_release release;
    // In blocks, so that the intermediate vectors stay small and are reused rather than mapped
    // and faulted in afresh for every call (the outputs are the only large allocations).
    const py::ssize_t block = 1024 * static_cast<py::ssize_t>(threads);
    std::vector<IkTarget> targets;
    for (py::ssize_t first = 0; first < n; first += block) {
      const py::ssize_t last = std::min(n, first + block);
      targets.resize(static_cast<size_t>(last - first));
      for (py::ssize_t r = first; r < last; ++r) {
        IkTarget& target = targets[static_cast<size_t>(r - first)];
        target.p_BT = Eigen::Vector3d(rows(r, 0), rows(r, 1), rows(r, 2));
        target.bounds = bounds;
        if (poses)
          target.Q_BT = Eigen::Quaterniond(rows(r, 3), rows(r, 4), rows(r, 5), rows(r, 6)).normalized();
      }
      const std::vector<SolveResult> results = solver.SolveBatch(targets, threads);
      for (py::ssize_t r = first; r < last; ++r) {
        const SolveResult& result = results[static_cast<size_t>(r - first)];
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
    }
  }
  SolveResults out;
  if (rows.single) {
    out.q = q.attr("reshape")(dof);
    out.reached = reached.attr("reshape")(3);
    out.reached_quat = reached_quat.attr("reshape")(4);
    out.error = py::float_(error_out[0]);
    out.angle_error = py::float_(angle_out[0]);
    out.status = status.attr("item")(0);
    out.iterations = py::int_(iterations_out[0]);
  } else {
    out.q = q;
    out.reached = reached;
    out.reached_quat = reached_quat;
    out.error = error;
    out.angle_error = angle_error;
    out.status = status;
    out.iterations = iterations;
  }
  return out;
}

// The CLI's solver settings (--timeout in ms there, in s here; --position-tolerance,
// --angle-tolerance), with its ranges and messages.
SolverSettings Settings(double timeout, double position_tolerance, double angle_tolerance) {
  const auto check = [](const char* name, double value, double min, double max) {
    if (!(value >= min && value <= max)) {
      throw py::value_error(std::string(name) + ": expected a number in [" + FormatDouble(min) + ", " +
                            FormatDouble(max) + "], got " + FormatDouble(value));
    }
  };
  check("timeout", timeout, 1e-6, 60.0);
  check("position_tolerance", position_tolerance, 1e-15, 1.0);
  check("angle_tolerance", angle_tolerance, 1e-15, 1.0);
  SolverSettings settings;
  settings.pose.timeout_s = timeout;
  settings.pose.position_tolerance = position_tolerance;
  settings.pose.angle_tolerance = angle_tolerance;
  settings.refine.tolerance = position_tolerance;
  return settings;
}

// Solver(model_or_arm, name=None, ...): a Model makes any solver (default refined), an Arm the
// ones that need no model (default lm).
PySolver MakePySolver(const py::object& source, const std::optional<std::string>& name, double timeout,
                      double position_tolerance, double angle_tolerance) {
  const SolverSettings settings = Settings(timeout, position_tolerance, angle_tolerance);
  if (py::isinstance<IkModel>(source)) {
    const IkModel& model = source.cast<const IkModel&>();
    return PySolver{MakeSolver(name.value_or("refined"), model.chain(), &model, settings)};
  }
  if (py::isinstance<Chain>(source)) {
    return PySolver{MakeSolver(name.value_or("lm"), source.cast<const Chain&>(), nullptr, settings)};
  }
  throw py::type_error("Solver: expected a deepik.Model or a deepik.Arm, got " +
                       std::string(py::str(source.get_type().attr("__name__"))));
}

py::dict MakeDatasetFile(const Chain& chain, const std::string& output, const std::string& sampler,
                         int64_t count, double step, double step_m, double margin, uint64_t seed,
                         double train_fraction, double validation_fraction) {
  SamplerOptions options;
  options.kind = SamplerKindFromString(sampler);
  options.count = count;
  options.grid_step_deg = step;
  options.grid_step_m = step_m;
  options.margin = margin;
  options.seed = seed;
  options.train_fraction = train_fraction;
  options.validation_fraction = validation_fraction;
  py::dict sizes;
  int64_t train = 0, validation = 0, test = 0;
  double beyond = 0;
  {
    py::gil_scoped_release release;
    const Dataset data = MakeDataset(chain, options);
    SaveDataset(output, data);
    train = data.train.size();
    validation = data.validation.size();
    test = data.test.size();
    beyond = data.share_beyond_reach;
  }
  sizes["train"] = train;
  sizes["validation"] = validation;
  sizes["test"] = test;
  sizes["share_beyond_reach"] = beyond;
  return sizes;
}

}  // namespace
}  // namespace deepik::python

PYBIND11_MODULE(_core, m) {
  using namespace deepik;
  using namespace deepik::python;
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

  py::class_<Chain>(m, "Arm", R"doc(
An arm: a serial chain of revolute (rad) and prismatic (m) joints from its base frame B to its tip T.
Immutable; one Arm can serve many threads.

Arm(arm, base="", tip="")
    arm: a built-in name (seed, planar2, panda, ur5, iiwa14), a DH table (*.json) or a URDF (*.urdf)
    base, tip: URDF links (default: the root link; the end of the longest actuated chain)

Joint values q are float64 arrays of shape (n, dof) (or (dof,)), in chain order (joint_names),
rad for revolute and m for prismatic joints. fk(q) -> (n, 7) tip poses [x, y, z, qw, qx, qy, qz]:
position in m, orientation a unit quaternion, w first, both in the base frame B.
lower, upper: joint limits, float64 (dof,), rad or m; reach: m.
Raises deepik.InputError (a ValueError) for an unknown name or a bad file, with the CLI's message.)doc")
      .def(py::init([](const std::string& arm, const std::string& base, const std::string& tip) {
             return LoadArm(ArmSpec{arm, base, tip});
           }),
           py::arg("arm"), py::arg("base") = "", py::arg("tip") = "")
      .def_property_readonly("name", &Chain::name)
      .def_property_readonly("dof", &Chain::num_joints, "number of joints")
      .def_property_readonly("reach", &Chain::reach, "upper bound of the distance base -> tip (m)")
      .def_property_readonly(
          "joint_names",
          [](const Chain& c) {
            std::vector<std::string> names;
            for (const Joint& j : c.joints()) names.push_back(j.name);
            return names;
          },
          "joint names, chain order (the columns of q)")
      .def_property_readonly(
          "lower", [](const Chain& c) { return JointValues(c, &Joint::lower); },
          "lower joint limits, shape (dof,) (rad or m)")
      .def_property_readonly(
          "upper", [](const Chain& c) { return JointValues(c, &Joint::upper); },
          "upper joint limits, shape (dof,) (rad or m)")
      .def_property_readonly("joints", &Joints,
                             "list of dicts: name, type (revolute, prismatic), lower, upper (rad or m), axis "
                             "(unit vector in the joint frame), continuous")
      .def("fk", &Fk, py::arg("q"), R"doc(
Forward kinematics, vectorised: q of shape (n, dof) (rad or m; float64 is read in place, other
real dtypes are converted) -> poses of shape (n, 7): [x, y, z, qw, qx, qy, qz], the tip position (m)
and orientation (unit quaternion, qw >= 0) in the base frame; exactly the rows of `deepik fk`.
A 1-D q of shape (dof,) gives one pose of shape (7,). Values outside the limits are allowed;
NaN or inf raise ValueError. The GIL is released meanwhile.)doc")
      .def("__repr__", [](const Chain& c) {
        return "deepik.Arm('" + c.name() + "', dof=" + std::to_string(c.num_joints()) + ")";
      });

  py::class_<IkModel>(m, "Model", R"doc(
A trained model file (safetensors: weights, arm, normalisation, options, history, metrics).

Model(path)
    path: a .safetensors file written by `deepik train` or deepik.train
Use it through Solver(model, "network" or "refined"): targets (n, 3) tip positions in m in the
arm's base frame (or (n, 7) poses for a pose model) -> q (n, dof) joint values in rad or m.
arm: the deepik.Arm it was trained for; network: its architecture (dict).
Raises deepik.InputError naming the file when it is missing, truncated or not a model.)doc")
      .def(py::init(&IkModel::Load), py::arg("path"))
      .def_property_readonly("arm", &IkModel::chain, py::return_value_policy::reference_internal,
                             "the arm the model was trained for")
      .def_property_readonly(
          "network",
          [](const IkModel& model) {
            return py::module_::import("json").attr("loads")(NetworkOptionsToJson(model.network()));
          },
          "the architecture: depth, width, activation, head, periodic_sincos")
      .def(
          "metadata", [](const IkModel& model, const std::string& key) { return model.Metadata(key); },
          py::arg("key"),
          "a metadata JSON text of the file: 'training' (options), 'history', 'metrics', 'arm' ('' when "
          "absent)")
      .def(
          "export_onnx",
          [](const IkModel& model, const std::string& path) {
#ifdef DEEPIK_WITH_ONNX
            py::gil_scoped_release release;
            ExportOnnx(model, path);
#else
            (void)model;
            (void)path;
            throw InputError("export: this deepik was built without ONNX support (install libonnx-dev and rebuild)");
#endif
          },
          py::arg("path"), R"doc(
Writes the network as one ONNX graph, as `deepik export --format onnx`: input 'targets' float32
(batch, 3) tip positions (m, base frame) for a position model, (batch, 9) for a pose model (the
position, then the first two columns of the tip's rotation matrix R_BT: r11, r21, r31, r12, r22,
r32) -> output 'joints' float32 (batch, dof) (rad or m); multi-head models and Newton steps
included.)doc")
      .def("__repr__", [](const IkModel& model) {
        return "deepik.Model(arm='" + model.chain().name() + "', " + NetworkOptionsToJson(model.network()) +
               ")";
      });

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
           py::arg("timeout") = PoseRefineOptions{}.timeout_s,
           py::arg("position_tolerance") = PoseRefineOptions{}.position_tolerance,
           py::arg("angle_tolerance") = PoseRefineOptions{}.angle_tolerance, py::keep_alive<1, 2>())
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
threads: 1..256 threads share the batch; the GIL is released while solving.
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
  m.def("make_dataset", &MakeDatasetFile, py::arg("arm"), py::arg("output"), py::arg("sampler") = "workspace",
        py::arg("count") = SamplerOptions{}.count, py::arg("step") = SamplerOptions{}.grid_step_deg,
        py::arg("step_m") = SamplerOptions{}.grid_step_m, py::arg("margin") = SamplerOptions{}.margin,
        py::arg("data_seed") = SamplerOptions{}.seed,
        py::arg("train_fraction") = SamplerOptions{}.train_fraction,
        py::arg("validation_fraction") = SamplerOptions{}.validation_fraction, R"doc(
Samples a dataset for `arm` (a deepik.Arm) and saves it to `output` (safetensors), as
`deepik dataset ARM -o OUTPUT`: pairs of joint values q (rad or m) and tip positions (m, base frame).
sampler: grid, joints or workspace; count: samples; step (deg) and step_m (m): the grid's steps;
margin: of the workspace ball (a fraction of the reach); data_seed: the RNG seed; train_fraction
and validation_fraction (the rest is the test split).
Returns a dict: train, validation, test (sample counts), share_beyond_reach (fraction).
Raises deepik.InputError / ValueError with the CLI's messages for bad options.)doc");
}
