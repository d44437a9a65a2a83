// Batched, differentiable forward kinematics on torch tensors, built from a Chain.
#pragma once

#include <torch/types.h>

#include <vector>

#include "deepik/chain.hpp"

namespace deepik {

/// Tip poses of a batch: p_BT is [B, 3] (m), R_BT is [B, 3, 3], in q's dtype.
struct TorchPoses {
  torch::Tensor p_BT;
  torch::Tensor R_BT;
};

/// Forward kinematics of a Chain on torch tensors (float32 or float64, CPU), differentiable
/// through autograd. It reads the same Chain as the Eigen FK, so the two cannot disagree on the
/// arm. Holds only constant tensors: one object can be used by many threads at once.
class TorchFk {
 public:
  explicit TorchFk(const Chain& chain);

  int num_joints() const { return num_joints_; }

  /// q: [B, n] joint values in chain order.
  /// @throws std::invalid_argument for a wrong shape or a dtype other than float32/float64.
  TorchPoses TipPoses(const torch::Tensor& q) const;
  /// [B, 3] tip positions; same as TipPoses(q).p_BT, cheaper.
  torch::Tensor TipPositions(const torch::Tensor& q) const;

 private:
  struct JointConstants {
    bool revolute = true;
    torch::Tensor R_PJ, p_PJ;  // [3,3], [3] (float64)
    torch::Tensor axis, K, K2;   // [3], skew(axis), skew(axis)^2 (float64)
  };
  template <bool kWithRotation>
  TorchPoses Evaluate(const torch::Tensor& q) const;

  int num_joints_ = 0;
  std::vector<JointConstants> joints_;
  torch::Tensor R_LT_, p_LT_;
};

}  // namespace deepik
