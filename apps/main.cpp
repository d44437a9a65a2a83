// The `deepik` command: builds the command line from the sub-command groups, parses it, runs the
// sub-command that was given and maps errors to exit codes (see README, "Errors and exit codes").
#include <atomic>
#include <csignal>
#include <iostream>

#include "cli.hpp"
#include "deepik/data/csv.hpp"
#include "deepik/errors.hpp"
#include "geometry/geometry_commands.hpp"

namespace {

// Set by SIGINT/SIGTERM; long jobs save what they can and stop when they see it.
std::atomic<bool> g_stop_requested{false};

void RequestStop(int) { g_stop_requested.store(true); }

// Short commands die on SIGINT/SIGTERM as usual, but first remove the temporary output files they
// were writing (the real outputs are only ever replaced whole, by rename).
void RemoveTemporaryFilesAndDie(int signal) {
  deepik::RemovePendingTemporaryFiles();
  std::signal(signal, SIG_DFL);
  std::raise(signal);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"deepik: inverse kinematics for robot arms, learned with deep learning"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "deepik 0.1.0");
  // Usage errors start like every other error (README, "Errors and exit codes").
  app.failure_message([](const CLI::App*, const CLI::Error& e) {
    return "deepik: error: " + std::string(e.what()) + "\nRun with --help for more information.\n";
  });
  deepik::cli::CommandSet set;
  set.stop = &g_stop_requested;
  set.argv.assign(argv, argv + argc);  // `train --nproc K` starts K copies of this command line
  deepik::cli::AddArmCommands(app, &set);
  deepik::cli::AddDatasetCommand(app, &set);
  deepik::cli::AddTrainCommands(app, &set);
  deepik::cli::AddModelCommands(app, &set);
  deepik::cli::AddSolveCommands(app, &set);
  deepik::cli::AddServeCommand(app, &set);
  deepik::cli::AddGeometryCommands(app, &set);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? deepik::kExitOk : deepik::kExitUsage;
  }

  try {
    for (const deepik::cli::Command& command : set.commands) {
      if (!command.app->parsed()) continue;
      const auto handler = command.handles_stop ? RequestStop : RemoveTemporaryFilesAndDie;
      std::signal(SIGINT, handler);
      std::signal(SIGTERM, handler);
      return command.run();
    }
  } catch (const deepik::InputError& e) {
    std::cerr << "deepik: error: " << e.what() << "\n";
    return deepik::kExitInput;
  } catch (const std::invalid_argument& e) {
    std::cerr << "deepik: error: " << e.what() << "\n";
    return deepik::kExitInput;
  } catch (const deepik::DistributedError& e) {
    std::cerr << "deepik: error: " << e.what() << "\n";
    return deepik::kExitDistributed;
  } catch (const std::exception& e) {
    std::cerr << "deepik: internal error: " << e.what() << "\n";
    return deepik::kExitInternal;
  }
  return deepik::kExitOk;
}
