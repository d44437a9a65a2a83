#include "deepik/learn/losses.hpp"

#include <torch/torch.h>

#include <stdexcept>
#include <string>
#include <utility>

namespace deepik {

torch::Tensor FkDistances(const TorchFk& fk, const torch::Tensor& q, const torch::Tensor& targets) {
  const torch::Tensor d2 = (fk.TipPositions(q) - targets).pow(2).sum(1);
  return torch::sqrt(d2 + 1e-12);
}

torch::Tensor FkDistanceLoss(const TorchFk& fk, const torch::Tensor& q, const torch::Tensor& targets) {
  return FkDistances(fk, q, targets).mean();
}

torch::Tensor WinnerTakesAllLoss(const torch::Tensor& per_head, double other_weight) {
  return (std::get<0>(per_head.min(1)) + other_weight * per_head.mean(1)).mean();
}

torch::Tensor RotationFromTwoColumns(const torch::Tensor& r6) {
  const torch::Tensor c0 = r6.slice(1, 0, 3), c1 = r6.slice(1, 3, 6);
  return torch::stack({c0, c1, torch::cross(c0, c1, 1)}, 2);
}

torch::Tensor GeodesicAngle(const torch::Tensor& R_a, const torch::Tensor& R_b) {
  const torch::Tensor E = torch::matmul(R_a.transpose(1, 2), R_b);
  const torch::Tensor c = 0.5 * (E.diagonal(0, 1, 2).sum(1) - 1.0);
  // vee(E - E^T) = 2 sin(angle) * axis.
  const torch::Tensor v = torch::stack({E.select(1, 2).select(1, 1) - E.select(1, 1).select(1, 2),
                                        E.select(1, 0).select(1, 2) - E.select(1, 2).select(1, 0),
                                        E.select(1, 1).select(1, 0) - E.select(1, 0).select(1, 1)},
                                       1);
  const torch::Tensor s = torch::sqrt(0.25 * v.pow(2).sum(1) + 1e-12);
  return torch::atan2(s, c);
}

namespace {

// Per sample: the position distance (m) and the geodesic angle (rad) of FK(q) from the targets.
std::pair<torch::Tensor, torch::Tensor> PoseDistanceAndAngle(const TorchFk& fk, const torch::Tensor& q,
                                                             const torch::Tensor& targets) {
  const TorchPoses poses = fk.TipPoses(q);
  const torch::Tensor distance = torch::sqrt((poses.p_BT - targets.slice(1, 0, 3)).pow(2).sum(1) + 1e-12);
  const torch::Tensor angle = GeodesicAngle(RotationFromTwoColumns(targets.slice(1, 3, 9)), poses.R_BT);
  return {distance, angle};
}

}  // namespace

torch::Tensor FkPoseErrors(const TorchFk& fk, const torch::Tensor& q, const torch::Tensor& targets,
                           double angle_weight) {
  const auto [distance, angle] = PoseDistanceAndAngle(fk, q, targets);
  return distance + angle_weight * angle;
}

torch::Tensor FkPoseLoss(const TorchFk& fk, const torch::Tensor& q, const torch::Tensor& targets,
                         double angle_weight) {
  const auto [distance, angle] = PoseDistanceAndAngle(fk, q, targets);
  return distance.mean() + angle_weight * angle.mean();
}

torch::Tensor AngleMseLoss(const torch::Tensor& q, const torch::Tensor& labels,
                           const std::vector<bool>& periodic) {
  torch::Tensor diff = q - labels;
  bool any_periodic = false;
  for (bool p : periodic) any_periodic = any_periodic || p;
  if (any_periodic) {
    std::vector<float> mask_values(periodic.begin(), periodic.end());
    const torch::Tensor mask = torch::tensor(mask_values, q.options()).to(torch::kBool);
    diff = torch::where(mask, torch::atan2(torch::sin(diff), torch::cos(diff)), diff);
  }
  return diff.pow(2).mean();
}

torch::Tensor LimitPenalty(const torch::Tensor& q, const torch::Tensor& lower, const torch::Tensor& upper) {
  return (torch::relu(q - upper).pow(2) + torch::relu(lower - q).pow(2)).sum(1).mean();
}

SelfCollisionPenalty::SelfCollisionPenalty(const SelfCollisionSpheres& spheres, int num_joints)
    : num_pairs_(static_cast<int>(spheres.pairs.size())) {
  const auto count = static_cast<int64_t>(spheres.spheres.size());
  if (spheres.frame.size() != spheres.spheres.size()) {
    throw std::invalid_argument("SelfCollisionPenalty: expected one frame per sphere");
  }
  std::vector<int64_t> frame;
  std::vector<double> local;
  for (int64_t s = 0; s < count; ++s) {
    const int f = spheres.frame[static_cast<size_t>(s)];
    if (f < -1 || f >= num_joints) {
      throw std::invalid_argument("SelfCollisionPenalty: sphere " + std::to_string(s) + " is on frame " +
                                  std::to_string(f) + ", expected -1.." + std::to_string(num_joints - 1));
    }
    frame.push_back(f + 1);
    for (int k = 0; k < 3; ++k) local.push_back(spheres.spheres[static_cast<size_t>(s)][k]);
  }
  std::vector<int64_t> row_of(static_cast<size_t>(count), -1), column_of(static_cast<size_t>(count), -1);
  std::vector<int64_t> rows, columns;
  for (const auto& [i, j] : spheres.pairs) {
    if (i < 0 || j < 0 || i >= count || j >= count) {
      throw std::invalid_argument("SelfCollisionPenalty: pair (" + std::to_string(i) + ", " +
                                  std::to_string(j) + ") names no sphere of " + std::to_string(count));
    }
    if (row_of[static_cast<size_t>(i)] < 0) {
      row_of[static_cast<size_t>(i)] = static_cast<int64_t>(rows.size());
      rows.push_back(i);
    }
    if (column_of[static_cast<size_t>(j)] < 0) {
      column_of[static_cast<size_t>(j)] = static_cast<int64_t>(columns.size());
      columns.push_back(j);
    }
  }
  torch::Tensor reach = torch::zeros(
      {static_cast<int64_t>(rows.size()), static_cast<int64_t>(columns.size())}, torch::kFloat64);
  auto r = reach.accessor<double, 2>();
  for (const auto& [i, j] : spheres.pairs) {
    r[row_of[static_cast<size_t>(i)]][column_of[static_cast<size_t>(j)]] =
        spheres.spheres[static_cast<size_t>(i)][3] + spheres.spheres[static_cast<size_t>(j)][3];
  }
  frame_ = torch::tensor(frame, torch::kInt64);
  local64_ = torch::tensor(local, torch::kFloat64).reshape({1, count, 1, 3});
  local32_ = local64_.to(torch::kFloat32);
  rows_ = torch::tensor(rows, torch::kInt64);
  columns_ = torch::tensor(columns, torch::kInt64);
  reach64_ = reach;
  reach32_ = reach.to(torch::kFloat32);
}

torch::Tensor SelfCollisionPenalty::PerSample(const TorchFk& fk, const torch::Tensor& q) const {
  const torch::Tensor joints = fk.JointFrames(q);  // [B, n, 3, 4]
  const int64_t batch = q.size(0);
  const bool f64 = q.scalar_type() == torch::kFloat64;
  const torch::Tensor base = torch::eye(3, 4, q.options()).expand({batch, 1, 3, 4});
  const torch::Tensor frames = torch::cat({base, joints}, 1).index_select(1, frame_);  // [B, S, 3, 4]
  // c = R_BF c_F + p_BF, for every sphere: [B, S, 3].
  const torch::Tensor centres =
      (frames.narrow(3, 0, 3) * (f64 ? local64_ : local32_)).sum(3) + frames.select(3, 3);
  const torch::Tensor a = centres.index_select(1, rows_), b = centres.index_select(1, columns_);
  // |a - b|^2 = |a|^2 + |b|^2 - 2 a.b (rounding: about 1e-7 m in float32 at the distances that
  // matter); a tiny epsilon under the square root keeps the gradient finite at zero.
  const torch::Tensor squared =
      (a.pow(2).sum(2).unsqueeze(2) + b.pow(2).sum(2).unsqueeze(1) - 2.0 * torch::bmm(a, b.transpose(1, 2)))
          .clamp_min(0.0);
  const torch::Tensor distance = torch::sqrt(squared + 1e-12);  // [B, R, C]
  return torch::relu((f64 ? reach64_ : reach32_) - distance).sum({1, 2});
}

}  // namespace deepik
