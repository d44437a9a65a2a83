// The learning plugin's entry point (see learn_plugin.hpp): the commands that need libtorch.
#include <iostream>

#include "../learn_plugin.hpp"
#include "deepik/learn/blas_check.hpp"

namespace {

// libtorch on the reference BLAS trains ~50x slower; say so before a long run starts.
int Train(const deepik::cli::TrainCommandOptions& options, std::ostream& log, const std::atomic<bool>* stop) {
  deepik::WarnIfSlowBlas(log);
  return deepik::cli::RunTrain(options, log, stop);
}

void ExperimentSeed(const deepik::cli::ExperimentCommandOptions& options, std::ostream& out,
                    std::ostream& log, const std::atomic<bool>* stop) {
  deepik::WarnIfSlowBlas(log);
  deepik::cli::RunExperimentSeed(options, out, log, stop);
}

const deepik::cli::LearnCommands kCommands{Train, ExperimentSeed};

}  // namespace

extern "C" const deepik::cli::LearnCommands* deepik_learn_commands() { return &kCommands; }
