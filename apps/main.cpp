// The `deepik` command: builds the command line from the sub-command groups, parses it, runs the
// sub-command that was given and maps errors to exit codes (see README, "Errors and exit codes").
#include <algorithm>
#include <atomic>
#include <csignal>
#include <iostream>

#include "cli.hpp"
#include "deepik/data/csv.hpp"
#include "deepik/errors.hpp"
#include "geometry/geometry_commands.hpp"

namespace {

// Set by SIGINT/SIGTERM/SIGHUP in a long job; it saves what it can and stops when it sees it.
std::atomic<bool> g_stop_requested{false};

void RequestStop(int) { g_stop_requested.store(true); }

// Every other signal that would end the process (and, for short commands, SIGINT/SIGTERM/SIGHUP
// too) ends it as usual, but first removes the temporary output files it was writing: the real
// outputs are only ever replaced whole, by rename.
void RemoveTemporaryFilesAndDie(int signal) {
  deepik::RemovePendingTemporaryFiles();
  std::signal(signal, SIG_DFL);
  std::raise(signal);
}

void HandleSignals(bool long_job) {
  for (const int signal : {SIGINT, SIGTERM, SIGHUP}) {
    std::signal(signal, long_job ? RequestStop : RemoveTemporaryFilesAndDie);
  }
  for (const int signal : {SIGQUIT, SIGUSR1, SIGUSR2, SIGPIPE, SIGALRM, SIGXCPU, SIGVTALRM, SIGPROF}) {
    std::signal(signal, RemoveTemporaryFilesAndDie);
  }
  // A file-size limit (ulimit -f) is a full disk by another name: ignored, the write fails with
  // EFBIG, and the command reports it as an error and keeps its last good output.
  std::signal(SIGXFSZ, SIG_IGN);
}

// Options whose value is a file the command writes; every other option naming a file is an input.
bool IsOutputOption(const CLI::Option& option) {
  for (const char* name : {"output", "json", "log", "checkpoint"}) {
    if (option.check_lname(name)) return true;
  }
  return false;
}

// No command writes over a file it reads (README, "Files"): checked for every option of the
// command that was given before any work.
void CheckOutputsAreNotInputs(const CLI::App& command) {
  std::vector<deepik::NamedPath> inputs, outputs;
  for (const CLI::Option* option : command.get_options()) {
    if (option->count() == 0) continue;
    for (const std::string& value : option->results()) {
      (IsOutputOption(*option) ? outputs : inputs).push_back({option->get_name(), value});
    }
  }
  deepik::CheckOutputsAreNotInputs(inputs, outputs);
}

size_t EditDistance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t substitution = diagonal + (a[i - 1] == b[j - 1] ? 0 : 1);
      diagonal = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, substitution});
    }
  }
  return row[b.size()];
}

// The candidate nearest to `word` when it is near enough to be a typo (at most 2 edits, fewer than
// half the word), else empty.
std::string Nearest(const std::string& word, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_distance = std::min<size_t>(3, (word.size() + 1) / 2);
  for (const std::string& candidate : candidates) {
    const size_t distance = EditDistance(word, candidate);
    if (distance < best_distance) {
      best = candidate;
      best_distance = distance;
    }
  }
  return best;
}

// What a user probably meant by a command line CLI11 refused: "unknown command 'solvee'; did you
// mean 'deepik solve'?" for a mistyped sub-command, "unknown option --modle; did you mean --model?"
// for a mistyped long option; empty when neither applies (CLI11's own message is then shown).
std::string SuggestionFor(const CLI::App& app, const std::vector<std::string>& argv) {
  const CLI::App* current = &app;
  bool in_leaf = false;  // past the sub-commands: the rest are options and values
  for (size_t i = 1; i < argv.size(); ++i) {
    const std::string& token = argv[i];
    if (token.rfind("--", 0) == 0 && token.size() > 2) {
      const std::string name =
          token.substr(2, token.find('=') == std::string::npos ? std::string::npos : token.find('=') - 2);
      std::vector<std::string> names;
      bool known = false;
      for (const CLI::Option* option : current->get_options()) {
        for (const std::string& lname : option->get_lnames()) {
          names.push_back(lname);
          known = known || lname == name;
        }
      }
      if (!known) {
        const std::string near = Nearest(name, names);
        if (!near.empty()) return "unknown option --" + name + "; did you mean --" + near + "?";
      }
      continue;
    }
    if (token.empty() || token[0] == '-' || in_leaf) continue;
    const auto subcommands = current->get_subcommands([](const CLI::App*) { return true; });
    if (subcommands.empty()) {
      in_leaf = true;
      continue;
    }
    const CLI::App* next = nullptr;
    std::vector<std::string> names;
    for (const CLI::App* subcommand : subcommands) {
      names.push_back(subcommand->get_name());
      if (subcommand->get_name() == token) next = subcommand;
    }
    if (next == nullptr) {
      const std::string near = Nearest(token, names);
      const std::string where = current == &app ? "" : " " + current->get_name();
      return "unknown command '" + token + "'" +
             (near.empty() ? "; the commands are listed by deepik" + where + " --help"
                           : "; did you mean 'deepik" + where + " " + near + "'?");
    }
    current = next;
  }
  return "";
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"deepik: inverse kinematics for robot arms, learned with deep learning"};
  app.name("deepik");
  app.require_subcommand(1);
  app.set_version_flag("--version", "deepik 0.1.0");
  // Usage errors start like every other error (README, "Errors and exit codes").
  app.failure_message([](const CLI::App*, const CLI::Error& e) {
    return "deepik: error: " + deepik::cli::PrintableText(e.what()) +
           "\nRun with --help for more information.\n";
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

  if (argc == 1) {  // a bare `deepik`: the help, as with --help
    std::cout << app.help();
    return deepik::kExitOk;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const std::string hint = e.get_exit_code() != 0 ? SuggestionFor(app, set.argv) : "";
    if (!hint.empty()) {
      std::cerr << "deepik: error: " << deepik::cli::PrintableText(hint)
                << "\nRun with --help for more information.\n";
      return deepik::kExitUsage;
    }
    const int code = app.exit(e);
    return code == 0 ? deepik::kExitOk : deepik::kExitUsage;
  }

  try {
    for (const deepik::cli::Command& command : set.commands) {
      if (!command.app->parsed()) continue;
      HandleSignals(command.handles_stop);
      CheckOutputsAreNotInputs(*command.app);
      return command.run();
    }
  } catch (const deepik::InputError& e) {
    std::cerr << "deepik: error: " << deepik::cli::PrintableText(e.what()) << "\n";
    return deepik::kExitInput;
  } catch (const std::invalid_argument& e) {
    std::cerr << "deepik: error: " << deepik::cli::PrintableText(e.what()) << "\n";
    return deepik::kExitInput;
  } catch (const deepik::DistributedError& e) {
    std::cerr << "deepik: error: " << deepik::cli::PrintableText(e.what()) << "\n";
    return deepik::kExitDistributed;
  } catch (const std::exception& e) {
    std::cerr << "deepik: internal error: " << deepik::cli::PrintableText(e.what()) << "\n";
    return deepik::kExitInternal;
  }
  return deepik::kExitOk;
}
