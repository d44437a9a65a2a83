// Forward kinematics and the geometric Jacobian of a Chain, in double precision.
#pragma once

#include <Eigen/Core>
#include <Eigen/Geometry>
#include <vector>

#include "deepik/kinematics/chain.hpp"

namespace deepik {

/// 6 x n matrix; rows 0-2 are linear velocity, rows 3-5 angular velocity.
using Matrix6Xd = Eigen::Matrix<double, 6, Eigen::Dynamic>;

/// Pose of the tip T in the base frame B for joint values q (chain order; rad or m).
/// Allocates nothing. The caller guarantees q.size() == chain.num_joints().
Eigen::Isometry3d TipPose(const Chain& chain, const Eigen::Ref<const Eigen::VectorXd>& q);

/// Position of the tip in the base frame (m). Allocates nothing.
Eigen::Vector3d TipPosition(const Chain& chain, const Eigen::Ref<const Eigen::VectorXd>& q);

/// Poses in the base frame of every joint's moving frame (index i = after joint i has moved),
/// followed by the tip: num_joints() + 1 poses. `X_BF` is resized (allocates once if needed).
void JointFrames(const Chain& chain, const Eigen::Ref<const Eigen::VectorXd>& q,
                 std::vector<Eigen::Isometry3d>* X_BF);

/// Geometric Jacobian of the tip in the base frame: column i maps qdot_i to the tip's linear
/// velocity (rows 0-2, m/s) and angular velocity (rows 3-5, rad/s), both expressed in B.
/// `J` must be 6 x num_joints(). Allocates nothing.
void TipJacobian(const Chain& chain, const Eigen::Ref<const Eigen::VectorXd>& q, Eigen::Ref<Matrix6Xd> J);

/// The tip pose X_BT and the geometric Jacobian J (as TipJacobian) from one walk of the chain.
/// `J` must be 6 x num_joints(). Allocates nothing.
void TipPoseAndJacobian(const Chain& chain, const Eigen::Ref<const Eigen::VectorXd>& q,
                        Eigen::Isometry3d* X_BT, Eigen::Ref<Matrix6Xd> J);

/// Convenience form of TipJacobian that allocates its result.
Matrix6Xd TipJacobian(const Chain& chain, const Eigen::Ref<const Eigen::VectorXd>& q);

/// Geodesic angle between two rotations (rad, in [0, pi]).
double RotationAngleBetween(const Eigen::Matrix3d& R_a, const Eigen::Matrix3d& R_b);

}  // namespace deepik
