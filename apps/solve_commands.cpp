// `deepik solve`, `deepik eval` and `deepik bench`: IK for a CSV of targets, every solver side by
// side on the same targets, and latency and throughput.
#include <cstdio>
#include <iostream>
#include <memory>

#include "cli.hpp"
#include "deepik/data/csv.hpp"
#include "deepik/errors.hpp"
#include "deepik/learn/accuracy.hpp"
#include "deepik/learn/model.hpp"
#include "deepik/solve/eval.hpp"
#include "deepik/solve/solvers.hpp"

namespace deepik::cli {
namespace {

// Caps of the options (README, "Evaluation"): beyond them a run would take hours or more
// threads than any machine gives, so the value is a typo.
constexpr int64_t kMaxEvalTargets = 1'000'000;
constexpr int64_t kMaxThreads = 256;

std::vector<std::string> ApplicableSolvers(const IkModel& model, const std::vector<std::string>& requested) {
  if (!requested.empty()) return requested;
  std::vector<std::string> names = {"network", "refined"};
  if (SeedArmOptionsOf(model.chain())) names.push_back("analytic");
  names.push_back("kdl-nr");
  names.push_back("kdl-nr-restarts");
  names.push_back("kdl-lma");
  return names;
}

void WriteTextFile(const std::string& path, const std::string& text) {
  AtomicFileWriter writer(path);
  writer.stream() << text;
  writer.Commit();
}

// Target files (`solve -i`, `eval --targets`): header x,y,z, coordinates within +-1e4 m.
CsvColumns TargetColumns() {
  CsvColumns columns;
  columns.names = {"x", "y", "z"};
  columns.max_magnitude = kMaxTargetCoordinate;
  return columns;
}

}  // namespace

void RunSolve(const SolveCommandOptions& options, std::ostream& log) {
  if (options.threads < 1 || options.threads > 256) {
    throw InputError("--threads: expected 1..256, got " + std::to_string(options.threads));
  }
  CheckDistinctFiles(options.input_path, options.output_path);
  NumericCsvReader input(options.input_path, TargetColumns());
  const IkModel model = IkModel::Load(options.model_path);
  const std::unique_ptr<Solver> solver = MakeSolver(options.solver, model);
  const Chain& chain = model.chain();
  AtomicFileWriter writer(options.output_path);
  std::ostream& out = writer.stream();
  for (const Joint& joint : chain.joints()) out << joint.name << ',';
  out << "x,y,z,error,status\n";
  int64_t count = 0, converged = 0;
  NumericRows rows;
  std::vector<IkTarget> targets;
  // Block by block (each block solved on the threads), so that memory stays bounded whatever the
  // file's length; a bad row anywhere throws before Commit(), and the writer discards the output.
  while (input.ReadChunk(kCsvChunkRows, &rows)) {
    targets.clear();
    for (size_t i = 0; i < rows.size(); ++i) {
      targets.push_back(IkTarget{Eigen::Vector3d(rows.row(i)[0], rows.row(i)[1], rows.row(i)[2])});
    }
    for (const SolveResult& r : solver->SolveBatch(targets, options.threads)) {
      for (int j = 0; j < chain.num_joints(); ++j) out << FormatDouble(r.q[j]) << ',';
      out << FormatDouble(r.p_reached.x()) << ',' << FormatDouble(r.p_reached.y()) << ','
          << FormatDouble(r.p_reached.z()) << ',' << FormatDouble(r.error) << ',' << ToString(r.status)
          << '\n';
      if (r.status == SolveStatus::kConverged) ++converged;
    }
    count += static_cast<int64_t>(rows.size());
  }
  writer.Commit();
  log << "solve: " << count << " targets (" << converged << " converged) with " << solver->name() << " -> "
      << options.output_path << "\n";
}

// `eval` of a pose model: the network alone on unseen full poses (FK of uniform random joint values),
// position and angle errors.
void RunPoseEval(const IkModel& model, const EvalCommandOptions& options, std::ostream& out,
                 std::ostream& log) {
  if (!options.targets_path.empty() || !options.solvers.empty() || !options.plots_dir.empty()) {
    throw InputError(options.model_path +
                     " is a pose model: eval reports the network alone on generated poses; --targets, "
                     "--solvers and --plots are for position models");
  }
  if (options.in_reach_count < 1) throw InputError("--in-reach: expected at least 1 pose for a pose model");
  log << "eval: network alone on " << options.in_reach_count << " unseen poses\n";
  const NetworkAccuracy a = EvaluateNetworkInReach(model, options.in_reach_count, options.seed);
  constexpr double kDeg = 180.0 / M_PI;
  const ErrorStats &p = a.position, &r = *a.angle;
  char table[1024];
  std::snprintf(table, sizeof(table),
                "| error | median | p95 | p99 | max | mean |\n|---|---|---|---|---|---|\n"
                "| position (mm) | %.3f | %.3f | %.3f | %.3f | %.3f |\n"
                "| angle (deg) | %.3f | %.3f | %.3f | %.3f | %.3f |\n",
                p.median * 1e3, p.p95 * 1e3, p.p99 * 1e3, p.max * 1e3, p.mean * 1e3, r.median * kDeg,
                r.p95 * kDeg, r.p99 * kDeg, r.max * kDeg, r.mean * kDeg);
  out << "Arm " << model.chain().name() << ", pose model " << options.model_path << "; network alone on "
      << p.count << " unseen poses (FK of uniform random joints, seed " << options.seed
      << "); limit violations " << a.limit_violations << ", non-finite " << p.non_finite + r.non_finite
      << ".\n\n"
      << table;
  if (!options.json_path.empty()) {
    char json[1024];
    std::snprintf(
        json, sizeof(json),
        "{\"model\": \"pose\", \"solver\": \"network\", \"count\": %lld, \"limit_violations\": %lld, "
        "\"position_m\": {\"median\": %.9g, \"p95\": %.9g, \"p99\": %.9g, \"max\": %.9g, \"mean\": %.9g}, "
        "\"angle_rad\": {\"median\": %.9g, \"p95\": %.9g, \"p99\": %.9g, \"max\": %.9g, \"mean\": %.9g}}\n",
        static_cast<long long>(p.count), static_cast<long long>(a.limit_violations), p.median, p.p95, p.p99,
        p.max, p.mean, r.median, r.p95, r.p99, r.max, r.mean);
    WriteTextFile(options.json_path, json);
  }
}

void RunEval(const EvalCommandOptions& options, std::ostream& out, std::ostream& log) {
  const IkModel model = IkModel::Load(options.model_path);
  if (model.target() == TargetKind::kPose) return RunPoseEval(model, options, out, log);
  // The file before the targets: a bad row is reported before minutes of target generation.
  std::vector<Eigen::Vector3d> file_targets;
  if (!options.targets_path.empty()) {
    for (const std::vector<double>& row : ReadNumericCsv(options.targets_path, TargetColumns()).rows) {
      file_targets.emplace_back(row[0], row[1], row[2]);
    }
  }
  EvalTargetOptions target_options;
  target_options.in_reach_count = options.in_reach_count;
  target_options.out_of_reach_count = options.out_of_reach_count;
  target_options.seed = options.seed;
  log << "eval: making targets (" << options.in_reach_count << " in reach, " << options.out_of_reach_count
      << " out of reach)\n";
  EvalTargets targets = MakeEvalTargets(model.chain(), target_options);
  int64_t file_out_of_reach = 0;
  if (!options.targets_path.empty()) {
    file_out_of_reach = AddClassifiedTargets(model.chain(), file_targets, target_options, &targets);
    log << "eval: " << options.targets_path << ": " << file_targets.size() - file_out_of_reach
        << " targets in reach, " << file_out_of_reach << " out of reach (d* by " << targets.closest_method
        << ")\n";
  }
  std::vector<SolverReport> reports;
  std::vector<std::unique_ptr<Solver>> solvers;
  for (const std::string& name : ApplicableSolvers(model, options.solvers)) {
    solvers.push_back(MakeSolver(name, model));
    log << "eval: " << name << "...\n";
    reports.push_back(EvaluateSolver(*solvers.back(), targets, options.threads));
  }
  const int64_t file_in_reach = static_cast<int64_t>(file_targets.size()) - file_out_of_reach;
  const std::string from_file = " + " + std::to_string(file_in_reach) + " from " + options.targets_path;
  out << "Arm " << model.chain().name() << ", model " << options.model_path << "; " << targets.in_reach.size()
      << " in-reach targets (FK of uniform random joints" << (file_targets.empty() ? "" : from_file) << "), "
      << targets.out_of_reach.size() << " out-of-reach targets ("
      << (file_targets.empty() ? ""
                               : std::to_string(file_out_of_reach) + " from " + options.targets_path + "; ")
      << "excess over d*, " << targets.closest_method << ").\n\n";
  out << ReportsToMarkdown(reports);
  if (!options.json_path.empty()) WriteTextFile(options.json_path, ReportsToJson(reports, targets));
  if (!options.plots_dir.empty()) {
    std::vector<std::string> names;
    std::vector<std::vector<double>> errors;
    for (const SolverReport& r : reports) {
      names.push_back(r.solver);
      errors.push_back(r.in_reach_errors);
    }
    WriteTextFile(options.plots_dir + "/error_histogram.svg", ErrorHistogramSvg(names, errors));
    for (const auto& solver : solvers) {
      WriteTextFile(options.plots_dir + "/error_slice_" + solver->name() + ".svg",
                    ErrorSliceSvg(*solver, 1.25 * model.chain().reach(), 60));
    }
    log << "eval: plots in " << options.plots_dir << "\n";
  }
}

void RunBench(const BenchCommandOptions& options, std::ostream& out, std::ostream& log) {
  const IkModel model = IkModel::Load(options.model_path);
  EvalTargetOptions target_options;
  target_options.in_reach_count = options.count;
  target_options.out_of_reach_count = 0;
  target_options.seed = options.seed;
  const EvalTargets targets = MakeEvalTargets(model.chain(), target_options);
  std::vector<std::string> names = options.solvers;
  if (names.empty()) {
    names = {"network", "refined"};
    if (SeedArmOptionsOf(model.chain())) names.push_back("analytic");
    names.push_back("kdl-nr");
    names.push_back("kdl-nr-restarts");
  }
  out << "| solver | latency median | latency p99 | throughput (" << options.threads
      << " threads) | queries | limit violations | non-finite |\n|---|---|---|---|---|---|---|\n";
  for (const std::string& name : names) {
    const std::unique_ptr<Solver> solver = MakeSolver(name, model);
    log << "bench: " << name << "...\n";
    const SolverReport r =
        BenchSolver(*solver, targets.in_reach, options.warmup, options.repetitions, options.threads);
    char line[256];
    std::snprintf(line, sizeof(line), "| %s | %.2f us | %.2f us | %.0f /s | %lld | %lld | %lld |\n",
                  name.c_str(), r.latency_median_us, r.latency_p99_us, r.throughput_per_s,
                  static_cast<long long>(r.queries), static_cast<long long>(r.limit_violations),
                  static_cast<long long>(r.non_finite));
    out << line;
  }
}

void AddSolveCommands(CLI::App& app, CommandSet* set) {
  auto solve = std::make_shared<SolveCommandOptions>();
  CLI::App* solve_command = app.add_subcommand("solve", "inverse kinematics for a CSV of targets");
  solve_command->add_option("--model,-m", solve->model_path, "model file")->required();
  solve_command
      ->add_option("--solver,-s", solve->solver,
                   "network, refined, analytic (seed arm), kdl-nr, kdl-nr-restarts, kdl-lma")
      ->capture_default_str();
  solve_command->add_option("--input,-i", solve->input_path, "CSV with header x,y,z (m, base frame)")
      ->required();
  solve_command
      ->add_option("--output,-o", solve->output_path,
                   "CSV: joints (rad, m), x,y,z reached, error (m), status")
      ->required();
  solve_command->add_option("--threads", solve->threads, "solver threads")
      ->capture_default_str()
      ->check(WholeNumberIn(1, kMaxThreads));
  set->commands.push_back({solve_command, [solve] {
                             RunSolve(*solve, std::cerr);
                             return 0;
                           }});

  auto eval = std::make_shared<EvalCommandOptions>();
  CLI::App* eval_command = app.add_subcommand("eval", "every solver side by side on the same targets");
  eval_command->add_option("--model,-m", eval->model_path, "model file")->required();
  eval_command->add_option("--solvers", eval->solvers, "solvers to compare (default: all that apply)")
      ->delimiter(',');
  eval_command->add_option("--targets", eval->targets_path,
                           "extra targets, CSV x,y,z (m); each joins the in-reach or the out-of-reach set "
                           "by its distance d* to the reachable set");
  eval_command->add_option("--in-reach", eval->in_reach_count, "generated in-reach targets")
      ->capture_default_str()
      ->check(WholeNumberIn(0, kMaxEvalTargets));
  eval_command->add_option("--out-of-reach", eval->out_of_reach_count, "generated out-of-reach targets")
      ->capture_default_str()
      ->check(WholeNumberIn(0, kMaxEvalTargets));
  eval_command->add_option("--seed", eval->seed, "target seed")->capture_default_str();
  eval_command->add_option("--threads", eval->threads, "threads for the batch throughput")
      ->capture_default_str()
      ->check(WholeNumberIn(1, kMaxThreads));
  eval_command->add_option("--json", eval->json_path, "also write the report as JSON");
  eval_command->add_option("--plots", eval->plots_dir, "write SVG plots (error histogram, error slice) here");
  set->commands.push_back({eval_command, [eval] {
                             RunEval(*eval, std::cout, std::cerr);
                             return 0;
                           }});

  auto bench = std::make_shared<BenchCommandOptions>();
  CLI::App* bench_command = app.add_subcommand("bench", "latency and throughput of solvers");
  bench_command->add_option("--model,-m", bench->model_path, "model file")->required();
  bench_command
      ->add_option("--solvers", bench->solvers,
                   "solvers (default: network, refined, analytic, kdl-nr, kdl-nr-restarts)")
      ->delimiter(',');
  bench_command->add_option("--count", bench->count, "in-reach targets")
      ->capture_default_str()
      ->check(WholeNumberIn(1, kMaxEvalTargets));
  bench_command->add_option("--warmup", bench->warmup, "untimed passes")
      ->capture_default_str()
      ->check(WholeNumberIn(0, 100));
  bench_command->add_option("--repetitions", bench->repetitions, "timed passes")
      ->capture_default_str()
      ->check(WholeNumberIn(1, 1000));
  bench_command->add_option("--threads", bench->threads, "threads for the batch throughput")
      ->capture_default_str()
      ->check(WholeNumberIn(1, kMaxThreads));
  set->commands.push_back({bench_command, [bench] {
                             RunBench(*bench, std::cout, std::cerr);
                             return 0;
                           }});
}

}  // namespace deepik::cli
