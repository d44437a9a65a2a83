// How accurate a trained network is on its own, on targets it never saw (no libtorch).
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <optional>
#include <string>

#include "deepik/data/metrics.hpp"
#include "deepik/learn/model.hpp"

namespace deepik {

/// The network alone on unseen in-reach targets.
struct NetworkAccuracy {
  ErrorStats position;              ///< |FK(q) - p*| (m)
  std::optional<ErrorStats> angle;  ///< pose models only: RotationAngle(R*, R(q)) (rad)
  int64_t limit_violations = 0;     ///< answers outside the joint limits (a free head can leave them)
};

/// Evaluates `model` on `count` targets made by FK of uniform random joint values (seeded), which
/// a training set never contains exactly: positions for a position model, full poses for a pose
/// model. @throws std::invalid_argument when count < 1.
NetworkAccuracy EvaluateNetworkInReach(const IkModel& model, int64_t count, uint64_t seed);

/// The angle (rad, in [0, pi]) of the rotation between R_a and R_b, i.e. of R_a^T R_b, from its
/// quaternion (2 atan2(|v|, |w|), accurate near 0 and pi alike). Both must be rotation matrices.
double RotationAngle(const Eigen::Matrix3d& R_a, const Eigen::Matrix3d& R_b);

/// One line of angle statistics: "median 1.234 deg, p95 ..., max ... (n=...)".
std::string FormatAngleStats(const ErrorStats& angle_rad);

}  // namespace deepik
