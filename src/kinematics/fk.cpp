#include "deepik/kinematics/fk.hpp"

#include <algorithm>
#include <cmath>

#include "kinematics/fk_walk.hpp"

namespace deepik {

Eigen::Isometry3d TipPose(const Chain& chain, const Eigen::Ref<const Eigen::VectorXd>& q) {
  Eigen::Matrix3d R;
  Eigen::Vector3d p;
  internal::WalkChain(chain, q, &R, &p, internal::IgnoreFrame{}, internal::IgnoreFrame{});
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
  Eigen::Matrix3d R;
  Eigen::Vector3d p;
  internal::WalkChain(chain, q, &R, &p, internal::IgnoreFrame{},
                      [X_BF](int j, const Eigen::Matrix3d& R_BC, const Eigen::Vector3d& p_BC) {
                        Eigen::Isometry3d& X_BC = (*X_BF)[static_cast<size_t>(j)];
                        X_BC.setIdentity();
                        X_BC.linear() = R_BC;
                        X_BC.translation() = p_BC;
                      });
  Eigen::Isometry3d X_BT = Eigen::Isometry3d::Identity();
  X_BT.translation() = p + R * chain.X_LT().translation();
  X_BT.linear() = R * chain.X_LT().linear();
  X_BF->back() = X_BT;
}

void TipPoseAndJacobian(const Chain& chain, const Eigen::Ref<const Eigen::VectorXd>& q,
                        Eigen::Isometry3d* X_BT, Eigen::Ref<Matrix6Xd> J) {
  // One walk: each joint's axis (kept in the angular rows) and origin (parked in the linear rows
  // until the tip is known).
  Eigen::Matrix3d R;
  Eigen::Vector3d p;
  internal::WalkChain(
      chain, q, &R, &p,
      [&chain, &J](int j, const Eigen::Matrix3d& R_BJ, const Eigen::Vector3d& p_BJ) {
        J.col(j).tail<3>() = R_BJ * chain.joint(j).axis_J;
        J.col(j).head<3>() = p_BJ;
      },
      internal::IgnoreFrame{});
  const Eigen::Vector3d p_BT = p + R * chain.X_LT().translation();
  for (int j = 0; j < chain.num_joints(); ++j) {
    const Eigen::Vector3d axis_B = J.col(j).tail<3>();
    if (chain.joint(j).type == JointType::kRevolute) {
      J.col(j).head<3>() = axis_B.cross(p_BT - J.col(j).head<3>());
    } else {
      J.col(j).head<3>() = axis_B;
      J.col(j).tail<3>().setZero();
    }
  }
  if (X_BT != nullptr) {
    X_BT->setIdentity();
    X_BT->translation() = p_BT;
    X_BT->linear() = R * chain.X_LT().linear();
  }
}

void TipJacobian(const Chain& chain, const Eigen::Ref<const Eigen::VectorXd>& q, Eigen::Ref<Matrix6Xd> J) {
  TipPoseAndJacobian(chain, q, nullptr, J);
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
