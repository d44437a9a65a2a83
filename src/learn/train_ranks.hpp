// The collectives of the training loop, for one process or for one rank of a DistributedGroup, so
// that one loop trains either way (as pytorch/examples' dist-mnist.cpp). With one rank every
// collective does nothing: one-process training takes exactly the steps it always took.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace deepik {

class DistributedGroup;

namespace internal {

class TrainRanks {
 public:
  /// `group` null, or of world size 1: one process, whose collectives do nothing.
  explicit TrainRanks(DistributedGroup* group);

  int64_t world() const { return world_; }
  int64_t rank() const { return rank_; }
  /// Rank 0 (or the one process): it alone writes files and reports progress.
  bool root() const { return rank_ == 0; }

  /// This rank's samples of global batch `s` (of world * batch_size samples) of an epoch's `order`:
  /// every world-th from the rank-th on (PyTorch's DistributedSampler), so that the shares make up
  /// the batch of one process with batch world * batch_size. May be empty on the last batch.
  torch::Tensor BatchIndex(const torch::Tensor& order, int64_t s, int64_t batch_size) const;
  /// [begin, end) of this rank's contiguous share of `n` items.
  std::pair<int64_t, int64_t> Share(int64_t n) const;

  /// What a step's collective returns: the whole batch's mean loss and size, and whether any rank
  /// was asked to stop (then no rank steps).
  struct StepTotals {
    double loss = 0;
    int64_t count = 0;
    bool stop = false;
  };
  /// After this rank's backward pass over `count` samples of mean loss `loss`: the gradients of
  /// `parameters` become the whole batch's mean gradient (each rank's weighted by its count inside
  /// the collective: summed by one bucketed all-reduce, with the loss, the counts and the stop
  /// requests, then divided by the batch). One rank: nothing changes. `step` names it in errors.
  StepTotals AverageGradients(const std::vector<torch::Tensor>& parameters, double loss, int64_t count,
                              bool stop, int64_t step);
  /// The sums over the ranks of `values`, in place (float64).
  void Sum(std::vector<double>* values, const std::string& what);
  /// Every rank's share (Share(n)) of a 1-D tensor of n items, concatenated in rank order.
  torch::Tensor GatherShares(const torch::Tensor& mine, int64_t n, const std::string& what);
  /// Rank 0's values of `parameters` on every rank (an exact copy).
  void BroadcastParameters(const std::vector<torch::Tensor>& parameters, const std::string& what);
  /// Rank 0 runs `read`; every rank gets its bytes. When it throws, every rank throws (rank 0 its
  /// own error, the others an InputError with its message).
  std::string ReadOnRoot(const std::function<std::string()>& read, const std::string& what);
  /// Every rank's `text`, in rank order.
  std::vector<std::string> Exchange(const std::string& key, const std::string& text);
  /// This rank's optimiser step, for the messages about a rank that stops progressing.
  void SetProgress(int64_t step);
  /// The mean wall time of a step's gradient all-reduce so far (s); 0 for one process.
  double allreduce_seconds_per_step() const;

 private:
  DistributedGroup* group_;  // null: one process
  int64_t world_, rank_;
  double allreduce_seconds_ = 0;
  int64_t allreduce_steps_ = 0;
};

}  // namespace internal
}  // namespace deepik
