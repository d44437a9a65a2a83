#include "deepik/commands.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iomanip>
#include <ostream>
#include <sstream>

#include "deepik/chain_json.hpp"
#include "deepik/csv.hpp"
#include "deepik/errors.hpp"
#include "deepik/kinematics.hpp"
#include "deepik/metrics.hpp"
#include "deepik/model.hpp"

namespace deepik {
namespace {

constexpr double kRadToDeg = 180.0 / 3.14159265358979323846;

std::string FormatLimit(const Joint& joint, double value) {
  std::ostringstream text;
  text << std::fixed << std::setprecision(joint.type == JointType::kRevolute ? 2 : 4)
       << (joint.type == JointType::kRevolute ? value * kRadToDeg : value);
  return text.str();
}

}  // namespace

void RunArmInfo(const ArmSpec& spec, std::ostream& out) {
  const Chain chain = LoadArm(spec);
  out << "arm: " << chain.name() << "\n";
  out << "dof: " << chain.num_joints() << "\n";
  out << "reach: " << std::setprecision(6) << chain.reach() << " m\n";
  out << "joints (limits in deg for revolute joints, m for prismatic ones; axis in the joint frame):\n";
  out << "  #  name                      type       axis                      lower      upper\n";
  for (int i = 0; i < chain.num_joints(); ++i) {
    const Joint& joint = chain.joint(i);
    std::ostringstream axis;
    axis << std::fixed << std::setprecision(3) << "(" << joint.axis_J.x() << ", " << joint.axis_J.y() << ", "
         << joint.axis_J.z() << ")";
    out << "  " << std::left << std::setw(3) << i << std::setw(26) << joint.name << std::setw(11)
        << ToString(joint.type) << std::setw(24) << axis.str() << std::right << std::setw(9)
        << FormatLimit(joint, joint.lower) << "  " << std::setw(9) << FormatLimit(joint, joint.upper)
        << (joint.continuous ? "  (continuous)" : "") << "\n";
  }
  const Eigen::Isometry3d X_BT = TipPose(chain, Eigen::VectorXd::Zero(chain.num_joints()));
  out << "tip at zero: (" << X_BT.translation().x() << ", " << X_BT.translation().y() << ", "
      << X_BT.translation().z() << ") m\n";
}

void RunFk(const FkCommandOptions& options, std::ostream& log) {
  const Chain chain = LoadArm(options.arm);
  const NumericCsv input = ReadNumericCsv(options.input_path, chain.num_joints());
  AtomicFileWriter writer(options.output_path);
  std::ostream& out = writer.stream();
  out << "x,y,z,qw,qx,qy,qz\n";
  Eigen::VectorXd q(chain.num_joints());
  for (const std::vector<double>& row : input.rows) {
    for (int i = 0; i < chain.num_joints(); ++i) q[i] = row[static_cast<size_t>(i)];
    const Eigen::Isometry3d X_BT = TipPose(chain, q);
    Eigen::Quaterniond quat(X_BT.linear());
    if (quat.w() < 0) quat.coeffs() = -quat.coeffs();  // one sign for one rotation
    const Eigen::Vector3d& p = X_BT.translation();
    out << FormatDouble(p.x()) << ',' << FormatDouble(p.y()) << ',' << FormatDouble(p.z()) << ','
        << FormatDouble(quat.w()) << ',' << FormatDouble(quat.x()) << ',' << FormatDouble(quat.y()) << ','
        << FormatDouble(quat.z()) << '\n';
  }
  writer.Commit();
  log << "fk: " << input.rows.size() << " rows -> " << options.output_path << "\n";
}

}  // namespace deepik

namespace deepik {
namespace {

std::string FormatDuration(double seconds) {
  char text[32];
  const int s = static_cast<int>(std::max(0.0, seconds) + 0.5);
  if (s >= 3600) {
    std::snprintf(text, sizeof(text), "%dh%02dm", s / 3600, (s / 60) % 60);
  } else {
    std::snprintf(text, sizeof(text), "%dm%02ds", s / 60, s % 60);
  }
  return text;
}

Dataset LoadOrMakeDataset(const TrainCommandOptions& options, std::ostream& log) {
  if (options.data_path.empty()) {
    if (options.arm.arm.empty()) throw InputError("train: give an ARM to sample data from, or --data FILE");
    const Chain chain = LoadArm(options.arm);
    log << "train: sampling " << ToString(options.sampler.kind) << " data for " << chain.name() << "\n";
    return MakeDataset(chain, options.sampler);
  }
  Dataset data = LoadDataset(options.data_path);
  if (!options.arm.arm.empty()) {
    const Chain requested = LoadArm(options.arm);
    if (!SameChain(requested, ChainFromJson(data.arm_json))) {
      throw InputError(options.data_path + ": the dataset was made for arm '" +
                       ChainFromJson(data.arm_json).name() + "', not for '" + options.arm.arm + "'");
    }
  }
  return data;
}

}  // namespace

void RunDataset(const DatasetCommandOptions& options, std::ostream& log) {
  const Chain chain = LoadArm(options.arm);
  const Dataset data = MakeDataset(chain, options.sampler);
  SaveDataset(options.output_path, data);
  log << "dataset: " << ToString(options.sampler.kind) << " samples of " << chain.name() << ": train "
      << data.train.size() << ", validation " << data.validation.size() << ", test " << data.test.size()
      << (data.train.has_labels() ? " (with joint labels)" : " (targets only)") << "\n";
  if (options.sampler.kind == SamplerKind::kWorkspace) {
    log << "dataset: " << std::fixed << std::setprecision(1) << 100.0 * data.share_beyond_reach
        << " % of the targets lie beyond the reach estimate (" << std::setprecision(3) << chain.reach()
        << " m)\n";
  }
  log << "dataset: saved " << options.output_path << "\n";
}

void ParseLossSpec(const std::string& spec, TrainOptions* options) {
  options->fk_weight = options->mse_weight = options->limit_weight = 0;
  std::string normalised = spec;
  std::replace(normalised.begin(), normalised.end(), '+', ',');
  std::istringstream items(normalised);
  std::string part;
  bool any = false;
  while (std::getline(items, part, ',')) {
    std::string name = part, weight_text;
    const size_t eq = part.find('=');
    if (eq != std::string::npos) {
      name = part.substr(0, eq);
      weight_text = part.substr(eq + 1);
    }
    double weight = name == "limit" ? 0.1 : 1.0;
    if (!weight_text.empty()) {
      try {
        size_t used = 0;
        weight = std::stod(weight_text, &used);
        if (used != weight_text.size() || !(weight >= 0) || !std::isfinite(weight))
          throw std::invalid_argument("");
      } catch (const std::exception&) {
        throw std::invalid_argument("--loss: expected a weight >= 0 after '" + name + "=', got '" +
                                    weight_text + "'");
      }
    }
    if (name == "fk") {
      options->fk_weight = weight;
    } else if (name == "mse") {
      options->mse_weight = weight;
    } else if (name == "limit") {
      options->limit_weight = weight;
    } else {
      throw std::invalid_argument(
          "--loss: expected fk, mse or limit (e.g. fk, fk+limit, fk=1,limit=0.1), got '" + name + "'");
    }
    any = true;
  }
  if (!any) throw std::invalid_argument("--loss: expected fk, mse or limit, got an empty specification");
}

int RunTrain(const TrainCommandOptions& options, std::ostream& log, const std::atomic<bool>* stop) {
  TrainOptions train = options.train;
  ParseLossSpec(options.loss, &train);
  std::string error;
  if (!train.IsValid(&error)) throw std::invalid_argument("train: " + error);
  if (!options.network.IsValid(&error)) throw std::invalid_argument("train: " + error);
  if (options.output_path.empty()) throw std::invalid_argument("train: expected --output MODEL");
  const Dataset data = LoadOrMakeDataset(options, log);
  TrainFiles files;
  files.model_path = options.output_path;
  files.checkpoint_path =
      options.checkpoint_path.empty() ? options.output_path + ".ckpt" : options.checkpoint_path;
  files.log_path = options.log_path.empty() ? options.output_path + ".log.csv" : options.log_path;
  files.resume = options.resume;

  const bool terminal = ::isatty(STDERR_FILENO) == 1;
  auto last_line = std::chrono::steady_clock::now();
  const auto progress = [&](const TrainProgress& p) {
    if (p.epoch_done) {
      if (terminal) log << "\r\033[K";
      log << "epoch " << p.record.epoch << "/" << p.epochs << "  train loss " << std::setprecision(5)
          << p.record.train_loss << "  val loss " << p.record.validation_loss << "  val median "
          << std::setprecision(4) << p.record.validation_median * 1e3 << " mm  lr " << std::setprecision(3)
          << p.record.learning_rate << "  " << FormatDuration(p.record.seconds) << "\n";
      return;
    }
    const double fraction = static_cast<double>(p.step_in_epoch) / static_cast<double>(p.steps_per_epoch);
    if (terminal) {
      const int width = 30, filled = static_cast<int>(fraction * width);
      log << "\r\033[Kepoch " << p.epoch + 1 << "/" << p.epochs << " [" << std::string(filled, '#')
          << std::string(width - filled, '.') << "] loss " << std::setprecision(5) << p.running_loss
          << "  elapsed " << FormatDuration(p.elapsed_seconds) << "  ETA " << FormatDuration(p.eta_seconds)
          << std::flush;
    } else if (std::chrono::steady_clock::now() - last_line > std::chrono::seconds(30)) {
      last_line = std::chrono::steady_clock::now();
      log << "epoch " << p.epoch + 1 << "/" << p.epochs << " step " << p.step_in_epoch << "/"
          << p.steps_per_epoch << " loss " << std::setprecision(5) << p.running_loss << " ETA "
          << FormatDuration(p.eta_seconds) << "\n";
    }
  };
  log << "train: " << data.train.size() << " training and " << data.validation.size()
      << " validation samples, " << options.network.depth << "x" << options.network.width << " "
      << ToString(options.network.activation) << " MLP, " << ToString(options.network.head) << " head, loss "
      << options.loss << (options.resume ? ", resuming from " + files.checkpoint_path : "") << "\n";
  const TrainResult result = Train(data, options.network, train, files, progress, stop);
  if (result.status == TrainStatus::kInterrupted) {
    log << "\ntrain: interrupted; checkpoint saved to " << files.checkpoint_path
        << " (continue with the same command and --resume)\n";
    return kExitInterrupted;
  }
  log << "train: " << ToString(result.status) << " after " << result.epochs_run << " epochs ("
      << std::setprecision(4) << result.samples_per_second << " samples/s); kept epoch " << result.best.epoch
      << "\n";
  log << "train: network alone on " << result.in_reach.count
      << " unseen in-reach targets: " << FormatErrorStats(result.in_reach) << "; limit violations "
      << result.limit_violations << "\n";
  log << "train: saved " << files.model_path << "\n";
  return kExitOk;
}

void RunModelInfo(const std::string& path, std::ostream& out) {
  const IkModel model = IkModel::Load(path);
  const Chain& chain = model.chain();
  out << "model: " << path << "\n";
  out << "arm: " << chain.name() << " (" << chain.num_joints() << " joints:";
  for (const Joint& joint : chain.joints()) out << " " << joint.name;
  out << "), reach " << chain.reach() << " m\n";
  const NetworkOptions& n = model.network();
  out << "network: " << n.depth << " hidden layers x " << n.width << " " << ToString(n.activation) << ", "
      << ToString(n.head) << " head" << (n.periodic_sincos ? ", (sin, cos) outputs for full-turn joints" : "")
      << "\n";
  out << "training options: " << model.Metadata("training") << "\n";
  const std::vector<EpochRecord> history = model.History();
  out << "history: " << history.size() << " epochs\n";
  const size_t shown = 10;
  for (size_t i = 0; i < history.size(); ++i) {
    if (history.size() > shown && i >= shown / 2 && i < history.size() - shown / 2) {
      if (i == shown / 2) out << "  ...\n";
      continue;
    }
    const EpochRecord& r = history[i];
    out << "  epoch " << r.epoch << ": train loss " << std::setprecision(5) << r.train_loss << ", val loss "
        << r.validation_loss << ", val median " << r.validation_median * 1e3 << " mm, "
        << FormatDuration(r.seconds) << "\n";
  }
  out << "metrics: " << model.Metadata("metrics") << "\n";
}

void RunSolve(const SolveCommandOptions& options, std::ostream& log) {
  if (options.solver != "network") {
    throw InputError("--solver: expected network, got '" + options.solver + "'");
  }
  const IkModel model = IkModel::Load(options.model_path);
  const Chain& chain = model.chain();
  const NumericCsv input = ReadNumericCsv(options.input_path, 3);
  if (input.header != std::vector<std::string>{"x", "y", "z"}) {
    throw InputError(options.input_path + ":1: expected the header x,y,z");
  }
  AtomicFileWriter writer(options.output_path);
  std::ostream& out = writer.stream();
  for (const Joint& joint : chain.joints()) out << joint.name << ',';
  out << "x,y,z,error\n";
  Eigen::VectorXd q(chain.num_joints());
  IkModel::Scratch scratch;
  for (const std::vector<double>& row : input.rows) {
    const Eigen::Vector3d target(row[0], row[1], row[2]);
    model.Predict(target, q, &scratch);
    const Eigen::Vector3d reached = TipPosition(chain, q);
    for (int j = 0; j < chain.num_joints(); ++j) out << FormatDouble(q[j]) << ',';
    out << FormatDouble(reached.x()) << ',' << FormatDouble(reached.y()) << ',' << FormatDouble(reached.z())
        << ',' << FormatDouble((reached - target).norm()) << '\n';
  }
  writer.Commit();
  log << "solve: " << input.rows.size() << " targets -> " << options.output_path << "\n";
}

}  // namespace deepik
