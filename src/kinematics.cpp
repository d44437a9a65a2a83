#include "deepik/kinematics.hpp"

#include <algorithm>
#include <cmath>

#include "rotation_util.hpp"

namespace deepik {
namespace {

// The transform a joint applies between its joint frame J and its moving frame C.
Eigen::Isometry3d JointMotion(const Joint& joint, double q) {
  Eigen::Isometry3d X_JC = Eigen::Isometry3d::Identity();
  if (joint.type == JointType::kRevolute) {
    X_JC.linear() = Eigen::AngleAxisd(q, joint.axis_J).toRotationMatrix();
  } else {
    X_JC.translation() = q * joint.axis_J;
  }
  return X_JC;
}

}  // namespace

Eigen::Isometry3d TipPose(const Chain& chain, const Eigen::Ref<const Eigen::VectorXd>& q) {
  // Rotation and translation kept apart: a joint about a coordinate axis then costs two columns.
  Eigen::Matrix3d R = Eigen::Matrix3d::Identity();
  Eigen::Vector3d p = Eigen::Vector3d::Zero();
  for (int i = 0; i < chain.num_joints(); ++i) {
    const Joint& joint = chain.joint(i);
    p.noalias() += R * joint.X_PJ.translation();
    if (!joint.X_PJ.linear().isIdentity(0.0)) R = R * joint.X_PJ.linear();
    if (joint.type == JointType::kRevolute) {
      internal::RotateLocal(&R, joint.axis_J, std::sin(q[i]), std::cos(q[i]));
    } else {
      p.noalias() += R * (q[i] * joint.axis_J);
    }
  }
  Eigen::Isometry3d X_BT = Eigen::Isometry3d::Identity();
  X_BT.translation() = p + R * chain.X_LT().translation();
  X_BT.linear() = R * chain.X_LT().linear();
  return X_BT;
}

Eigen::Vector3d TipPosition(const Chain& chain, const Eigen::Ref<const Eigen::VectorXd>& q) {
  return TipPose(chain, q).translation();
}

void JointFrames(const Chain& chain, const Eigen::Ref<const Eigen::VectorXd>& q,
                 std::vector<Eigen::Isometry3d>* X_BF) {
  X_BF->resize(static_cast<size_t>(chain.num_joints()) + 1);
  Eigen::Isometry3d X_BC = Eigen::Isometry3d::Identity();
  for (int i = 0; i < chain.num_joints(); ++i) {
    const Joint& joint = chain.joint(i);
    X_BC = X_BC * joint.X_PJ * JointMotion(joint, q[i]);
    (*X_BF)[static_cast<size_t>(i)] = X_BC;
  }
  X_BF->back() = X_BC * chain.X_LT();
}

void TipJacobian(const Chain& chain, const Eigen::Ref<const Eigen::VectorXd>& q, Eigen::Ref<Matrix6Xd> J) {
  // First pass: the tip position. Second pass: each joint's axis and origin in B.
  const Eigen::Vector3d p_BT = TipPosition(chain, q);
  Eigen::Isometry3d X_BC = Eigen::Isometry3d::Identity();
  for (int i = 0; i < chain.num_joints(); ++i) {
    const Joint& joint = chain.joint(i);
    const Eigen::Isometry3d X_BJ = X_BC * joint.X_PJ;
    const Eigen::Vector3d axis_B = X_BJ.linear() * joint.axis_J;
    if (joint.type == JointType::kRevolute) {
      J.col(i).head<3>() = axis_B.cross(p_BT - X_BJ.translation());
      J.col(i).tail<3>() = axis_B;
    } else {
      J.col(i).head<3>() = axis_B;
      J.col(i).tail<3>().setZero();
    }
    X_BC = X_BJ * JointMotion(joint, q[i]);
  }
}

Matrix6Xd TipJacobian(const Chain& chain, const Eigen::Ref<const Eigen::VectorXd>& q) {
  Matrix6Xd J(6, chain.num_joints());
  TipJacobian(chain, q, J);
  return J;
}

double RotationAngleBetween(const Eigen::Matrix3d& R_a, const Eigen::Matrix3d& R_b) {
  // atan2 of the quaternion keeps full precision near 0, where acos of the trace does not.
  const Eigen::Quaterniond q_ab(R_a.transpose() * R_b);
  return 2.0 * std::atan2(q_ab.vec().norm(), std::abs(q_ab.w()));
}

}  // namespace deepik
