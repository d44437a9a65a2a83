// Training an IK network on a dataset: Adam, cosine learning-rate schedule, mini-batches,
// validation every epoch, early stopping, checkpoints and resume.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "deepik/data/dataset.hpp"
#include "deepik/data/metrics.hpp"
#include "deepik/data/option_range.hpp"
#include "deepik/geometry/collision_model.hpp"
#include "deepik/learn/model.hpp"
#include "deepik/learn/network_options.hpp"

namespace deepik {

class DistributedGroup;

/// Loss weights and optimisation settings. Defaults in the declaration.
struct TrainOptions {
  double fk_weight = 1.0;     ///< the seed's FK distance loss (m); needs no labels
  double mse_weight = 0.0;    ///< joint-value MSE (rad^2); needs labels
  double limit_weight = 0.0;  ///< limit penalty (the original app's "comfort" term), for the free head
  /// Pose models: the FK term is |p - p*| (m) + angle_weight * geodesic angle (rad), so this is in
  /// m per rad: 0.1 weighs 1 deg of orientation error as 1.75 mm of position error.
  double angle_weight = 0.1;
  /// Multi-head models (NetworkOptions::heads > 1): the FK term is the relaxed winner-takes-all
  /// loss (WinnerTakesAllLoss), per sample the least head's FK loss plus this times the heads'
  /// mean, so that no head is left untrained. Without effect on one head.
  double other_heads_weight = 0.05;
  /// The self-collision penalty (SelfCollisionPenalty, m of sphere overlap) of the network's joint
  /// answer, added with this weight; 0 = off. Multi-head models: added to each head's FK loss before
  /// the winner-takes-all choice, so the head trained on a sample is the one best by both. Needs
  /// `collision_spheres`.
  double collision_weight = 0.0;
  /// The spheres and sphere pairs the penalty places (PairwiseSpheres of the arm's coarse sphere
  /// model and its checked pairs; `deepik train` makes them from the shipped or given files). The
  /// model file records their counts beside collision_weight.
  SelfCollisionSpheres collision_spheres;
  int epochs = 100;
  int64_t batch_size = 1024;        ///< per rank: a job of W ranks steps on batches of W * batch_size
  double learning_rate = 1e-3;      ///< Adam's initial step size
  double final_lr_fraction = 0.01;  ///< cosine decay to learning_rate * this at the last epoch
  int patience = 0;  ///< stop after this many epochs without a better validation loss; 0 = never
  int64_t checkpoint_every = 500;  ///< optimiser steps between checkpoints (and at each epoch end)
  /// Stop at the first epoch end past this much training time (earlier calls of a resumed run
  /// included); the learning-rate schedule then ends there too. 0 = no limit.
  double time_limit_seconds = 0;
  uint64_t seed = 1;             ///< weights and batch order
  int threads = 2;               ///< libtorch intra-op threads; results are deterministic per (seed, threads)
  int64_t eval_samples = 10000;  ///< in-reach test targets (FK of uniform joints) for the headline metrics
  double progress_interval_seconds = 0.25;  ///< least time between progress callbacks within an epoch

  // The ranges (one definition each: IsValid, `deepik train`'s --help and checks, Python's train).
  // Beyond them a run would take years or cannot learn, so the value is a typo.
  static constexpr NumberRange kAngleWeight{0.0, 1e3};       ///< angle_weight (m per rad)
  static constexpr NumberRange kOtherHeadsWeight{0.0, 1e3};  ///< other_heads_weight
  static constexpr NumberRange kCollisionWeight{0.0, 1e3};   ///< collision_weight (per m of overlap)
  static constexpr WholeRange kEpochs{1, 1'000'000};
  static constexpr WholeRange kBatchSize{1, int64_t{1} << 24};
  static constexpr NumberRange kLearningRate{1e-10, 1.0};
  static constexpr NumberRange kFinalLrFraction{1e-9, 1.0};
  static constexpr WholeRange kPatience{0, 1'000'000};
  static constexpr WholeRange kCheckpointEvery{1, int64_t{1} << 40};
  static constexpr NumberRange kTimeLimitSeconds{0.0, 1e9};
  static constexpr WholeRange kThreads = kThreadRange;
  static constexpr WholeRange kEvalSamples{1, 10'000'000};

  /// True when valid; otherwise false with `error` naming the offending field and its range
  /// ("learning_rate: expected a number in [1e-10, 1], got 5").
  bool IsValid(std::string* error) const;
};

std::string TrainOptionsToJson(const TrainOptions& options);

/// True for an output that is a device (such as /dev/null), a pipe or a socket, or anything under
/// /dev/ or /proc/: training writes to it but puts nothing beside it (no lock file; the command
/// line makes no default checkpoint or log there).
bool IsDeviceFile(const std::string& path);

/// Where a run keeps its files.
struct TrainFiles {
  std::string model_path;  ///< the final model (safetensors), written at the end
  /// Resumable state, written every checkpoint_every steps; empty = none (an interrupted run then
  /// keeps nothing, and there is nothing to resume).
  std::string checkpoint_path;
  std::string log_path;  ///< CSV history, one row per epoch; empty = none
  bool resume = false;   ///< continue from checkpoint_path
  /// The arm's URDF shapes (VisualsToJson), kept in the model as its "visuals"; empty = none.
  std::string arm_visuals_json;
};

/// What the progress callback sees, several times per second at most.
struct TrainProgress {
  int epoch = 0, epochs = 0;
  int64_t step_in_epoch = 0, steps_per_epoch = 0;
  double running_loss = 0;
  double elapsed_seconds = 0, eta_seconds = 0;
  bool epoch_done = false;
  EpochRecord record;  ///< filled when epoch_done
};

/// How a run ended.
enum class TrainStatus { kCompleted, kEarlyStopped, kTimeLimit, kInterrupted };
const char* ToString(TrainStatus status);

/// The outcome of Train.
struct [[nodiscard]] TrainResult {
  TrainStatus status = TrainStatus::kCompleted;
  int epochs_run = 0;
  EpochRecord best;     ///< the epoch whose weights were kept
  ErrorStats in_reach;  ///< headline: network alone on unseen FK targets (position error, m)
  std::optional<ErrorStats> in_reach_angle;  ///< pose models: the angle error on the same targets (rad)
  int64_t limit_violations = 0;
  double samples_per_second = 0;  ///< of the whole job (every rank's samples)
  int world_size = 1;             ///< the ranks that trained (1: one process)
  /// Jobs of several ranks: the mean wall time of a step's gradient all-reduce, waiting for the
  /// slowest rank included (s).
  double allreduce_seconds_per_step = 0;
};

/// Trains and writes the model file (the weights of the best validation epoch). A pose model
/// (network.target == kPose) learns the poses FK gives for the data's joint labels (a joints or
/// grid dataset: configurations drawn within the limits), with the FK pose loss (FkPoseLoss). On interruption
/// (`stop` becomes true) it writes a checkpoint and returns kInterrupted without a model file. Files
/// that are not regular files (a device such as /dev/null, a pipe) are written to but never locked
/// (no FILE.lock beside them).
///
/// With a `group` of W > 1 ranks (DistributedGroup), this process is one rank of a data-parallel
/// job; every rank calls Train with the same data and options (checked at the start: a difference
/// is a DistributedError naming it). Each epoch's shuffled order (from the seed and the epoch, the
/// same on every rank) is cut into global batches of W * batch_size samples; rank r takes every
/// W-th sample of each, starting at the r-th (as PyTorch's DistributedSampler), so that a step is
/// that of one process with batch W * batch_size: the gradients, weighted by each rank's batch, are
/// summed with bucketed c10d all-reduces, then every rank takes the same Adam step. Validation is
/// split across the ranks and reduced. Rank 0 alone writes the log, the checkpoints and the model
/// file (which records the world size and the per-rank batch); a stop on any rank stops every rank
/// at the same step, with rank 0's checkpoint. A checkpoint resumes only with the world size it was
/// made with (else InputError). W == 1 (or no group) is one-process training, unchanged.
///
/// Every epoch's history row also has the figure of the headline: the network alone on 4,096
/// fixed in-reach targets (FK of uniform random joint values, seeded from `seed`, never in
/// training), median and p99. `validation_closest`, when given, is the distance from each
/// validation target to the closest reachable point (m; 0 or below 1e-6 for a target in reach),
/// which the caller finds with a model-free solver; the history then shows, over the targets out
/// of reach, the median of the network's error in excess of it.
///
/// With a time limit, the learning rate's cosine ends at the epoch in which the limit falls, and
/// the limit counts the training time of every call of a resumed run.
/// @throws std::invalid_argument for invalid options or losses the data cannot support (MSE
///         or pose targets without labels); InputError when resuming from a missing or mismatched checkpoint;
///         DistributedError when a rank is lost or the ranks disagree.
TrainResult Train(const Dataset& data, const NetworkOptions& network, const TrainOptions& options,
                  const TrainFiles& files,
                  const std::function<void(const TrainProgress&)>& progress = nullptr,
                  const std::atomic<bool>* stop = nullptr, DistributedGroup* group = nullptr,
                  const std::vector<double>& validation_closest = {});

/// Headline metrics of a position model: the network alone on `count` targets made by FK of
/// uniform random joint values (seeded), which a training set never contains exactly
/// (EvaluateNetworkInReach's position errors; it covers pose models too).
ErrorStats EvaluateInReach(const IkModel& model, int64_t count, uint64_t seed, int64_t* limit_violations);

}  // namespace deepik
