// Training losses on torch tensors.
#pragma once

#include <torch/types.h>

#include <vector>

#include "deepik/geometry/collision_model.hpp"
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

/// The self-collision penalty of the training loss (TrainOptions::collision_weight): per sample, the
/// sum over the checked sphere pairs (i, j) of relu(r_i + r_j - |c_i - c_j|) (m: the overlap of
/// the two spheres; 0 when they are apart), with the centres c placed on the joint frames
/// TorchFk::JointFrames gives for q. A hinge, not its square: in metres like the FK distance loss,
/// so a weight of 1 trades 1 mm of overlap for 1 mm of position error, and its push does not fade
/// as the overlap closes. Holds only constant tensors (float64 and float32 copies).
class SelfCollisionPenalty {
 public:
  /// `spheres` on the frames of a chain of `num_joints` joints (PairwiseSpheres).
  /// @throws std::invalid_argument when a sphere's frame is not in [-1, num_joints) or a pair names
  ///         no sphere.
  SelfCollisionPenalty(const SelfCollisionSpheres& spheres, int num_joints);

  /// [B] per-sample penalty (m) of joint values q [B, n], in q's dtype, differentiable.
  /// @throws std::invalid_argument as TorchFk::JointFrames.
  torch::Tensor PerSample(const TorchFk& fk, const torch::Tensor& q) const;
  /// The mean of PerSample over the batch.
  torch::Tensor operator()(const TorchFk& fk, const torch::Tensor& q) const {
    return PerSample(fk, q).mean();
  }

  int num_pairs() const { return num_pairs_; }

 private:
  int num_pairs_ = 0;
  torch::Tensor frame_;              // [S] int64: index into the frames [B, 1 + n] (0 = B, 1 + i = joint i)
  torch::Tensor local64_, local32_;  // [1, S, 1, 3] centres in their frame
  // The pairs as a block: rows = the spheres first in some pair, columns = those second in some
  // pair (indices into the S spheres), and per (row, column) r_i + r_j for a pair, 0 for none
  // (relu(0 - distance) is 0: no mask needed). One batched matrix product gives every distance.
  torch::Tensor rows_, columns_;
  torch::Tensor reach64_, reach32_;  // [R, C]
};

}  // namespace deepik
