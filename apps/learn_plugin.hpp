// The commands that train (`train`, `experiment`) need libtorch; they live in a plugin
// (deepik_learn_commands.so) that the `deepik` command loads only when one of them runs, so every
// other command starts without loading libtorch.
#pragma once

#include <atomic>
#include <iosfwd>

#include "commands.hpp"

namespace deepik::cli {

/// The plugin's entry points (C++ functions; the plugin and the command are built together).
struct LearnCommands {
  int (*run_train)(const TrainCommandOptions& options, std::ostream& log, const std::atomic<bool>* stop);
  void (*run_experiment_seed)(const ExperimentCommandOptions& options, std::ostream& out, std::ostream& log,
                              const std::atomic<bool>* stop);
};

/// Loads the plugin on first use: $DEEPIK_LEARN_PLUGIN when set, else deepik_learn_commands.so next
/// to the `deepik` command (build tree), else in <libdir>/deepik/ beside an installed command.
/// @throws std::runtime_error naming the paths tried and the loader's message.
const LearnCommands& LoadLearnCommands();

/// Opens a plugin of the command's: $`env_override` when set, else `file_name` next to the
/// `deepik` command, else in <libdir>/deepik/; returns its exported `symbol`.
/// @throws std::runtime_error naming the paths tried and the loader's message (`what` names the
///         plugin in it).
void* LoadPluginEntry(const char* file_name, const char* env_override, const char* symbol, const char* what);

}  // namespace deepik::cli

/// Exported by the plugin; returns its table of entry points.
extern "C" const deepik::cli::LearnCommands* deepik_learn_commands();
