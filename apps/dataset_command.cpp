// `deepik dataset`: sample IK targets (and joint labels) from FK into a file.
#include <iomanip>
#include <memory>
#include <ostream>

#include "cli.hpp"

namespace deepik::cli {

void AddSamplerOptions(CLI::App* command, SamplerOptions* sampler, std::string* kind) {
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

void AddDatasetCommand(CLI::App& app, CommandSet* set) {
  struct Parsed {
    DatasetCommandOptions options;
    std::string kind = "workspace";
  };
  auto parsed = std::make_shared<Parsed>();
  CLI::App* command =
      app.add_subcommand("dataset", "sample IK targets (and joint labels) from FK into a file");
  AddArmOptions(command, &parsed->options.arm);
  AddSamplerOptions(command, &parsed->options.sampler, &parsed->kind);
  command->add_option("--output,-o", parsed->options.output_path, "dataset file (safetensors)")->required();
  set->commands.push_back({command, [parsed] {
                             parsed->options.sampler.kind = SamplerKindFromString(parsed->kind);
                             RunDataset(parsed->options, std::cerr);
                             return 0;
                           }});
}

}  // namespace deepik::cli
