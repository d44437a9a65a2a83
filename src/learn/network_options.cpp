#include "deepik/learn/network_options.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "deepik/kinematics/fk.hpp"

namespace deepik {

const char* ToString(Activation activation) {
  switch (activation) {
    case Activation::kRelu:
      return "relu";
    case Activation::kTanh:
      return "tanh";
    case Activation::kSilu:
      return "silu";
  }
  return "unknown";
}

const char* ToString(OutputHead head) { return head == OutputHead::kFree ? "free" : "bounded"; }

const char* ToString(TargetKind target) { return target == TargetKind::kPose ? "pose" : "position"; }

TargetKind TargetKindFromString(const std::string& name) {
  if (name == "position") return TargetKind::kPosition;
  if (name == "pose") return TargetKind::kPose;
  throw std::invalid_argument("target: expected position or pose, got '" + name + "'");
}

Activation ActivationFromString(const std::string& name) {
  if (name == "relu") return Activation::kRelu;
  if (name == "tanh") return Activation::kTanh;
  if (name == "silu") return Activation::kSilu;
  throw std::invalid_argument("activation: expected relu, tanh or silu, got '" + name + "'");
}

OutputHead OutputHeadFromString(const std::string& name) {
  if (name == "free") return OutputHead::kFree;
  if (name == "bounded") return OutputHead::kBounded;
  throw std::invalid_argument("head: expected free or bounded, got '" + name + "'");
}

bool NetworkOptions::IsValid(std::string* error) const {
  if (depth < 1 || depth > 32) {
    if (error) *error = "depth: expected 1..32, got " + std::to_string(depth);
    return false;
  }
  if (width < 1 || width > 8192) {
    if (error) *error = "width: expected 1..8192, got " + std::to_string(width);
    return false;
  }
  if (newton_steps < 0 || newton_steps > kMaxNewtonSteps) {
    if (error) {
      *error = "newton_steps: expected 0.." + std::to_string(kMaxNewtonSteps) + ", got " +
               std::to_string(newton_steps);
    }
    return false;
  }
  if (heads < 1 || heads > kMaxHeads) {
    if (error) *error = "heads: expected 1.." + std::to_string(kMaxHeads) + ", got " + std::to_string(heads);
    return false;
  }
  return true;
}

int InputCount(TargetKind target) { return target == TargetKind::kPose ? 9 : 3; }

Eigen::Matrix<double, 9, 1> PoseInput(const Eigen::Vector3d& p_BT, const Eigen::Matrix3d& R_BT) {
  Eigen::Matrix<double, 9, 1> input;
  input << p_BT, R_BT.col(0), R_BT.col(1);
  return input;
}

void InwardFloatLimits(const Chain& chain, std::vector<float>* lower, std::vector<float>* upper) {
  lower->clear();
  upper->clear();
  for (const Joint& joint : chain.joints()) {
    float l = static_cast<float>(joint.lower), h = static_cast<float>(joint.upper);
    if (static_cast<double>(l) < joint.lower) l = std::nextafter(l, std::numeric_limits<float>::infinity());
    if (static_cast<double>(h) > joint.upper) h = std::nextafter(h, -std::numeric_limits<float>::infinity());
    lower->push_back(l);
    upper->push_back(std::max(l, h));
  }
}

int RawOutputCount(const Chain& chain, const NetworkOptions& options) {
  int count = 0;
  for (const Joint& joint : chain.joints()) count += (options.periodic_sincos && IsFullTurn(joint)) ? 2 : 1;
  return count;
}

double HeadSelectionError(const Chain& chain, const Eigen::Ref<const Eigen::VectorXd>& q,
                          const Eigen::Vector3d& p_BT, const Eigen::Matrix3d* R_BT) {
  if (!q.allFinite()) return std::numeric_limits<double>::quiet_NaN();
  if (R_BT == nullptr) return (TipPosition(chain, q) - p_BT).norm();
  const Eigen::Isometry3d X_BT = TipPose(chain, q);
  return (X_BT.translation() - p_BT).norm() + kHeadAngleWeight * RotationAngleBetween(*R_BT, X_BT.linear());
}

}  // namespace deepik
