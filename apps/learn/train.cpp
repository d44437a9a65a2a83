// `deepik train` (runs in the learning plugin): load or sample the data, train with progress on
// the terminal, report the headline metrics.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iomanip>
#include <map>
#include <new>
#include <optional>
#include <ostream>
#include <random>
#include <sstream>

#include "../commands.hpp"
#include "deepik/data/csv.hpp"
#include "deepik/data/random.hpp"
#include "deepik/errors.hpp"
#include "deepik/geometry/collision_model.hpp"
#include "deepik/geometry/robot_geometry.hpp"
#include "deepik/kinematics/chain_json.hpp"
#include "deepik/learn/accuracy.hpp"
#include "deepik/learn/distributed.hpp"
#include "deepik/solve/solvers.hpp"

namespace deepik::cli {
namespace {

Dataset LoadOrMakeDataset(const TrainCommandOptions& options, std::ostream& log) {
  if (options.data_path.empty()) {
    if (options.arm.arm.empty()) throw InputError("train: give an ARM to sample data from, or --data FILE");
    const Chain chain = LoadArm(options.arm);
    log << "train: sampling " << ToString(options.sampler.kind) << " data for " << PrintableName(chain.name())
        << "\n";
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

// LoadOrMakeDataset, with an allocation failure said as such: the samples asked for.
Dataset LoadOrMakeDatasetWithin(const TrainCommandOptions& options, std::ostream& log) {
  try {
    return LoadOrMakeDataset(options, log);
  } catch (const std::bad_alloc&) {
    std::ostringstream message;
    message << "train: ran out of memory while "
            << (options.data_path.empty() ? "sampling " + std::to_string(options.sampler.count) + " samples"
                                          : "reading " + options.data_path)
            << " (each sample takes about 100 bytes in memory with its joint values); use a smaller --count";
    throw InputError(message.str());
  }
}

// Progress on `log`: a bar with ETA redrawn in place on a terminal; a line every 30 s otherwise
// (logs of batch jobs stay short); one line per finished epoch either way.
std::function<void(const TrainProgress&)> ProgressPrinter(std::ostream& log) {
  const bool terminal = ::isatty(STDERR_FILENO) == 1;
  auto last_line = std::make_shared<std::chrono::steady_clock::time_point>(std::chrono::steady_clock::now());
  return [&log, terminal, last_line](const TrainProgress& p) {
    if (p.epoch_done) {
      if (terminal) log << "\r\033[K";
      log << "epoch " << p.record.epoch << "/" << p.epochs << "  train loss " << std::setprecision(5)
          << p.record.train_loss << "  val loss " << p.record.validation_loss << "  val median "
          << std::setprecision(4) << p.record.validation_median * 1e3 << " mm";
      if (!std::isnan(p.record.validation_median_in_reach)) {
        log << "  in reach: median " << p.record.validation_median_in_reach * 1e3 << " mm, p99 "
            << p.record.validation_p99_in_reach * 1e3 << " mm";
      }
      if (!std::isnan(p.record.out_of_reach_excess_median)) {
        log << "  out of reach: excess " << p.record.out_of_reach_excess_median * 1e3 << " mm";
      }
      if (!std::isnan(p.record.validation_angle_median)) {
        constexpr double kDeg = 180.0 / M_PI;
        log << " (p95 " << p.record.validation_p95 * 1e3 << "), " << p.record.validation_angle_median * kDeg
            << " deg (p95 " << p.record.validation_angle_p95 * kDeg << ")";
      }
      log << "  lr " << std::setprecision(3) << p.record.learning_rate << "  "
          << FormatDuration(p.record.seconds) << "\n";
      return;
    }
    const double fraction = static_cast<double>(p.step_in_epoch) / static_cast<double>(p.steps_per_epoch);
    if (terminal) {
      const int width = 30, filled = static_cast<int>(fraction * width);
      log << "\r\033[Kepoch " << p.epoch + 1 << "/" << p.epochs << " [" << std::string(filled, '#')
          << std::string(width - filled, '.') << "] loss " << std::setprecision(5) << p.running_loss
          << "  elapsed " << FormatDuration(p.elapsed_seconds) << "  ETA " << FormatDuration(p.eta_seconds)
          << std::flush;
    } else if (std::chrono::steady_clock::now() - *last_line > std::chrono::seconds(30)) {
      *last_line = std::chrono::steady_clock::now();
      log << "epoch " << p.epoch + 1 << "/" << p.epochs << " step " << p.step_in_epoch << "/"
          << p.steps_per_epoch << " loss " << std::setprecision(5) << p.running_loss << " ETA "
          << FormatDuration(p.eta_seconds) << "\n";
    }
  };
}

// What decides the training data, beside the checkpoint (CHECKPOINT.data): the trainer's own resume
// check compares the training and network options, the arm and the number of training samples,
// but not which samples, so a resume with another --data-seed, --sampler or --margin (or another
// dataset file of the same size) would silently continue on other data. A line per sampler option
// (to name what changed) and a fingerprint of the samples themselves (what decides).
std::vector<std::pair<std::string, std::string>> DataRecord(const Dataset& data) {
  uint64_t hash = 1469598103934665603ull;  // FNV-1a over the bytes of every split's values
  auto add = [&hash](const double* values, int64_t count) {
    const auto* bytes = reinterpret_cast<const unsigned char*>(values);
    for (size_t i = 0; i < static_cast<size_t>(count) * sizeof(double); ++i) {
      hash = (hash ^ bytes[i]) * 1099511628211ull;
    }
  };
  for (const DatasetSplit* split : {&data.train, &data.validation}) {
    add(split->targets.data(), split->targets.size());
    add(split->labels.data(), split->labels.size());
  }
  std::ostringstream fingerprint;
  fingerprint << std::hex << std::setw(16) << std::setfill('0') << hash;
  const SamplerOptions& o = data.options;
  return {{"--sampler", ToString(o.kind)},
          {"--count", std::to_string(o.count)},
          {"--step", FormatDouble(o.grid_step_deg)},
          {"--step-m", FormatDouble(o.grid_step_m)},
          {"--margin", FormatDouble(o.margin)},
          {"--data-seed", std::to_string(o.seed)},
          {"--train-fraction", FormatDouble(o.train_fraction)},
          {"--validation-fraction", FormatDouble(o.validation_fraction)},
          {"fingerprint", fingerprint.str()}};
}

std::string DataRecordPath(const TrainFiles& files) { return files.checkpoint_path + ".data"; }

void WriteDataRecord(const TrainFiles& files, const Dataset& data) {
  if (files.checkpoint_path.empty()) return;  // no checkpoint, nothing to pair the record with
  AtomicFileWriter writer(DataRecordPath(files));
  for (const auto& [key, value] : DataRecord(data)) writer.stream() << key << ' ' << value << '\n';
  writer.Commit();
}

// For the history's out-of-reach figure: the distance from each validation target of a position
// model to the closest reachable point, as the model-free `lm` solver finds it (the best of its
// start at the middle of the limits and two seeded random starts; 0 where it reaches the target).
// Empty for data whose targets are FK of joint labels (all in reach) and for pose models.
std::vector<double> ValidationClosest(const Dataset& data, const TrainCommandOptions& options,
                                      std::ostream& log) {
  if (options.network.target != TargetKind::kPosition || data.validation.has_labels()) return {};
  const Chain chain = ChainFromJson(data.arm_json);
  const std::unique_ptr<Solver> lm = MakeSolver("lm", chain, nullptr, SolverSettings{});
  std::mt19937_64 rng(options.train.seed + 3000017);
  Eigen::VectorXd start(chain.num_joints());
  std::vector<double> closest(static_cast<size_t>(data.validation.size()));
  int64_t out_of_reach = 0;
  for (int64_t i = 0; i < data.validation.size(); ++i) {
    const IkTarget target(data.validation.targets.row(i).transpose());
    double best = lm->Solve(target).error;
    for (int attempt = 0; attempt < 2 && best > 1e-6; ++attempt) {
      UniformConfiguration(chain, &rng, start);
      best = std::min(best, lm->Solve(target, &start).error);
    }
    closest[static_cast<size_t>(i)] = best > 1e-6 ? best : 0.0;
    if (best > 1e-6) ++out_of_reach;
  }
  log << "train: " << out_of_reach << " of the " << data.validation.size()
      << " validation targets are out of reach (lm); the history shows the network's error beyond the "
         "closest reachable point for them\n";
  log << OutOfReachWarning(out_of_reach, data.validation.size(), "train: ");
  return closest;
}

// Refuses a resume on other data than the checkpointed run's, naming the options that differ.
void CheckDataRecord(const TrainFiles& files, const Dataset& data) {
  const std::string path = DataRecordPath(files);
  std::ifstream in(path);
  if (!in) {
    throw InputError(files.checkpoint_path + ": cannot resume: " + path +
                     ", the record of the run's data, is missing (made by an older deepik?); start afresh "
                     "without --resume");
  }
  std::map<std::string, std::string> recorded;
  for (std::string key, value; in >> key >> value;) recorded[key] = value;
  const auto now = DataRecord(data);
  if (recorded["fingerprint"] == now.back().second) return;
  std::string changed;
  for (const auto& [key, value] : now) {
    if (key != "fingerprint" && recorded[key] != value) {
      changed += (changed.empty() ? "" : ", ") + key + " " + recorded[key] + ", now " + value;
    }
  }
  throw InputError(
      files.checkpoint_path + ": cannot resume: the checkpoint was made with other training data (" +
      (changed.empty() ? "same sampler options, other samples: another dataset file?" : changed) +
      "); resume with the run's data options or start afresh without --resume");
}

[[noreturn]] void ThrowNoCollisionGeometry(const std::string& arm) {
  throw InputError("--collision-weight: arm '" + PrintableName(arm) +
                   "' has no collision geometry (a URDF arm has it: panda, ur5, iiwa14 or a .urdf file); use "
                   "--collision-weight 0");
}

// `file` when given, else the shipped KIND file of the built-in arm `arm` names or the chain is named
// after; empty when there is none.
std::string CollisionFile(const std::string& file, const ArmSpec& arm, const Chain& chain,
                          const std::string& kind) {
  if (!file.empty()) return file;
  const std::string shipped = BuiltinCollisionFile(arm.arm, kind);
  return !shipped.empty() ? shipped : BuiltinCollisionFile(chain.name(), kind);
}

// With --collision-weight: the arm's sphere model, coarsened, on the chain of the data, with the
// sphere pairs of the link pairs its self-collision matrix leaves checked. Reads no mesh: the core
// alone (no assimp, no FCL).
SelfCollisionSpheres TrainingSpheres(const TrainCommandOptions& options, const Dataset& data,
                                     std::ostream& log) {
  const Chain chain = ChainFromJson(data.arm_json);
  ArmSpec arm = options.arm;
  if (arm.arm.empty() && !BuiltinArmUrdf(chain.name()).empty()) arm.arm = chain.name();
  if (arm.arm.empty() || ArmUrdfPath(arm).empty())
    ThrowNoCollisionGeometry(arm.arm.empty() ? chain.name() : arm.arm);
  const RobotGeometry geometry = LoadRobotGeometry(arm, {}, false);
  bool same = geometry.chain.num_joints() == chain.num_joints();
  for (int i = 0; same && i < chain.num_joints(); ++i)
    same = geometry.chain.joint(i).name == chain.joint(i).name;
  if (!same) {
    throw InputError("--collision-weight: the URDF " + geometry.source +
                     " has other joints than the arm of the training data; give the data's arm as ARM (with "
                     "--base and --tip)");
  }
  const std::string spheres_path = CollisionFile(options.spheres_path, arm, chain, "spheres");
  if (spheres_path.empty()) {
    throw InputError("--collision-weight: no sphere model for arm '" + PrintableName(arm.arm) +
                     "': give --spheres FILE (made by `deepik spheres`)");
  }
  const std::string matrix_path = CollisionFile(options.matrix_path, arm, chain, "matrix");
  std::optional<CollisionMatrix> matrix;
  if (!matrix_path.empty()) matrix = LoadCollisionMatrix(matrix_path, geometry);
  const SphereSet coarse =
      CoarsenSphereSet(LoadSphereSet(spheres_path, geometry), kTrainSpheresPerLink, kTrainSphereShrink);
  const std::vector<std::pair<int, int>> link_pairs = CheckedPairs(geometry, matrix ? &*matrix : nullptr);
  SelfCollisionSpheres spheres = PairwiseSpheres(geometry, coarse, link_pairs);
  if (spheres.pairs.empty()) {
    throw InputError("--collision-weight: no checked link pair of arm '" + PrintableName(arm.arm) +
                     "' has spheres on both links (" + spheres_path + ")");
  }
  log << "train: self-collision penalty x " << options.train.collision_weight << " on "
      << spheres.spheres.size() << " spheres (" << spheres_path << " coarsened to " << kTrainSpheresPerLink
      << " per link), " << spheres.pairs.size() << " sphere pairs of " << link_pairs.size()
      << " checked link pairs (" << (matrix_path.empty() ? "no matrix: every pair not adjacent" : matrix_path)
      << ")\n";
  return spheres;
}

// The checkpoint and the log go beside the model unless named; beside a device there are none.
TrainFiles FilesOf(const TrainCommandOptions& options) {
  const bool beside = !IsDeviceFile(options.output_path);
  TrainFiles files;
  files.model_path = options.output_path;
  files.checkpoint_path = !options.checkpoint_path.empty() ? options.checkpoint_path
                          : beside                         ? options.output_path + ".ckpt"
                                                           : "";
  files.log_path = !options.log_path.empty() ? options.log_path
                   : beside                  ? options.output_path + ".log.csv"
                                             : "";
  files.resume = options.resume;
  // A URDF arm's shapes go into the model, so that it is drawn as the URDF draws it.
  if (!options.arm.arm.empty()) {
    const UrdfVisuals visuals = LoadArmVisuals(options.arm);
    if (!visuals.shapes.empty()) files.arm_visuals_json = VisualsToJson(visuals);
  }
  return files;
}

}  // namespace

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

namespace {

// One run of `train`, as one process or as one rank of a job (`group`); only rank 0 writes files
// and reports (`log` is silent on the other ranks).
int TrainAs(const TrainCommandOptions& options, TrainOptions train, DistributedGroup* group,
            std::ostream& log, const std::atomic<bool>* stop) {
  const bool root = group == nullptr || group->rank() == 0;
  const Dataset data = LoadOrMakeDatasetWithin(options, log);
  if (train.collision_weight > 0) train.collision_spheres = TrainingSpheres(options, data, log);
  const TrainFiles files = FilesOf(options);
  if (files.checkpoint_path.empty() || files.log_path.empty()) {
    log << "train: " << options.output_path << " is not a regular file: "
        << (files.checkpoint_path.empty() && files.log_path.empty() ? "no checkpoint and no log"
            : files.checkpoint_path.empty()                         ? "no checkpoint"
                                                                    : "no log")
        << " beside it (name them with --checkpoint and --log)\n";
  }
  log << "train: " << data.train.size() << " training and " << data.validation.size()
      << " validation samples, " << ToString(options.network.target) << " targets, " << options.network.depth
      << "x" << options.network.width << " " << ToString(options.network.activation) << " MLP, "
      << ToString(options.network.head) << " head"
      << (options.network.heads > 1 ? " x " + std::to_string(options.network.heads) + " (winner-takes-all)"
                                    : "")
      << ", loss " << options.loss << (options.resume ? ", resuming from " + files.checkpoint_path : "")
      << "\n";
  if (group != nullptr) {
    const DistributedOptions& d = group->options();
    log << "train: " << d.world_size << " ranks (master " << d.master_addr << ":" << d.master_port
        << ", timeout " << d.timeout_seconds << " s), batch " << train.batch_size << " per rank, "
        << d.world_size * train.batch_size << " per step\n";
    // Only rank 0 has the record beside its checkpoint; its verdict is every rank's.
    group->RunOnRoot(
        [&] {
          if (files.resume) {
            CheckDataRecord(files, data);
          } else {
            WriteDataRecord(files, data);
          }
        },
        "the check of the training data");
  } else if (files.resume) {
    CheckDataRecord(files, data);
  } else {
    WriteDataRecord(files, data);
  }
  TrainResult result;
  const auto started = std::filesystem::file_time_type::clock::now();
  try {
    result = Train(data, options.network, train, files, root ? ProgressPrinter(log) : nullptr, stop, group,
                   ValidationClosest(data, options, log));
  } catch (...) {
    // A fresh run that never started leaves no record that an older checkpoint could be paired with.
    // A job of several ranks that ended with a lost rank keeps the record of the checkpoints it
    // wrote: they resume.
    std::error_code error;
    const bool wrote_checkpoint = group != nullptr && std::filesystem::exists(files.checkpoint_path, error) &&
                                  std::filesystem::last_write_time(files.checkpoint_path, error) >= started;
    if (!files.resume && root && !wrote_checkpoint) std::remove(DataRecordPath(files).c_str());
    throw;
  }
  if (result.status == TrainStatus::kInterrupted) {
    if (files.checkpoint_path.empty()) {
      log << "\ntrain: interrupted; nothing saved (no --checkpoint)\n";
    } else {
      log << "\ntrain: interrupted; checkpoint saved to " << files.checkpoint_path
          << " (continue with the same command and --resume)\n";
    }
    return kExitInterrupted;
  }
  if (!root) return kExitOk;
  log << "train: " << ToString(result.status) << " after " << result.epochs_run << " epochs ("
      << std::setprecision(4) << result.samples_per_second << " samples/s); kept epoch " << result.best.epoch
      << "\n";
  if (result.world_size > 1) {
    log << "train: " << result.world_size << " ranks; gradient all-reduce " << std::setprecision(3)
        << result.allreduce_seconds_per_step * 1e3
        << " ms per step (waiting for the slowest rank included)\n";
  }
  log << "train: network alone on " << result.in_reach.count << " unseen in-reach "
      << (result.in_reach_angle ? "poses: position " : "targets: ") << FormatErrorStats(result.in_reach)
      << "; limit violations " << result.limit_violations << "\n";
  if (result.in_reach_angle) log << "train: angle " << FormatAngleStats(*result.in_reach_angle) << "\n";
  log << "train: saved " << files.model_path << "\n";
  return kExitOk;
}

// An error of one rank, with the rank in front (a job's ranks often share one terminal or log).
std::string WithRank(const DistributedGroup& group, const std::string& message) {
  const std::string prefix = "rank " + std::to_string(group.rank()) + ": ";
  return message.rfind(prefix, 0) == 0 ? message : prefix + message;
}

}  // namespace

int RunTrain(const TrainCommandOptions& options, std::ostream& log, const std::atomic<bool>* stop) {
  TrainOptions train = options.train;
  ParseLossSpec(options.loss, &train);
  std::string error;
  if (!train.IsValid(&error)) throw std::invalid_argument("train: " + error);
  if (!options.network.IsValid(&error)) throw std::invalid_argument("train: " + error);
  if (options.output_path.empty()) throw std::invalid_argument("train: expected --output MODEL");
  if (options.resume && FilesOf(options).checkpoint_path.empty()) {
    throw std::invalid_argument(
        "train: --resume needs a checkpoint: " + options.output_path +
        " is not a regular file, so none is kept beside it; name it with --checkpoint");
  }
  // An arm named without geometry is refused before its data is sampled.
  if (train.collision_weight > 0 && !options.arm.arm.empty() && ArmUrdfPath(options.arm).empty())
    ThrowNoCollisionGeometry(options.arm.arm);
  if (options.dist.world_size <= 1) return TrainAs(options, train, nullptr, log, stop);

  const std::unique_ptr<DistributedGroup> group = DistributedGroup::Join(options.dist);
  std::ostream quiet(nullptr);  // the other ranks print only their errors
  try {
    return TrainAs(options, train, group.get(), group->rank() == 0 ? log : quiet, stop);
  } catch (const DistributedError& e) {
    group->PublishFailure(e.what());
    throw DistributedError(WithRank(*group, e.what()));
  } catch (const InputError& e) {
    group->PublishFailure(e.what());
    throw InputError(WithRank(*group, e.what()));
  } catch (const std::invalid_argument& e) {
    group->PublishFailure(e.what());
    throw std::invalid_argument(WithRank(*group, e.what()));
  } catch (const std::exception& e) {
    group->PublishFailure(e.what());
    throw std::runtime_error(WithRank(*group, e.what()));
  }
}

}  // namespace deepik::cli
