#include "deepik/learn/losses.hpp"

#include <torch/torch.h>

namespace deepik {

torch::Tensor FkDistanceLoss(const TorchFk& fk, const torch::Tensor& q, const torch::Tensor& targets) {
  const torch::Tensor d2 = (fk.TipPositions(q) - targets).pow(2).sum(1);
  return torch::sqrt(d2 + 1e-12).mean();
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
