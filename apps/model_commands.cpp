// `deepik model info`: everything a model file holds.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iomanip>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli.hpp"
#include "deepik/data/csv.hpp"
#include "deepik/errors.hpp"
#include "deepik/learn/model.hpp"
#include "learn_plugin.hpp"

namespace deepik::cli {

namespace {

// A figure with 4 significant digits (whole below 1e15 from 1000 on), never "-0".
std::string Figure(double value) {
  char text[32];
  const bool whole = std::abs(value) >= 1000 && std::abs(value) < 1e15;
  std::snprintf(text, sizeof text, whole ? "%.0f" : "%.4g", value + 0.0);
  return text;
}

// One metadata field for people: units from the name's suffix (_m in mm, _rad in deg, share_* in
// %), underscores as spaces.
std::string Field(const std::string& key, const nlohmann::json& value) {
  const auto ends_with = [&key](const std::string& suffix) {
    return key.size() > suffix.size() && key.compare(key.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  std::string name = key, text;
  if (value.is_number() && !value.is_boolean()) {
    const double v = value.get<double>();
    if (key.rfind("share_", 0) == 0) {
      name = key.substr(6);
      text = Figure(100 * v) + " %";
    } else if (ends_with("_m")) {
      name = key.substr(0, key.size() - 2);
      text = Figure(1e3 * v) + " mm";
    } else if (ends_with("_rad")) {
      name = key.substr(0, key.size() - 4);
      text = Figure(v * 180.0 / M_PI) + " deg";
    } else {
      text = value.is_number_integer() ? value.dump() : Figure(v);
    }
  } else {
    text = value.is_string() ? value.get<std::string>() : value.dump();
  }
  std::replace(name.begin(), name.end(), '_', ' ');
  return PrintableName(name + " " + text);
}

// The fields of a JSON object as "name value, name value" lines of at most 100 columns, indented;
// nested objects each on their own line, headed by their name.
void PrintFields(const nlohmann::json& object, const std::string& indent, std::ostream& out) {
  std::string line;
  const auto flush = [&] {
    if (!line.empty()) out << indent << line << "\n";
    line.clear();
  };
  for (const auto& [key, value] : object.items()) {
    if (value.is_object()) continue;
    const std::string field = Field(key, value);
    if (!line.empty() && indent.size() + line.size() + 2 + field.size() > 100) flush();
    line += (line.empty() ? "" : ", ") + field;
  }
  flush();
  for (const auto& [key, value] : object.items()) {
    if (!value.is_object()) continue;
    std::string name = key;
    std::replace(name.begin(), name.end(), '_', ' ');
    out << indent << PrintableName(name) << ":\n";
    PrintFields(value, indent + "  ", out);
  }
}

// A metadata entry as readable fields, or as its JSON text (`raw`, or when it is not an object).
void PrintMetadata(const std::string& title, const std::string& text, bool raw, std::ostream& out) {
  nlohmann::json object;
  if (!raw) object = nlohmann::json::parse(text, nullptr, false);
  if (raw || !object.is_object()) {
    out << title << ": " << PrintableText(text, false) << "\n";
    return;
  }
  out << title << ":\n";
  PrintFields(object, "  ", out);
}

// The history as a table: the first and last epochs when there are many.
void PrintHistory(const std::vector<EpochRecord>& history, std::ostream& out) {
  out << "history: " << Plural(static_cast<int64_t>(history.size()), "epoch")
      << " (loss: training / validation; val median: of all validation targets)\n";
  if (history.empty()) return;
  const bool angle = !std::isnan(history.back().validation_angle_median);
  const bool in_reach = !std::isnan(history.back().validation_median_in_reach);
  out << "  epoch  " << std::left << std::setw(19) << "loss" << std::setw(12) << "val median"
      << (angle ? "angle       " : "") << (in_reach ? "in reach: median  p99         " : "") << "time\n";
  const size_t shown = 10;
  for (size_t i = 0; i < history.size(); ++i) {
    if (history.size() > shown && i >= shown / 2 && i < history.size() - shown / 2) {
      if (i == shown / 2) out << "  ...\n";
      continue;
    }
    const EpochRecord& r = history[i];
    out << "  " << std::right << std::setw(5) << r.epoch << "  " << std::left << std::setw(19)
        << (Figure(r.train_loss) + " / " + Figure(r.validation_loss)) << std::setw(12)
        << (Figure(r.validation_median * 1e3) + " mm");
    if (angle) out << std::setw(12) << (Figure(r.validation_angle_median * 180.0 / M_PI) + " deg");
    if (in_reach) {
      out << std::setw(18) << (Figure(r.validation_median_in_reach * 1e3) + " mm") << std::setw(12)
          << (Figure(r.validation_p99_in_reach * 1e3) + " mm");
    }
    out << FormatDuration(r.seconds) << "\n";
  }
}

}  // namespace

void RunModelInfo(const std::string& path, bool raw_json, std::ostream& out) {
  const IkModel model = IkModel::Load(path);
  const Chain& chain = model.chain();
  out << "model: " << PrintableName(path) << "\n";
  out << "arm: " << PrintableName(chain.name()) << ", " << Plural(chain.num_joints(), "joint") << ", reach "
      << chain.reach() << " m\n";
  std::string line = "joints:";
  for (const Joint& joint : chain.joints()) {
    const std::string name = PrintableName(joint.name);
    if (line.size() + 1 + name.size() > 100) {
      out << line << "\n";
      line = "       ";
    }
    line += " " + name;
  }
  out << line << "\n";
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
        << " (damped Gauss-Newton on the exact FK ends the forward pass: part of the answer)\n";
  }
  if (n.heads > 1) {
    out << "heads: " << n.heads
        << " joint vectors per target (winner-takes-all): the answer is the one nearest by FK"
        << (n.newton_every_head && n.newton_steps > 0 ? " after every head's Newton steps" : "") << "\n";
  }
  PrintMetadata("training options", model.Metadata("training"), raw_json, out);
  PrintHistory(model.History(), out);
  PrintMetadata("metrics", model.Metadata("metrics"), raw_json, out);
}

void RunExport(const ExportCommandOptions& options, std::ostream& log) {
  if (options.format != "onnx") throw InputError("--format: expected onnx, got '" + options.format + "'");
#ifdef DEEPIK_WITH_ONNX
  CheckDistinctFiles(options.model_path, options.output_path);
  // In a plugin (apps/onnx_plugin.cpp), so that no other command loads protobuf.
  using Entry = void (*)(const ExportCommandOptions*, std::ostream*);
  static const auto run = reinterpret_cast<Entry>(LoadPluginEntry(
      "deepik_onnx_commands.so", "DEEPIK_ONNX_PLUGIN", "deepik_run_onnx_export", "ONNX export (protobuf)"));
  run(&options, &log);
#else
  (void)log;
  throw InputError("export: this deepik was built without ONNX support (install libonnx-dev and rebuild)");
#endif
}

void AddModelCommands(CLI::App& app, CommandSet* set) {
  CLI::App* model = app.add_subcommand("model", "inspect a model file");
  model->require_subcommand(1);
  struct InfoOptions {
    std::string path;
    bool json = false;
  };
  auto parsed = std::make_shared<InfoOptions>();
  CLI::App* info = model->add_subcommand("info", "arm, architecture, training, history and headline metrics");
  info->add_option("MODEL", parsed->path, "model file")->required();
  info->add_flag("--json", parsed->json, "training options and metrics as the file's raw JSON text");
  set->commands.push_back({info, [parsed] {
                             RunModelInfo(parsed->path, parsed->json, std::cout);
                             return 0;
                           }});

  // `model set-newton-steps MODEL N -o OUT`: the steps do not enter training, so a trained model
  // can gain (or lose) them; the weights and everything else are kept.
  struct NewtonOptions {
    std::string model, output;
    int steps = 0;
    bool every_head = false;
  };
  auto newton = std::make_shared<NewtonOptions>();
  CLI::App* set_newton = model->add_subcommand(
      "set-newton-steps",
      "write a copy of a model with N Newton steps ending its forward pass (no retraining)");
  set_newton->add_option("MODEL", newton->model, "model file")->required();
  set_newton->add_option("N", newton->steps, "Newton steps (0..4; position and pose models)")
      ->required()
      ->check(WholeNumberIn(0, kMaxNewtonSteps));
  set_newton->add_flag("--every-head", newton->every_head,
                       "multi-head models: every head takes the steps, then the head closest to the target "
                       "is the answer (heads x N steps; without it the steps follow the choice)");
  set_newton->add_option("--output,-o", newton->output, "the new model file")->required();
  set->commands.push_back(
      {set_newton, [newton] {
         CheckDistinctFiles(newton->model, newton->output);
         const IkModel source = IkModel::Load(newton->model);
         if (newton->every_head && source.heads() == 1) {
           throw InputError("--every-head: " + newton->model + " has one head (expected a multi-head model)");
         }
         source.WithNewtonSteps(newton->steps, newton->every_head).Save(newton->output);
         std::cerr << "model: " << newton->output << ": " << newton->steps << " Newton step(s)"
                   << (newton->every_head ? " on every head" : "") << "\n";
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
