#include "deepik/learn/trainer.hpp"

#include <torch/serialize.h>
#include <torch/torch.h>
#include <torch/version.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
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
#include "learn/training_run.hpp"

namespace deepik {

namespace internal {

void CopyState(IkNet& from, IkNet& to) {
  torch::NoGradGuard no_grad;
  auto source = from->named_parameters();
  for (auto& p : to->named_parameters()) p.value().copy_(source[p.key()]);
}

}  // namespace internal

namespace {

using internal::TrainingRun;
using internal::TrainRanks;

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

// A validation target whose closest reachable point is farther than this (m) is out of reach.
constexpr double kInReachTolerance = 1e-6;

// `to` holding `from`'s weights. `to` is still built with its own random initial weights first, so
// that the random stream, and with it everything a seed decides, stays what it was.
IkNet WithWeightsOf(IkNet& from, IkNet to) {
  internal::CopyState(from, to);
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
  if (o.collision_weight > 0 && o.collision_spheres.pairs.empty()) {
    throw std::invalid_argument(
        "collision_weight: expected a sphere model with checked sphere pairs (collision_spheres) for a "
        "weight above 0, got none");
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
  // Off: the checkpoints from before the collision penalty still resume.
  if (o.collision_weight == 0) decisive.erase("collision_weight");
  decisive["network"] = NetworkOptionsToJson(network);
  decisive["data"] = data.arm_json + std::to_string(data.train.size());
  return decisive.dump();
}

}  // namespace

namespace internal {

TrainingRun::TrainingRun(const Dataset& data, const Chain& chain, const NetworkOptions& network,
                         const TrainOptions& o, const TrainFiles& files, std::string options_json,
                         const std::function<void(const TrainProgress&)>& progress,
                         const std::atomic<bool>* stop, TrainRanks& ranks,
                         const std::vector<double>& validation_closest)
    : chain(chain),
      network(network),
      o(o),
      files(files),
      options_json(std::move(options_json)),
      progress(progress),
      stop(stop),
      ranks(ranks),
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
      steps_per_epoch((n + o.batch_size * ranks.world() - 1) / (o.batch_size * ranks.world())),
      collision(o.collision_weight > 0
                    ? std::make_optional<SelfCollisionPenalty>(o.collision_spheres, chain.num_joints())
                    : std::nullopt) {
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

}  // namespace internal

namespace {

// The model file: the best weights, then the headline metrics measured on the saved model.
void WriteModelFile(TrainingRun& run, TrainResult* result) {
  // The best epoch may be from before a resume, which EndEpoch never saw.
  for (const EpochRecord& r : run.history) {
    if (r.validation_loss == run.best_loss) result->best = r;
  }
  std::string training_json = TrainOptionsToJson(run.o);
  const int64_t world = run.ranks.world();
  if (world > 1) {  // the model files of one process have none of these
    nlohmann::json training = nlohmann::json::parse(training_json);
    training["world_size"] = world;
    training["per_rank_batch"] = run.o.batch_size;
    training["effective_batch"] = world * run.o.batch_size;
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
  if (world > 1) {
    metrics["world_size"] = world;
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

std::string Bytes(double bytes) {
  std::ostringstream text;
  text << std::setprecision(3);
  if (bytes >= 1024.0 * 1024 * 1024) {
    text << bytes / (1024.0 * 1024 * 1024) << " GiB";
  } else {
    text << bytes / (1024.0 * 1024) << " MiB";
  }
  return text.str();
}

// An allocation failed (`tried`: its size in bytes when known, else 0): says what training needs,
// roughly, and which of its parts is the largest, as an InputError (the options asked too much).
[[noreturn]] void ThrowOutOfMemory(double tried, const Dataset& data, const Chain& chain,
                                   const NetworkOptions& network, const TrainOptions& o, int64_t world) {
  const double width = network.width, inputs = InputCount(network.target);
  const double outputs = static_cast<double>(network.heads) * RawOutputCount(chain, network);
  const double weights = inputs * width + (network.depth - 1) * width * width + width * outputs +
                         network.depth * width + outputs;
  // float32: the weights, their gradients, Adam's two moments and the best epoch's copy.
  const double network_bytes = 5 * 4 * weights;
  // Each hidden layer keeps its output and its activation for the backward pass, and their gradients.
  const double batch = static_cast<double>(std::min(o.batch_size, data.train.size()));
  const double batch_bytes = 4 * 4 * batch * width * network.depth * network.heads;
  const double data_bytes =
      4.0 * static_cast<double>(data.train.size() + data.validation.size()) * (inputs + chain.num_joints());
  const double largest = std::max({network_bytes, batch_bytes, data_bytes});
  std::ostringstream message;
  message << "training ran out of memory";
  if (tried > 0) message << ": an allocation of " << Bytes(tried) << " failed";
  message << ". It needs about " << Bytes(network_bytes) << " for the network (" << network.depth << " x "
          << network.width << ", " << std::setprecision(3) << weights
          << " weights, with gradients, Adam's state and the best epoch's copy), " << Bytes(batch_bytes)
          << " for a batch of " << static_cast<int64_t>(batch) << " samples" << (world > 1 ? " per rank" : "")
          << " (activations) and " << Bytes(data_bytes) << " for the data ("
          << data.train.size() + data.validation.size() << " samples); the largest is "
          << (largest == network_bytes ? "the network: use a smaller --width or --depth"
              : largest == batch_bytes ? "the batch: use a smaller --batch (or --width)"
                                       : "the data: use a smaller --count");
  throw InputError(message.str());
}

// The size libtorch's allocator failed to allocate (bytes), from its message, or -1 when `e` is not
// an allocation failure.
double FailedAllocation(const c10::Error& e) {
  const std::string text = e.what_without_backtrace();
  if (text.find("can't allocate memory") == std::string::npos &&
      text.find("not enough memory") == std::string::npos) {
    return -1;
  }
  const size_t at = text.find("allocate ", text.find("tried to"));
  return at == std::string::npos ? 0.0 : std::atof(text.c_str() + at + 9);
}

// Every rank must run the same command on the same data (only the rank differs; --threads may):
// the ranks exchange their options, a fingerprint of their data and whether they resume, and refuse
// to start on any difference, naming it.
void AgreeOnStart(TrainRanks& ranks, const Dataset& data, const NetworkOptions& network,
                  const TrainOptions& o, const TrainFiles& files) {
  nlohmann::json start = {{"options", nlohmann::json::parse(TrainOptionsToJson(o))},
                          {"network", nlohmann::json::parse(NetworkOptionsToJson(network))},
                          {"data",
                           {{"arm", Fnv1aHex(data.arm_json)},
                            {"train_samples", data.train.size()},
                            {"validation_samples", data.validation.size()},
                            {"values", DataFingerprint(data)}}},
                          {"resume", files.resume},
                          {"world_size", ranks.world()},
                          {"libtorch", TORCH_VERSION}};
  start["options"].erase("threads");
  const std::string mine = start.dump();
  const std::vector<std::string> all = ranks.Exchange("options", mine);
  for (size_t j = 0; j < all.size(); ++j) {
    if (all[j] == mine) continue;
    const nlohmann::json here = start.flatten();
    const nlohmann::json there = nlohmann::json::parse(all[j]).flatten();
    std::string differences;
    for (const auto& [key, value] : here.items()) {
      const std::string other = there.contains(key) ? there[key].dump() : "(none)";
      if (other != value.dump()) {
        differences += (differences.empty() ? "" : ", ") + key.substr(1) + " " + value.dump() + " here, " +
                       other + " on rank " + std::to_string(j);
      }
    }
    throw DistributedError("rank " + std::to_string(ranks.rank()) +
                           ": the ranks were started differently (options hash " + Fnv1aHex(mine) +
                           " here, " + Fnv1aHex(all[j]) + " on rank " + std::to_string(j) +
                           "): " + differences +
                           "; every rank must run the same command on the same data, only the rank differs");
  }
}

// Train after the check of its inputs, as one process or as one rank of a job.
TrainResult TrainAs(TrainRanks& ranks, const Dataset& data, const Chain& chain, const NetworkOptions& network,
                    const TrainOptions& o, const TrainFiles& files,
                    const std::function<void(const TrainProgress&)>& progress, const std::atomic<bool>* stop,
                    const std::vector<double>& validation_closest) {
  // One run per set of output files: a second run writing any of them is refused, never interleaved.
  // Only rank 0 of a job writes files. A device (/dev/null) or a pipe gets no lock file beside it.
  std::vector<std::unique_ptr<FileLock>> locks;
  for (const std::string* path : {&files.model_path, &files.checkpoint_path, &files.log_path}) {
    if (!path->empty() && ranks.root() && !IsDeviceFile(*path))
      locks.push_back(std::make_unique<FileLock>(*path));
  }
  AgreeOnStart(ranks, data, network, o, files);
  std::string options_json = DecisiveOptionsJson(data, network, o);
  if (ranks.world() > 1) {
    // The batches depend on the world size: a checkpoint resumes only with its own (those of one
    // process have none).
    nlohmann::json decisive = nlohmann::json::parse(options_json);
    decisive["world_size"] = ranks.world();
    options_json = decisive.dump();
  }

  at::set_num_threads(o.threads);
  // Before any tensor is made: the initial weights are the seed's.
  torch::manual_seed(o.seed);
  const std::function<void(const TrainProgress&)> no_progress;  // the other ranks report nothing
  TrainingRun run(data, chain, network, o, files, std::move(options_json),
                  ranks.root() ? progress : no_progress, stop, ranks, validation_closest);
  if (files.resume) {
    internal::RestoreCheckpoint(run);
  } else {
    // The same seed gives the same initial weights on every rank already; this makes it so
    // whatever the machines.
    ranks.BroadcastParameters(run.net->parameters(), "the broadcast of the initial weights");
    internal::CopyState(run.net, run.best);
  }

  TrainResult result;
  internal::RunEpochs(run, &result);
  // An interrupted run leaves its checkpoint, not a model file; the other ranks write none.
  if (result.status == TrainStatus::kInterrupted || !ranks.root()) return result;
  WriteModelFile(run, &result);
  return result;
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
  if (!kCollisionWeight.Contains(collision_weight))
    return fail(kCollisionWeight.Refusal("collision_weight", collision_weight));
  if (fk_weight + mse_weight == 0) return fail("loss: expected a positive fk or mse weight");
  if (!kEpochs.Contains(epochs)) return fail(kEpochs.Refusal("epochs", epochs));
  if (!kBatchSize.Contains(batch_size)) return fail(kBatchSize.Refusal("batch_size", batch_size));
  if (!kLearningRate.Contains(learning_rate))
    return fail(kLearningRate.Refusal("learning_rate", learning_rate));
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
  nlohmann::json json{{"fk_weight", o.fk_weight},
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
                      {"eval_samples", o.eval_samples},
                      {"collision_weight", o.collision_weight}};
  if (o.collision_weight > 0) {
    json["collision_spheres"] = o.collision_spheres.spheres.size();
    json["collision_sphere_pairs"] = o.collision_spheres.pairs.size();
  }
  return json.dump();
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

bool IsDeviceFile(const std::string& path) {
  std::error_code error;
  const std::filesystem::file_status status = std::filesystem::status(path, error);
  return path.rfind("/dev/", 0) == 0 || path.rfind("/proc/", 0) == 0 ||
         (std::filesystem::exists(status) && !std::filesystem::is_regular_file(status) &&
          !std::filesystem::is_directory(status));
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
  TrainRanks ranks(group);  // a world of one: one process
  const Chain chain = ChainFromJson(data.arm_json);
  try {
    return TrainAs(ranks, data, chain, network, o, files, progress, stop, validation_closest);
  } catch (const std::bad_alloc&) {
    ThrowOutOfMemory(0, data, chain, network, o, ranks.world());
  } catch (const c10::Error& e) {
    const double tried = FailedAllocation(e);
    if (tried < 0) throw;
    ThrowOutOfMemory(tried, data, chain, network, o, ranks.world());
  }
}

}  // namespace deepik
