// The state one Train call's steps share, and the steps themselves, in three files: trainer.cpp
// (set-up, start-up agreement, the model file), train_epoch.cpp (steps, validation, the epoch
// loop) and train_checkpoint.cpp (checkpoints, the log). Internal to the learn library.
#pragma once

#include <torch/torch.h>

#include <chrono>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "deepik/kinematics/torch_fk.hpp"
#include "deepik/learn/losses.hpp"
#include "deepik/learn/network.hpp"
#include "deepik/learn/trainer.hpp"
#include "learn/train_ranks.hpp"

namespace deepik::internal {

using Clock = std::chrono::steady_clock;

// The state the steps of one Train call share.
struct TrainingRun {
  TrainingRun(const Dataset& data, const Chain& chain, const NetworkOptions& network, const TrainOptions& o,
              const TrainFiles& files, std::string options_json,
              const std::function<void(const TrainProgress&)>& progress, const std::atomic<bool>* stop,
              TrainRanks& ranks, const std::vector<double>& validation_closest);

  const Chain& chain;
  const NetworkOptions& network;
  const TrainOptions& o;
  const TrainFiles& files;
  const std::string options_json;  // DecisiveOptionsJson, kept in checkpoints
  const std::function<void(const TrainProgress&)>& progress;
  const std::atomic<bool>* stop;
  // One process, or this rank of a job; rank 0 (the root) alone writes files.
  TrainRanks& ranks;

  // Initialised in declaration order, which is the order of a fresh run's torch operations and
  // random draws: reordering these members changes the weights a seed gives.
  const torch::Tensor train_targets, train_labels, val_targets, val_labels;
  const torch::Tensor mean, std_dev;
  IkNet net, best;
  torch::optim::Adam optimizer;
  const TorchFk fk;
  const int64_t n, steps_per_epoch;
  // The self-collision penalty when collision_weight > 0 (no random draw: the weights of a seed stay).
  const std::optional<SelfCollisionPenalty> collision;
  const SelfCollisionPenalty* Collision() const { return collision ? &*collision : nullptr; }
  // The validation targets out of reach (indices into the split) and the distance from each to the
  // closest reachable point (m, float64); undefined when none is known to be.
  torch::Tensor out_of_reach, closest_of_out_of_reach;

  // Where this call starts; after a resume, possibly in the middle of an epoch.
  int start_epoch = 0;
  int64_t start_step_in_epoch = 0;
  // Checkpointed along with the weights and the optimiser.
  int64_t global_step = 0;
  double seconds_before = 0;  // training time of the earlier calls of a resumed run (s)
  double best_loss = std::numeric_limits<double>::infinity();
  int epochs_since_best = 0;
  std::vector<EpochRecord> history;
  // This call only: a resumed run's times and throughput exclude the earlier runs.
  Clock::time_point run_start, last_report;
  int64_t samples_this_run = 0;
  int64_t checkpoints_written = 0;
};

// Copies `from`'s weights into `to`.
void CopyState(IkNet& from, IkNet& to);

// train_epoch.cpp: the epochs from the start (or the resume point) to the last one, an early end
// or an interruption. Sets the result's status, best record, epoch count and throughput.
void RunEpochs(TrainingRun& run, TrainResult* result);

// train_checkpoint.cpp.
// For --resume: the weights, optimiser state and counters of the checkpoint (rank 0's, on every
// rank), which must have been made with the same world size and decisive options.
void RestoreCheckpoint(TrainingRun& run);
// A checkpoint from which a resume continues at (epoch, step_in_epoch). Throws (InputError) when
// the weights are no longer finite, or when the file cannot be written: the last good checkpoint
// then stays and no temporary file is left.
void WriteCheckpoint(TrainingRun& run, int epoch, int64_t step_in_epoch);
// Training has diverged: throws InputError saying so.
[[noreturn]] void ThrowDiverged(const TrainingRun& run, const std::string& what);
// The CSV history: the header (pose models have three more columns), then one row per epoch.
void WriteLogHeader(const std::string& path, bool pose);
void AppendLog(const std::string& path, const EpochRecord& r);

}  // namespace deepik::internal
