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

/// Mean squared joint-value error against labels [B, n]. For joints flagged `periodic` the
/// difference is wrapped to [-pi, pi] first, so +179 deg and -179 deg are 2 deg apart.
torch::Tensor AngleMseLoss(const torch::Tensor& q, const torch::Tensor& labels,
                           const std::vector<bool>& periodic);

/// The original web app's "comfort" term: mean over the batch of sum_j (relu(q_j - upper_j)^2 +
/// relu(lower_j - q_j)^2). lower/upper: [n].
torch::Tensor LimitPenalty(const torch::Tensor& q, const torch::Tensor& lower, const torch::Tensor& upper);

}  // namespace deepik
