// The one forward-kinematics loop of the library (Eigen side): TipPose, JointFrames,
// TipJacobian and the refinement all walk the chain through it. Internal to the library.
#pragma once

#include <Eigen/Core>
#include <cmath>

#include "deepik/kinematics/chain.hpp"

namespace deepik::internal {

// R <- R * Rot(axis, angle) for a unit axis in R's frame; the coordinate axes (the common case)
// touch only two columns.
inline void RotateLocal(Eigen::Matrix3d* R, const Eigen::Vector3d& axis, double s, double c) {
  Eigen::Matrix3d& M = *R;
  auto turn = [&M, s, c](int i, int k) {  // columns i, k: a rotation about the third axis
    const Eigen::Vector3d ci = M.col(i), ck = M.col(k);
    M.col(i) = c * ci + s * ck;
    M.col(k) = c * ck - s * ci;
  };
  if (axis.x() == 0 && axis.y() == 0) {
    axis.z() > 0 ? turn(0, 1) : turn(1, 0);
  } else if (axis.x() == 0 && axis.z() == 0) {
    axis.y() > 0 ? turn(2, 0) : turn(0, 2);
  } else if (axis.y() == 0 && axis.z() == 0) {
    axis.x() > 0 ? turn(1, 2) : turn(2, 1);
  } else {
    const double t = 1.0 - c;
    const Eigen::Vector3d& a = axis;
    Eigen::Matrix3d rotation;
    rotation << t * a.x() * a.x() + c, t * a.x() * a.y() - s * a.z(), t * a.x() * a.z() + s * a.y(),
        t * a.x() * a.y() + s * a.z(), t * a.y() * a.y() + c, t * a.y() * a.z() - s * a.x(),
        t * a.x() * a.z() - s * a.y(), t * a.y() * a.z() + s * a.x(), t * a.z() * a.z() + c;
    M = M * rotation;
  }
}

/// Walks base -> last joint for joint values q, keeping rotation and translation apart (a joint
/// about a coordinate axis then turns only two columns). For every joint j it calls
/// before(j, R_BJ, p_BJ) with the joint frame J in the base frame B before the joint moves, and
/// after(j, R_BC, p_BC) with its moving frame C. Leaves the last moving frame in R_BC, p_BC (the
/// tip is that frame times chain.X_LT()). Allocates and copies nothing.
template <typename Vector, typename Before, typename After>
void WalkChain(const Chain& chain, const Vector& q, Eigen::Matrix3d* R_BC, Eigen::Vector3d* p_BC,
               Before&& before, After&& after) {
  Eigen::Matrix3d& R = *R_BC;
  Eigen::Vector3d& p = *p_BC;
  R.setIdentity();
  p.setZero();
  for (int j = 0; j < chain.num_joints(); ++j) {
    const Joint& joint = chain.joint(j);
    p.noalias() += R * joint.X_PJ.translation();
    if (!joint.X_PJ.linear().isIdentity(0.0)) R = R * joint.X_PJ.linear();
    before(j, static_cast<const Eigen::Matrix3d&>(R), static_cast<const Eigen::Vector3d&>(p));
    if (joint.type == JointType::kRevolute) {
      RotateLocal(&R, joint.axis_J, std::sin(q[j]), std::cos(q[j]));
    } else {
      p.noalias() += R * (q[j] * joint.axis_J);
    }
    after(j, static_cast<const Eigen::Matrix3d&>(R), static_cast<const Eigen::Vector3d&>(p));
  }
}

/// The visitor that looks at nothing.
struct IgnoreFrame {
  void operator()(int, const Eigen::Matrix3d&, const Eigen::Vector3d&) const {}
};

}  // namespace deepik::internal
