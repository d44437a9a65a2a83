// Datasets of IK targets (and joint labels where the sampler has them), from forward kinematics.
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <string>
#include <vector>

#include "deepik/kinematics/chain.hpp"

namespace deepik {

/// How targets are drawn.
enum class SamplerKind {
  /// Every joint stepped at a fixed interval within its limits (the seed's "all possible states at
  /// discrete intervals"); targets by FK; labels kept. Count = product over joints of the steps.
  kGrid,
  /// Uniform random joint values within the limits; targets by FK; labels kept.
  kJoints,
  /// Targets uniform in the arm's reachable span (FindReachableSpan) within (1 + margin) * reach
  /// of its centre: a ball around the base for most arms, a disc in a planar arm's plane; no labels.
  kWorkspace,
};

/// "grid", "joints", "workspace".
const char* ToString(SamplerKind kind);
/// @throws std::invalid_argument for an unknown name (lists the known ones).
SamplerKind SamplerKindFromString(const std::string& name);

/// Options of MakeDataset; defaults in the declaration.
struct SamplerOptions {
  SamplerKind kind = SamplerKind::kWorkspace;
  int64_t count = 100000;       ///< samples (joints, workspace); ignored by grid
  double grid_step_deg = 10.0;  ///< grid: step for revolute joints (deg)
  double grid_step_m = 0.05;    ///< grid: step for prismatic joints (m)
  double margin = 0.2;          ///< workspace: radius = (1 + margin) * reach (see ReachableSpan)
  uint64_t seed = 1;
  double train_fraction = 0.8;
  double validation_fraction = 0.1;  ///< the rest is the test split

  /// True when valid; otherwise false with `error` naming the offending field.
  bool IsValid(std::string* error) const;
};

/// One split: targets [N x 3] (m, base frame), and labels [N x n] (rad or m) or empty.
struct DatasetSplit {
  Eigen::Matrix<double, Eigen::Dynamic, 3, Eigen::RowMajor> targets;
  Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> labels;
  int64_t size() const { return targets.rows(); }
  bool has_labels() const { return labels.size() > 0; }
};

/// A shuffled dataset split into train / validation / test.
struct Dataset {
  std::string arm_json;  ///< the chain the data came from (ChainToJson)
  SamplerOptions options;
  DatasetSplit train, validation, test;
  /// workspace sampler: share of all targets farther than reach() from the base (0 otherwise);
  /// an upper estimate of the unreachable share, since reach() is an upper bound.
  double share_beyond_reach = 0.0;
};

/// The affine span of the points an arm's tip reaches: a plane for a planar arm, all of space for
/// most arms (a line or a point for degenerate ones).
struct ReachableSpan {
  int dimension = 3;  ///< 0 to 3
  /// The point of the span closest to the base origin (m, base frame B).
  Eigen::Vector3d center_B = Eigen::Vector3d::Zero();
  /// Orthonormal directions of the span (the first `dimension` columns count), base frame B.
  Eigen::Matrix3d axes_B = Eigen::Matrix3d::Identity();
};

/// The span of FK of 256 seeded uniform joint configurations: a direction counts when the points
/// spread along it by more than 1e-9 of the reach (their principal axes). Reachable points lie
/// within reach() of the base origin, so within reach() of `center_B` in the span.
ReachableSpan FindReachableSpan(const Chain& chain);

/// The warning a run on these targets deserves when most of them (more than half) are out of
/// reach: the data does not fit the arm, and a network trained on it learns little. Empty when at
/// most half are. Multi-line, each line starting with `prefix` (e.g. "train: ").
std::string OutOfReachWarning(int64_t out_of_reach, int64_t count, const std::string& prefix);

/// Samples, shuffles and splits. The same chain, options and seed give the same bytes.
/// @throws std::invalid_argument when the options are invalid or a grid would exceed 50 million rows.
Dataset MakeDataset(const Chain& chain, const SamplerOptions& options);

/// Saves as safetensors (tensors train_targets, train_labels, ...; metadata: format
/// "deepik-dataset", version, arm, options as JSON).
/// @throws InputError when the file cannot be written.
void SaveDataset(const std::string& path, const Dataset& dataset);

/// @throws InputError naming the file when it is missing, truncated, not a deepik dataset, or
///         inconsistent (shapes that do not match the arm).
Dataset LoadDataset(const std::string& path);

}  // namespace deepik
