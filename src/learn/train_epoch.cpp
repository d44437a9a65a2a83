// The epoch loop of Train: the steps, the validation, the learning-rate schedule and the early
// end, the same for one process and for every rank of a job (TrainRanks).
#include <algorithm>
#include <cmath>
#include <optional>
#include <random>

#include "deepik/learn/accuracy.hpp"
#include "deepik/learn/losses.hpp"
#include "deepik/learn/model.hpp"
#include "learn/training_run.hpp"

namespace deepik::internal {
namespace {

// The per-epoch headline figure: the network alone on this many in-reach targets.
constexpr int64_t kReachValidationCount = 4096;

// Batch order of an epoch: a Fisher-Yates shuffle from (seed, epoch), the same on every platform,
// so that a resumed run sees exactly the batches the uninterrupted run would have seen.
torch::Tensor EpochPermutation(int64_t n, uint64_t seed, int epoch) {
  std::mt19937_64 rng(seed * 0x9E3779B97F4A7C15ULL + static_cast<uint64_t>(epoch) + 1);
  std::vector<int64_t> order(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) order[static_cast<size_t>(i)] = i;
  for (int64_t i = n - 1; i > 0; --i) {
    const auto j = static_cast<int64_t>(rng() % static_cast<uint64_t>(i + 1));
    std::swap(order[static_cast<size_t>(i)], order[static_cast<size_t>(j)]);
  }
  return torch::tensor(order, torch::kInt64);
}

// The cosine schedule at progress t in [0, 1]: learning_rate at 0, learning_rate *
// final_lr_fraction at 1 and after.
double CosineAt(const TrainOptions& o, double t) {
  const double floor = o.learning_rate * o.final_lr_fraction;
  return floor + 0.5 * (o.learning_rate - floor) * (1.0 + std::cos(M_PI * std::min(std::max(t, 0.0), 1.0)));
}

// Without a time limit: one rate per epoch, the last epoch at the floor.
double CosineRate(const TrainOptions& o, int epoch) {
  if (o.epochs <= 1) return o.learning_rate;
  return CosineAt(o, static_cast<double>(epoch) / static_cast<double>(o.epochs - 1));
}

void SetRate(torch::optim::Adam* optimizer, double rate) {
  for (auto& group : optimizer->param_groups())
    static_cast<torch::optim::AdamOptions&>(group.options()).lr(rate);
}

// A multi-head network's loss: the FK term winner-takes-all over the heads (every head a row),
// with each head's self-collision penalty added before the choice of the winner; the limit
// penalty on every head (CheckTrainInputs refuses the mse loss).
torch::Tensor MultiHeadBatchLoss(IkNet& net, const TorchFk& fk, const TrainOptions& o,
                                 const SelfCollisionPenalty* collision, const torch::Tensor& targets) {
  const int64_t batch = targets.size(0), heads = net->options.heads;
  const torch::Tensor q = net->forward_heads(targets).reshape({batch * heads, -1});
  const torch::Tensor t = targets.repeat_interleave(heads, 0);
  const torch::Tensor per_sample = net->options.target == TargetKind::kPose
                                       ? FkPoseErrors(fk, q, t, o.angle_weight)
                                       : FkDistances(fk, q, t);
  torch::Tensor loss;
  if (collision != nullptr) {
    const torch::Tensor per_head =
        o.fk_weight * per_sample + o.collision_weight * collision->PerSample(fk, q);
    loss = WinnerTakesAllLoss(per_head.reshape({batch, heads}), o.other_heads_weight);
  } else {
    loss = o.fk_weight * WinnerTakesAllLoss(per_sample.reshape({batch, heads}), o.other_heads_weight);
  }
  if (o.limit_weight > 0) loss = loss + o.limit_weight * LimitPenalty(q, net->lower, net->upper);
  return loss;
}

// The weighted sum of the enabled losses for one batch; `collision`: the self-collision penalty
// (collision_weight > 0), else null.
torch::Tensor BatchLoss(IkNet& net, const TorchFk& fk, const TrainOptions& o,
                        const SelfCollisionPenalty* collision, const torch::Tensor& targets,
                        const torch::Tensor& labels) {
  if (net->options.heads > 1) return MultiHeadBatchLoss(net, fk, o, collision, targets);
  const torch::Tensor q = net->forward(targets);
  torch::Tensor loss = torch::zeros({}, torch::kFloat32);
  if (o.fk_weight > 0) {
    loss = loss + o.fk_weight * (net->options.target == TargetKind::kPose
                                     ? FkPoseLoss(fk, q, targets, o.angle_weight)
                                     : FkDistanceLoss(fk, q, targets));
  }
  if (o.mse_weight > 0) loss = loss + o.mse_weight * AngleMseLoss(q, labels, net->sincos);
  if (o.limit_weight > 0) loss = loss + o.limit_weight * LimitPenalty(q, net->lower, net->upper);
  if (collision != nullptr) loss = loss + o.collision_weight * (*collision)(fk, q);
  return loss;
}

// A split's loss and error figures, without gradients.
struct Validation {
  double loss = 0;
  double median = 0;  // position error (m)
  // Pose models only (NaN otherwise): position p95 (m), angle median and p95 (rad).
  double p95 = std::numeric_limits<double>::quiet_NaN();
  double angle_median = std::numeric_limits<double>::quiet_NaN();
  double angle_p95 = std::numeric_limits<double>::quiet_NaN();
};

// What Validation is computed from: the summed loss and the errors of every sample (a job of
// several ranks gathers them from each rank's share).
struct ValidationParts {
  double loss_sum = 0;
  int64_t n = 0;
  torch::Tensor errors, angles;  // angles: pose models only
};

ValidationParts ValidateParts(IkNet& net, const TorchFk& fk, const TrainOptions& o,
                              const SelfCollisionPenalty* collision, const torch::Tensor& targets,
                              const torch::Tensor& labels) {
  torch::NoGradGuard no_grad;
  net->eval();
  const bool pose = net->options.target == TargetKind::kPose;
  double loss_sum = 0;
  std::vector<torch::Tensor> errors, angles;
  const int64_t n = targets.size(0), chunk = 8192;
  for (int64_t begin = 0; begin < n; begin += chunk) {
    const int64_t end = std::min(n, begin + chunk);
    const torch::Tensor t = targets.slice(0, begin, end);
    const torch::Tensor l = labels.defined() ? labels.slice(0, begin, end) : labels;
    loss_sum += BatchLoss(net, fk, o, collision, t, l).item<double>() * static_cast<double>(end - begin);
    if (pose) {
      const TorchPoses poses = fk.TipPoses(net->forward(t));
      errors.push_back((poses.p_BT - t.slice(1, 0, 3)).norm(2, 1));
      angles.push_back(GeodesicAngle(RotationFromTwoColumns(t.slice(1, 3, 9)), poses.R_BT));
    } else {
      errors.push_back((fk.TipPositions(net->forward(t)) - t).norm(2, 1));
    }
  }
  net->train();
  ValidationParts parts;
  parts.loss_sum = loss_sum;
  parts.n = n;
  // A rank's share of a small validation split may be empty.
  parts.errors = errors.empty() ? torch::empty({0}, torch::kFloat32) : torch::cat(errors);
  if (pose) parts.angles = angles.empty() ? torch::empty({0}, torch::kFloat32) : torch::cat(angles);
  return parts;
}

Validation Summarise(const ValidationParts& parts, bool pose) {
  Validation v;
  v.loss = parts.loss_sum / static_cast<double>(std::max<int64_t>(parts.n, 1));
  const torch::Tensor& all = parts.errors;
  v.median = all.median().item<double>();
  if (pose) {
    const torch::Tensor all_angles = parts.angles.to(torch::kFloat64);
    v.p95 = torch::quantile(all.to(torch::kFloat64), 0.95).item<double>();
    v.angle_median = torch::quantile(all_angles, 0.5).item<double>();
    v.angle_p95 = torch::quantile(all_angles, 0.95).item<double>();
  }
  return v;
}

// The training loss of the batches of this call in the current epoch.
struct RunningLoss {
  double sum = 0;
  int64_t count = 0;

  double Mean() const { return count > 0 ? sum / static_cast<double>(count) : 0.0; }
};

// One optimiser step on global batch `s` of the epoch's batch order: this rank's share of it (all
// of it for one process), its backward pass, the ranks' collective (the batch's mean gradient, its
// loss and size, and whether any rank was asked to stop: then nothing steps), then the same Adam
// step on every rank.
TrainRanks::StepTotals TrainStep(TrainingRun& run, const torch::Tensor& order, int64_t s) {
  const torch::Tensor index = run.ranks.BatchIndex(order, s, run.o.batch_size);
  run.optimizer.zero_grad();
  double loss = 0;
  if (index.size(0) > 0) {  // the last batch of an epoch may leave a rank of a job without samples
    const torch::Tensor targets = run.train_targets.index_select(0, index);
    const torch::Tensor labels =
        run.train_labels.defined() ? run.train_labels.index_select(0, index) : run.train_labels;
    const torch::Tensor batch_loss = BatchLoss(run.net, run.fk, run.o, run.Collision(), targets, labels);
    batch_loss.backward();
    loss = batch_loss.item<double>();
  }
  const bool stop_here = run.stop != nullptr && run.stop->load();
  const TrainRanks::StepTotals totals =
      run.ranks.AverageGradients(run.net->parameters(), loss, index.size(0), stop_here, run.global_step + 1);
  if (totals.stop) return totals;
  run.optimizer.step();
  ++run.global_step;
  run.samples_this_run += totals.count;
  return totals;
}

// The progress callback after step `s`, unless one was made less than progress_interval_seconds ago.
void ReportStepProgress(TrainingRun& run, int epoch, int64_t s, const RunningLoss& loss) {
  const auto now = Clock::now();
  if (!run.progress ||
      std::chrono::duration<double>(now - run.last_report).count() < run.o.progress_interval_seconds) {
    return;
  }
  run.last_report = now;
  TrainProgress p;
  p.epoch = epoch;
  p.epochs = run.o.epochs;
  p.step_in_epoch = s + 1;
  p.steps_per_epoch = run.steps_per_epoch;
  p.running_loss = loss.Mean();
  p.elapsed_seconds = std::chrono::duration<double>(now - run.run_start).count();
  // Steps of this call only, as the elapsed time is this call's.
  const double done =
      static_cast<double>((epoch - run.start_epoch) * run.steps_per_epoch + s + 1 - run.start_step_in_epoch);
  const double total =
      static_cast<double>((run.o.epochs - run.start_epoch) * run.steps_per_epoch - run.start_step_in_epoch);
  const double per_step = p.elapsed_seconds / std::max(done, 1.0);
  p.eta_seconds = per_step * (total - done);
  if (run.o.time_limit_seconds > 0 && per_step > 0) {
    // The run ends with the epoch in which the time limit falls (if the epochs do not end first).
    const double left = run.o.time_limit_seconds - (run.seconds_before + p.elapsed_seconds);
    const double rest_of_epoch = static_cast<double>(run.steps_per_epoch - (s + 1));
    double steps = rest_of_epoch;
    if (left / per_step > rest_of_epoch) {
      steps += std::ceil((left / per_step - rest_of_epoch) / static_cast<double>(run.steps_per_epoch)) *
               static_cast<double>(run.steps_per_epoch);
    }
    p.eta_seconds = std::min(p.eta_seconds, steps * per_step);
  }
  run.progress(p);
}

// The epoch's mini-batches, from where a resumed run left off. False when `stop` interrupted the
// epoch, after a checkpoint at the first step not taken.
bool RunEpochSteps(TrainingRun& run, int epoch, RunningLoss* loss) {
  const torch::Tensor order = EpochPermutation(run.n, run.o.seed, epoch);
  const int64_t first_step = epoch == run.start_epoch ? run.start_step_in_epoch : 0;
  for (int64_t s = first_step; s < run.steps_per_epoch; ++s) {
    run.ranks.SetProgress(run.global_step);
    const TrainRanks::StepTotals step = TrainStep(run, order, s);
    if (step.stop) {
      WriteCheckpoint(run, epoch, s);
      return false;
    }
    if (!std::isfinite(step.loss)) ThrowDiverged(run, "the loss became " + std::to_string(step.loss));
    loss->sum += step.loss;
    ++loss->count;
    if (run.global_step % run.o.checkpoint_every == 0) WriteCheckpoint(run, epoch, s + 1);
    ReportStepProgress(run, epoch, s, *loss);
  }
  return true;
}

// Each rank validates its contiguous share of the split (one process: all of it); the summed losses
// and every sample's errors reach every rank, which all compute the same figures. `seconds` becomes
// rank 0's (so that the time limit stops every rank at the same epoch).
ValidationParts ValidateShares(TrainingRun& run, int epoch, double* seconds) {
  const int64_t nv = run.val_targets.size(0);
  const auto [begin, end] = run.ranks.Share(nv);
  ValidationParts parts =
      ValidateParts(run.net, run.fk, run.o, run.Collision(), run.val_targets.slice(0, begin, end),
                    run.val_labels.defined() ? run.val_labels.slice(0, begin, end) : run.val_labels);
  // The epoch's time as this rank ends its validation (before the wait for the others).
  *seconds = std::chrono::duration<double>(Clock::now() - run.run_start).count();
  const std::string what = "the validation of epoch " + std::to_string(epoch + 1);
  std::vector<double> sums{parts.loss_sum, run.ranks.root() ? *seconds : 0.0};
  run.ranks.Sum(&sums, what);
  *seconds = sums[1];
  ValidationParts whole;
  whole.loss_sum = sums[0];
  whole.n = nv;
  whole.errors = run.ranks.GatherShares(parts.errors, nv, what);
  if (parts.angles.defined()) whole.angles = run.ranks.GatherShares(parts.angles, nv, what);
  return whole;
}

// The headline figure of the network as it is now, by the headline's own route (the model file's
// forward pass, Newton steps included): the network alone on kReachValidationCount in-reach
// targets (FK of uniform random joint values, seeded, never in training); every rank alike.
ErrorStats InReachNow(TrainingRun& run) {
  const SafetensorsFile file = MakeModelFile(run.chain, run.network, ModelTensors(run.net), "{}", {}, "{}");
  const IkModel model = IkModel::FromSafetensors(file, "the network of this epoch");
  return EvaluateNetworkInReach(model, kReachValidationCount, run.o.seed + 2000003).position;
}

// The epoch's history row, with the validation of the network as it ends the epoch.
EpochRecord ValidateEpoch(TrainingRun& run, int epoch, double rate, const RunningLoss& loss) {
  const ErrorStats in_reach = InReachNow(run);
  double seconds = 0;
  const ValidationParts parts = ValidateShares(run, epoch, &seconds);
  const Validation v = Summarise(parts, run.network.target == TargetKind::kPose);
  EpochRecord record;
  record.validation_median_in_reach = in_reach.median;
  record.validation_p99_in_reach = in_reach.p99;
  if (run.out_of_reach.defined() && run.out_of_reach.numel() > 0) {
    const torch::Tensor errors = parts.errors.to(torch::kFloat64).index_select(0, run.out_of_reach);
    record.out_of_reach_excess_median =
        torch::quantile(errors - run.closest_of_out_of_reach, 0.5).item<double>();
  }
  record.epoch = epoch + 1;
  record.step = run.global_step;
  record.train_loss = loss.Mean();
  record.validation_loss = v.loss;
  record.validation_median = v.median;
  record.validation_p95 = v.p95;
  record.validation_angle_median = v.angle_median;
  record.validation_angle_p95 = v.angle_p95;
  record.learning_rate = rate;
  record.seconds = seconds;
  return record;
}

void ReportEpochProgress(const TrainingRun& run, int epoch, const EpochRecord& record) {
  if (!run.progress) return;
  TrainProgress p;
  p.epoch = epoch;
  p.epochs = run.o.epochs;
  p.step_in_epoch = run.steps_per_epoch;
  p.steps_per_epoch = run.steps_per_epoch;
  p.running_loss = record.train_loss;
  p.elapsed_seconds = record.seconds;
  p.epoch_done = true;
  p.record = record;
  run.progress(p);
}

// After an epoch's steps: validation, the log row, the best weights so far, the checkpoint at the
// epoch boundary and the progress callback. Returns the epoch's record.
EpochRecord EndEpoch(TrainingRun& run, int epoch, double rate, const RunningLoss& loss, TrainResult* result) {
  const EpochRecord record = ValidateEpoch(run, epoch, rate, loss);
  run.history.push_back(record);
  if (run.ranks.root()) AppendLog(run.files.log_path, record);
  if (std::isfinite(record.validation_loss) && record.validation_loss < run.best_loss) {
    run.best_loss = record.validation_loss;
    run.epochs_since_best = 0;
    CopyState(run.net, run.best);
    result->best = record;
  } else {
    ++run.epochs_since_best;
  }
  WriteCheckpoint(run, epoch + 1, 0);
  ReportEpochProgress(run, epoch, record);
  return record;
}

// Why the run ends early after this epoch, if it does.
std::optional<TrainStatus> EarlyEnd(const TrainingRun& run, const EpochRecord& record) {
  if (run.o.patience > 0 && run.epochs_since_best >= run.o.patience) return TrainStatus::kEarlyStopped;
  if (run.o.time_limit_seconds > 0 && run.seconds_before + record.seconds >= run.o.time_limit_seconds) {
    return TrainStatus::kTimeLimit;
  }
  return std::nullopt;
}

// The learning rate of an epoch. With a time limit, the cosine follows whichever ends the run
// first: the epochs, or the time limit, which ends it with the epoch in which it falls; that epoch
// is predicted to end one epoch's time (the last one's, in this call) after this one starts, and
// runs at the floor. The times are the history's, which every rank of a job shares (rank 0's).
double EpochRate(const TrainingRun& run, int epoch) {
  const double by_epochs = CosineRate(run.o, epoch);
  if (run.o.time_limit_seconds <= 0) return by_epochs;
  const size_t this_call = static_cast<size_t>(epoch - run.start_epoch);  // this call's records so far
  const double started = this_call == 0 ? 0.0 : run.history.back().seconds;
  const double last_epoch =
      this_call == 0 ? 0.0 : started - (this_call >= 2 ? run.history[run.history.size() - 2].seconds : 0.0);
  const double by_time =
      CosineAt(run.o, (run.seconds_before + started + last_epoch) / run.o.time_limit_seconds);
  // Never back up: a faster epoch moves the predicted end earlier.
  const double before = run.history.empty() ? run.o.learning_rate : run.history.back().learning_rate;
  return std::min({by_epochs, by_time, before});
}

}  // namespace

// The epochs from the start (or the resume point) to the last one, an early end or an interruption.
// Sets the result's status, best record, epoch count and throughput.
void RunEpochs(TrainingRun& run, TrainResult* result) {
  run.run_start = Clock::now();
  run.last_report = run.run_start;
  run.net->train();
  if (!run.files.resume && run.ranks.root())
    WriteLogHeader(run.files.log_path, run.network.target == TargetKind::kPose);
  int epoch = run.start_epoch;
  for (; epoch < run.o.epochs; ++epoch) {
    const double rate = EpochRate(run, epoch);
    SetRate(&run.optimizer, rate);
    RunningLoss loss;
    if (!RunEpochSteps(run, epoch, &loss)) {
      result->status = TrainStatus::kInterrupted;
      break;
    }
    const EpochRecord record = EndEpoch(run, epoch, rate, loss, result);
    if (const std::optional<TrainStatus> end = EarlyEnd(run, record)) {
      result->status = *end;
      ++epoch;  // this epoch was run in full
      break;
    }
  }
  result->epochs_run = epoch;
  const double seconds = std::chrono::duration<double>(Clock::now() - run.run_start).count();
  result->samples_per_second = seconds > 0 ? static_cast<double>(run.samples_this_run) / seconds : 0;
  result->world_size = static_cast<int>(run.ranks.world());
  result->allreduce_seconds_per_step = run.ranks.allreduce_seconds_per_step();
}

}  // namespace deepik::internal
