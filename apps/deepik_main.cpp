// The `deepik` command: parses the command line and calls the library.
#include <CLI/CLI.hpp>
#include <atomic>
#include <csignal>
#include <iostream>

#include "deepik/blas_check.hpp"
#include "deepik/commands.hpp"
#include "deepik/errors.hpp"
#include "deepik/server.hpp"

namespace {

// Set by SIGINT/SIGTERM; long jobs save a checkpoint and stop when they see it.
std::atomic<bool> g_stop_requested{false};

void RequestStop(int) { g_stop_requested.store(true); }

void AddArmOptions(CLI::App* command, deepik::ArmSpec* arm, bool required = true) {
  auto* option = command->add_option(
      "ARM", arm->arm, "built-in arm (seed, planar2, panda, ur5, iiwa14), DH table (.json) or URDF (.urdf)");
  if (required) option->required();
  command->add_option("--base", arm->base_link, "URDF base link (default: the root link)");
  command->add_option("--tip", arm->tip_link, "URDF tip link (default: end of the longest actuated chain)");
}

void AddSamplerOptions(CLI::App* command, deepik::SamplerOptions* sampler, std::string* kind) {
  command
      ->add_option("--sampler", *kind,
                   "grid (joint grid), joints (uniform joints) or workspace (uniform ball)")
      ->capture_default_str();
  command->add_option("--count", sampler->count, "samples (joints, workspace)")->capture_default_str();
  command->add_option("--step", sampler->grid_step_deg, "grid step for revolute joints (deg)")
      ->capture_default_str();
  command->add_option("--step-m", sampler->grid_step_m, "grid step for prismatic joints (m)")
      ->capture_default_str();
  command->add_option("--margin", sampler->margin, "workspace ball radius = (1 + margin) x reach")
      ->capture_default_str();
  command->add_option("--data-seed", sampler->seed, "sampling and shuffling seed")->capture_default_str();
  command->add_option("--train-fraction", sampler->train_fraction, "share of samples for training")
      ->capture_default_str();
  command
      ->add_option("--validation-fraction", sampler->validation_fraction, "share for validation (rest: test)")
      ->capture_default_str();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"deepik: inverse kinematics for robot arms, learned with deep learning"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "deepik 0.1.0");

  CLI::App* arm = app.add_subcommand("arm", "inspect an arm");
  arm->require_subcommand(1);
  deepik::ArmSpec info_arm;
  CLI::App* arm_info = arm->add_subcommand("info", "joints (name, type, axis, limits), DOF and reach");
  AddArmOptions(arm_info, &info_arm);

  deepik::FkCommandOptions fk;
  CLI::App* fk_command =
      app.add_subcommand("fk", "forward kinematics: joint values (CSV) -> tip poses (CSV)");
  AddArmOptions(fk_command, &fk.arm);
  fk_command
      ->add_option("--input,-i", fk.input_path,
                   "CSV: a header, then one row of joint values per line (rad, m)")
      ->required();
  fk_command
      ->add_option("--output,-o", fk.output_path, "CSV: x,y,z,qw,qx,qy,qz per input row (m, unit quaternion)")
      ->required();

  deepik::DatasetCommandOptions dataset;
  std::string dataset_kind = "workspace";
  CLI::App* dataset_command =
      app.add_subcommand("dataset", "sample IK targets (and joint labels) from FK into a file");
  AddArmOptions(dataset_command, &dataset.arm);
  AddSamplerOptions(dataset_command, &dataset.sampler, &dataset_kind);
  dataset_command->add_option("--output,-o", dataset.output_path, "dataset file (safetensors)")->required();

  deepik::TrainCommandOptions train;
  std::string train_kind = "workspace", activation = "relu", head = "bounded";
  bool no_sincos = false;
  CLI::App* train_command =
      app.add_subcommand("train", "train an IK network and save a self-contained model file");
  AddArmOptions(train_command, &train.arm, false);
  train_command->add_option("--data", train.data_path,
                            "dataset file (default: sample from ARM with --sampler ...)");
  AddSamplerOptions(train_command, &train.sampler, &train_kind);
  train_command->add_option("--depth", train.network.depth, "hidden layers")->capture_default_str();
  train_command->add_option("--width", train.network.width, "units per hidden layer")->capture_default_str();
  train_command->add_option("--activation", activation, "relu, tanh or silu")->capture_default_str();
  train_command->add_option("--head", head, "bounded (limits by construction) or free (raw angles)")
      ->capture_default_str();
  train_command->add_flag("--no-sincos", no_sincos,
                          "predict full-turn joints as plain angles (no (sin, cos) pair)");
  train_command
      ->add_option("--loss", train.loss, "fk, mse, limit, or weighted sums: fk+limit, fk=1,limit=0.1")
      ->capture_default_str();
  train_command->add_option("--epochs", train.train.epochs, "epochs")->capture_default_str();
  train_command->add_option("--batch", train.train.batch_size, "mini-batch size")->capture_default_str();
  train_command->add_option("--lr", train.train.learning_rate, "initial Adam learning rate (cosine decay)")
      ->capture_default_str();
  train_command
      ->add_option("--final-lr-fraction", train.train.final_lr_fraction, "last learning rate / first")
      ->capture_default_str();
  train_command
      ->add_option("--patience", train.train.patience,
                   "early stop after N epochs without improvement (0: off)")
      ->capture_default_str();
  train_command->add_option("--checkpoint-every", train.train.checkpoint_every, "steps between checkpoints")
      ->capture_default_str();
  train_command
      ->add_option("--time-limit", train.train.time_limit_seconds,
                   "stop at the first epoch end past this (s)")
      ->capture_default_str();
  train_command->add_option("--seed", train.train.seed, "weights and batch-order seed")
      ->capture_default_str();
  train_command->add_option("--threads", train.train.threads, "libtorch threads")->capture_default_str();
  train_command
      ->add_option("--eval-samples", train.train.eval_samples, "unseen in-reach targets for the metrics")
      ->capture_default_str();
  train_command->add_option("--output,-o", train.output_path, "model file (safetensors)")->required();
  train_command->add_option("--checkpoint", train.checkpoint_path, "checkpoint file (default: OUTPUT.ckpt)");
  train_command->add_option("--log", train.log_path, "CSV history (default: OUTPUT.log.csv)");
  train_command->add_flag("--resume", train.resume, "continue the run saved in the checkpoint");

  CLI::App* model = app.add_subcommand("model", "inspect a model file");
  model->require_subcommand(1);
  std::string model_info_path;
  CLI::App* model_info =
      model->add_subcommand("info", "arm, architecture, training, history and headline metrics");
  model_info->add_option("MODEL", model_info_path, "model file")->required();

  deepik::SolveCommandOptions solve;
  CLI::App* solve_command = app.add_subcommand("solve", "inverse kinematics for a CSV of targets");
  solve_command->add_option("--model,-m", solve.model_path, "model file")->required();
  solve_command
      ->add_option("--solver,-s", solve.solver, "network, refined, analytic (seed arm), kdl-nr, kdl-lma")
      ->capture_default_str();
  solve_command->add_option("--input,-i", solve.input_path, "CSV with header x,y,z (m, base frame)")
      ->required();
  solve_command
      ->add_option("--output,-o", solve.output_path, "CSV: joints (rad, m), x,y,z reached, error (m), status")
      ->required();
  solve_command->add_option("--threads", solve.threads, "solver threads")->capture_default_str();

  deepik::EvalCommandOptions eval;
  CLI::App* eval_command = app.add_subcommand("eval", "every solver side by side on the same targets");
  eval_command->add_option("--model,-m", eval.model_path, "model file")->required();
  eval_command->add_option("--solvers", eval.solvers, "solvers to compare (default: all that apply)")
      ->delimiter(',');
  eval_command->add_option("--targets", eval.targets_path, "extra in-reach targets, CSV x,y,z");
  eval_command->add_option("--in-reach", eval.in_reach_count, "generated in-reach targets")
      ->capture_default_str();
  eval_command->add_option("--out-of-reach", eval.out_of_reach_count, "generated out-of-reach targets")
      ->capture_default_str();
  eval_command->add_option("--seed", eval.seed, "target seed")->capture_default_str();
  eval_command->add_option("--threads", eval.threads, "threads for the batch throughput")
      ->capture_default_str();
  eval_command->add_option("--json", eval.json_path, "also write the report as JSON");
  eval_command->add_option("--plots", eval.plots_dir, "write SVG plots (error histogram, error slice) here");

  deepik::BenchCommandOptions bench;
  CLI::App* bench_command = app.add_subcommand("bench", "latency and throughput of solvers");
  bench_command->add_option("--model,-m", bench.model_path, "model file")->required();
  bench_command
      ->add_option("--solvers", bench.solvers, "solvers (default: network, refined, analytic, kdl-nr)")
      ->delimiter(',');
  bench_command->add_option("--count", bench.count, "in-reach targets")->capture_default_str();
  bench_command->add_option("--warmup", bench.warmup, "untimed passes")->capture_default_str();
  bench_command->add_option("--repetitions", bench.repetitions, "timed passes")->capture_default_str();
  bench_command->add_option("--threads", bench.threads, "threads for the batch throughput")
      ->capture_default_str();

  deepik::ExperimentCommandOptions experiment;
  CLI::App* experiment_command =
      app.add_subcommand("experiment", "reproduce the seed experiment as one table");
  experiment_command->require_subcommand(1);
  CLI::App* experiment_seed =
      experiment_command->add_subcommand("seed", "models A-D, analytic and KDL, one table");
  experiment_seed->add_option("--seconds", experiment.seconds_per_model, "training budget per model (s)")
      ->capture_default_str();
  experiment_seed->add_option("--in-reach", experiment.in_reach_count, "in-reach targets")
      ->capture_default_str();
  experiment_seed->add_option("--out-of-reach", experiment.out_of_reach_count, "out-of-reach targets")
      ->capture_default_str();
  experiment_seed->add_option("--work-dir", experiment.work_dir, "where models are kept")
      ->capture_default_str();

  deepik::ServeOptions serve;
  CLI::App* serve_command = app.add_subcommand("serve", "serve the web page and a JSON API for a model");
  serve_command->add_option("--model,-m", serve.model_path, "model file")->required();
  serve_command->add_option("--port,-p", serve.port, "TCP port (0: any free port)")->capture_default_str();
  serve_command->add_option("--host", serve.host, "address to listen on")->capture_default_str();
  serve_command->add_option("--web-root", serve.web_root, "the page's folder (default: deepik's web/)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? deepik::kExitOk : deepik::kExitUsage;
  }

  deepik::WarnIfSlowBlas(std::cerr);
  try {
    if (arm_info->parsed()) deepik::RunArmInfo(info_arm, std::cout);
    if (fk_command->parsed()) deepik::RunFk(fk, std::cerr);
    if (dataset_command->parsed()) {
      dataset.sampler.kind = deepik::SamplerKindFromString(dataset_kind);
      deepik::RunDataset(dataset, std::cerr);
    }
    if (train_command->parsed()) {
      train.sampler.kind = deepik::SamplerKindFromString(train_kind);
      train.network.activation = deepik::ActivationFromString(activation);
      train.network.head = deepik::OutputHeadFromString(head);
      train.network.periodic_sincos = !no_sincos;
      std::signal(SIGINT, RequestStop);
      std::signal(SIGTERM, RequestStop);
      return deepik::RunTrain(train, std::cerr, &g_stop_requested);
    }
    if (model_info->parsed()) deepik::RunModelInfo(model_info_path, std::cout);
    if (solve_command->parsed()) deepik::RunSolve(solve, std::cerr);
    if (eval_command->parsed()) deepik::RunEval(eval, std::cout, std::cerr);
    if (bench_command->parsed()) deepik::RunBench(bench, std::cout, std::cerr);
    if (serve_command->parsed()) {
      std::signal(SIGINT, RequestStop);
      std::signal(SIGTERM, RequestStop);
      return deepik::RunServe(serve, std::cout, &g_stop_requested);
    }
    if (experiment_seed->parsed()) {
      std::signal(SIGINT, RequestStop);
      std::signal(SIGTERM, RequestStop);
      deepik::RunExperimentSeed(experiment, std::cout, std::cerr, &g_stop_requested);
    }
  } catch (const deepik::InputError& e) {
    std::cerr << "deepik: error: " << e.what() << "\n";
    return deepik::kExitInput;
  } catch (const std::invalid_argument& e) {
    std::cerr << "deepik: error: " << e.what() << "\n";
    return deepik::kExitInput;
  } catch (const std::exception& e) {
    std::cerr << "deepik: internal error: " << e.what() << "\n";
    return deepik::kExitInternal;
  }
  return deepik::kExitOk;
}
