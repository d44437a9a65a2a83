#include "deepik/commands.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iomanip>
#include <ostream>
#include <sstream>

#include "deepik/chain_json.hpp"
#include "deepik/csv.hpp"
#include "deepik/errors.hpp"
#include "deepik/eval.hpp"
#include "deepik/kinematics.hpp"
#include "deepik/metrics.hpp"
#include "deepik/model.hpp"
#include "deepik/solvers.hpp"

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
  if (options.threads < 1 || options.threads > 256) {
    throw InputError("--threads: expected 1..256, got " + std::to_string(options.threads));
  }
  const IkModel model = IkModel::Load(options.model_path);
  const std::unique_ptr<Solver> solver = MakeSolver(options.solver, model);
  const Chain& chain = model.chain();
  const NumericCsv input = ReadNumericCsv(options.input_path, 3);
  if (input.header != std::vector<std::string>{"x", "y", "z"}) {
    throw InputError(options.input_path + ":1: expected the header x,y,z");
  }
  std::vector<IkTarget> targets;
  targets.reserve(input.rows.size());
  for (const std::vector<double>& row : input.rows)
    targets.push_back(IkTarget{Eigen::Vector3d(row[0], row[1], row[2])});
  const std::vector<SolveResult> results = solver->SolveBatch(targets, options.threads);
  AtomicFileWriter writer(options.output_path);
  std::ostream& out = writer.stream();
  for (const Joint& joint : chain.joints()) out << joint.name << ',';
  out << "x,y,z,error,status\n";
  int64_t converged = 0;
  for (const SolveResult& r : results) {
    for (int j = 0; j < chain.num_joints(); ++j) out << FormatDouble(r.q[j]) << ',';
    out << FormatDouble(r.p_reached.x()) << ',' << FormatDouble(r.p_reached.y()) << ','
        << FormatDouble(r.p_reached.z()) << ',' << FormatDouble(r.error) << ',' << ToString(r.status) << '\n';
    if (r.status == SolveStatus::kConverged) ++converged;
  }
  writer.Commit();
  log << "solve: " << results.size() << " targets (" << converged << " converged) with " << solver->name()
      << " -> " << options.output_path << "\n";
}

namespace {

std::vector<std::string> ApplicableSolvers(const IkModel& model, const std::vector<std::string>& requested) {
  if (!requested.empty()) return requested;
  std::vector<std::string> names = {"network", "refined"};
  if (SeedArmOptionsOf(model.chain())) names.push_back("analytic");
  names.push_back("kdl-nr");
  names.push_back("kdl-lma");
  return names;
}

void WriteTextFile(const std::string& path, const std::string& text) {
  AtomicFileWriter writer(path);
  writer.stream() << text;
  writer.Commit();
}

}  // namespace

void RunEval(const EvalCommandOptions& options, std::ostream& out, std::ostream& log) {
  const IkModel model = IkModel::Load(options.model_path);
  EvalTargetOptions target_options;
  target_options.in_reach_count = options.in_reach_count;
  target_options.out_of_reach_count = options.out_of_reach_count;
  target_options.seed = options.seed;
  log << "eval: making targets (" << options.in_reach_count << " in reach, " << options.out_of_reach_count
      << " out of reach)\n";
  EvalTargets targets = MakeEvalTargets(model.chain(), target_options);
  if (!options.targets_path.empty()) {
    const NumericCsv extra = ReadNumericCsv(options.targets_path, 3);
    for (const std::vector<double>& row : extra.rows) {
      targets.in_reach.push_back(IkTarget{Eigen::Vector3d(row[0], row[1], row[2])});
    }
  }
  std::vector<SolverReport> reports;
  std::vector<std::unique_ptr<Solver>> solvers;
  for (const std::string& name : ApplicableSolvers(model, options.solvers)) {
    solvers.push_back(MakeSolver(name, model));
    log << "eval: " << name << "...\n";
    reports.push_back(EvaluateSolver(*solvers.back(), targets, options.threads));
  }
  out << "Arm " << model.chain().name() << ", model " << options.model_path << "; " << targets.in_reach.size()
      << " in-reach targets (FK of uniform random joints), " << targets.out_of_reach.size()
      << " out-of-reach targets (excess over d*, " << targets.closest_method << ").\n\n";
  out << ReportsToMarkdown(reports);
  if (!options.json_path.empty()) WriteTextFile(options.json_path, ReportsToJson(reports, targets));
  if (!options.plots_dir.empty()) {
    std::vector<std::string> names;
    std::vector<std::vector<double>> errors;
    for (const SolverReport& r : reports) {
      names.push_back(r.solver);
      errors.push_back(r.in_reach_errors);
    }
    WriteTextFile(options.plots_dir + "/error_histogram.svg", ErrorHistogramSvg(names, errors));
    for (const auto& solver : solvers) {
      WriteTextFile(options.plots_dir + "/error_slice_" + solver->name() + ".svg",
                    ErrorSliceSvg(*solver, 1.25 * model.chain().reach(), 60));
    }
    log << "eval: plots in " << options.plots_dir << "\n";
  }
}

void RunBench(const BenchCommandOptions& options, std::ostream& out, std::ostream& log) {
  const IkModel model = IkModel::Load(options.model_path);
  EvalTargetOptions target_options;
  target_options.in_reach_count = options.count;
  target_options.out_of_reach_count = 0;
  target_options.seed = options.seed;
  const EvalTargets targets = MakeEvalTargets(model.chain(), target_options);
  std::vector<std::string> names = options.solvers;
  if (names.empty()) {
    names = {"network", "refined"};
    if (SeedArmOptionsOf(model.chain())) names.push_back("analytic");
    names.push_back("kdl-nr");
  }
  out << "| solver | latency median | latency p99 | throughput (" << options.threads
      << " threads) | queries | limit violations | non-finite |\n|---|---|---|---|---|---|---|\n";
  for (const std::string& name : names) {
    const std::unique_ptr<Solver> solver = MakeSolver(name, model);
    log << "bench: " << name << "...\n";
    const SolverReport r =
        BenchSolver(*solver, targets.in_reach, options.warmup, options.repetitions, options.threads);
    char line[256];
    std::snprintf(line, sizeof(line), "| %s | %.2f us | %.2f us | %.0f /s | %lld | %lld | %lld |\n",
                  name.c_str(), r.latency_median_us, r.latency_p99_us, r.throughput_per_s,
                  static_cast<long long>(r.queries), static_cast<long long>(r.limit_violations),
                  static_cast<long long>(r.non_finite));
    out << line;
  }
}

void RunExperimentSeed(const ExperimentCommandOptions& options, std::ostream& out, std::ostream& log,
                       const std::atomic<bool>* stop) {
  std::filesystem::create_directories(options.work_dir);
  const Chain chain = MakeSeedArm();
  struct Variant {
    const char* label;
    SamplerKind sampler;
    OutputHead head;
    bool sincos;
    const char* loss;
  };
  const Variant variants[] = {
      {"A: MSE on joint-grid data, free head (the seed's first model)", SamplerKind::kGrid, OutputHead::kFree,
       false, "mse"},
      {"B: FK loss on workspace data in and around the reach, free head", SamplerKind::kWorkspace,
       OutputHead::kFree, false, "fk"},
      {"C: B with the bounded head and (sin, cos) yaw outputs", SamplerKind::kWorkspace, OutputHead::kBounded,
       true, "fk"},
  };
  EvalTargetOptions target_options;
  target_options.in_reach_count = options.in_reach_count;
  target_options.out_of_reach_count = options.out_of_reach_count;
  const EvalTargets targets = MakeEvalTargets(chain, target_options);
  std::vector<SolverReport> reports;
  std::vector<std::string> labels;
  std::string model_c;
  for (const Variant& v : variants) {
    SamplerOptions sampler;
    sampler.kind = v.sampler;
    sampler.count = 300000;
    sampler.grid_step_deg = 12.0;
    sampler.seed = 1;
    sampler.validation_fraction = 0.02;
    sampler.train_fraction = 0.95;
    const Dataset data = MakeDataset(chain, sampler);
    NetworkOptions network;
    network.head = v.head;
    network.periodic_sincos = v.sincos;
    TrainOptions train;
    ParseLossSpec(v.loss, &train);
    train.epochs = 1000;  // the time budget ends each run
    train.time_limit_seconds = options.seconds_per_model;
    train.threads = options.threads;
    train.eval_samples = 1000;
    const std::string path = options.work_dir + "/" + std::string(1, v.label[0]) + ".safetensors";
    TrainFiles files{path, path + ".ckpt", path + ".log.csv", false};
    log << "experiment: training " << v.label << " (" << options.seconds_per_model << " s)\n";
    const TrainResult result = Train(data, network, train, files, nullptr, stop);
    if (result.status == TrainStatus::kInterrupted) throw InputError("experiment: interrupted");
    const IkModel model = IkModel::Load(path);
    const NetworkSolver solver(IkModel::Load(path));
    reports.push_back(EvaluateSolver(solver, targets, options.threads));
    labels.push_back(v.label);
    if (v.label[0] == 'C') model_c = path;
  }
  const IkModel model = IkModel::Load(model_c);
  const RefinedSolver refined(IkModel::Load(model_c));
  reports.push_back(EvaluateSolver(refined, targets, options.threads));
  labels.push_back("D: C + refinement (damped least squares within the limits)");
  for (const char* name : {"analytic", "kdl-nr", "kdl-lma"}) {
    reports.push_back(EvaluateSolver(*MakeSolver(name, model), targets, options.threads));
    labels.push_back(name == std::string("analytic") ? "analytic: closed form (the oracle)"
                                                     : std::string(name) + ": orocos-kdl, started mid-range");
  }
  for (size_t i = 0; i < reports.size(); ++i) reports[i].solver = labels[i];
  out << "Seed arm; " << targets.in_reach.size() << " in-reach targets (FK of uniform joints), "
      << targets.out_of_reach.size() << " out-of-reach targets (excess over the closed-form closest point); "
      << options.seconds_per_model << " s of training per model.\n\n";
  out << ReportsToMarkdown(reports);
}

}  // namespace deepik
