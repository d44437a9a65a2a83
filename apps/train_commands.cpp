// `deepik train` and `deepik experiment seed`: their options are parsed here; they run in the
// learning plugin (learn_plugin.hpp), which the command loads only for them.
#include <iostream>
#include <memory>

#include "cli.hpp"
#include "learn_plugin.hpp"

namespace deepik::cli {
namespace {

// The sampler's options as usage errors, before the plugin loads (the bounds of
// SamplerOptions::IsValid, and no grid step finer than a thousandth of a degree or a micrometre).
void CheckSamplerOptions(CLI::App* command) {
  command->get_option("--count")->check(WholeNumberIn(1, 50'000'000));
  command->get_option("--step")->check(NumberIn(1e-3, 360));
  command->get_option("--step-m")->check(NumberIn(1e-6, 100));
  command->get_option("--margin")->check(NumberIn(0, 100));
  command->get_option("--train-fraction")->check(NumberIn(1e-9, 1));
  command->get_option("--validation-fraction")->check(NumberIn(0, 1));
}

void AddTrainCommand(CLI::App& app, CommandSet* set) {
  struct Parsed {
    TrainCommandOptions options;
    std::string sampler = "workspace", activation = "relu", head = "bounded", target = "position";
    bool no_sincos = false;
  };
  auto parsed = std::make_shared<Parsed>();
  TrainCommandOptions& train = parsed->options;
  CLI::App* command = app.add_subcommand("train", "train an IK network and save a self-contained model file");
  AddArmOptions(command, &train.arm, false);
  command->add_option("--data", train.data_path,
                      "dataset file (default: sample from ARM with --sampler ...)");
  AddSamplerOptions(command, &train.sampler, &parsed->sampler);
  CheckSamplerOptions(command);
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
      ->check(NumberIn(0, 1e3));
  command->add_option("--depth", train.network.depth, "hidden layers")
      ->capture_default_str()
      ->check(WholeNumberIn(1, 32));
  command->add_option("--width", train.network.width, "units per hidden layer")
      ->capture_default_str()
      ->check(WholeNumberIn(1, 8192));
  command->add_option("--activation", parsed->activation, "relu, tanh or silu")->capture_default_str();
  command->add_option("--head", parsed->head, "bounded (limits by construction) or free (raw angles)")
      ->capture_default_str();
  command->add_flag("--no-sincos", parsed->no_sincos,
                    "predict full-turn joints as plain angles (no (sin, cos) pair)");
  command->add_option("--loss", train.loss, "fk, mse, limit, or weighted sums: fk+limit, fk=1,limit=0.1")
      ->capture_default_str();
  command->add_option("--epochs", train.train.epochs, "epochs")
      ->capture_default_str()
      ->check(WholeNumberIn(1, 1'000'000));
  command->add_option("--batch", train.train.batch_size, "mini-batch size")
      ->capture_default_str()
      ->check(WholeNumberIn(1, 1 << 24));
  command->add_option("--lr", train.train.learning_rate, "initial Adam learning rate (cosine decay)")
      ->capture_default_str()
      ->check(NumberIn(1e-10, 1));
  command->add_option("--final-lr-fraction", train.train.final_lr_fraction, "last learning rate / first")
      ->capture_default_str()
      ->check(NumberIn(1e-9, 1));
  command
      ->add_option("--patience", train.train.patience,
                   "early stop after N epochs without improvement (0: off)")
      ->capture_default_str()
      ->check(WholeNumberIn(0, 1'000'000));
  command->add_option("--checkpoint-every", train.train.checkpoint_every, "steps between checkpoints")
      ->capture_default_str()
      ->check(WholeNumberIn(1, int64_t{1} << 40));
  command
      ->add_option("--time-limit", train.train.time_limit_seconds,
                   "stop at the first epoch end past this (s; 0: no limit)")
      ->capture_default_str()
      ->check(NumberIn(0, 1e9));
  command->add_option("--seed", train.train.seed, "weights and batch-order seed")->capture_default_str();
  command->add_option("--threads", train.train.threads, "libtorch threads")
      ->capture_default_str()
      ->check(WholeNumberIn(1, 256));
  command->add_option("--eval-samples", train.train.eval_samples, "unseen in-reach targets for the metrics")
      ->capture_default_str()
      ->check(WholeNumberIn(1, 10'000'000));
  command->add_option("--output,-o", train.output_path, "model file (safetensors)")->required();
  command->add_option("--checkpoint", train.checkpoint_path, "checkpoint file (default: OUTPUT.ckpt)");
  command->add_option("--log", train.log_path, "CSV history (default: OUTPUT.log.csv)");
  command->add_flag("--resume", train.resume,
                    "continue the run saved in the checkpoint (same options and data, else refused)");
  const std::atomic<bool>* stop = set->stop;
  set->commands.push_back({command,
                           [parsed, stop, command] {
                             TrainCommandOptions& options = parsed->options;
                             options.network.target = TargetKindFromString(parsed->target);
                             // A pose model learns the FK poses of joint values: the joints sampler.
                             const bool sampler_given = command->count("--sampler") > 0;
                             if (options.network.target == TargetKind::kPose && !sampler_given) {
                               parsed->sampler = "joints";
                             }
                             options.sampler.kind = SamplerKindFromString(parsed->sampler);
                             options.network.activation = ActivationFromString(parsed->activation);
                             options.network.head = OutputHeadFromString(parsed->head);
                             options.network.periodic_sincos = !parsed->no_sincos;
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
