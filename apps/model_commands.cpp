// `deepik model info`: everything a model file holds.
#include <cmath>
#include <iostream>
#include <memory>

#include "cli.hpp"
#include "deepik/data/csv.hpp"
#include "deepik/errors.hpp"
#include "deepik/learn/model.hpp"
#ifdef DEEPIK_WITH_ONNX
#include "deepik/learn/onnx_export.hpp"
#endif

namespace deepik::cli {

void RunModelInfo(const std::string& path, std::ostream& out) {
  const IkModel model = IkModel::Load(path);
  const Chain& chain = model.chain();
  out << "model: " << path << "\n";
  out << "arm: " << chain.name() << " (" << chain.num_joints() << " joints:";
  for (const Joint& joint : chain.joints()) out << " " << joint.name;
  out << "), reach " << chain.reach() << " m\n";
  const NetworkOptions& n = model.network();
  out << "target: " << ToString(n.target)
      << (n.target == TargetKind::kPose ? " (x, y, z and the first two columns of the tip's rotation matrix)"
                                        : " (x, y, z)")
      << "\n";
  out << "network: " << n.depth << " hidden layers x " << n.width << " " << ToString(n.activation) << ", "
      << ToString(n.head) << " head" << (n.periodic_sincos ? ", (sin, cos) outputs for full-turn joints" : "")
      << "\n";
  if (n.newton_steps > 0) {
    out << "newton steps: " << n.newton_steps
        << " damped Gauss-Newton step(s) on the exact FK end the forward pass (part of the network's "
           "answer)\n";
  }
  if (n.heads > 1) {
    out << "heads: " << n.heads
        << " joint vectors per target (winner-takes-all); the answer is the head closest to the target by "
           "FK\n";
  }
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
        << r.validation_loss << ", val median " << r.validation_median * 1e3 << " mm, ";
    if (!std::isnan(r.validation_angle_median)) {
      out << r.validation_angle_median * 180.0 / M_PI << " deg, ";
    }
    if (!std::isnan(r.validation_median_in_reach)) {
      out << "in reach: median " << r.validation_median_in_reach * 1e3 << " mm, p99 "
          << r.validation_p99_in_reach * 1e3 << " mm, ";
    }
    out << FormatDuration(r.seconds) << "\n";
  }
  out << "metrics: " << model.Metadata("metrics") << "\n";
}

void RunExport(const ExportCommandOptions& options, std::ostream& log) {
  if (options.format != "onnx") throw InputError("--format: expected onnx, got '" + options.format + "'");
#ifdef DEEPIK_WITH_ONNX
  CheckDistinctFiles(options.model_path, options.output_path);
  const IkModel model = IkModel::Load(options.model_path);
  ExportOnnx(model, options.output_path);
  log << "export: " << options.model_path << " -> " << options.output_path << " (ONNX, input 'targets' "
      << OnnxInputDescription(model.target()) << ", output 'joints' [batch, " << model.chain().num_joints()
      << "])\n";
#else
  (void)log;
  throw InputError("export: this deepik was built without ONNX support (install libonnx-dev and rebuild)");
#endif
}

void AddModelCommands(CLI::App& app, CommandSet* set) {
  CLI::App* model = app.add_subcommand("model", "inspect a model file");
  model->require_subcommand(1);
  auto path = std::make_shared<std::string>();
  CLI::App* info = model->add_subcommand("info", "arm, architecture, training, history and headline metrics");
  info->add_option("MODEL", *path, "model file")->required();
  set->commands.push_back({info, [path] {
                             RunModelInfo(*path, std::cout);
                             return 0;
                           }});

  // `model set-newton-steps MODEL N -o OUT`: the steps do not enter training, so a trained model
  // can gain (or lose) them; the weights and everything else are kept.
  struct NewtonOptions {
    std::string model, output;
    int steps = 0;
  };
  auto newton = std::make_shared<NewtonOptions>();
  CLI::App* set_newton = model->add_subcommand(
      "set-newton-steps", "write a copy of a model with N Newton steps ending its forward pass (no retraining)");
  set_newton->add_option("MODEL", newton->model, "model file")->required();
  set_newton->add_option("N", newton->steps, "Newton steps (0..4; position and pose models)")
      ->required()
      ->check(WholeNumberIn(0, kMaxNewtonSteps));
  set_newton->add_option("--output,-o", newton->output, "the new model file")->required();
  set->commands.push_back({set_newton, [newton] {
                             CheckDistinctFiles(newton->model, newton->output);
                             IkModel::Load(newton->model).WithNewtonSteps(newton->steps).Save(newton->output);
                             std::cerr << "model: " << newton->output << ": " << newton->steps
                                       << " Newton step(s)\n";
                             return 0;
                           }});

  auto export_options = std::make_shared<ExportCommandOptions>();
  CLI::App* export_command =
      app.add_subcommand("export", "write the model's network for other runtimes (one ONNX graph)");
  export_command->add_option("--model,-m", export_options->model_path, "model file")->required();
  export_command->add_option("--format", export_options->format, "onnx")
      ->capture_default_str()
      ->check(CLI::IsMember({"onnx"}));
  export_command
      ->add_option(
          "--output,-o", export_options->output_path,
          "ONNX file: float32 'targets' -> 'joints' [batch, dof] (rad, m); 'targets' is [batch, 3] for a "
          "position model (x, y, z in m, base frame), [batch, 9] for a pose model (x, y, z, then the first "
          "two columns of the tip's rotation matrix: r11, r21, r31, r12, r22, r32)")
      ->required();
  set->commands.push_back({export_command, [export_options] {
                             RunExport(*export_options, std::cerr);
                             return 0;
                           }});
}

}  // namespace deepik::cli
