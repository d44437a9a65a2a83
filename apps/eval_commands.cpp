// `deepik eval` and `deepik bench`: every solver side by side on the same targets, and latency and
// throughput. Every option is checked while the command line is parsed (usage errors, exit 2),
// before any work.
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>

#include "collision_options.hpp"
#include "deepik/errors.hpp"
#include "deepik/learn/accuracy.hpp"
#include "deepik/solve/eval.hpp"
#include "deepik/solve/pose_bench.hpp"
#include "deepik/solve/solvers.hpp"
#include "solve_common.hpp"

namespace deepik::cli {

CLI::Validator SeedNumber() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        // Digits only: strtoull would take "-1" as 2^64 - 1, and CLI11 "1e23" as the largest value.
        const bool digits =
            !text.empty() && text.size() <= 20 && text.find_first_not_of("0123456789") == std::string::npos;
        errno = 0;
        if (digits) std::strtoull(text.c_str(), nullptr, 10);
        if (digits && errno == 0) return "";
        return "expected a whole number in [0, 18446744073709551615], got '" + text + "'";
      },
      "in [0, 2^64 - 1]");
}

namespace {

std::vector<std::string> ApplicableSolvers(const IkModel& model, const std::vector<std::string>& requested) {
  if (!requested.empty()) return requested;
  std::vector<std::string> names = {"network", "refined"};
  if (SeedArmOptionsOf(model.chain())) names.push_back("analytic");
  names.push_back("kdl-nr");
  names.push_back("kdl-nr-restarts");
  names.push_back("kdl-lma");
  return names;
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
  out << "Arm " << PrintableName(model.chain().name()) << ", pose model " << options.model_path
      << "; network alone on " << p.count << " unseen poses (FK of uniform random joints, seed "
      << options.seed << "); limit violations " << a.limit_violations << ", non-finite "
      << p.non_finite + r.non_finite << ".\n\n"
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

// An output file's folder must exist, and the file must not be a folder.
void CheckOutputFile(const std::string& option, const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::is_directory(path, ec))
    throw CLI::ValidationError(option, "expected a file, got the folder '" + path + "'");
  const fs::path parent = fs::path(path).parent_path();
  if (!parent.empty() && !fs::is_directory(parent, ec))
    throw CLI::ValidationError(option, "expected a file in an existing folder, got '" + path + "'");
}

// eval's options that no single check covers, while parsing: no empty target set, and outputs
// that can be written, before minutes of work.
void CheckEvalOptions(const EvalCommandOptions& o) {
  if (o.in_reach_count == 0 && o.out_of_reach_count == 0 && o.targets_path.empty()) {
    throw CLI::ValidationError("--in-reach, --out-of-reach",
                               "expected some targets: both are 0 and no --targets file is given");
  }
  if (!o.json_path.empty()) CheckOutputFile("--json", o.json_path);
  std::error_code ec;
  if (!o.plots_dir.empty() && !std::filesystem::is_directory(o.plots_dir, ec)) {
    throw CLI::ValidationError("--plots", "expected an existing folder, got '" + o.plots_dir + "'");
  }
}

// bench: a model or an arm, not both; an arm only with --pose or --collision-free (the latency
// protocol needs a model); the collision files only with --collision-free.
void CheckBenchOptions(const BenchCommandOptions& o) {
  if (!o.model_path.empty() && !o.arm.arm.empty()) {
    throw CLI::ValidationError("--model, --arm",
                               "expected a model or an arm, not both (the model has its arm)");
  }
  const CollisionCommandOptions& c = o.collision;
  if (!o.collision_free && (!c.scene_path.empty() || !c.matrix_path.empty() || !c.spheres_path.empty() ||
                            !c.package_paths.empty())) {
    throw CLI::ValidationError("--scene, --matrix, --spheres, --package-path",
                               "expected --collision-free with them");
  }
  if (o.model_path.empty() && !o.pose && !o.collision_free) {
    throw CLI::ValidationError("--model", "expected a model file (--arm needs --pose or --collision-free)");
  }
  if (o.collision_free && o.pose) {
    throw CLI::ValidationError("--pose, --collision-free", "expected one protocol, not both");
  }
  if (o.collision_free && !o.solvers.empty()) {
    throw CLI::ValidationError("--solvers",
                               "--collision-free runs a fixed set of solvers; expected no --solvers");
  }
}

// bench --collision-free: the arm's geometry and the files, then the geometry plugin runs it.
void RunCollisionFreeBench(const BenchCommandOptions& options, std::ostream& out, std::ostream& log) {
  const ArmAndModel loaded = LoadArmOrModel(options.model_path, options.arm, "bench");
  const ArmSpec arm = GeometryArm(options.arm, loaded.chain());
  if (arm.arm.empty() || ArmUrdfPath(arm).empty()) {
    throw InputError(
        "--collision-free: the arm has no collision geometry (a URDF arm has it: panda, ur5, iiwa14 "
        "or a .urdf file)");
  }
  ClearBenchCommandOptions clear;
  const bool scene = !options.collision.scene_path.empty();
  clear.setup = CollisionSetup(options.collision, arm, scene ? CollisionMode::kAll : CollisionMode::kSelf);
  clear.model_path = options.model_path;
  clear.settings = SettingsRequest(options.settings).solver_settings();
  clear.count = options.count > 0 ? options.count : 2000;
  clear.seed = options.seed;
  LoadGeometryCommands().run_clear_bench(clear, out, log);
}

}  // namespace

void RunEval(const EvalCommandOptions& options, std::ostream& out, std::ostream& log) {
  const IkModel model = IkModel::Load(options.model_path);
  if (model.target() == TargetKind::kPose) return RunPoseEval(model, options, out, log);
  // The file before the targets: a bad row is reported before minutes of target generation.
  std::vector<Eigen::Vector3d> file_targets;
  std::vector<IkTarget> file_poses;
  if (!options.targets_path.empty()) {
    NumericCsvReader reader = OpenTargetFile(options.targets_path);
    NumericRows rows;
    std::vector<IkTarget> block;
    std::vector<std::string> problems;
    int64_t problem_count = 0;
    while (reader.ReadChunk(kCsvChunkRows, &rows)) {
      RowsToTargets(rows, options.targets_path, Vector6d::Zero(), IsPoseHeader(reader), &block, &problems,
                    &problem_count);
      for (const IkTarget& target : block) {
        if (target.has_orientation()) {
          file_poses.push_back(target);
        } else {
          file_targets.push_back(target.p_BT);
        }
      }
    }
    if (problem_count > 0) ThrowBadQuaternions(options.targets_path, problems, problem_count);
  }
  if (!file_poses.empty()) {
    // Pose targets: the full-pose protocol's table on the file's poses (the generated sets are
    // positions and do not apply).
    PoseBenchOptions bench;
    std::vector<PoseBenchRow> rows;
    std::vector<std::string> names = options.solvers;
    if (names.empty())
      names = {"network", "refined", "lm", "kdl-nr", "kdl-nr-restarts", "kdl-lma", "kdl-lma-restarts"};
    for (const std::string& name : names) {
      const std::unique_ptr<Solver> solver = MakeSolver(name, model.chain(), &model, SolverSettings{});
      log << "eval: " << name << "...\n";
      rows.push_back(BenchPoseSolver(*solver, file_poses, "file", bench));
    }
    out << "Arm " << PrintableName(model.chain().name()) << ", model " << options.model_path << "; "
        << file_poses.size() << " pose targets from " << options.targets_path
        << "; success: position error <= 1e-5 m and angle error <= 1e-5 rad within the limits.\n\n"
        << PoseBenchMarkdown(rows);
    return;
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
    log << "eval: " << options.targets_path << ": "
        << Plural(static_cast<int64_t>(file_targets.size()) - file_out_of_reach, "target") << " in reach, "
        << file_out_of_reach << " out of reach (d* by " << targets.closest_method << ")\n";
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
  out << "Arm " << PrintableName(model.chain().name()) << ", model " << options.model_path << "; "
      << targets.in_reach.size() << " in-reach targets (FK of uniform random joints"
      << (file_targets.empty() ? "" : from_file) << "), " << targets.out_of_reach.size()
      << " out-of-reach targets ("
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

namespace {

void RunPoseBench(const BenchCommandOptions& options, std::ostream& out, std::ostream& log) {
  const ArmAndModel loaded = LoadArmOrModel(options.model_path, options.arm, "bench");
  const Chain& chain = loaded.chain();
  PoseBenchOptions bench;
  bench.count = options.count > 0 ? options.count : 10000;
  bench.near_limit_count = options.near_limit_count;
  bench.out_of_reach_count = options.out_of_reach_count;
  bench.seed = options.seed;
  const PoseBenchTargets targets = MakePoseBenchTargets(chain, bench);
  std::vector<std::string> names = options.solvers;
  if (names.empty()) {
    if (loaded.model) names = {"network", "refined"};
    for (const char* name : {"lm", "kdl-nr", "kdl-nr-restarts", "kdl-lma", "kdl-lma-restarts"})
      names.push_back(name);
  }
  const SolverSettings settings = SettingsRequest(options.settings).solver_settings();
  out << "Arm " << PrintableName(chain.name()) << " (" << chain.num_joints() << " joints)"
      << (loaded.model ? ", model " + options.model_path : std::string()) << "; seed " << bench.seed << "; "
      << bench.count << " FK poses of uniform configurations, " << bench.near_limit_count
      << " with a joint within " << bench.near_limit_deg << " deg of a limit, " << bench.out_of_reach_count
      << " moved to 1.1-1.5 x reach; budget " << options.settings.timeout_ms
      << " ms per target; success: position error <= 1e-5 m and angle error <= 1e-5 rad within the limits; "
         "every solver from the middle of the limits, one thread.\n\n";
  std::vector<PoseBenchRow> rows;
  std::vector<std::pair<std::string, double>> throughput;
  for (const std::string& name : names) {
    const std::unique_ptr<Solver> solver = MakeSolver(name, chain, loaded.model, settings);
    log << "bench: " << name << "...\n";
    rows.push_back(BenchPoseSolver(*solver, targets.in_reach, "in reach", bench));
    if (!targets.near_limit.empty())
      rows.push_back(BenchPoseSolver(*solver, targets.near_limit, "near limit", bench));
    if (!targets.out_of_reach.empty()) {
      rows.push_back(BenchPoseSolver(*solver, targets.out_of_reach, "out of reach", bench));
    }
    throughput.emplace_back(name, PoseBatchThroughput(*solver, targets.in_reach, options.threads));
  }
  std::stable_sort(rows.begin(), rows.end(),
                   [](const PoseBenchRow& a, const PoseBenchRow& b) { return a.set < b.set; });
  out << PoseBenchMarkdown(rows) << "\nBatch throughput on the in-reach set, " << options.threads
      << " threads:";
  for (const auto& [name, per_s] : throughput) {
    char item[128];
    std::snprintf(item, sizeof(item), " %s %.0f /s;", name.c_str(), per_s);
    out << item;
  }
  out << "\n";
}

}  // namespace

void RunBench(const BenchCommandOptions& options, std::ostream& out, std::ostream& log) {
  if (options.pose) {
    RunPoseBench(options, out, log);
    return;
  }
  if (options.collision_free) {
    RunCollisionFreeBench(options, out, log);
    return;
  }
  if (options.model_path.empty()) throw InputError("bench: expected --model FILE (--arm needs --pose)");
  const IkModel model = IkModel::Load(options.model_path);
  EvalTargetOptions target_options;
  target_options.in_reach_count = options.count > 0 ? options.count : 2000;
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

void AddEvalCommand(CLI::App& app, CommandSet* set) {
  auto eval = std::make_shared<EvalCommandOptions>();
  CLI::App* eval_command = app.add_subcommand("eval", "every solver side by side on the same targets");
  eval_command->add_option("--model,-m", eval->model_path, "model file")->required();
  eval_command->add_option("--solvers", eval->solvers, "solvers to compare (default: all that apply)")
      ->delimiter(',');
  eval_command->add_option("--targets", eval->targets_path,
                           "extra targets, CSV x,y,z (m); each joins the in-reach or the out-of-reach set "
                           "by its distance d* to the reachable set. A pose file (x,y,z,qw,qx,qy,qz) is "
                           "evaluated alone by the full-pose protocol (success, time per target)");
  eval_command->add_option("--in-reach", eval->in_reach_count, "generated in-reach targets")
      ->capture_default_str()
      ->check(WholeNumberIn(0, kMaxEvalTargets));
  eval_command->add_option("--out-of-reach", eval->out_of_reach_count, "generated out-of-reach targets")
      ->capture_default_str()
      ->check(WholeNumberIn(0, kMaxEvalTargets));
  eval_command->add_option("--seed", eval->seed, "target seed")->capture_default_str()->check(SeedNumber());
  eval_command->add_option("--threads", eval->threads, "threads for the batch throughput")
      ->capture_default_str()
      ->check(WholeNumberIn(kThreadRange.min, kThreadRange.max));
  eval_command->add_option("--json", eval->json_path, "also write the report as JSON");
  eval_command->add_option("--plots", eval->plots_dir, "write SVG plots (error histogram, error slice) here");
  eval_command->callback([eval] { CheckEvalOptions(*eval); });
  set->commands.push_back({eval_command, [eval] {
                             RunEval(*eval, std::cout, std::cerr);
                             return 0;
                           }});
}

void AddBenchCommand(CLI::App& app, CommandSet* set) {
  auto bench = std::make_shared<BenchCommandOptions>();
  CLI::App* bench_command = app.add_subcommand("bench",
                                               "latency and throughput of solvers; --pose: the full-pose "
                                               "protocol; --collision-free: collision-free IK");
  bench_command->add_option("--model,-m", bench->model_path, "model file (or --arm with --pose)");
  AddArmOption(bench_command, &bench->arm);
  bench_command
      ->add_option("--solvers", bench->solvers,
                   "solvers (default: network, refined, analytic, kdl-nr, kdl-nr-restarts; with --pose: "
                   "network, refined (with a model), lm, kdl-nr, kdl-nr-restarts, kdl-lma, kdl-lma-restarts)")
      ->delimiter(',');
  bench_command->add_flag(
      "--pose", bench->pose,
      "full-pose protocol: FK poses of uniform configurations (+ near-limit and out-of-reach "
      "sets), every solver from mid-limits with the --timeout budget, success = 1e-5 m and "
      "1e-5 rad by FK of the answer; success rate, mean/median/p99 time on one thread");
  bench_command->add_flag(
      "--collision-free", bench->collision_free,
      "collision-free IK protocol (issue 23, needs an arm with collision geometry: panda, ur5, iiwa14): FK "
      "poses of uniform configurations clear by FCL (self pairs of the matrix, plus --scene), "
      "collision-aware "
      "lm (and refined with --model) beside plain lm (collisions off) and the solve-check-restart baselines "
      "lm+check and kdl-nr-restarts+check (MoveIt's way: one attempt from a random start, the FCL check, "
      "again until clear or --timeout); success = 1e-5 m, 1e-5 rad and clear by FCL, re-checked by the "
      "bench; wall and CPU time per target on one thread, the issue's goals, the exact checks' share");
  AddCollisionFileOptions(bench_command, &bench->collision,
                          "--collision-free: obstacles too (JSON, docs/SCENES.md; collisions all)");
  bench_command
      ->add_option("--count", bench->count,
                   "in-reach targets (default 2000; 10000 with --pose; 2000 with --collision-free)")
      ->check(WholeNumberIn(1, kMaxEvalTargets));
  bench_command->add_option("--near-limit", bench->near_limit_count, "--pose: near-limit targets")
      ->capture_default_str()
      ->check(WholeNumberIn(0, kMaxEvalTargets));
  bench_command->add_option("--out-of-reach", bench->out_of_reach_count, "--pose: out-of-reach targets")
      ->capture_default_str()
      ->check(WholeNumberIn(0, kMaxEvalTargets));
  bench_command->add_option("--seed", bench->seed, "target seed")->capture_default_str()->check(SeedNumber());
  AddSettingsOptions(bench_command, &bench->settings);
  bench_command->add_option("--warmup", bench->warmup, "untimed passes")
      ->capture_default_str()
      ->check(WholeNumberIn(0, 100));
  bench_command->add_option("--repetitions", bench->repetitions, "timed passes")
      ->capture_default_str()
      ->check(WholeNumberIn(1, 1000));
  bench_command->add_option("--threads", bench->threads, "threads for the batch throughput")
      ->capture_default_str()
      ->check(WholeNumberIn(kThreadRange.min, kThreadRange.max));
  bench_command->callback([bench] { CheckBenchOptions(*bench); });
  set->commands.push_back({bench_command, [bench] {
                             RunBench(*bench, std::cout, std::cerr);
                             return 0;
                           }});
}

}  // namespace deepik::cli
