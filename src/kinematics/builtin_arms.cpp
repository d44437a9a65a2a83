#include "deepik/kinematics/builtin_arms.hpp"

#include <cmath>
#include <stdexcept>

namespace deepik {
namespace {

constexpr double kPi = 3.14159265358979323846;

double Deg(double degrees) { return degrees * kPi / 180.0; }

Joint MakeJoint(const std::string& name, const Eigen::Vector3d& xyz, const Eigen::Vector3d& rpy,
                const Eigen::Vector3d& axis, double lower, double upper) {
  Joint joint;
  joint.name = name;
  joint.type = JointType::kRevolute;
  joint.X_PJ = TransformFromXyzRpy(xyz, rpy);
  joint.axis_J = axis;
  joint.lower = lower;
  joint.upper = upper;
  return joint;
}

Eigen::Isometry3d Translation(double x, double y, double z) {
  return TransformFromXyzRpy(Eigen::Vector3d(x, y, z), Eigen::Vector3d::Zero());
}

const Eigen::Vector3d kX = Eigen::Vector3d::UnitX();
const Eigen::Vector3d kY = Eigen::Vector3d::UnitY();
const Eigen::Vector3d kZ = Eigen::Vector3d::UnitZ();
const Eigen::Vector3d kZero = Eigen::Vector3d::Zero();

}  // namespace

bool SeedArmOptions::IsValid(std::string* error) const {
  auto fail = [error](const std::string& message) {
    if (error != nullptr) *error = message;
    return false;
  };
  if (!(link1_length > 0) || !std::isfinite(link1_length)) return fail("link1_length: expected > 0");
  if (!(link2_length > 0) || !std::isfinite(link2_length)) return fail("link2_length: expected > 0");
  const std::pair<const char*, double> limits[] = {{"shoulder_yaw_limit_deg", shoulder_yaw_limit_deg},
                                                   {"shoulder_pitch_limit_deg", shoulder_pitch_limit_deg},
                                                   {"elbow_yaw_limit_deg", elbow_yaw_limit_deg},
                                                   {"elbow_pitch_limit_deg", elbow_pitch_limit_deg}};
  for (const auto& [field, value] : limits) {
    if (!(value >= 0 && value <= 180)) return fail(std::string(field) + ": expected a value in [0, 180]");
  }
  return true;
}

Chain MakeSeedArm(const SeedArmOptions& options) {
  std::string error;
  if (!options.IsValid(&error)) throw std::invalid_argument("seed arm options: " + error);
  const double sy = Deg(options.shoulder_yaw_limit_deg), sp = Deg(options.shoulder_pitch_limit_deg);
  const double ey = Deg(options.elbow_yaw_limit_deg), ep = Deg(options.elbow_pitch_limit_deg);
  std::vector<Joint> joints = {
      MakeJoint("shoulder_yaw", kZero, kZero, kZ, -sy, sy),
      MakeJoint("shoulder_pitch", kZero, kZero, kY, -sp, sp),
      MakeJoint("elbow_yaw", Eigen::Vector3d(0, 0, options.link1_length), kZero, kZ, -ey, ey),
      MakeJoint("elbow_pitch", kZero, kZero, kY, -ep, ep),
  };
  return Chain("seed", std::move(joints), Translation(0, 0, options.link2_length));
}

Chain MakePlanar2(double link1_length, double link2_length) {
  if (!(link1_length > 0) || !(link2_length > 0) || !std::isfinite(link1_length) ||
      !std::isfinite(link2_length)) {
    throw std::invalid_argument("planar2: expected positive finite link lengths");
  }
  std::vector<Joint> joints = {
      MakeJoint("joint1", kZero, kZero, kZ, -kPi, kPi),
      MakeJoint("joint2", Eigen::Vector3d(link1_length, 0, 0), kZero, kZ, -kPi, kPi),
  };
  return Chain("planar2", std::move(joints), Translation(link2_length, 0, 0));
}

// The numbers below are the joint origins, axes and limits of the published URDFs
// (robots/, see its README), folded over their fixed joints.
Chain MakePanda() {
  const double h = 1.57079632679;  // as written in Franka's URDF
  std::vector<Joint> joints = {
      MakeJoint("panda_joint1", {0, 0, 0.333}, kZero, kZ, -2.8973, 2.8973),
      MakeJoint("panda_joint2", kZero, {-h, 0, 0}, kZ, -1.7628, 1.7628),
      MakeJoint("panda_joint3", {0, -0.316, 0}, {h, 0, 0}, kZ, -2.8973, 2.8973),
      MakeJoint("panda_joint4", {0.0825, 0, 0}, {h, 0, 0}, kZ, -3.0718, -0.0698),
      MakeJoint("panda_joint5", {-0.0825, 0.384, 0}, {-h, 0, 0}, kZ, -2.8973, 2.8973),
      MakeJoint("panda_joint6", kZero, {h, 0, 0}, kZ, -0.0175, 3.7525),
      MakeJoint("panda_joint7", {0.088, 0, 0}, {h, 0, 0}, kZ, -2.8973, 2.8973),
  };
  return Chain("panda", std::move(joints), Translation(0, 0, 0.107));
}

Chain MakeUr5() {
  const double h = 1.5707963267948966;
  const double two_pi = 6.283185307179586;
  // base_link -> base_link_inertia is a half turn about z; fold it into the first joint.
  const Eigen::Isometry3d X_base = TransformFromXyzRpy(kZero, {0, 0, kPi});
  Joint shoulder_pan = MakeJoint("shoulder_pan_joint", {0, 0, 0.089159}, kZero, kZ, -two_pi, two_pi);
  shoulder_pan.X_PJ = X_base * shoulder_pan.X_PJ;
  std::vector<Joint> joints = {
      shoulder_pan,
      MakeJoint("shoulder_lift_joint", kZero, {1.570796327, 0, 0}, kZ, -two_pi, two_pi),
      MakeJoint("elbow_joint", {-0.425, 0, 0}, kZero, kZ, -kPi, kPi),
      MakeJoint("wrist_1_joint", {-0.39225, 0, 0.10915}, kZero, kZ, -two_pi, two_pi),
      MakeJoint("wrist_2_joint", {0, -0.09465, -1.941303950897609e-11}, {1.570796327, 0, 0}, kZ, -two_pi,
                two_pi),
      MakeJoint("wrist_3_joint", {0, 0.0823, -1.688001216681175e-11}, {1.570796326589793, kPi, kPi}, kZ,
                -two_pi, two_pi),
  };
  const Eigen::Isometry3d X_LT =
      TransformFromXyzRpy(kZero, {0, -h, -h}) * TransformFromXyzRpy(kZero, {h, 0, h});
  return Chain("ur5", std::move(joints), X_LT);
}

Chain MakeIiwa14() {
  std::vector<Joint> joints = {
      MakeJoint("joint_a1", kZero, kZero, kZ, -2.9668, 2.9668),
      MakeJoint("joint_a2", {-0.00043624, 0, 0.36}, kZero, kY, -2.0942, 2.0942),
      MakeJoint("joint_a3", kZero, kZero, kZ, -2.9668, 2.9668),
      MakeJoint("joint_a4", {0.00043624, 0, 0.42}, kZero, -kY, -2.0942, 2.0942),
      MakeJoint("joint_a5", kZero, kZero, kZ, -2.9668, 2.9668),
      MakeJoint("joint_a6", {0, 0, 0.4}, kZero, kY, -2.0942, 2.0942),
      MakeJoint("joint_a7", kZero, kZero, kZ, -3.0541, 3.0541),
  };
  return Chain("iiwa14", std::move(joints), Translation(0, 0, 0.126));
}

std::vector<std::string> BuiltinArmNames() { return {"seed", "planar2", "panda", "ur5", "iiwa14"}; }

Chain MakeBuiltinArm(const std::string& name) {
  if (name == "seed") return MakeSeedArm();
  if (name == "planar2") return MakePlanar2();
  if (name == "panda") return MakePanda();
  if (name == "ur5") return MakeUr5();
  if (name == "iiwa14") return MakeIiwa14();
  std::string known;
  for (const std::string& n : BuiltinArmNames()) known += (known.empty() ? "" : ", ") + n;
  throw std::invalid_argument("unknown arm '" + name + "': expected one of " + known +
                              ", a DH file (.json) or a URDF file (.urdf)");
}

}  // namespace deepik
