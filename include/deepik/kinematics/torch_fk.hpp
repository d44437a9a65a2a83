// Batched, differentiable forward kinematics on torch tensors, built from a Chain.
#pragma once

#include <torch/types.h>

#include <vector>

#include "deepik/kinematics/chain.hpp"

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
  /// [B, n, 3, 4]: the pose in the base frame of every joint's moving frame (index i = after joint
  /// i has moved, without the tip offset), rotation then translation columns: the first n poses of
  /// the Eigen JointFrames. Where link geometry (spheres) is placed.
  /// @throws std::invalid_argument as TipPoses.
  torch::Tensor JointFrames(const torch::Tensor& q) const;

 private:
  // An affine function of one joint's value, flattened: value(q) = offset + w(q) @ weights, with
  // w = (sin q, cos q) for a revolute joint ([B, 2]) and w = q for a prismatic one ([B, 1]).
  struct Affine {
    torch::Tensor offset;   // [m]
    torch::Tensor weights;  // [2, m] or [1, m]
  };
  // Every constant in one dtype.
  struct Constants {
    // Joint i's transform X_PC(q) (parent -> moving frame, X_LT folded into the last joint),
    // row-major: the top 3 rows (12 entries) for joint 0, all 4 rows (16) for the others.
    std::vector<Affine> X_PC;
    // The last joint's X_PC(q) * [p_LT; 1]: 3 entries when it is joint 0, else 4.
    Affine p_tip;
    // The last joint's X_PC(q) without X_LT (its moving frame, JointFrames).
    Affine X_PC_last;
  };
  template <bool kWithRotation>
  torch::Tensor Evaluate(const torch::Tensor& q) const;  // [B, 3, 4] or [B, 3]
  // [B, n, 2]: (sin q_i, cos q_i) of every joint; undefined without revolute joints.
  torch::Tensor SinCos(const torch::Tensor& q) const;
  // `a` of joint i at q: [B, m].
  torch::Tensor AffineAt(const torch::Tensor& q, const torch::Tensor& sin_cos, int i, const Affine& a) const;
  // The pose [B, 3, 4] of joint count-1's moving frame (X_LT folded into the last joint unless
  // `last_is_frame`), each joint's appended to `frames` when given.
  torch::Tensor Walk(const torch::Tensor& q, const Constants& c, const torch::Tensor& sin_cos, int count,
                     bool last_is_frame, std::vector<torch::Tensor>* frames) const;
  const Constants& ConstantsFor(const torch::Tensor& q) const;

  int num_joints_ = 0;
  std::vector<bool> revolute_;
  bool any_revolute_ = false;
  Constants f64_, f32_;  // the same values; float32 copies made once, not per call
};

}  // namespace deepik
