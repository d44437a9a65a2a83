// deepik.Arm: an arm, its joints and forward kinematics.
#include <Eigen/Geometry>
#include <cmath>
#include <string>
#include <vector>

#include "arrays.hpp"
#include "deepik/kinematics/arm_spec.hpp"
#include "deepik/kinematics/fk.hpp"
#include "expose.hpp"

namespace deepik::python {
namespace {

// Tip poses [x, y, z, qw, qx, qy, qz] (m, unit quaternion with qw >= 0, base frame), as `deepik fk`.
py::array_t<double> Fk(const Chain& chain, const py::handle& q_object) {
  const int dof = chain.num_joints();
  const std::string shape = "(n, " + std::to_string(dof) + ") or (" + std::to_string(dof) + ",)";
  const Rows q = ReadRows(q_object, "q", {dof}, shape);
  CheckValues(q, "q", INFINITY);
  py::array_t<double> out(std::vector<py::ssize_t>{q.count, 7});
  double* poses = out.mutable_data();
  // About 1 us a row: blocks of up to a million rows keep Ctrl-C prompt at no measurable cost.
  InterruptibleBlocks(q.count, 4096, 1 << 20).Run([&](py::ssize_t begin, py::ssize_t end) {
    Eigen::VectorXd values(dof);
    for (py::ssize_t r = begin; r < end; ++r) {
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
  });
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

}  // namespace

void ExposeArm(py::module_& m) {
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
  ;
}

}  // namespace deepik::python
