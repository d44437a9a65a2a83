#include "deepik/learn/accuracy.hpp"

#include <Eigen/Geometry>
#include <cmath>
#include <cstdio>
#include <random>
#include <stdexcept>
#include <vector>

#include "deepik/data/random.hpp"
#include "deepik/kinematics/fk.hpp"

namespace deepik {

double RotationAngle(const Eigen::Matrix3d& R_a, const Eigen::Matrix3d& R_b) {
  const Eigen::Quaterniond E(R_a.transpose() * R_b);
  return 2.0 * std::atan2(E.vec().norm(), std::abs(E.w()));
}

NetworkAccuracy EvaluateNetworkInReach(const IkModel& model, int64_t count, uint64_t seed) {
  if (count < 1) throw std::invalid_argument("count: expected >= 1, got " + std::to_string(count));
  const Chain& chain = model.chain();
  const bool pose = model.target() == TargetKind::kPose;
  std::mt19937_64 rng(seed);
  std::vector<double> position_errors, angle_errors;
  position_errors.reserve(static_cast<size_t>(count));
  if (pose) angle_errors.reserve(static_cast<size_t>(count));
  Eigen::VectorXd q_true(chain.num_joints()), q(chain.num_joints());
  IkModel::Scratch scratch;
  NetworkAccuracy accuracy;
  for (int64_t i = 0; i < count; ++i) {
    UniformConfiguration(chain, &rng, q_true);
    if (pose) {
      const Eigen::Isometry3d X_BT = TipPose(chain, q_true);
      model.Predict(X_BT.translation(), X_BT.linear(), q, &scratch);
      const Eigen::Isometry3d X_reached = TipPose(chain, q);
      position_errors.push_back((X_reached.translation() - X_BT.translation()).norm());
      angle_errors.push_back(RotationAngle(X_BT.linear(), X_reached.linear()));
    } else {
      const Eigen::Vector3d target = TipPosition(chain, q_true);
      model.Predict(target, q, &scratch);
      position_errors.push_back((TipPosition(chain, q) - target).norm());
    }
    if (!chain.WithinLimits(q)) ++accuracy.limit_violations;
  }
  accuracy.position = SummariseErrors(std::move(position_errors));
  if (pose) accuracy.angle = SummariseErrors(std::move(angle_errors));
  return accuracy;
}

std::string FormatAngleStats(const ErrorStats& s) {
  constexpr double kDeg = 180.0 / M_PI;
  char text[256];
  std::snprintf(text, sizeof(text), "median %.3f deg, p95 %.3f deg, p99 %.3f deg, max %.3f deg (n=%lld)",
                s.median * kDeg, s.p95 * kDeg, s.p99 * kDeg, s.max * kDeg, static_cast<long long>(s.count));
  return text;
}

}  // namespace deepik
