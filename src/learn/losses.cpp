#include "deepik/learn/losses.hpp"

#include <torch/torch.h>

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

}  // namespace deepik
