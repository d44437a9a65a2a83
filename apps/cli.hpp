// How the sub-commands join the command line: each group adds its sub-commands (options bound to
// an options struct) and says how to run them; main.cpp parses and runs the one that was given.
#pragma once

#include <CLI/CLI.hpp>
#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "commands.hpp"

namespace deepik::cli {

/// A sub-command as main sees it: the CLI11 sub-command that parsed it and how to run it.
struct Command {
  CLI::App* app = nullptr;
  std::function<int()> run;   ///< returns the exit code
  bool handles_stop = false;  ///< long job: SIGINT/SIGTERM set the stop flag instead of killing it
};

/// Where the groups put their commands, and the flag that SIGINT/SIGTERM set.
struct CommandSet {
  std::vector<Command> commands;
  const std::atomic<bool>* stop = nullptr;
};

/// A CLI11 check that an option's value is a number in [min, max]; NaN, infinity and text are
/// refused (CLI::Range lets NaN through). The help shows "in [min, max]"; a bad value is a usage
/// error ("--lr: expected a number in [1e-10, 1], got 'nan'").
CLI::Validator NumberIn(double min, double max);
/// The same for a whole number.
CLI::Validator WholeNumberIn(int64_t min, int64_t max);

void AddArmOptions(CLI::App* command, ArmSpec* arm, bool required = true);
// --arm ARM with --base/--tip: an arm instead of a model, for the solvers that need none.
void AddArmOption(CLI::App* command, ArmSpec* arm);
void AddSamplerOptions(CLI::App* command, SamplerOptions* sampler, std::string* kind);

void AddArmCommands(CLI::App& app, CommandSet* set);     // arm info, fk
void AddDatasetCommand(CLI::App& app, CommandSet* set);  // dataset
void AddTrainCommands(CLI::App& app, CommandSet* set);   // train, experiment seed
void AddModelCommands(CLI::App& app, CommandSet* set);   // model info
void AddSolveCommands(CLI::App& app, CommandSet* set);   // solve, eval, bench
void AddServeCommand(CLI::App& app, CommandSet* set);    // serve

}  // namespace deepik::cli
