// `deepik experiment seed` (runs in the learning plugin): the seed experiment's models A-D and
// the classical solvers on the same targets, as one table.
#include <filesystem>
#include <ostream>

#include "../commands.hpp"
#include "deepik/errors.hpp"
#include "deepik/kinematics/builtin_arms.hpp"
#include "deepik/solve/eval.hpp"
#include "deepik/solve/solvers.hpp"

namespace deepik::cli {

void RunExperimentSeed(const ExperimentCommandOptions& options, std::ostream& out, std::ostream& log,
                       const std::atomic<bool>* stop) {
  std::filesystem::create_directories(options.work_dir);
  const Chain chain = MakeSeedArm();
  struct Variant {
    const char* label;
    SamplerKind sampler;
    OutputHead head;
    bool sincos;
    const char* loss;
  };
  const Variant variants[] = {
      {"A: MSE on joint-grid data, free head (the seed's first model)", SamplerKind::kGrid, OutputHead::kFree,
       false, "mse"},
      {"B: FK loss on workspace data in and around the reach, free head", SamplerKind::kWorkspace,
       OutputHead::kFree, false, "fk"},
      {"C: B with the bounded head and (sin, cos) yaw outputs", SamplerKind::kWorkspace, OutputHead::kBounded,
       true, "fk"},
  };
  EvalTargetOptions target_options;
  target_options.in_reach_count = options.in_reach_count;
  target_options.out_of_reach_count = options.out_of_reach_count;
  const EvalTargets targets = MakeEvalTargets(chain, target_options);
  std::vector<SolverReport> reports;
  std::vector<std::string> labels;
  std::string model_c;
  for (const Variant& v : variants) {
    SamplerOptions sampler;
    sampler.kind = v.sampler;
    sampler.count = 300000;
    sampler.grid_step_deg = 12.0;
    sampler.seed = 1;
    sampler.validation_fraction = 0.02;
    sampler.train_fraction = 0.95;
    const Dataset data = MakeDataset(chain, sampler);
    NetworkOptions network;
    network.head = v.head;
    network.periodic_sincos = v.sincos;
    TrainOptions train;
    ParseLossSpec(v.loss, &train);
    train.epochs = 1000;  // the time budget ends each run
    train.time_limit_seconds = options.seconds_per_model;
    train.threads = options.threads;
    train.eval_samples = 1000;
    const std::string path = options.work_dir + "/" + std::string(1, v.label[0]) + ".safetensors";
    TrainFiles files{path, path + ".ckpt", path + ".log.csv", false, ""};  // a built-in arm: no URDF shapes
    log << "experiment: training " << v.label << " (" << options.seconds_per_model << " s)\n";
    const TrainResult result = Train(data, network, train, files, nullptr, stop);
    if (result.status == TrainStatus::kInterrupted) throw InputError("experiment: interrupted");
    const IkModel model = IkModel::Load(path);
    const NetworkSolver solver(IkModel::Load(path));
    reports.push_back(EvaluateSolver(solver, targets, options.threads));
    labels.push_back(v.label);
    if (v.label[0] == 'C') model_c = path;
  }
  const IkModel model = IkModel::Load(model_c);
  const RefinedSolver refined(IkModel::Load(model_c));
  reports.push_back(EvaluateSolver(refined, targets, options.threads));
  labels.push_back("D: C + refinement (damped least squares within the limits)");
  for (const char* name : {"analytic", "kdl-nr", "kdl-lma"}) {
    reports.push_back(EvaluateSolver(*MakeSolver(name, model), targets, options.threads));
    labels.push_back(name == std::string("analytic") ? "analytic: closed form (the oracle)"
                                                     : std::string(name) + ": orocos-kdl, started mid-range");
  }
  for (size_t i = 0; i < reports.size(); ++i) reports[i].solver = labels[i];
  out << "Seed arm; " << targets.in_reach.size() << " in-reach targets (FK of uniform joints), "
      << targets.out_of_reach.size() << " out-of-reach targets (excess over the closed-form closest point); "
      << options.seconds_per_model << " s of training per model.\n\n";
  out << ReportsToMarkdown(reports);
}

}  // namespace deepik::cli
