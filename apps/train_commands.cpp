// `deepik train` and `deepik experiment seed`: their options are parsed here; they run in the
// learning plugin (learn_plugin.hpp), which the command loads only for them.
#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>
#include <thread>

#include "cli.hpp"
#include "deepik/errors.hpp"
#include "learn_plugin.hpp"

namespace deepik::cli {
namespace {

// The options of a data-parallel job as given on the command line (each overrides the matching
// torchrun variable, which must then agree with it).
struct DistributedArguments {
  int nproc = 1;
  int rank = 0;
  int world_size = 1;
  std::string master;  // HOST:PORT
  double timeout_seconds = 180;
};

std::optional<std::string> Environment(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return std::nullopt;
  return std::string(value);
}

int WholeNumber(const std::string& text, const std::string& what, int min, int max) {
  size_t used = 0;
  long value = 0;
  try {
    value = std::stol(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != text.size() || value < min || value > max) {
    throw InputError(what + ": expected a whole number in [" + std::to_string(min) + ", " +
                     std::to_string(max) + "], got '" + text + "'");
  }
  return static_cast<int>(value);
}

// --name's value when given, else $VARIABLE's; both given must agree.
std::optional<int> OptionOrEnvironment(CLI::App* command, const std::string& option, int value,
                                       const char* variable, int min, int max) {
  std::optional<int> from_environment;
  if (const auto text = Environment(variable)) from_environment = WholeNumber(*text, variable, min, max);
  if (command->count(option) == 0) return from_environment;
  if (from_environment && *from_environment != value) {
    throw InputError(option + " " + std::to_string(value) + " but " + variable + "=" +
                     std::to_string(*from_environment) + " in the environment: give one, or make them agree");
  }
  return value;
}

// HOST:PORT (an IPv6 host in brackets: [::1]:29500).
std::pair<std::string, int> ParseMaster(const std::string& text, const std::string& what) {
  const size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    throw InputError(what + ": expected HOST:PORT, got '" + text + "'");
  }
  std::string host = text.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  return {host, WholeNumber(text.substr(colon + 1), what + " port", 1, 65535)};
}

// This process's place in a job, from the options and torchrun's variables: RANK and WORLD_SIZE
// (both or neither), LOCAL_RANK, MASTER_ADDR and MASTER_PORT. Neither: one process.
DistributedOptions ResolveDistributed(CLI::App* command, const DistributedArguments& a) {
  DistributedOptions d;
  d.timeout_seconds = a.timeout_seconds;
  const std::optional<int> rank = OptionOrEnvironment(command, "--rank", a.rank, "RANK", 0, 65535);
  const std::optional<int> world =
      OptionOrEnvironment(command, "--world-size", a.world_size, "WORLD_SIZE", 1, 65536);
  if (!rank && !world) {
    if (command->count("--master") > 0) {
      throw InputError(
          "--master is for a job of several ranks: give --world-size and --rank too (or WORLD_SIZE "
          "and RANK), or start local ranks with --nproc K");
    }
    return d;
  }
  if (!rank) {
    throw InputError("a job of " + std::to_string(*world) +
                     " ranks needs this process's rank: --rank R or RANK (0.." + std::to_string(*world - 1) +
                     ")");
  }
  if (!world) {
    throw InputError("rank " + std::to_string(*rank) +
                     " needs the size of its job: --world-size W or WORLD_SIZE");
  }
  if (*rank >= *world) {
    throw InputError("rank " + std::to_string(*rank) + " is outside 0.." + std::to_string(*world - 1) +
                     " for a world of size " + std::to_string(*world) + " (RANK and WORLD_SIZE disagree)");
  }
  d.rank = *rank;
  d.world_size = *world;
  d.local_rank = *rank;
  if (const auto local = Environment("LOCAL_RANK"))
    d.local_rank = WholeNumber(*local, "LOCAL_RANK", 0, 65535);
  if (d.world_size == 1) return d;  // a world of one: one process, no master needed

  const auto addr = Environment("MASTER_ADDR"), port = Environment("MASTER_PORT");
  if (command->count("--master") > 0) {
    std::tie(d.master_addr, d.master_port) = ParseMaster(a.master, "--master");
    if ((addr && *addr != d.master_addr) ||
        (port && WholeNumber(*port, "MASTER_PORT", 1, 65535) != d.master_port)) {
      throw InputError("--master " + a.master + " but MASTER_ADDR=" + addr.value_or("") + " MASTER_PORT=" +
                       port.value_or("") + " in the environment: give one, or make them agree");
    }
  } else if (addr && port) {
    d.master_addr = *addr;
    d.master_port = WholeNumber(*port, "MASTER_PORT", 1, 65535);
  } else {
    throw InputError("a job of " + std::to_string(d.world_size) +
                     " ranks needs rank 0's address and a port: --master HOST:PORT, or MASTER_ADDR and "
                     "MASTER_PORT");
  }
  return d;
}

// `train --nproc K`: this command line for each rank, without --nproc (and --master, which the
// ranks get as MASTER_ADDR and MASTER_PORT); one libtorch thread per core unless --threads.
LocalLaunch LocalLaunchOf(CLI::App* command, const DistributedArguments& a,
                          const std::vector<std::string>& argv) {
  for (const char* name : {"--rank", "--world-size"}) {
    if (command->count(name) > 0) {
      throw InputError(std::string("--nproc starts its own ranks: give no ") + name);
    }
  }
  for (const char* name : {"RANK", "WORLD_SIZE"}) {
    if (Environment(name)) {
      throw InputError(std::string("--nproc starts its own ranks, but ") + name +
                       " is set: this process is already a rank of a job (run it without --nproc)");
    }
  }
  LocalLaunch launch;
  launch.nproc = a.nproc;
  launch.timeout_seconds = a.timeout_seconds;
  if (command->count("--master") > 0)
    std::tie(launch.master_addr, launch.master_port) = ParseMaster(a.master, "--master");
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& arg = argv[i];
    if (i > 0 && (arg == "--nproc" || arg == "--master")) {
      ++i;  // and its value
      continue;
    }
    if (i > 0 && (arg.rfind("--nproc=", 0) == 0 || arg.rfind("--master=", 0) == 0)) continue;
    launch.arguments.push_back(arg);
  }
  if (command->count("--threads") == 0) {
    const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    launch.arguments.push_back("--threads");
    launch.arguments.push_back(std::to_string(std::max(1, cores / a.nproc)));
  }
  return launch;
}

// What `train` parses besides TrainCommandOptions: the names turned into enums at run time.
struct ParsedTrain {
  TrainCommandOptions options;
  std::string sampler = "workspace", activation = "relu", head = "bounded", target = "position";
  bool no_sincos = false;
  DistributedArguments dist;
};

// The network's architecture: --depth, --width, --heads, --activation, --head, --newton-steps.
void AddNetworkOptions(CLI::App* command, ParsedTrain* parsed) {
  TrainCommandOptions& train = parsed->options;
  command->add_option("--depth", train.network.depth, "hidden layers")
      ->capture_default_str()
      ->check(WholeNumberIn(1, 32));
  command->add_option("--width", train.network.width, "units per hidden layer")
      ->capture_default_str()
      ->check(WholeNumberIn(1, 8192));
  command
      ->add_option(
          "--heads", train.network.heads,
          "joint vectors the network answers per target, trained winner-takes-all so that they learn "
          "different solutions; the network's answer is the head closest to the target by FK, the "
          "others are first starts for solve --solutions")
      ->capture_default_str()
      ->check(WholeNumberIn(1, NetworkOptions::kMaxHeads));
  command
      ->add_option(
          "--other-heads-weight", train.train.other_heads_weight,
          "multi-head models: weight of the heads' mean fk loss added to the best head's (keeps every "
          "head learning)")
      ->capture_default_str()
      ->check(NumberIn(TrainOptions::kOtherHeadsWeight));
  command->add_option("--activation", parsed->activation, "relu, tanh or silu")->capture_default_str();
  command->add_option("--head", parsed->head, "bounded (limits by construction) or free (raw angles)")
      ->capture_default_str();
  command->add_flag("--no-sincos", parsed->no_sincos,
                    "predict full-turn joints as plain angles (no (sin, cos) pair)");
  command
      ->add_option("--newton-steps", train.network.newton_steps,
                   "damped Gauss-Newton steps on the exact FK (the position, or a pose model's weighted "
                   "pose error) that end the network's forward pass (0..4; see README, The default model)")
      ->capture_default_str()
      ->check(WholeNumberIn(0, kMaxNewtonSteps));
}

// The loss and the optimisation: --loss, --epochs, --batch, --lr, ..., --seed, --threads.
void AddOptimiserOptions(CLI::App* command, ParsedTrain* parsed) {
  TrainCommandOptions& train = parsed->options;
  command->add_option("--loss", train.loss, "fk, mse, limit, or weighted sums: fk+limit, fk=1,limit=0.1")
      ->capture_default_str();
  command->add_option("--epochs", train.train.epochs, "epochs")
      ->capture_default_str()
      ->check(WholeNumberIn(TrainOptions::kEpochs));
  command->add_option("--batch", train.train.batch_size, "mini-batch size (per rank in a distributed job)")
      ->capture_default_str()
      ->check(WholeNumberIn(TrainOptions::kBatchSize));
  command->add_option("--lr", train.train.learning_rate, "initial Adam learning rate (cosine decay)")
      ->capture_default_str()
      ->check(NumberIn(TrainOptions::kLearningRate));
  command->add_option("--final-lr-fraction", train.train.final_lr_fraction, "last learning rate / first")
      ->capture_default_str()
      ->check(NumberIn(TrainOptions::kFinalLrFraction));
  command
      ->add_option("--patience", train.train.patience,
                   "early stop after N epochs without improvement (0: off)")
      ->capture_default_str()
      ->check(WholeNumberIn(TrainOptions::kPatience));
  command->add_option("--checkpoint-every", train.train.checkpoint_every, "steps between checkpoints")
      ->capture_default_str()
      ->check(WholeNumberIn(TrainOptions::kCheckpointEvery));
  command
      ->add_option(
          "--time-limit", train.train.time_limit_seconds,
          "training time budget: stop at the first epoch end past this (s, counted over --resume; 0: no "
          "limit); the learning-rate cosine and the ETA end there")
      ->capture_default_str()
      ->check(NumberIn(TrainOptions::kTimeLimitSeconds));
  command->add_option("--seed", train.train.seed, "weights and batch-order seed")
      ->capture_default_str()
      ->check(SeedNumber());
  command->add_option("--threads", train.train.threads, "libtorch threads")
      ->capture_default_str()
      ->check(WholeNumberIn(TrainOptions::kThreads));
  command->add_option("--eval-samples", train.train.eval_samples, "unseen in-reach targets for the metrics")
      ->capture_default_str()
      ->check(WholeNumberIn(TrainOptions::kEvalSamples));
}

// Data-parallel training (README, "Distributed training"): torchrun's variables or these options.
void AddDistributedOptions(CLI::App* command, ParsedTrain* parsed) {
  const std::string dist_group =
      "Distributed training (torchrun's RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT work too)";
  command
      ->add_option("--nproc", parsed->dist.nproc,
                   "start K ranks on this machine and wait for them (Ctrl-C stops all, with a checkpoint); "
                   "--batch is per rank, a step takes K x --batch samples; --threads defaults to cores / K")
      ->capture_default_str()
      ->check(WholeNumberIn(kThreadRange))
      ->group(dist_group);
  command->add_option("--rank", parsed->dist.rank, "this process's rank, 0..W-1 (default: $RANK)")
      ->check(WholeNumberIn(0, 65535))
      ->group(dist_group);
  command
      ->add_option("--world-size", parsed->dist.world_size,
                   "ranks in the job (default: $WORLD_SIZE; 1: one process)")
      ->check(WholeNumberIn(1, 65536))
      ->group(dist_group);
  command
      ->add_option(
          "--master", parsed->dist.master,
          "HOST:PORT where rank 0 listens, the same on every rank (default: $MASTER_ADDR:$MASTER_PORT; "
          "with --nproc: 127.0.0.1 and a free port)")
      ->group(dist_group);
  command
      ->add_option("--dist-timeout", parsed->dist.timeout_seconds,
                   "seconds a rank waits for the others (to join, at each step) before the job ends with an "
                   "error naming the lost rank")
      ->capture_default_str()
      ->check(NumberIn(1, 86400))
      ->group(dist_group);
}

void AddTrainCommand(CLI::App& app, CommandSet* set) {
  auto parsed = std::make_shared<ParsedTrain>();
  TrainCommandOptions& train = parsed->options;
  CLI::App* command = app.add_subcommand("train", "train an IK network and save a self-contained model file");
  AddArmOptions(command, &train.arm, false);
  command->add_option("--data", train.data_path,
                      "dataset file (default: sample from ARM with --sampler ...)");
  AddSamplerOptions(command, &train.sampler, &parsed->sampler);
  command
      ->add_option("--target", parsed->target,
                   "position (input x,y,z) or pose (input x,y,z and the tip orientation; learns the FK poses "
                   "of joint values drawn within the limits: --sampler joints unless given; the fk loss is "
                   "then position distance + --angle-weight x geodesic angle)")
      ->capture_default_str()
      ->check(CLI::IsMember({"position", "pose"}));
  command
      ->add_option("--angle-weight", train.train.angle_weight,
                   "pose models: weight of the angle error in the fk loss (m per rad; 0.1: 1 deg weighs as "
                   "1.75 mm)")
      ->capture_default_str()
      ->check(NumberIn(TrainOptions::kAngleWeight));
  command
      ->add_option("--collision-weight", train.train.collision_weight,
                   "weight of the self-collision penalty on the network's answer: per sample the summed "
                   "overlap (m) of the checked sphere pairs of a coarse sphere model (the arm's, " +
                       std::to_string(kTrainSpheresPerLink) +
                       " spheres per link; README, Collision-free IK); 0: off")
      ->capture_default_str()
      ->check(NumberIn(TrainOptions::kCollisionWeight));
  command->add_option(
      "--spheres", train.spheres_path,
      "with --collision-weight: sphere model (JSON); default: the shipped one of a built-in arm");
  command->add_option("--matrix", train.matrix_path,
                      "with --collision-weight: self-collision matrix (JSON); default: the shipped one of a "
                      "built-in arm");
  AddNetworkOptions(command, parsed.get());
  AddOptimiserOptions(command, parsed.get());
  command->add_option("--output,-o", train.output_path, "model file (safetensors)")->required();
  command->add_option("--checkpoint", train.checkpoint_path, "checkpoint file (default: OUTPUT.ckpt)");
  command->add_option("--log", train.log_path, "CSV history (default: OUTPUT.log.csv)");
  command->add_flag("--resume", train.resume,
                    "continue the run saved in the checkpoint (same options and data, else refused)");
  AddDistributedOptions(command, parsed.get());
  const std::atomic<bool>* stop = set->stop;
  set->commands.push_back(
      {command,
       [parsed, stop, command, set] {
         if (parsed->dist.nproc > 1) {
           return RunLocalRanks(LocalLaunchOf(command, parsed->dist, set->argv), std::cerr);
         }
         TrainCommandOptions& options = parsed->options;
         options.network.target = TargetKindFromString(parsed->target);
         options.sampler.kind =
             TrainSampler(command->count("--sampler") > 0 ? parsed->sampler : "", options.network.target);
         options.network.activation = ActivationFromString(parsed->activation);
         options.network.head = OutputHeadFromString(parsed->head);
         options.network.periodic_sincos = !parsed->no_sincos;
         options.dist = ResolveDistributed(command, parsed->dist);
         std::string error;
         if (!options.dist.IsValid(&error)) throw InputError("train: " + error);
         // libtorch's log lines (glog) would repeat, less clearly, the errors
         // deepik reports; GLOG_minloglevel set by the user wins.
         if (options.dist.world_size > 1) ::setenv("GLOG_minloglevel", "3", 0);
         return LoadLearnCommands().run_train(options, std::cerr, stop);
       },
       true});
}

void AddExperimentCommand(CLI::App& app, CommandSet* set) {
  auto experiment = std::make_shared<ExperimentCommandOptions>();
  CLI::App* command = app.add_subcommand("experiment", "reproduce the seed experiment as one table");
  command->require_subcommand(1);
  CLI::App* seed = command->add_subcommand("seed", "models A-D, analytic and KDL, one table");
  seed->add_option("--seconds", experiment->seconds_per_model, "training budget per model (s)")
      ->capture_default_str()
      ->check(NumberIn(1, 1e6));
  seed->add_option("--in-reach", experiment->in_reach_count, "in-reach targets")
      ->capture_default_str()
      ->check(WholeNumberIn(1, 1'000'000));
  seed->add_option("--out-of-reach", experiment->out_of_reach_count, "out-of-reach targets")
      ->capture_default_str()
      ->check(WholeNumberIn(0, 1'000'000));
  seed->add_option("--work-dir", experiment->work_dir, "where models are kept")->capture_default_str();
  const std::atomic<bool>* stop = set->stop;
  set->commands.push_back({seed,
                           [experiment, stop] {
                             LoadLearnCommands().run_experiment_seed(*experiment, std::cout, std::cerr, stop);
                             return 0;
                           },
                           true});
}

}  // namespace

void AddTrainCommands(CLI::App& app, CommandSet* set) {
  AddTrainCommand(app, set);
  AddExperimentCommand(app, set);
}

}  // namespace deepik::cli
