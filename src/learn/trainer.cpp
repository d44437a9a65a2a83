#include "deepik/learn/trainer.hpp"

#include <torch/serialize.h>
#include <torch/torch.h>
#include <torch/version.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iomanip>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <sstream>

#include "data/json_util.hpp"
#include "deepik/data/csv.hpp"
#include "deepik/data/file_lock.hpp"
#include "deepik/data/random.hpp"
#include "deepik/errors.hpp"
#include "deepik/kinematics/chain_json.hpp"
#include "deepik/kinematics/fk.hpp"
#include "deepik/learn/accuracy.hpp"
#include "deepik/learn/distributed.hpp"
#include "deepik/learn/losses.hpp"
#include "deepik/learn/network.hpp"

namespace deepik {
namespace {

using Clock = std::chrono::steady_clock;

torch::Tensor ToTensor(const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>& m) {
  return torch::from_blob(const_cast<double*>(m.data()), {m.rows(), m.cols()}, torch::kFloat64)
      .to(torch::kFloat32)
      .clone();
}

torch::Tensor ToTensor(const Eigen::Matrix<double, Eigen::Dynamic, 3, Eigen::RowMajor>& m) {
  return torch::from_blob(const_cast<double*>(m.data()), {m.rows(), 3}, torch::kFloat64)
      .to(torch::kFloat32)
      .clone();
}

// The network's inputs for a split: its positions, or for a pose model the PoseInput of the tip
// pose FK gives for each joint label.
torch::Tensor InputTensor(const DatasetSplit& split, const Chain& chain, TargetKind target) {
  if (target == TargetKind::kPosition) return ToTensor(split.targets);
  Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> inputs(split.size(), 9);
  for (int64_t i = 0; i < split.size(); ++i) {
    const Eigen::Isometry3d X_BT = TipPose(chain, split.labels.row(i).transpose());
    inputs.row(i) = PoseInput(X_BT.translation(), X_BT.linear()).transpose();
  }
  return ToTensor(inputs);
}

// The per-epoch headline figure: the network alone on this many in-reach targets.
constexpr int64_t kReachValidationCount = 4096;
// A validation target whose closest reachable point is farther than this (m) is out of reach.
constexpr double kInReachTolerance = 1e-6;

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
// the limit penalty on every head (CheckTrainInputs refuses the mse loss).
torch::Tensor MultiHeadBatchLoss(IkNet& net, const TorchFk& fk, const TrainOptions& o,
                                 const torch::Tensor& targets) {
  const int64_t batch = targets.size(0), heads = net->options.heads;
  const torch::Tensor q = net->forward_heads(targets).reshape({batch * heads, -1});
  const torch::Tensor t = targets.repeat_interleave(heads, 0);
  const torch::Tensor per_sample = net->options.target == TargetKind::kPose
                                       ? FkPoseErrors(fk, q, t, o.angle_weight)
                                       : FkDistances(fk, q, t);
  torch::Tensor loss =
      o.fk_weight * WinnerTakesAllLoss(per_sample.reshape({batch, heads}), o.other_heads_weight);
  if (o.limit_weight > 0) loss = loss + o.limit_weight * LimitPenalty(q, net->lower, net->upper);
  return loss;
}

// The weighted sum of the enabled losses for one batch.
torch::Tensor BatchLoss(IkNet& net, const TorchFk& fk, const TrainOptions& o, const torch::Tensor& targets,
                        const torch::Tensor& labels) {
  if (net->options.heads > 1) return MultiHeadBatchLoss(net, fk, o, targets);
  const torch::Tensor q = net->forward(targets);
  torch::Tensor loss = torch::zeros({}, torch::kFloat32);
  if (o.fk_weight > 0) {
    loss = loss + o.fk_weight * (net->options.target == TargetKind::kPose
                                     ? FkPoseLoss(fk, q, targets, o.angle_weight)
                                     : FkDistanceLoss(fk, q, targets));
  }
  if (o.mse_weight > 0) loss = loss + o.mse_weight * AngleMseLoss(q, labels, net->sincos);
  if (o.limit_weight > 0) loss = loss + o.limit_weight * LimitPenalty(q, net->lower, net->upper);
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
                              const torch::Tensor& targets, const torch::Tensor& labels) {
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
    loss_sum += BatchLoss(net, fk, o, t, l).item<double>() * static_cast<double>(end - begin);
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

void CopyState(IkNet& from, IkNet& to) {
  torch::NoGradGuard no_grad;
  auto source = from->named_parameters();
  for (auto& p : to->named_parameters()) p.value().copy_(source[p.key()]);
}

// `to` holding `from`'s weights. `to` is still built with its own random initial weights first, so
// that the random stream, and with it everything a seed decides, stays what it was.
IkNet WithWeightsOf(IkNet& from, IkNet to) {
  CopyState(from, to);
  return to;
}

// Throws for options or data a run cannot use, before anything is read or written.
void CheckTrainInputs(const Dataset& data, const NetworkOptions& network, const TrainOptions& o) {
  std::string error;
  if (!o.IsValid(&error)) throw std::invalid_argument("train options: " + error);
  if (!network.IsValid(&error)) throw std::invalid_argument("network options: " + error);
  if (o.mse_weight > 0 && !data.train.has_labels()) {
    throw std::invalid_argument("loss mse needs joint labels, but this dataset has none (sampler '" +
                                std::string(ToString(data.options.kind)) +
                                "'); use the fk loss or a grid/joints dataset");
  }
  if (network.heads > 1 && o.mse_weight > 0) {
    throw std::invalid_argument(
        "loss mse: a multi-head network (heads " + std::to_string(network.heads) +
        ") learns from the fk loss alone (winner-takes-all); one joint label per target would pull every "
        "head to the same solution. Use --loss fk (or fk+limit), or one head");
  }
  if (network.target == TargetKind::kPose && !data.train.has_labels()) {
    throw std::invalid_argument(
        "pose targets are the FK poses of the dataset's joint values, but this dataset "
        "has none (sampler '" +
        std::string(ToString(data.options.kind)) + "'); use a joints or grid dataset");
  }
  if (data.train.size() == 0 || data.validation.size() == 0) {
    throw std::invalid_argument("dataset: expected non-empty train and validation splits");
  }
}

// What decides the weights; a resumed run must match it (the time limit, checkpoint interval
// and evaluation size may change between runs).
std::string DecisiveOptionsJson(const Dataset& data, const NetworkOptions& network, const TrainOptions& o) {
  nlohmann::json decisive = nlohmann::json::parse(TrainOptionsToJson(o));
  for (const char* free_key : {"patience", "checkpoint_every", "time_limit_seconds", "eval_samples"}) {
    decisive.erase(free_key);
  }
  // Without effect on a position model: its checkpoints from before pose models still resume.
  if (network.target == TargetKind::kPosition) decisive.erase("angle_weight");
  // Likewise for one head: its checkpoints from before multi-head models still resume.
  if (network.heads == 1) decisive.erase("other_heads_weight");
  decisive["network"] = NetworkOptionsToJson(network);
  decisive["data"] = data.arm_json + std::to_string(data.train.size());
  return decisive.dump();
}

// The state the steps of one Train call share.
struct TrainingRun {
  TrainingRun(const Dataset& data, const Chain& chain, const NetworkOptions& network, const TrainOptions& o,
              const TrainFiles& files, std::string options_json,
              const std::function<void(const TrainProgress&)>& progress, const std::atomic<bool>* stop,
              DistributedGroup* group, const std::vector<double>& validation_closest);

  const Chain& chain;
  const NetworkOptions& network;
  const TrainOptions& o;
  const TrainFiles& files;
  const std::string options_json;  // DecisiveOptionsJson, kept in checkpoints
  const std::function<void(const TrainProgress&)>& progress;
  const std::atomic<bool>* stop;
  // A job of several ranks (world > 1), or null for one process; rank 0 is the root, which alone
  // writes files.
  DistributedGroup* const group;
  const int64_t world, rank;
  const bool root;

  // Initialised in declaration order, which is the order of a fresh run's torch operations and
  // random draws: reordering these members changes the weights a seed gives.
  const torch::Tensor train_targets, train_labels, val_targets, val_labels;
  const torch::Tensor mean, std_dev;
  IkNet net, best;
  torch::optim::Adam optimizer;
  const TorchFk fk;
  const int64_t n, steps_per_epoch;
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
  double allreduce_seconds = 0;  // the gradient all-reduces of this call (several ranks)
  int64_t allreduce_steps = 0;
};

TrainingRun::TrainingRun(const Dataset& data, const Chain& chain, const NetworkOptions& network,
                         const TrainOptions& o, const TrainFiles& files, std::string options_json,
                         const std::function<void(const TrainProgress&)>& progress,
                         const std::atomic<bool>* stop, DistributedGroup* group,
                         const std::vector<double>& validation_closest)
    : chain(chain),
      network(network),
      o(o),
      files(files),
      options_json(std::move(options_json)),
      progress(progress),
      stop(stop),
      group(group),
      world(group ? group->world_size() : 1),
      rank(group ? group->rank() : 0),
      root(rank == 0),
      train_targets(InputTensor(data.train, chain, network.target)),
      train_labels(data.train.has_labels() ? ToTensor(data.train.labels) : torch::Tensor()),
      val_targets(InputTensor(data.validation, chain, network.target)),
      val_labels(data.validation.has_labels() ? ToTensor(data.validation.labels) : torch::Tensor()),
      mean(train_targets.mean(0)),
      std_dev(train_targets.std(0).clamp_min(1e-6)),
      net(chain, network, mean, std_dev),
      best(WithWeightsOf(net, IkNet(chain, network, mean, std_dev))),
      optimizer(net->parameters(), torch::optim::AdamOptions(o.learning_rate)),
      fk(chain),
      n(train_targets.size(0)),
      // A step takes a global batch of world * batch_size samples.
      steps_per_epoch((n + o.batch_size * world - 1) / (o.batch_size * world)) {
  if (validation_closest.empty()) return;
  if (static_cast<int64_t>(validation_closest.size()) != val_targets.size(0)) {
    throw std::invalid_argument("validation_closest: expected one distance per validation target (" +
                                std::to_string(val_targets.size(0)) + "), got " +
                                std::to_string(validation_closest.size()));
  }
  std::vector<int64_t> indices;
  std::vector<double> distances;
  for (size_t i = 0; i < validation_closest.size(); ++i) {
    if (validation_closest[i] > kInReachTolerance) {
      indices.push_back(static_cast<int64_t>(i));
      distances.push_back(validation_closest[i]);
    }
  }
  out_of_reach = torch::tensor(indices, torch::kInt64);
  closest_of_out_of_reach = torch::tensor(distances, torch::kFloat64);
}

std::string RanksText(int64_t world) {
  return world == 1 ? "one process" : "a job of " + std::to_string(world) + " ranks";
}

// A checkpoint resumes only a run of the world size and the decisive options it was made with.
void CheckCheckpoint(const TrainingRun& run, torch::serialize::InputArchive& archive) {
  const std::string& path = run.files.checkpoint_path;
  c10::IValue value;
  // Absent from the checkpoints of one process.
  const int64_t world = archive.try_read("world_size", value) ? value.toInt() : 1;
  if (world != run.world) {
    throw InputError(path + ": cannot resume: the checkpoint was made by " + RanksText(world) + ", this is " +
                     RanksText(run.world) +
                     " (another world size would change every batch); resume with the same world size (" +
                     (world == 1
                          ? std::string("no --nproc, WORLD_SIZE or --world-size")
                          : "--nproc " + std::to_string(world) + ", or WORLD_SIZE=" + std::to_string(world) +
                                " with ranks 0.." + std::to_string(world - 1)) +
                     ") or start afresh without --resume");
  }
  archive.read("options", value);
  if (value.toStringRef() != run.options_json) {
    throw InputError(path +
                     ": cannot resume: the checkpoint was made with other training or network options");
  }
}

torch::serialize::InputArchive LoadCheckpointArchive(const std::string& path, const std::string* bytes) {
  torch::serialize::InputArchive archive;
  try {
    if (bytes) {
      archive.load_from(bytes->data(), bytes->size());
    } else {
      archive.load_from(path);
    }
  } catch (const c10::Error& e) {
    throw InputError(path + ": cannot resume: not a readable checkpoint");
  }
  return archive;
}

// The weights, optimiser state and counters of a checked checkpoint.
void RestoreFromArchive(TrainingRun& run, torch::serialize::InputArchive& archive) {
  c10::IValue value;
  torch::serialize::InputArchive net_archive, best_archive, optimizer_archive;
  archive.read("net", net_archive);
  archive.read("best", best_archive);
  archive.read("optimizer", optimizer_archive);
  run.net->load(net_archive);
  run.best->load(best_archive);
  run.optimizer.load(optimizer_archive);
  archive.read("epoch", value);
  run.start_epoch = static_cast<int>(value.toInt());
  archive.read("step_in_epoch", value);
  run.start_step_in_epoch = value.toInt();
  archive.read("global_step", value);
  run.global_step = value.toInt();
  archive.read("best_loss", value);
  run.best_loss = value.toDouble();
  archive.read("epochs_since_best", value);
  run.epochs_since_best = static_cast<int>(value.toInt());
  archive.read("history", value);
  run.history = HistoryFromJson(value.toStringRef());
  // Absent from checkpoints made before time limits counted over resumes.
  run.seconds_before = archive.try_read("trained_seconds", value) ? value.toDouble() : 0.0;
}

// For --resume: the weights, optimiser state and counters of the checkpoint, which must have been
// made with the same decisive options.
void RestoreCheckpoint(TrainingRun& run) {
  torch::serialize::InputArchive archive = LoadCheckpointArchive(run.files.checkpoint_path, nullptr);
  CheckCheckpoint(run, archive);
  RestoreFromArchive(run, archive);
}

// The same for a job of several ranks: rank 0 reads and checks its checkpoint (only it has one),
// then every rank restores from rank 0's bytes, so that every rank starts from the same state.
void RestoreSharedCheckpoint(TrainingRun& run) {
  const std::string& path = run.files.checkpoint_path;
  std::string bytes;
  run.group->RunOnRoot(
      [&] {
        std::ifstream in(path, std::ios::binary);
        if (!in) throw InputError(path + ": cannot resume: not a readable checkpoint");
        bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
        torch::serialize::InputArchive archive = LoadCheckpointArchive(path, &bytes);
        CheckCheckpoint(run, archive);
      },
      "the check of the checkpoint");
  bytes = run.group->BroadcastBytes(bytes, "the broadcast of the checkpoint");
  torch::serialize::InputArchive archive = LoadCheckpointArchive(path, &bytes);
  RestoreFromArchive(run, archive);
}

// A fresh job of several ranks starts from rank 0's initial weights (the same seed gives the same
// weights on every rank already; this makes it so whatever the machines): the others' weights are
// zeroed and summed with rank 0's, an exact copy.
void ShareInitialWeights(TrainingRun& run) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> parameters = run.net->parameters();
  if (!run.root) {
    for (torch::Tensor& p : parameters) p.zero_();
  }
  run.group->AllReduceSum(parameters, "the broadcast of the initial weights");
  CopyState(run.net, run.best);
}

// Training has diverged (a loss or a weight is no longer finite, typically from too large a
// learning rate). Nothing more is written: the last checkpoint, made from finite weights, is kept.
[[noreturn]] void ThrowDiverged(const TrainingRun& run, const std::string& what) {
  std::ostringstream message;
  message << "training diverged after " << run.global_step << " steps: " << what << " (learning rate "
          << run.o.learning_rate << "); the last good checkpoint is kept in " << run.files.checkpoint_path
          << " and no model file was written; start again with a smaller --lr";
  throw InputError(message.str());
}

bool WeightsFinite(IkNet& net) {
  torch::NoGradGuard no_grad;
  for (const torch::Tensor& p : net->parameters()) {
    if (!torch::isfinite(p).all().item<bool>()) return false;
  }
  return true;
}

// The training time of the run so far, earlier calls of a resumed run included (s).
double TrainedSeconds(const TrainingRun& run) {
  return run.seconds_before + std::chrono::duration<double>(Clock::now() - run.run_start).count();
}

// A resume continues at (epoch, step_in_epoch).
void WriteCheckpoint(TrainingRun& run, int epoch, int64_t step_in_epoch) {
  // Every rank checks (the weights are the same on every rank), so every rank stops alike.
  if (!WeightsFinite(run.net)) ThrowDiverged(run, "the weights are no longer finite");
  if (!run.root) return;
  torch::serialize::OutputArchive archive;
  torch::serialize::OutputArchive net_archive, best_archive, optimizer_archive;
  run.net->save(net_archive);
  run.best->save(best_archive);
  run.optimizer.save(optimizer_archive);
  archive.write("net", net_archive);
  archive.write("best", best_archive);
  archive.write("optimizer", optimizer_archive);
  archive.write("epoch", c10::IValue(static_cast<int64_t>(epoch)));
  archive.write("step_in_epoch", c10::IValue(step_in_epoch));
  archive.write("global_step", c10::IValue(run.global_step));
  archive.write("best_loss", c10::IValue(run.best_loss));
  archive.write("epochs_since_best", c10::IValue(static_cast<int64_t>(run.epochs_since_best)));
  archive.write("history", c10::IValue(HistoryToJson(run.history)));
  archive.write("options", c10::IValue(run.options_json));
  archive.write("trained_seconds", c10::IValue(TrainedSeconds(run)));
  if (run.world > 1) {
    archive.write("world_size", c10::IValue(run.world));
    archive.write("per_rank_batch", c10::IValue(run.o.batch_size));
  }
  // Written beside, then renamed: a kill at any moment leaves the previous checkpoint intact.
  AtomicFileWriter writer(run.files.checkpoint_path);
  archive.save_to(writer.stream());
  writer.Commit();
}

// Pose models have three more columns at the end.
void WriteLogHeader(const std::string& path, bool pose) {
  if (path.empty()) return;
  std::ofstream(path, std::ios::trunc)
      << "epoch,step,train_loss,validation_loss,validation_median_m,learning_rate,seconds"
      << (pose ? ",validation_p95_m,validation_angle_median_rad,validation_angle_p95_rad" : "")
      << ",validation_median_in_reach_m,validation_p99_in_reach_m,out_of_reach_excess_median_m\n";
}

void AppendLog(const std::string& path, const EpochRecord& r) {
  if (path.empty()) return;
  std::ofstream log(path, std::ios::app);
  log << r.epoch << ',' << r.step << ',' << FormatDouble(r.train_loss) << ','
      << FormatDouble(r.validation_loss) << ',' << FormatDouble(r.validation_median) << ','
      << FormatDouble(r.learning_rate) << ',' << FormatDouble(r.seconds);
  if (!std::isnan(r.validation_angle_median)) {
    log << ',' << FormatDouble(r.validation_p95) << ',' << FormatDouble(r.validation_angle_median) << ','
        << FormatDouble(r.validation_angle_p95);
  }
  // Empty where a figure is not known (no target out of reach).
  for (const double value :
       {r.validation_median_in_reach, r.validation_p99_in_reach, r.out_of_reach_excess_median}) {
    log << ',';
    if (!std::isnan(value)) log << FormatDouble(value);
  }
  log << '\n';
}

// The training loss of the batches of this call in the current epoch.
struct RunningLoss {
  double sum = 0;
  int64_t count = 0;

  double Mean() const { return count > 0 ? sum / static_cast<double>(count) : 0.0; }
};

// One optimiser step on batch `s` of the epoch's batch order; returns the batch's loss.
double TrainBatch(TrainingRun& run, const torch::Tensor& order, int64_t s) {
  const int64_t batch_size = run.o.batch_size;
  const torch::Tensor index = order.slice(0, s * batch_size, std::min(run.n, (s + 1) * batch_size));
  const torch::Tensor targets = run.train_targets.index_select(0, index);
  const torch::Tensor labels =
      run.train_labels.defined() ? run.train_labels.index_select(0, index) : run.train_labels;
  run.optimizer.zero_grad();
  const torch::Tensor loss = BatchLoss(run.net, run.fk, run.o, targets, labels);
  loss.backward();
  run.optimizer.step();
  ++run.global_step;
  run.samples_this_run += index.size(0);
  return loss.item<double>();
}

// One step of a job of several ranks on global batch `s`: this rank's share of it (every
// world-th sample from the rank-th on: DistributedSampler's way, so that the shares make up the
// batch of one process with batch world * batch_size), its gradient weighted by its share's size,
// one bucketed all-reduce of the gradients together with the batch's loss, the sample count and
// the ranks' stop requests, then the same Adam step on every rank. When any rank was asked to stop,
// no rank steps (`stop` is set).
struct StepOutcome {
  double loss = 0;
  bool stop = false;
};

StepOutcome TrainBatchShare(TrainingRun& run, const torch::Tensor& order, int64_t s) {
  const int64_t global_batch = run.world * run.o.batch_size;
  const int64_t begin = s * global_batch + run.rank, end = std::min(run.n, (s + 1) * global_batch);
  run.optimizer.zero_grad();
  double count = 0, loss = 0;
  if (begin < end) {  // the last batch of an epoch may leave a rank without samples
    const torch::Tensor index = order.slice(0, begin, end, run.world);
    const torch::Tensor targets = run.train_targets.index_select(0, index);
    const torch::Tensor labels =
        run.train_labels.defined() ? run.train_labels.index_select(0, index) : run.train_labels;
    const torch::Tensor batch_loss = BatchLoss(run.net, run.fk, run.o, targets, labels);
    batch_loss.backward();
    loss = batch_loss.item<double>();
    count = static_cast<double>(index.size(0));
  }
  std::vector<torch::Tensor> bucket;
  {
    torch::NoGradGuard no_grad;
    for (torch::Tensor& p : run.net->parameters()) {
      if (!p.grad().defined()) p.mutable_grad() = torch::zeros_like(p);
      p.mutable_grad().mul_(count);
      bucket.push_back(p.grad());
    }
  }
  const bool stop_here = run.stop != nullptr && run.stop->load();
  bucket.push_back(torch::tensor({count * loss, count, stop_here ? 1.0 : 0.0}, torch::kFloat32));
  const auto start = Clock::now();
  run.group->AllReduceSum(bucket, "the gradient all-reduce of step " + std::to_string(run.global_step + 1));
  run.allreduce_seconds += std::chrono::duration<double>(Clock::now() - start).count();
  ++run.allreduce_steps;
  const torch::Tensor totals = bucket.back().to(torch::kFloat64);
  const double total_count = totals[1].item<double>();
  if (totals[2].item<double>() > 0) return {0, true};
  {
    torch::NoGradGuard no_grad;
    for (size_t i = 0; i + 1 < bucket.size(); ++i) bucket[i].div_(total_count);
  }
  run.optimizer.step();
  ++run.global_step;
  run.samples_this_run += static_cast<int64_t>(total_count);
  return {totals[0].item<double>() / total_count, false};
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
    double batch_loss = 0;
    if (run.world > 1) {
      run.group->SetProgress(run.global_step);
      const StepOutcome step = TrainBatchShare(run, order, s);
      if (step.stop) {
        WriteCheckpoint(run, epoch, s);
        return false;
      }
      batch_loss = step.loss;
    } else {
      if (run.stop != nullptr && run.stop->load()) {
        WriteCheckpoint(run, epoch, s);
        return false;
      }
      batch_loss = TrainBatch(run, order, s);
    }
    if (!std::isfinite(batch_loss)) ThrowDiverged(run, "the loss became " + std::to_string(batch_loss));
    loss->sum += batch_loss;
    ++loss->count;
    if (run.global_step % run.o.checkpoint_every == 0) WriteCheckpoint(run, epoch, s + 1);
    ReportStepProgress(run, epoch, s, *loss);
  }
  return true;
}

// Validation in a job of several ranks: each rank validates its contiguous share of the split;
// the summed losses and every sample's errors reach every rank, which all compute the same figures.
// `seconds` becomes rank 0's (so that the time limit stops every rank at the same epoch).
ValidationParts ValidateShare(TrainingRun& run, int epoch, double* seconds) {
  const int64_t nv = run.val_targets.size(0);
  auto share_begin = [&](int64_t r) { return nv * r / run.world; };
  const int64_t begin = share_begin(run.rank), end = share_begin(run.rank + 1);
  const bool pose = run.network.target == TargetKind::kPose;
  ValidationParts parts =
      ValidateParts(run.net, run.fk, run.o, run.val_targets.slice(0, begin, end),
                    run.val_labels.defined() ? run.val_labels.slice(0, begin, end) : run.val_labels);
  const std::string what = "the validation of epoch " + std::to_string(epoch + 1);
  torch::Tensor sums = torch::tensor({parts.loss_sum, run.root ? *seconds : 0.0}, torch::kFloat64);
  run.group->AllReduceSum({sums}, what);
  *seconds = sums[1].item<double>();
  // Gathered padded to the longest share, then cut to each share's length.
  const int64_t longest = (nv + run.world - 1) / run.world;
  auto gather = [&](const torch::Tensor& mine) {
    torch::Tensor padded = torch::zeros({longest}, mine.options());
    padded.slice(0, 0, mine.size(0)).copy_(mine);
    std::vector<torch::Tensor> all = run.group->AllGather(padded, what);
    for (int64_t r = 0; r < run.world; ++r) all[r] = all[r].slice(0, 0, share_begin(r + 1) - share_begin(r));
    return torch::cat(all);
  };
  ValidationParts whole;
  whole.loss_sum = sums[0].item<double>();
  whole.n = nv;
  whole.errors = gather(parts.errors);
  if (pose) whole.angles = gather(parts.angles);
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
  double seconds = 0;
  ValidationParts parts;
  if (run.world > 1) {
    seconds = std::chrono::duration<double>(Clock::now() - run.run_start).count();
    parts = ValidateShare(run, epoch, &seconds);
  } else {
    parts = ValidateParts(run.net, run.fk, run.o, run.val_targets, run.val_labels);
  }
  const Validation v = Summarise(parts, run.network.target == TargetKind::kPose);
  EpochRecord record;
  const ErrorStats in_reach = InReachNow(run);
  record.validation_median_in_reach = in_reach.median;
  record.validation_p99_in_reach = in_reach.p99;
  if (run.out_of_reach.defined() && run.out_of_reach.numel() > 0) {
    const torch::Tensor errors = parts.errors.to(torch::kFloat64).index_select(0, run.out_of_reach);
    record.out_of_reach_excess_median =
        torch::quantile(errors - run.closest_of_out_of_reach, 0.5).item<double>();
  }
  if (run.world == 1) seconds = std::chrono::duration<double>(Clock::now() - run.run_start).count();
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
  if (run.root) AppendLog(run.files.log_path, record);
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

// The epochs from the start (or the resume point) to the last one, an early end or an interruption.
// Sets the result's status, best record, epoch count and throughput.
void RunEpochs(TrainingRun& run, TrainResult* result) {
  run.run_start = Clock::now();
  run.last_report = run.run_start;
  run.net->train();
  if (!run.files.resume && run.root)
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
  result->world_size = static_cast<int>(run.world);
  if (run.allreduce_steps > 0) {
    result->allreduce_seconds_per_step = run.allreduce_seconds / static_cast<double>(run.allreduce_steps);
  }
}

// The model file: the best weights, then the headline metrics measured on the saved model.
void WriteModelFile(TrainingRun& run, TrainResult* result) {
  // The best epoch may be from before a resume, which EndEpoch never saw.
  for (const EpochRecord& r : run.history) {
    if (r.validation_loss == run.best_loss) result->best = r;
  }
  std::string training_json = TrainOptionsToJson(run.o);
  if (run.world > 1) {
    nlohmann::json training = nlohmann::json::parse(training_json);
    training["world_size"] = run.world;
    training["per_rank_batch"] = run.o.batch_size;
    training["effective_batch"] = run.world * run.o.batch_size;
    training_json = training.dump();
  }
  SafetensorsFile file =
      MakeModelFile(run.chain, run.network, ModelTensors(run.best), training_json, run.history, "{}");
  IkModel model = IkModel::FromSafetensors(file, run.files.model_path);
  const NetworkAccuracy accuracy = EvaluateNetworkInReach(model, run.o.eval_samples, run.o.seed + 1000003);
  result->in_reach = accuracy.position;
  result->in_reach_angle = accuracy.angle;
  result->limit_violations = accuracy.limit_violations;
  nlohmann::json in_reach = internal::ErrorStatsJson(result->in_reach);
  in_reach["targets"] = accuracy.angle ? "FK poses of uniform random joint values, never in training"
                                       : "FK of uniform random joint values, never in training";
  in_reach["limit_violations"] = result->limit_violations;
  nlohmann::json metrics = {{"in_reach", in_reach},
                            {"best_epoch", result->best.epoch},
                            {"status", ToString(result->status)},
                            {"samples_per_second", result->samples_per_second}};
  if (run.world > 1) {
    metrics["world_size"] = run.world;
    metrics["allreduce_ms_per_step"] = result->allreduce_seconds_per_step * 1e3;
  }
  if (accuracy.angle) {
    const ErrorStats& a = *accuracy.angle;
    metrics["in_reach_angle"] = {{"count", a.count},          {"median_rad", a.median}, {"p95_rad", a.p95},
                                 {"p99_rad", a.p99},          {"max_rad", a.max},       {"mean_rad", a.mean},
                                 {"non_finite", a.non_finite}};
  }
  file.metadata["metrics"] = metrics.dump();
  if (!run.files.arm_visuals_json.empty()) file.metadata["visuals"] = run.files.arm_visuals_json;
  WriteSafetensors(run.files.model_path, file);
}

std::string Fnv1aHex(const std::string& text) {
  uint64_t hash = 1469598103934665603ull;
  for (const char c : text) hash = (hash ^ static_cast<unsigned char>(c)) * 1099511628211ull;
  std::ostringstream hex;
  hex << std::hex << std::setw(16) << std::setfill('0') << hash;
  return hex.str();
}

// A fingerprint of the data's values (train and validation splits), for the start-up agreement.
std::string DataFingerprint(const Dataset& data) {
  uint64_t hash = 1469598103934665603ull;
  auto add = [&hash](const double* values, int64_t count) {
    for (int64_t i = 0; i < count; ++i) {
      uint64_t bits = 0;
      std::memcpy(&bits, &values[i], sizeof(bits));
      hash = (hash ^ bits) * 1099511628211ull;
    }
  };
  for (const DatasetSplit* split : {&data.train, &data.validation}) {
    add(split->targets.data(), split->targets.size());
    add(split->labels.data(), split->labels.size());
  }
  std::ostringstream text;
  text << std::hex << hash;
  return text.str();
}

// Every rank must run the same command on the same data (only the rank differs; --threads may):
// the ranks exchange their options, a fingerprint of their data and whether they resume, and refuse
// to start on any difference, naming it.
void AgreeOnStart(DistributedGroup& group, const Dataset& data, const NetworkOptions& network,
                  const TrainOptions& o, const TrainFiles& files) {
  nlohmann::json start = {{"options", nlohmann::json::parse(TrainOptionsToJson(o))},
                          {"network", nlohmann::json::parse(NetworkOptionsToJson(network))},
                          {"data",
                           {{"arm", Fnv1aHex(data.arm_json)},
                            {"train_samples", data.train.size()},
                            {"validation_samples", data.validation.size()},
                            {"values", DataFingerprint(data)}}},
                          {"resume", files.resume},
                          {"world_size", group.world_size()},
                          {"libtorch", TORCH_VERSION}};
  start["options"].erase("threads");
  const std::string mine = start.dump();
  const std::vector<std::string> all = group.Exchange("options", mine);
  for (int j = 0; j < group.world_size(); ++j) {
    if (all[static_cast<size_t>(j)] == mine) continue;
    const nlohmann::json here = start.flatten();
    const nlohmann::json there = nlohmann::json::parse(all[static_cast<size_t>(j)]).flatten();
    std::string differences;
    for (const auto& [key, value] : here.items()) {
      const std::string other = there.contains(key) ? there[key].dump() : "(none)";
      if (other != value.dump()) {
        differences += (differences.empty() ? "" : ", ") + key.substr(1) + " " + value.dump() + " here, " +
                       other + " on rank " + std::to_string(j);
      }
    }
    throw DistributedError("rank " + std::to_string(group.rank()) +
                           ": the ranks were started differently (options hash " + Fnv1aHex(mine) +
                           " here, " + Fnv1aHex(all[static_cast<size_t>(j)]) + " on rank " +
                           std::to_string(j) + "): " + differences +
                           "; every rank must run the same command on the same data, only the rank differs");
  }
}

}  // namespace

bool TrainOptions::IsValid(std::string* error) const {
  auto fail = [error](const std::string& message) {
    if (error) *error = message;
    return false;
  };
  if (!(fk_weight >= 0) || !(mse_weight >= 0) || !(limit_weight >= 0))
    return fail("loss weights: expected >= 0");
  if (!kAngleWeight.Contains(angle_weight)) return fail(kAngleWeight.Refusal("angle_weight", angle_weight));
  if (!kOtherHeadsWeight.Contains(other_heads_weight))
    return fail(kOtherHeadsWeight.Refusal("other_heads_weight", other_heads_weight));
  if (fk_weight + mse_weight == 0) return fail("loss: expected a positive fk or mse weight");
  if (!kEpochs.Contains(epochs)) return fail(kEpochs.Refusal("epochs", epochs));
  if (!kBatchSize.Contains(batch_size)) return fail(kBatchSize.Refusal("batch_size", batch_size));
  if (!kLearningRate.Contains(learning_rate)) return fail(kLearningRate.Refusal("learning_rate", learning_rate));
  if (!kFinalLrFraction.Contains(final_lr_fraction))
    return fail(kFinalLrFraction.Refusal("final_lr_fraction", final_lr_fraction));
  if (!kPatience.Contains(patience)) return fail(kPatience.Refusal("patience", patience));
  if (!kCheckpointEvery.Contains(checkpoint_every))
    return fail(kCheckpointEvery.Refusal("checkpoint_every", checkpoint_every));
  if (!kTimeLimitSeconds.Contains(time_limit_seconds))
    return fail(kTimeLimitSeconds.Refusal("time_limit_seconds", time_limit_seconds));
  if (!kThreads.Contains(threads)) return fail(kThreads.Refusal("threads", threads));
  if (!kEvalSamples.Contains(eval_samples)) return fail(kEvalSamples.Refusal("eval_samples", eval_samples));
  if (!(progress_interval_seconds >= 0)) return fail("progress_interval_seconds: expected >= 0");
  return true;
}

std::string TrainOptionsToJson(const TrainOptions& o) {
  return nlohmann::json{{"fk_weight", o.fk_weight},
                        {"mse_weight", o.mse_weight},
                        {"limit_weight", o.limit_weight},
                        {"angle_weight", o.angle_weight},
                        {"other_heads_weight", o.other_heads_weight},
                        {"epochs", o.epochs},
                        {"batch_size", o.batch_size},
                        {"learning_rate", o.learning_rate},
                        {"final_lr_fraction", o.final_lr_fraction},
                        {"patience", o.patience},
                        {"checkpoint_every", o.checkpoint_every},
                        {"time_limit_seconds", o.time_limit_seconds},
                        {"seed", o.seed},
                        {"threads", o.threads},
                        {"eval_samples", o.eval_samples}}
      .dump();
}

const char* ToString(TrainStatus status) {
  switch (status) {
    case TrainStatus::kCompleted:
      return "completed";
    case TrainStatus::kEarlyStopped:
      return "early-stopped";
    case TrainStatus::kTimeLimit:
      return "time limit";
    case TrainStatus::kInterrupted:
      return "interrupted";
  }
  return "unknown";
}

ErrorStats EvaluateInReach(const IkModel& model, int64_t count, uint64_t seed, int64_t* limit_violations) {
  const NetworkAccuracy accuracy = EvaluateNetworkInReach(model, count, seed);
  if (limit_violations) *limit_violations = accuracy.limit_violations;
  return accuracy.position;
}

TrainResult Train(const Dataset& data, const NetworkOptions& network, const TrainOptions& o,
                  const TrainFiles& files, const std::function<void(const TrainProgress&)>& progress,
                  const std::atomic<bool>* stop, DistributedGroup* group,
                  const std::vector<double>& validation_closest) {
  CheckTrainInputs(data, network, o);
  if (group != nullptr && group->world_size() == 1) group = nullptr;  // a world of one: one process
  const bool root = group == nullptr || group->rank() == 0;
  // One run per set of output files: a second run writing any of them is refused, never interleaved.
  // Only rank 0 of a job writes files.
  std::vector<std::unique_ptr<FileLock>> locks;
  for (const std::string* path : {&files.model_path, &files.checkpoint_path, &files.log_path}) {
    if (!path->empty() && root) locks.push_back(std::make_unique<FileLock>(*path));
  }
  const Chain chain = ChainFromJson(data.arm_json);
  std::string options_json = DecisiveOptionsJson(data, network, o);
  if (group != nullptr) {
    AgreeOnStart(*group, data, network, o, files);
    // The batches depend on the world size: a checkpoint resumes only with its own.
    nlohmann::json decisive = nlohmann::json::parse(options_json);
    decisive["world_size"] = group->world_size();
    options_json = decisive.dump();
  }

  at::set_num_threads(o.threads);
  // Before any tensor is made: the initial weights are the seed's.
  torch::manual_seed(o.seed);
  const std::function<void(const TrainProgress&)> no_progress;  // the other ranks report nothing
  TrainingRun run(data, chain, network, o, files, std::move(options_json), root ? progress : no_progress,
                  stop, group, validation_closest);
  if (group == nullptr) {
    if (files.resume) RestoreCheckpoint(run);
  } else if (files.resume) {
    RestoreSharedCheckpoint(run);
  } else {
    ShareInitialWeights(run);
  }

  TrainResult result;
  RunEpochs(run, &result);
  // An interrupted run leaves its checkpoint, not a model file; the other ranks write none.
  if (result.status == TrainStatus::kInterrupted || !root) return result;
  WriteModelFile(run, &result);
  return result;
}

}  // namespace deepik
