// Data-parallel training across processes and machines with libtorch's own distributed layer
// (c10d): a TCPStore hosted by rank 0 for the rendezvous, and a Gloo process group for the
// collectives. The c10d headers stay in the implementation; this header exposes only tensors.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "deepik/learn/distributed_options.hpp"

namespace deepik {

/// This process's membership of a data-parallel job. Every collective is called by every rank in
/// the same order. Every failure is a DistributedError whose message names the rank(s) concerned:
/// a lost rank (killed, crashed, machine or network down), one alive but not progressing past
/// options.timeout_seconds (hung), one that failed with an error (its message), or rank 0 gone.
class DistributedGroup {
 public:
  /// Joins the job: rank 0 opens the store on the master port, the others connect to it (waiting
  /// up to the timeout); then every rank checks the others' world size and that no rank is taken
  /// twice, and the Gloo group connects. Gloo binds to 127.0.0.1 when the master is a loopback
  /// address, to $GLOO_SOCKET_IFNAME when set, else to the address of this machine's host name.
  /// Before c10d's client talks to the master, a rank other than 0 checks that a job store listens
  /// there: it must answer a first query within 10 s (or the timeout) with a store's answer.
  /// @throws InputError for invalid options, or a master port where another service listens (it
  ///         answers with other bytes, or never); DistributedError when the master cannot be reached,
  ///         its port cannot be opened, a rank never joins or the ranks disagree on the world size.
  static std::unique_ptr<DistributedGroup> Join(const DistributedOptions& options);
  ~DistributedGroup();
  DistributedGroup(const DistributedGroup&) = delete;
  DistributedGroup& operator=(const DistributedGroup&) = delete;

  int rank() const;
  int world_size() const;
  const DistributedOptions& options() const;

  /// Sums float32 tensors in place across ranks: they are flattened into buckets of at most
  /// kBucketBytes (one all-reduce per bucket, not one per tensor) and copied back. `what` names the
  /// operation in errors ("the gradient all-reduce of step 12").
  static constexpr int64_t kBucketBytes = 25 << 20;
  void AllReduceSum(const std::vector<torch::Tensor>& tensors, const std::string& what);
  /// Every rank's `tensor` (the same shape and type on every rank), in rank order.
  std::vector<torch::Tensor> AllGather(const torch::Tensor& tensor, const std::string& what);
  /// Rank 0's `bytes` on every rank (the argument is ignored on the others).
  std::string BroadcastBytes(const std::string& bytes, const std::string& what);
  /// Every rank's `text` in rank order, exchanged through the store (for start-up agreement).
  std::vector<std::string> Exchange(const std::string& key, const std::string& text);
  /// Rank 0 runs `action`; the other ranks wait for it. When it throws, rank 0 rethrows its error
  /// and every other rank throws an InputError with the same message, so that a check only rank 0
  /// can make (its files) ends the whole job with one clear error.
  void RunOnRoot(const std::function<void()>& action, const std::string& what);

  /// This rank's optimiser step, for the messages about a rank that stops progressing.
  void SetProgress(int64_t step);
  /// Makes this rank's error known to the other ranks, which then name it (best effort).
  void PublishFailure(const std::string& message);
  /// Wall time spent in AllReduceSum so far (s), waiting for the slowest rank included.
  double allreduce_seconds() const;
  int64_t allreduce_calls() const;

 private:
  struct Impl;
  explicit DistributedGroup(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace deepik
