#include "deepik/kinematics/torch_fk.hpp"

#include <Eigen/Core>
#include <stdexcept>
#include <string>

namespace deepik {
namespace {

using Matrix4d = Eigen::Matrix4d;

Eigen::Matrix3d Skew(const Eigen::Vector3d& v) {
  Eigen::Matrix3d K;
  K << 0, -v.z(), v.y(), v.z(), 0, -v.x(), -v.y(), v.x(), 0;
  return K;
}

// The first `rows` rows of each matrix, row-major, as one row of a [count, rows * cols] tensor.
torch::Tensor Flatten(const std::vector<Eigen::MatrixXd>& matrices, int rows) {
  const int cols = static_cast<int>(matrices.front().cols());
  torch::Tensor out = torch::empty({static_cast<int64_t>(matrices.size()), rows * cols}, torch::kFloat64);
  auto a = out.accessor<double, 2>();
  for (size_t k = 0; k < matrices.size(); ++k) {
    for (int r = 0; r < rows; ++r) {
      for (int c = 0; c < cols; ++c) a[static_cast<int64_t>(k)][r * cols + c] = matrices[k](r, c);
    }
  }
  return out;
}

std::string ShapeString(const torch::Tensor& t) {
  std::string s = "[";
  for (int64_t d = 0; d < t.dim(); ++d) s += (d ? ", " : "") + std::to_string(t.size(d));
  return s + "]";
}

}  // namespace

// Joint i moves its child frame by X_PC(q) = X_PJ * X_JC(q). For a revolute joint, Rodrigues'
// formula R_JC = I + sin(q) K + (1 - cos q) K^2 = (I + K^2) + sin(q) K - cos(q) K^2 makes X_PC an
// affine function of (sin q, cos q); for a prismatic joint X_PC is affine in q. The chain is then
// one small matrix product per joint, with R_PJ, p_PJ and X_LT folded into the constant bases.
TorchFk::TorchFk(const Chain& chain) : num_joints_(chain.num_joints()) {
  const int n = num_joints_;
  const Matrix4d X_LT = chain.X_LT().matrix();
  Eigen::Vector4d p_LT1;
  p_LT1 << chain.X_LT().translation(), 1.0;

  for (int i = 0; i < n; ++i) {
    const Joint& joint = chain.joint(i);
    const bool revolute = joint.type == JointType::kRevolute;
    revolute_.push_back(revolute);
    any_revolute_ = any_revolute_ || revolute;

    // basis[0] is the constant part, basis[1..] the parts multiplied by the weights w(q).
    const Matrix4d X_PJ = joint.X_PJ.matrix();
    std::vector<Matrix4d> basis;
    if (revolute) {
      const Eigen::Matrix3d K = Skew(joint.axis_J), K2 = K * K;
      Matrix4d B0 = Matrix4d::Identity(), B1 = Matrix4d::Zero(), B2 = Matrix4d::Zero();
      B0.topLeftCorner<3, 3>() += K2;
      B1.topLeftCorner<3, 3>() = K;
      B2.topLeftCorner<3, 3>() = -K2;
      basis = {X_PJ * B0, X_PJ * B1, X_PJ * B2};
    } else {
      Matrix4d B1 = Matrix4d::Zero();
      B1.topRightCorner<3, 1>() = joint.axis_J;
      basis = {X_PJ, X_PJ * B1};
    }
    const bool last = i == n - 1;
    const int rows = i == 0 ? 3 : 4;
    if (last) {
      const torch::Tensor F = Flatten(std::vector<Eigen::MatrixXd>(basis.begin(), basis.end()), rows);
      f64_.X_PC_last = {F[0].clone(), F.narrow(0, 1, F.size(0) - 1).contiguous()};
      std::vector<Eigen::MatrixXd> points;
      for (const Matrix4d& B : basis) points.push_back(B * p_LT1);
      const torch::Tensor P = Flatten(points, rows);
      f64_.p_tip = {P[0].clone(), P.narrow(0, 1, P.size(0) - 1).contiguous()};
      for (Matrix4d& B : basis) B = B * X_LT;
    }
    const torch::Tensor X = Flatten(std::vector<Eigen::MatrixXd>(basis.begin(), basis.end()), rows);
    f64_.X_PC.push_back({X[0].clone(), X.narrow(0, 1, X.size(0) - 1).contiguous()});
  }

  auto to_float = [](const Affine& a) -> Affine {
    return {a.offset.to(torch::kFloat32).contiguous(), a.weights.to(torch::kFloat32).contiguous()};
  };
  for (const Affine& a : f64_.X_PC) f32_.X_PC.push_back(to_float(a));
  f32_.p_tip = to_float(f64_.p_tip);
  f32_.X_PC_last = to_float(f64_.X_PC_last);
}

const TorchFk::Constants& TorchFk::ConstantsFor(const torch::Tensor& q) const {
  if (!q.defined()) throw std::invalid_argument("TorchFk: expected a [B, n] tensor, got an undefined tensor");
  if (q.dim() != 2 || q.size(1) != num_joints_) {
    throw std::invalid_argument("TorchFk: expected q of shape [B, " + std::to_string(num_joints_) +
                                "], got " + ShapeString(q));
  }
  if (!q.device().is_cpu()) {
    throw std::invalid_argument("TorchFk: expected a CPU tensor, got device " + q.device().str());
  }
  if (q.scalar_type() == torch::kFloat64) return f64_;
  if (q.scalar_type() == torch::kFloat32) return f32_;
  throw std::invalid_argument(std::string("TorchFk: expected dtype float32 or float64, got ") +
                              c10::toString(q.scalar_type()));
}

torch::Tensor TorchFk::SinCos(const torch::Tensor& q) const {
  // [B, n, 2]: (sin q_i, cos q_i), computed for all joints in three ops.
  return any_revolute_ ? torch::stack({torch::sin(q), torch::cos(q)}, -1) : torch::Tensor();
}

torch::Tensor TorchFk::AffineAt(const torch::Tensor& q, const torch::Tensor& sin_cos, int i,
                                const Affine& a) const {
  const torch::Tensor w = revolute_[static_cast<size_t>(i)] ? sin_cos.select(1, i) : q.narrow(1, i, 1);
  return torch::addmm(a.offset, w, a.weights);
}

torch::Tensor TorchFk::Walk(const torch::Tensor& q, const Constants& c, const torch::Tensor& sin_cos,
                            int count, bool last_is_frame, std::vector<torch::Tensor>* frames) const {
  const int64_t batch = q.size(0);
  torch::Tensor X_BC;  // [B, 3, 4]: top rows of the homogeneous pose of the current moving frame
  for (int i = 0; i < count; ++i) {
    const Affine& a = last_is_frame && i == num_joints_ - 1 ? c.X_PC_last : c.X_PC[static_cast<size_t>(i)];
    const torch::Tensor X_PC = AffineAt(q, sin_cos, i, a);
    X_BC = i == 0 ? X_PC.view({batch, 3, 4}) : torch::bmm(X_BC, X_PC.view({batch, 4, 4}));
    if (frames != nullptr) frames->push_back(X_BC);
  }
  return X_BC;
}

template <bool kWithRotation>
torch::Tensor TorchFk::Evaluate(const torch::Tensor& q) const {
  const Constants& c = ConstantsFor(q);
  const int n = num_joints_;
  const torch::Tensor sin_cos = SinCos(q);
  // Without the rotation, the last joint only has to carry the tip point.
  const torch::Tensor X_BC = Walk(q, c, sin_cos, kWithRotation ? n : n - 1, false, nullptr);
  if (kWithRotation) return X_BC;
  const torch::Tensor p = AffineAt(q, sin_cos, n - 1, c.p_tip);  // the tip in the last joint's parent frame
  if (n == 1) return p;
  return torch::bmm(X_BC, p.unsqueeze(-1)).squeeze(-1);
}

torch::Tensor TorchFk::JointFrames(const torch::Tensor& q) const {
  const Constants& c = ConstantsFor(q);
  std::vector<torch::Tensor> frames;
  Walk(q, c, SinCos(q), num_joints_, true, &frames);
  return torch::stack(frames, 1);
}

TorchPoses TorchFk::TipPoses(const torch::Tensor& q) const {
  const torch::Tensor X_BT = Evaluate<true>(q);
  return {X_BT.select(2, 3).contiguous(), X_BT.narrow(2, 0, 3).contiguous()};
}

torch::Tensor TorchFk::TipPositions(const torch::Tensor& q) const { return Evaluate<false>(q); }

}  // namespace deepik
