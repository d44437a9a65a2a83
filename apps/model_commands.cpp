// `deepik model info`: everything a model file holds.
#include <cmath>
#include <iostream>
#include <memory>

#include "cli.hpp"
#include "deepik/learn/model.hpp"

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
    out << FormatDuration(r.seconds) << "\n";
  }
  out << "metrics: " << model.Metadata("metrics") << "\n";
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
}

}  // namespace deepik::cli
