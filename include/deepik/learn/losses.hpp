// Training losses on torch tensors.
#pragma once

#include <torch/types.h>

#include <vector>

#include "deepik/kinematics/torch_fk.hpp"

namespace deepik {

/// The seed's custom loss: mean Euclidean distance (m) between FK(q) and the targets.
/// q: [B, n], targets: [B, 3]. A tiny epsilon under the square root keeps the gradient finite
/// at zero distance.
torch::Tensor FkDistanceLoss(const TorchFk& fk, const torch::Tensor& q, const torch::Tensor& targets);

/// FkDistanceLoss per sample: [B] distances (m), not averaged.
torch::Tensor FkDistances(const TorchFk& fk, const torch::Tensor& q, const torch::Tensor& targets);

/// The rotation matrices [B, 3, 3] whose first two columns are `r6` [B, 6] (as PoseInput lays
/// them out: column 0, then column 1); the third column is their cross product. `r6` must hold
/// orthonormal columns (targets made from rotations are).
torch::Tensor RotationFromTwoColumns(const torch::Tensor& r6);

/// The geodesic angle (rad, in [0, pi]) between rotations R_a and R_b [B, 3, 3]: the angle of
/// E = R_a^T R_b. Computed as atan2(s, c), c = (tr E - 1) / 2, s = sqrt(|vee(E - E^T)|^2 / 4 +
/// 1e-12): the same angle as acos(c) (up to 1e-6 rad at 0), but with a gradient that stays bounded
/// everywhere, where acos's is infinite at 0 (where training ends) and at pi; and accurate for
/// small angles in float32, where c rounds to 1. [B].
torch::Tensor GeodesicAngle(const torch::Tensor& R_a, const torch::Tensor& R_b);

/// The full-pose FK loss: the mean over the batch of |p(q) - p*| (m) + angle_weight *
/// GeodesicAngle(R*, R(q)) (rad), with FK through `fk`. `targets` [B, 9] as PoseInput (p*, then
/// the first two columns of R*). `angle_weight` is in m per rad (0.1: 1 deg weighs as 1.75 mm).
torch::Tensor FkPoseLoss(const TorchFk& fk, const torch::Tensor& q, const torch::Tensor& targets,
                         double angle_weight);

/// FkPoseLoss per sample: [B] values |p(q) - p*| + angle_weight * angle, not averaged.
torch::Tensor FkPoseErrors(const TorchFk& fk, const torch::Tensor& q, const torch::Tensor& targets,
                           double angle_weight);

/// The relaxed winner-takes-all loss of a multi-head network: per sample, the least of the
/// heads' losses plus `other_weight` times their mean (so that every head keeps learning and
/// none is left where no sample ever picks it), averaged over the batch. `per_head`: [B, heads]
/// per-sample losses (FkDistances or FkPoseErrors of each head). With one head it is (1 +
/// other_weight) times the plain loss.
torch::Tensor WinnerTakesAllLoss(const torch::Tensor& per_head, double other_weight);

/// Mean squared joint-value error against labels [B, n]. For joints flagged `periodic` the
/// difference is wrapped to [-pi, pi] first, so +179 deg and -179 deg are 2 deg apart.
torch::Tensor AngleMseLoss(const torch::Tensor& q, const torch::Tensor& labels,
                           const std::vector<bool>& periodic);

/// The original web app's "comfort" term: mean over the batch of sum_j (relu(q_j - upper_j)^2 +
/// relu(lower_j - q_j)^2). lower/upper: [n].
torch::Tensor LimitPenalty(const torch::Tensor& q, const torch::Tensor& lower, const torch::Tensor& upper);

}  // namespace deepik
