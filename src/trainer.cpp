#include "deepik/trainer.hpp"

#include <torch/serialize.h>
#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "deepik/chain_json.hpp"
#include "deepik/csv.hpp"
#include "deepik/errors.hpp"
#include "deepik/kinematics.hpp"
#include "deepik/losses.hpp"
#include "deepik/network.hpp"
#include "deepik/random.hpp"
#include "json_util.hpp"

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

double CosineRate(const TrainOptions& o, int epoch) {
  if (o.epochs <= 1) return o.learning_rate;
  const double t = static_cast<double>(epoch) / static_cast<double>(o.epochs - 1);
  const double floor = o.learning_rate * o.final_lr_fraction;
  return floor + 0.5 * (o.learning_rate - floor) * (1.0 + std::cos(M_PI * t));
}

void SetRate(torch::optim::Adam* optimizer, double rate) {
  for (auto& group : optimizer->param_groups())
    static_cast<torch::optim::AdamOptions&>(group.options()).lr(rate);
}

// The weighted sum of the enabled losses for one batch.
torch::Tensor BatchLoss(IkNet& net, const TorchFk& fk, const TrainOptions& o, const torch::Tensor& targets,
                        const torch::Tensor& labels) {
  const torch::Tensor q = net->forward(targets);
  torch::Tensor loss = torch::zeros({}, torch::kFloat32);
  if (o.fk_weight > 0) loss = loss + o.fk_weight * FkDistanceLoss(fk, q, targets);
  if (o.mse_weight > 0) loss = loss + o.mse_weight * AngleMseLoss(q, labels, net->sincos);
  if (o.limit_weight > 0) loss = loss + o.limit_weight * LimitPenalty(q, net->lower, net->upper);
  return loss;
}

// Loss and median FK error (m) on a split, without gradients.
std::pair<double, double> Validate(IkNet& net, const TorchFk& fk, const TrainOptions& o,
                                   const torch::Tensor& targets, const torch::Tensor& labels) {
  torch::NoGradGuard no_grad;
  net->eval();
  double loss_sum = 0;
  std::vector<torch::Tensor> errors;
  const int64_t n = targets.size(0), chunk = 8192;
  for (int64_t begin = 0; begin < n; begin += chunk) {
    const int64_t end = std::min(n, begin + chunk);
    const torch::Tensor t = targets.slice(0, begin, end);
    const torch::Tensor l = labels.defined() ? labels.slice(0, begin, end) : labels;
    loss_sum += BatchLoss(net, fk, o, t, l).item<double>() * static_cast<double>(end - begin);
    errors.push_back((fk.TipPositions(net->forward(t)) - t).norm(2, 1));
  }
  net->train();
  const torch::Tensor all = torch::cat(errors);
  return {loss_sum / static_cast<double>(std::max<int64_t>(n, 1)), all.median().item<double>()};
}

std::map<std::string, RawTensor> NetTensors(IkNet& net) {
  std::map<std::string, RawTensor> tensors;
  auto add = [&tensors](const std::string& name, const torch::Tensor& t) {
    const torch::Tensor c = t.detach().to(torch::kFloat32).contiguous();
    std::vector<float> values(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
    tensors[name] = RawTensor::FromFloats(values, std::vector<int64_t>(c.sizes().begin(), c.sizes().end()));
  };
  for (const auto& p : net->named_parameters()) add(p.key(), p.value());
  add("input_mean", net->input_mean);
  add("input_std", net->input_std);
  return tensors;
}

void CopyState(IkNet& from, IkNet& to) {
  torch::NoGradGuard no_grad;
  auto source = from->named_parameters();
  for (auto& p : to->named_parameters()) p.value().copy_(source[p.key()]);
}

void WriteCheckpoint(const std::string& path, IkNet& net, IkNet& best, torch::optim::Adam& optimizer,
                     int epoch, int64_t step_in_epoch, int64_t global_step, double best_loss,
                     int epochs_since_best, const std::vector<EpochRecord>& history,
                     const std::string& options_json) {
  torch::serialize::OutputArchive archive;
  torch::serialize::OutputArchive net_archive, best_archive, optimizer_archive;
  net->save(net_archive);
  best->save(best_archive);
  optimizer.save(optimizer_archive);
  archive.write("net", net_archive);
  archive.write("best", best_archive);
  archive.write("optimizer", optimizer_archive);
  archive.write("epoch", c10::IValue(static_cast<int64_t>(epoch)));
  archive.write("step_in_epoch", c10::IValue(step_in_epoch));
  archive.write("global_step", c10::IValue(global_step));
  archive.write("best_loss", c10::IValue(best_loss));
  archive.write("epochs_since_best", c10::IValue(static_cast<int64_t>(epochs_since_best)));
  archive.write("history", c10::IValue(HistoryToJson(history)));
  archive.write("options", c10::IValue(options_json));
  // Written beside, then renamed: a kill at any moment leaves the previous checkpoint intact.
  AtomicFileWriter writer(path);
  archive.save_to(writer.stream());
  writer.Commit();
}

void WriteLogHeader(const std::string& path) {
  if (path.empty()) return;
  std::ofstream(path, std::ios::trunc)
      << "epoch,step,train_loss,validation_loss,validation_median_m,learning_rate,seconds\n";
}

void AppendLog(const std::string& path, const EpochRecord& r) {
  if (path.empty()) return;
  std::ofstream log(path, std::ios::app);
  log << r.epoch << ',' << r.step << ',' << FormatDouble(r.train_loss) << ','
      << FormatDouble(r.validation_loss) << ',' << FormatDouble(r.validation_median) << ','
      << FormatDouble(r.learning_rate) << ',' << FormatDouble(r.seconds) << '\n';
}

}  // namespace

bool TrainOptions::IsValid(std::string* error) const {
  auto fail = [error](const std::string& message) {
    if (error) *error = message;
    return false;
  };
  if (!(fk_weight >= 0) || !(mse_weight >= 0) || !(limit_weight >= 0))
    return fail("loss weights: expected >= 0");
  if (fk_weight + mse_weight == 0) return fail("loss: expected a positive fk or mse weight");
  if (epochs < 1) return fail("epochs: expected >= 1, got " + std::to_string(epochs));
  if (batch_size < 1) return fail("batch_size: expected >= 1, got " + std::to_string(batch_size));
  if (!(learning_rate > 0) || !std::isfinite(learning_rate)) return fail("learning_rate: expected > 0");
  if (!(final_lr_fraction > 0 && final_lr_fraction <= 1))
    return fail("final_lr_fraction: expected in (0, 1]");
  if (patience < 0) return fail("patience: expected >= 0");
  if (checkpoint_every < 1) return fail("checkpoint_every: expected >= 1");
  if (!(time_limit_seconds >= 0)) return fail("time_limit_seconds: expected >= 0");
  if (threads < 1 || threads > 256) return fail("threads: expected 1..256, got " + std::to_string(threads));
  if (eval_samples < 1) return fail("eval_samples: expected >= 1");
  if (!(progress_interval_seconds >= 0)) return fail("progress_interval_seconds: expected >= 0");
  return true;
}

std::string TrainOptionsToJson(const TrainOptions& o) {
  return nlohmann::json{{"fk_weight", o.fk_weight},
                        {"mse_weight", o.mse_weight},
                        {"limit_weight", o.limit_weight},
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
  const Chain& chain = model.chain();
  std::mt19937_64 rng(seed);
  std::vector<double> errors;
  errors.reserve(static_cast<size_t>(count));
  Eigen::VectorXd q_true(chain.num_joints()), q(chain.num_joints());
  IkModel::Scratch scratch;
  int64_t violations = 0;
  for (int64_t i = 0; i < count; ++i) {
    UniformConfiguration(chain, &rng, q_true);
    const Eigen::Vector3d target = TipPosition(chain, q_true);
    model.Predict(target, q, &scratch);
    if (!chain.WithinLimits(q)) ++violations;
    errors.push_back((TipPosition(chain, q) - target).norm());
  }
  if (limit_violations) *limit_violations = violations;
  return SummariseErrors(std::move(errors));
}

TrainResult Train(const Dataset& data, const NetworkOptions& network, const TrainOptions& o,
                  const TrainFiles& files, const std::function<void(const TrainProgress&)>& progress,
                  const std::atomic<bool>* stop) {
  std::string error;
  if (!o.IsValid(&error)) throw std::invalid_argument("train options: " + error);
  if (!network.IsValid(&error)) throw std::invalid_argument("network options: " + error);
  if (o.mse_weight > 0 && !data.train.has_labels()) {
    throw std::invalid_argument("loss mse needs joint labels, but this dataset has none (sampler '" +
                                std::string(ToString(data.options.kind)) +
                                "'); use the fk loss or a grid/joints dataset");
  }
  if (data.train.size() == 0 || data.validation.size() == 0) {
    throw std::invalid_argument("dataset: expected non-empty train and validation splits");
  }
  const Chain chain = ChainFromJson(data.arm_json);
  // What decides the weights; a resumed run must match it (the time limit, checkpoint interval
  // and evaluation size may change between runs).
  nlohmann::json decisive = nlohmann::json::parse(TrainOptionsToJson(o));
  for (const char* free_key : {"patience", "checkpoint_every", "time_limit_seconds", "eval_samples"}) {
    decisive.erase(free_key);
  }
  decisive["network"] = NetworkOptionsToJson(network);
  decisive["data"] = data.arm_json + std::to_string(data.train.size());
  const std::string options_json = decisive.dump();

  at::set_num_threads(o.threads);
  torch::manual_seed(o.seed);
  const torch::Tensor train_targets = ToTensor(data.train.targets);
  const torch::Tensor train_labels = data.train.has_labels() ? ToTensor(data.train.labels) : torch::Tensor();
  const torch::Tensor val_targets = ToTensor(data.validation.targets);
  const torch::Tensor val_labels =
      data.validation.has_labels() ? ToTensor(data.validation.labels) : torch::Tensor();
  const torch::Tensor mean = train_targets.mean(0);
  const torch::Tensor std_dev = train_targets.std(0).clamp_min(1e-6);

  IkNet net(chain, network, mean, std_dev);
  IkNet best(chain, network, mean, std_dev);
  CopyState(net, best);
  torch::optim::Adam optimizer(net->parameters(), torch::optim::AdamOptions(o.learning_rate));
  const TorchFk fk(chain);

  int start_epoch = 0;
  int64_t start_step_in_epoch = 0, global_step = 0;
  double best_loss = std::numeric_limits<double>::infinity();
  int epochs_since_best = 0;
  std::vector<EpochRecord> history;
  if (files.resume) {
    torch::serialize::InputArchive archive;
    try {
      archive.load_from(files.checkpoint_path);
    } catch (const c10::Error& e) {
      throw InputError(files.checkpoint_path + ": cannot resume: not a readable checkpoint");
    }
    c10::IValue value;
    archive.read("options", value);
    if (value.toStringRef() != options_json) {
      throw InputError(files.checkpoint_path +
                       ": cannot resume: the checkpoint was made with other training or network options");
    }
    torch::serialize::InputArchive net_archive, best_archive, optimizer_archive;
    archive.read("net", net_archive);
    archive.read("best", best_archive);
    archive.read("optimizer", optimizer_archive);
    net->load(net_archive);
    best->load(best_archive);
    optimizer.load(optimizer_archive);
    archive.read("epoch", value);
    start_epoch = static_cast<int>(value.toInt());
    archive.read("step_in_epoch", value);
    start_step_in_epoch = value.toInt();
    archive.read("global_step", value);
    global_step = value.toInt();
    archive.read("best_loss", value);
    best_loss = value.toDouble();
    archive.read("epochs_since_best", value);
    epochs_since_best = static_cast<int>(value.toInt());
    archive.read("history", value);
    history = HistoryFromJson(value.toStringRef());
  }

  TrainResult result;
  const int64_t n = train_targets.size(0);
  const int64_t steps_per_epoch = (n + o.batch_size - 1) / o.batch_size;
  const auto run_start = Clock::now();
  auto last_report = run_start;
  int64_t samples_this_run = 0;
  bool stopped = false;
  net->train();
  if (!files.resume) WriteLogHeader(files.log_path);
  int epoch = start_epoch;
  for (; epoch < o.epochs && !stopped; ++epoch) {
    const double rate = CosineRate(o, epoch);
    SetRate(&optimizer, rate);
    const torch::Tensor order = EpochPermutation(n, o.seed, epoch);
    double loss_sum = 0;
    int64_t loss_count = 0;
    const int64_t first_step = epoch == start_epoch ? start_step_in_epoch : 0;
    for (int64_t s = first_step; s < steps_per_epoch; ++s) {
      if (stop != nullptr && stop->load()) {
        WriteCheckpoint(files.checkpoint_path, net, best, optimizer, epoch, s, global_step, best_loss,
                        epochs_since_best, history, options_json);
        result.status = TrainStatus::kInterrupted;
        stopped = true;
        break;
      }
      const torch::Tensor index = order.slice(0, s * o.batch_size, std::min(n, (s + 1) * o.batch_size));
      const torch::Tensor targets = train_targets.index_select(0, index);
      const torch::Tensor labels =
          train_labels.defined() ? train_labels.index_select(0, index) : train_labels;
      optimizer.zero_grad();
      const torch::Tensor loss = BatchLoss(net, fk, o, targets, labels);
      loss.backward();
      optimizer.step();
      ++global_step;
      samples_this_run += index.size(0);
      loss_sum += loss.item<double>();
      ++loss_count;
      if (global_step % o.checkpoint_every == 0) {
        WriteCheckpoint(files.checkpoint_path, net, best, optimizer, epoch, s + 1, global_step, best_loss,
                        epochs_since_best, history, options_json);
      }
      const auto now = Clock::now();
      if (progress &&
          std::chrono::duration<double>(now - last_report).count() >= o.progress_interval_seconds) {
        last_report = now;
        TrainProgress p;
        p.epoch = epoch;
        p.epochs = o.epochs;
        p.step_in_epoch = s + 1;
        p.steps_per_epoch = steps_per_epoch;
        p.running_loss = loss_sum / static_cast<double>(loss_count);
        p.elapsed_seconds = std::chrono::duration<double>(now - run_start).count();
        const double done =
            static_cast<double>((epoch - start_epoch) * steps_per_epoch + s + 1 - start_step_in_epoch);
        const double total =
            static_cast<double>((o.epochs - start_epoch) * steps_per_epoch - start_step_in_epoch);
        p.eta_seconds = p.elapsed_seconds / std::max(done, 1.0) * (total - done);
        progress(p);
      }
    }
    if (stopped) break;
    const auto [val_loss, val_median] = Validate(net, fk, o, val_targets, val_labels);
    EpochRecord record;
    record.epoch = epoch + 1;
    record.step = global_step;
    record.train_loss = loss_count > 0 ? loss_sum / static_cast<double>(loss_count) : 0.0;
    record.validation_loss = val_loss;
    record.validation_median = val_median;
    record.learning_rate = rate;
    record.seconds = std::chrono::duration<double>(Clock::now() - run_start).count();
    history.push_back(record);
    AppendLog(files.log_path, record);
    if (std::isfinite(val_loss) && val_loss < best_loss) {
      best_loss = val_loss;
      epochs_since_best = 0;
      CopyState(net, best);
      result.best = record;
    } else {
      ++epochs_since_best;
    }
    WriteCheckpoint(files.checkpoint_path, net, best, optimizer, epoch + 1, 0, global_step, best_loss,
                    epochs_since_best, history, options_json);
    if (progress) {
      TrainProgress p;
      p.epoch = epoch;
      p.epochs = o.epochs;
      p.step_in_epoch = steps_per_epoch;
      p.steps_per_epoch = steps_per_epoch;
      p.running_loss = record.train_loss;
      p.elapsed_seconds = record.seconds;
      p.epoch_done = true;
      p.record = record;
      progress(p);
    }
    if (o.patience > 0 && epochs_since_best >= o.patience) {
      result.status = TrainStatus::kEarlyStopped;
      ++epoch;
      break;
    }
    if (o.time_limit_seconds > 0 && record.seconds >= o.time_limit_seconds) {
      result.status = TrainStatus::kTimeLimit;
      ++epoch;
      break;
    }
  }
  result.epochs_run = epoch;
  const double seconds = std::chrono::duration<double>(Clock::now() - run_start).count();
  result.samples_per_second = seconds > 0 ? static_cast<double>(samples_this_run) / seconds : 0;
  if (result.status == TrainStatus::kInterrupted) return result;
  for (const EpochRecord& r : history) {
    if (r.validation_loss == best_loss) result.best = r;
  }

  // The model file: the best weights, then the headline metrics measured on the saved model.
  SafetensorsFile file =
      MakeModelFile(chain, network, NetTensors(best), TrainOptionsToJson(o), history, "{}");
  IkModel model = IkModel::FromSafetensors(file, files.model_path);
  result.in_reach = EvaluateInReach(model, o.eval_samples, o.seed + 1000003, &result.limit_violations);
  const ErrorStats& s = result.in_reach;
  nlohmann::json in_reach = internal::ErrorStatsJson(s);
  in_reach["targets"] = "FK of uniform random joint values, never in training";
  in_reach["limit_violations"] = result.limit_violations;
  const nlohmann::json metrics = {{"in_reach", in_reach},
                                  {"best_epoch", result.best.epoch},
                                  {"status", ToString(result.status)},
                                  {"samples_per_second", result.samples_per_second}};
  file.metadata["metrics"] = metrics.dump();
  WriteSafetensors(files.model_path, file);
  return result;
}

}  // namespace deepik
