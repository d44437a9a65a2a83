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
#include "deepik/data/option_range.hpp"

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
  std::vector<std::string> argv;  ///< the command line as given (argv[0] first)
};

/// A CLI11 check that an option's value is a number in [min, max]; NaN, infinity and text are
/// refused (CLI::Range lets NaN through). The help shows "in [min, max]"; a bad value is a usage
/// error ("--lr: expected a number in [1e-10, 1], got 'nan'").
CLI::Validator NumberIn(double min, double max);
/// The same for a whole number.
CLI::Validator WholeNumberIn(int64_t min, int64_t max);
/// The same for a library range (deepik/data/option_range.hpp): the one definition of the range.
inline CLI::Validator NumberIn(const NumberRange& range) { return NumberIn(range.min, range.max); }
inline CLI::Validator WholeNumberIn(const WholeRange& range) { return WholeNumberIn(range.min, range.max); }
/// A seed: a whole number in [0, 2^64 - 1] written in digits ("-1", "1e23" and 2^64 are refused,
/// not wrapped or clamped to 18446744073709551615).
CLI::Validator SeedNumber();

void AddArmOptions(CLI::App* command, ArmSpec* arm, bool required = true);
// --arm ARM with --base/--tip: an arm instead of a model, for the solvers that need none.
void AddArmOption(CLI::App* command, ArmSpec* arm);
void AddSamplerOptions(CLI::App* command, SamplerOptions* sampler, std::string* kind);

/// `train --nproc K`: K ranks of a data-parallel job on this machine.
struct LocalLaunch {
  int nproc = 1;
  std::vector<std::string> arguments;  ///< each rank's command line (argv[0] first), without --nproc
  std::string master_addr = "127.0.0.1";
  int master_port = 0;  ///< 0: a free port of the loopback interface
  double timeout_seconds = 180;
};

/// Starts the ranks (this program, with RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE,
/// MASTER_ADDR and MASTER_PORT set as torchrun sets them), forwards SIGINT and SIGTERM to them, and
/// waits for every one. A rank still running timeout + 15 s after another failed is stopped
/// (SIGTERM, then SIGKILL). Returns 0 when every rank succeeded, else the exit code of the first
/// rank that failed (128 + signal for one killed), or kExitInterrupted when they were stopped.
int RunLocalRanks(const LocalLaunch& launch, std::ostream& log);

void AddArmCommands(CLI::App& app, CommandSet* set);     // arm info, fk
void AddDatasetCommand(CLI::App& app, CommandSet* set);  // dataset
void AddTrainCommands(CLI::App& app, CommandSet* set);   // train, experiment seed
void AddModelCommands(CLI::App& app, CommandSet* set);   // model info
void AddSolveCommands(CLI::App& app, CommandSet* set);   // solve, eval, bench
void AddServeCommand(CLI::App& app, CommandSet* set);    // serve

}  // namespace deepik::cli
