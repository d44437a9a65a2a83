// Kinematic chains: an immutable serial chain of revolute and prismatic joints.
#pragma once

#include <Eigen/Geometry>
#include <string>
#include <vector>

namespace deepik {

/// The motion a joint allows.
enum class JointType { kRevolute, kPrismatic };

/// "revolute" or "prismatic".
const char* ToString(JointType type);

/// One actuated joint of a serial chain.
///
/// Frames: the joint frame J sits at `X_PJ` in the parent frame P (the previous joint's moving
/// frame, or the chain's base frame B for the first joint). The joint moves its child frame C
/// relative to J: a rotation of q radians about `axis_J` (revolute) or a translation of q metres
/// along it (prismatic).
struct Joint {
  std::string name;
  JointType type = JointType::kRevolute;
  Eigen::Isometry3d X_PJ = Eigen::Isometry3d::Identity();  ///< joint origin in its parent frame
  Eigen::Vector3d axis_J = Eigen::Vector3d::UnitZ();       ///< unit axis, in the joint frame
  double lower = 0.0;                                      ///< lower limit (rad or m)
  double upper = 0.0;                                      ///< upper limit (rad or m)
  /// True when the joint has no stops (a URDF `continuous` joint): its range is one full turn,
  /// [-pi, pi], and q and q + 2 pi are the same configuration.
  bool continuous = false;
};

/// Bounds beyond which a chain makes no physical sense (and its distances would overflow): joint
/// origins and the tip offset within 1e4 m of their parent frame, prismatic limits within +-1e4 m,
/// revolute limits within +-1e3 rad.
constexpr double kMaxLinkOffset = 1e4;
constexpr double kMaxRevoluteLimit = 1e3;

/// An immutable serial chain from a base frame B to a tip frame T.
///
/// Fixed joints are folded into their neighbours by the builders: a fixed offset before an
/// actuated joint becomes part of its `X_PJ`; the offset after the last one is `X_LT`. A Chain
/// never changes after construction and can be shared by many threads.
class Chain {
 public:
  /// @throws std::invalid_argument when a joint's limits are not finite or lower > upper, an axis
  ///         is not unit length (within 1e-9), a transform is not finite, a name is empty or
  ///         repeated, no joint, or more than kMaxJoints joints (joint_configuration.hpp).
  Chain(std::string name, std::vector<Joint> joints,
        const Eigen::Isometry3d& X_LT = Eigen::Isometry3d::Identity());

  const std::string& name() const { return name_; }
  int num_joints() const { return static_cast<int>(joints_.size()); }
  const std::vector<Joint>& joints() const { return joints_; }
  const Joint& joint(int i) const { return joints_[static_cast<size_t>(i)]; }
  /// Pose of the tip T in the last joint's moving frame L.
  const Eigen::Isometry3d& X_LT() const { return X_LT_; }

  Eigen::VectorXd lower_limits() const;
  Eigen::VectorXd upper_limits() const;
  /// The middle of every joint's range.
  Eigen::VectorXd mid_configuration() const;
  /// True when every q_i is finite and within [lower_i - tol, upper_i + tol].
  bool WithinLimits(const Eigen::Ref<const Eigen::VectorXd>& q, double tol = 0.0) const;

  /// An upper bound of the distance from the base origin to the tip over all configurations
  /// (metres): the sum of the link offsets plus the largest prismatic extensions. It is exact for
  /// chains whose links can line up (the seed arm, planar2).
  double reach() const { return reach_; }

 private:
  std::string name_;
  std::vector<Joint> joints_;
  Eigen::Isometry3d X_LT_;
  double reach_ = 0.0;
};

/// A rigid transform from a translation (m) and roll-pitch-yaw angles (rad), URDF convention:
/// R = Rz(yaw) * Ry(pitch) * Rx(roll).
Eigen::Isometry3d TransformFromXyzRpy(const Eigen::Vector3d& xyz, const Eigen::Vector3d& rpy);

}  // namespace deepik
