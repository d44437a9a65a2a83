#include "learn/train_ranks.hpp"

#include <torch/torch.h>

#include <chrono>

#include "deepik/learn/distributed.hpp"

namespace deepik::internal {

TrainRanks::TrainRanks(DistributedGroup* group)
    : group_(group != nullptr && group->world_size() > 1 ? group : nullptr),
      world_(group_ ? group_->world_size() : 1),
      rank_(group_ ? group_->rank() : 0) {}

torch::Tensor TrainRanks::BatchIndex(const torch::Tensor& order, int64_t s, int64_t batch_size) const {
  const int64_t global_batch = world_ * batch_size;
  const int64_t begin = std::min(s * global_batch + rank_, order.size(0));
  return order.slice(0, begin, std::min(order.size(0), (s + 1) * global_batch), world_);
}

std::pair<int64_t, int64_t> TrainRanks::Share(int64_t n) const {
  return {n * rank_ / world_, n * (rank_ + 1) / world_};
}

TrainRanks::StepTotals TrainRanks::AverageGradients(const std::vector<torch::Tensor>& parameters, double loss,
                                                    int64_t count, bool stop, int64_t step) {
  if (!group_) return {loss, count, stop};
  const double weight = static_cast<double>(count);
  std::vector<torch::Tensor> bucket;
  {
    torch::NoGradGuard no_grad;
    for (const torch::Tensor& p : parameters) {
      // A rank without samples in the last batch has no gradient: it adds zeros.
      if (!p.grad().defined()) p.mutable_grad() = torch::zeros_like(p);
      p.mutable_grad().mul_(weight);
      bucket.push_back(p.grad());
    }
  }
  bucket.push_back(torch::tensor({weight * loss, weight, stop ? 1.0 : 0.0}, torch::kFloat32));
  const auto start = std::chrono::steady_clock::now();
  group_->AllReduceSum(bucket, "the gradient all-reduce of step " + std::to_string(step));
  allreduce_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ++allreduce_steps_;
  const torch::Tensor totals = bucket.back().to(torch::kFloat64);
  const double total_count = totals[1].item<double>();
  if (totals[2].item<double>() > 0) return {0, 0, true};
  {
    torch::NoGradGuard no_grad;
    for (size_t i = 0; i + 1 < bucket.size(); ++i) bucket[i].div_(total_count);
  }
  return {totals[0].item<double>() / total_count, static_cast<int64_t>(total_count), false};
}

void TrainRanks::Sum(std::vector<double>* values, const std::string& what) {
  if (!group_) return;
  torch::Tensor sums = torch::tensor(*values, torch::kFloat64);
  group_->AllReduceSum({sums}, what);
  for (size_t i = 0; i < values->size(); ++i) (*values)[i] = sums[static_cast<int64_t>(i)].item<double>();
}

torch::Tensor TrainRanks::GatherShares(const torch::Tensor& mine, int64_t n, const std::string& what) {
  if (!group_) return mine;
  // Gathered padded to the longest share, then cut to each share's length.
  auto share_begin = [&](int64_t r) { return n * r / world_; };
  const int64_t longest = (n + world_ - 1) / world_;
  torch::Tensor padded = torch::zeros({longest}, mine.options());
  padded.slice(0, 0, mine.size(0)).copy_(mine);
  std::vector<torch::Tensor> all = group_->AllGather(padded, what);
  for (int64_t r = 0; r < world_; ++r) all[r] = all[r].slice(0, 0, share_begin(r + 1) - share_begin(r));
  return torch::cat(all);
}

void TrainRanks::BroadcastParameters(const std::vector<torch::Tensor>& parameters, const std::string& what) {
  if (!group_) return;
  // The others' values are zeroed and summed with rank 0's: an exact copy.
  torch::NoGradGuard no_grad;
  if (!root()) {
    for (const torch::Tensor& p : parameters) p.zero_();
  }
  group_->AllReduceSum(parameters, what);
}

std::string TrainRanks::ReadOnRoot(const std::function<std::string()>& read, const std::string& what) {
  if (!group_) return read();
  std::string bytes;
  group_->RunOnRoot([&] { bytes = read(); }, "the check of " + what);
  return group_->BroadcastBytes(bytes, "the broadcast of " + what);
}

std::vector<std::string> TrainRanks::Exchange(const std::string& key, const std::string& text) {
  if (!group_) return {text};
  return group_->Exchange(key, text);
}

void TrainRanks::SetProgress(int64_t step) {
  if (group_) group_->SetProgress(step);
}

double TrainRanks::allreduce_seconds_per_step() const {
  return allreduce_steps_ > 0 ? allreduce_seconds_ / static_cast<double>(allreduce_steps_) : 0.0;
}

}  // namespace deepik::internal
