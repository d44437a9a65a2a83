#include "deepik/kinematics/chain.hpp"

#include <cmath>
#include <set>
#include <sstream>
#include <stdexcept>
#include <utility>

#include "deepik/kinematics/joint_configuration.hpp"

namespace deepik {
namespace {

bool IsFinite(const Eigen::Isometry3d& X) { return X.matrix().allFinite(); }

std::string FormatNumber(double value) {
  std::ostringstream text;
  text << value;
  return text.str();
}

std::string JointContext(const std::string& chain, const Joint& joint) {
  return "chain '" + chain + "', joint '" + joint.name + "'";
}

}  // namespace

const char* ToString(JointType type) {
  switch (type) {
    case JointType::kRevolute:
      return "revolute";
    case JointType::kPrismatic:
      return "prismatic";
  }
  return "unknown";
}

Chain::Chain(std::string name, std::vector<Joint> joints, const Eigen::Isometry3d& X_LT)
    : name_(std::move(name)), joints_(std::move(joints)), X_LT_(X_LT) {
  if (joints_.empty()) {
    throw std::invalid_argument("chain '" + name_ + "': expected at least one actuated joint, got none");
  }
  if (joints_.size() > static_cast<size_t>(kMaxJoints)) {
    throw std::invalid_argument("chain '" + name_ + "': expected at most " + std::to_string(kMaxJoints) +
                                " actuated joints, got " + std::to_string(joints_.size()));
  }
  std::set<std::string> names;
  for (const Joint& joint : joints_) {
    if (joint.name.empty()) throw std::invalid_argument("chain '" + name_ + "': a joint has an empty name");
    if (!names.insert(joint.name).second) {
      throw std::invalid_argument(JointContext(name_, joint) + ": the name is used twice");
    }
    if (!std::isfinite(joint.lower) || !std::isfinite(joint.upper)) {
      throw std::invalid_argument(JointContext(name_, joint) + ": expected finite limits, got [" +
                                  std::to_string(joint.lower) + ", " + std::to_string(joint.upper) + "]");
    }
    if (joint.lower > joint.upper) {
      throw std::invalid_argument(JointContext(name_, joint) + ": expected lower <= upper, got lower " +
                                  std::to_string(joint.lower) + " > upper " + std::to_string(joint.upper));
    }
    if (!joint.axis_J.allFinite() || std::abs(joint.axis_J.norm() - 1.0) > 1e-9) {
      throw std::invalid_argument(JointContext(name_, joint) + ": expected a unit axis, got norm " +
                                  std::to_string(joint.axis_J.norm()));
    }
    if (!IsFinite(joint.X_PJ))
      throw std::invalid_argument(JointContext(name_, joint) + ": origin is not finite");
    // Numbers that make no physical sense would overflow the reach and every distance after it.
    const double offset = joint.X_PJ.translation().stableNorm();
    if (offset > kMaxLinkOffset) {
      throw std::invalid_argument(JointContext(name_, joint) + ": expected an origin within " +
                                  FormatNumber(kMaxLinkOffset) + " m of the parent frame, got " +
                                  FormatNumber(offset) + " m");
    }
    const double max_limit = joint.type == JointType::kRevolute ? kMaxRevoluteLimit : kMaxLinkOffset;
    if (std::abs(joint.lower) > max_limit || std::abs(joint.upper) > max_limit) {
      throw std::invalid_argument(JointContext(name_, joint) + ": expected limits within +-" +
                                  FormatNumber(max_limit) +
                                  (joint.type == JointType::kRevolute ? " rad" : " m") + ", got [" +
                                  FormatNumber(joint.lower) + ", " + FormatNumber(joint.upper) + "]");
    }
  }
  if (!IsFinite(X_LT_)) throw std::invalid_argument("chain '" + name_ + "': tip offset is not finite");
  if (X_LT_.translation().stableNorm() > kMaxLinkOffset) {
    throw std::invalid_argument("chain '" + name_ + "': expected a tip offset within " +
                                FormatNumber(kMaxLinkOffset) + " m, got " +
                                FormatNumber(X_LT_.translation().stableNorm()) + " m");
  }

  reach_ = X_LT_.translation().norm();
  for (const Joint& joint : joints_) {
    reach_ += joint.X_PJ.translation().norm();
    if (joint.type == JointType::kPrismatic) reach_ += std::max(std::abs(joint.lower), std::abs(joint.upper));
  }
}

Eigen::VectorXd Chain::lower_limits() const {
  Eigen::VectorXd lo(num_joints());
  for (int i = 0; i < num_joints(); ++i) lo[i] = joint(i).lower;
  return lo;
}

Eigen::VectorXd Chain::upper_limits() const {
  Eigen::VectorXd hi(num_joints());
  for (int i = 0; i < num_joints(); ++i) hi[i] = joint(i).upper;
  return hi;
}

Eigen::VectorXd Chain::mid_configuration() const { return 0.5 * (lower_limits() + upper_limits()); }

bool Chain::WithinLimits(const Eigen::Ref<const Eigen::VectorXd>& q, double tol) const {
  if (q.size() != num_joints()) return false;
  for (int i = 0; i < num_joints(); ++i) {
    if (!std::isfinite(q[i]) || q[i] < joint(i).lower - tol || q[i] > joint(i).upper + tol) return false;
  }
  return true;
}

Eigen::Isometry3d TransformFromXyzRpy(const Eigen::Vector3d& xyz, const Eigen::Vector3d& rpy) {
  Eigen::Isometry3d X = Eigen::Isometry3d::Identity();
  X.linear() = (Eigen::AngleAxisd(rpy.z(), Eigen::Vector3d::UnitZ()) *
                Eigen::AngleAxisd(rpy.y(), Eigen::Vector3d::UnitY()) *
                Eigen::AngleAxisd(rpy.x(), Eigen::Vector3d::UnitX()))
                   .toRotationMatrix();
  X.translation() = xyz;
  return X;
}

}  // namespace deepik
