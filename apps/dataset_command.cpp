// `deepik dataset`: sample IK targets (and joint labels) from FK into a file.
#include <iomanip>
#include <memory>
#include <ostream>

#include "cli.hpp"

namespace deepik::cli {

void AddSamplerOptions(CLI::App* command, SamplerOptions* sampler, std::string* kind) {
  // The ranges are usage errors, checked before any work (the bounds of SamplerOptions::IsValid,
  // and no grid step finer than a thousandth of a degree or a micrometre); `--help` shows them.
  command
      ->add_option("--sampler", *kind,
                   "grid (joint grid), joints (uniform joints) or workspace (uniform in the arm's span: a "
                   "planar arm's plane, else a ball)")
      ->capture_default_str()
      ->check(CLI::IsMember({"grid", "joints", "workspace"}));
  command->add_option("--count", sampler->count, "samples (joints, workspace)")
      ->capture_default_str()
      ->check(WholeNumberIn(1, 50'000'000));
  command->add_option("--step", sampler->grid_step_deg, "grid step for revolute joints (deg)")
      ->capture_default_str()
      ->check(NumberIn(1e-3, 360));
  command->add_option("--step-m", sampler->grid_step_m, "grid step for prismatic joints (m)")
      ->capture_default_str()
      ->check(NumberIn(1e-6, 100));
  command->add_option("--margin", sampler->margin, "workspace radius = (1 + margin) x reach")
      ->capture_default_str()
      ->check(NumberIn(0, 100));
  command->add_option("--data-seed", sampler->seed, "sampling and shuffling seed")
      ->capture_default_str()
      ->check(SeedNumber());
  command->add_option("--train-fraction", sampler->train_fraction, "share of samples for training")
      ->capture_default_str()
      ->check(NumberIn(1e-9, 1));
  command
      ->add_option("--validation-fraction", sampler->validation_fraction,
                   "share for validation (rest: test; with --train-fraction at most 1)")
      ->capture_default_str()
      ->check(NumberIn(0, 1));
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
  command->add_option("--output,-o", parsed->options.output_path, "dataset file (safetensors; - for stdout)")
      ->required();
  // What the ranges alone cannot say (the two fractions together) is a usage error too.
  command->callback([parsed] {
    std::string error;
    if (!parsed->options.sampler.IsValid(&error)) throw CLI::ValidationError("dataset", error);
  });
  set->commands.push_back({command, [parsed] {
                             parsed->options.sampler.kind = SamplerKindFromString(parsed->kind);
                             RunDataset(parsed->options, std::cerr);
                             return 0;
                           }});
}

}  // namespace deepik::cli
