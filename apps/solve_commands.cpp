// `deepik solve`, `deepik eval` and `deepik bench`: IK for a CSV of targets, every solver side by
// side on the same targets, and latency and throughput.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>

#include "cli.hpp"
#include "deepik/data/csv.hpp"
#include "deepik/errors.hpp"
#include "deepik/kinematics/arm_spec.hpp"
#include "deepik/learn/accuracy.hpp"
#include "deepik/learn/model.hpp"
#include "deepik/solve/eval.hpp"
#include "deepik/solve/many_solutions.hpp"
#include "deepik/solve/pose_bench.hpp"
#include "deepik/solve/solvers.hpp"
#include "deepik/solve/track.hpp"

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

const std::vector<std::string> kPositionHeader = {"x", "y", "z"};
const std::vector<std::string> kPoseHeader = {"x", "y", "z", "qw", "qx", "qy", "qz"};

// Target files (`solve -i`, `eval --targets`): header x,y,z (positions) or x,y,z,qw,qx,qy,qz
// (poses), coordinates within +-1e4 m.
// With `chain`, the header may go on with start columns, start_<joint> for every joint in chain
// order: a start configuration per row.
NumericCsvReader OpenTargetFile(const std::string& path, const Chain* chain = nullptr) {
  CsvColumns columns;
  columns.one_of = {kPositionHeader, kPoseHeader};
  if (chain != nullptr) {
    for (std::vector<std::string> header : {kPositionHeader, kPoseHeader}) {
      for (const Joint& joint : chain->joints()) header.push_back("start_" + joint.name);
      columns.one_of.push_back(header);
    }
  }
  columns.max_magnitude = kMaxTargetCoordinate;
  try {
    return NumericCsvReader(path, columns);
  } catch (const InputError& e) {
    // The reader lists every accepted header; say it the short way.
    const std::string message = e.what();
    const std::string lead = "expected the header ", tail = ", got";
    const size_t at = message.find(lead + "x,y,z or x,y,z,qw,qx,qy,qz");
    const size_t end = at == std::string::npos ? at : message.find(tail, at);
    if (end == std::string::npos) throw;
    throw InputError(
        message.substr(0, at) + lead + "x,y,z (positions) or x,y,z,qw,qx,qy,qz (poses)" +
        message.substr(end) +
        (chain != nullptr ? "; either may go on with start columns start_<joint> for every joint" : ""));
  }
}

bool IsPoseHeader(const NumericCsvReader& reader) {
  return reader.header().size() >= 7 && reader.header()[3] == "qw";
}

// Rows of a target file as targets; a quaternion whose norm is off by more than
// kTypedQuaternionNormTolerance is a bad row
// (recorded in `problems` with file and line, and the row skipped), others are normalised. With
// `starts`, the values after the target's columns are the row's start configuration.
void RowsToTargets(const NumericRows& rows, const std::string& path, const Vector6d& bounds, bool pose,
                   std::vector<IkTarget>* targets, std::vector<std::string>* problems, int64_t* problem_count,
                   std::vector<Eigen::VectorXd>* starts = nullptr) {
  targets->clear();
  if (starts != nullptr) starts->clear();
  const int target_columns = pose ? 7 : 3;
  for (size_t i = 0; i < rows.size(); ++i) {
    const double* row = rows.row(i);
    IkTarget target(Eigen::Vector3d(row[0], row[1], row[2]));
    target.bounds = bounds;
    if (starts != nullptr && rows.columns > target_columns) {
      starts->push_back(
          Eigen::Map<const Eigen::VectorXd>(row + target_columns, rows.columns - target_columns));
    }
    if (pose) {
      const Eigen::Quaterniond Q(row[3], row[4], row[5], row[6]);
      const double norm = Q.coeffs().norm();
      if (!(std::abs(norm - 1.0) <= kTypedQuaternionNormTolerance)) {
        if (++*problem_count <= 10) {
          problems->push_back(path + ":" + std::to_string(rows.line_numbers[i]) +
                              ": expected a unit quaternion qw,qx,qy,qz (norm within " +
                              FormatDouble(kTypedQuaternionNormTolerance) + " of 1), got norm " +
                              FormatDouble(norm));
        }
        continue;
      }
      target.Q_BT = Q.normalized();
    }
    targets->push_back(target);
  }
}

[[noreturn]] void ThrowBadQuaternions(const std::string& path, const std::vector<std::string>& problems,
                                      int64_t count) {
  std::string message = std::to_string(count) + (count == 1 ? " bad row in " : " bad rows in ") + path + ":";
  for (const std::string& p : problems) message += "\n  " + p;
  if (count > static_cast<int64_t>(problems.size())) {
    message += "\n  ... and " + std::to_string(count - static_cast<int64_t>(problems.size())) + " more";
  }
  throw InputError(message);
}

SolverSettings ToSolverSettings(const SolveSettingsOptions& options) {
  SolverSettings settings;
  settings.pose.timeout_s = options.timeout_ms * 1e-3;
  settings.pose.position_tolerance = options.position_tolerance;
  settings.pose.angle_tolerance = options.angle_tolerance;
  settings.refine.tolerance = options.position_tolerance;
  return settings;
}

// The arm a command works on: a model's, or one named by --arm (for the solvers that need no model).
struct ArmAndModel {
  std::optional<IkModel> model;
  std::optional<Chain> arm;
  const Chain& chain() const { return model ? model->chain() : *arm; }
  const IkModel* model_or_null() const { return model ? &*model : nullptr; }
};

ArmAndModel LoadArmOrModel(const std::string& model_path, const ArmSpec& arm, const std::string& command) {
  if (model_path.empty() == arm.arm.empty()) {
    throw InputError(command +
                     ": expected a model (--model FILE) or an arm (--arm ARM), exactly one of them");
  }
  ArmAndModel result;
  if (!model_path.empty()) {
    result.model = IkModel::Load(model_path);
  } else {
    result.arm = LoadArm(arm);
  }
  return result;
}

void AddSettingsOptions(CLI::App* command, SolveSettingsOptions* settings) {
  command
      ->add_option("--timeout", settings->timeout_ms,
                   "time budget per target (ms) of pose refinement, lm and the KDL restarts")
      ->capture_default_str()
      ->check(NumberIn(1e-3, 6e4));
  command
      ->add_option("--position-tolerance", settings->position_tolerance,
                   "position error (m) that counts as reached (lm, refined)")
      ->capture_default_str()
      ->check(NumberIn(1e-15, 1.0));
  command
      ->add_option("--angle-tolerance", settings->angle_tolerance,
                   "angle error (rad) that counts as reached (lm, refined; pose targets)")
      ->capture_default_str()
      ->check(NumberIn(1e-15, 1.0));
  command->add_option("--bounds", settings->bounds,
                      "free or bounded axes of the error, in the target tool frame: AXIS=VALUE,... with AXIS "
                      "x, y, z (m) or rx, ry, rz (rad) and VALUE a bound >= 0 or 'free'; e.g. rz=free (any "
                      "turn about the tool's z axis), x=1e-3,y=1e-3,z=1e-3 (a +-1 mm box)");
}

// The fields of `solve`'s output before the status: joints, reached pose, errors (each followed
// by a comma).
void WriteResultFields(std::ostream& out, const Chain& chain, const SolveResult& r) {
  for (int j = 0; j < chain.num_joints(); ++j) out << FormatDouble(r.q[j]) << ',';
  const Eigen::Quaterniond& Q = r.Q_reached;
  out << FormatDouble(r.p_reached.x()) << ',' << FormatDouble(r.p_reached.y()) << ','
      << FormatDouble(r.p_reached.z()) << ',' << FormatDouble(Q.w()) << ',' << FormatDouble(Q.x()) << ','
      << FormatDouble(Q.y()) << ',' << FormatDouble(Q.z()) << ',' << FormatDouble(r.error) << ','
      << (std::isnan(r.angle_error) ? std::string() : FormatDouble(r.angle_error)) << ',';
}

// One row of `solve`'s output without its line end: joints, reached pose, errors, status.
void WriteResultRow(std::ostream& out, const Chain& chain, const SolveResult& r) {
  WriteResultFields(out, chain, r);
  out << ToString(r.status);
}

}  // namespace

void RunSolve(const SolveCommandOptions& options, std::ostream& log) {
  if (options.threads < 1 || options.threads > 256) {
    throw InputError("--threads: expected 1..256, got " + std::to_string(options.threads));
  }
  const Vector6d bounds = ParseAxisBounds(options.settings.bounds);
  CheckDistinctFiles(options.input_path, options.output_path);
  const ArmAndModel loaded = LoadArmOrModel(options.model_path, options.arm, "solve");
  const Chain& chain = loaded.chain();
  NumericCsvReader input = OpenTargetFile(options.input_path, &chain);
  const bool pose_header = IsPoseHeader(input);
  const bool has_starts = input.columns() > (pose_header ? 7 : 3);
  const std::string solver_name =
      !options.solver.empty() ? options.solver : (loaded.model ? "refined" : "lm");
  ManySolutionsOptions many_options;
  many_options.solutions = std::max(1, options.solutions);
  many_options.min_distance = options.min_distance;
  many_options.order = options.closest_to_start ? SolutionOrder::kClosestToStart : SolutionOrder::kFound;
  many_options.posture.avoid_limits = options.avoid_limits;
  many_options.posture.posture_weight = options.posture_weight;
  if (!options.posture.empty()) {
    many_options.posture.posture =
        Eigen::Map<const Eigen::VectorXd>(options.posture.data(), options.posture.size());
  }
  many_options.posture.start_weight = options.start_weight;
  if (options.posture_weight > 0 && static_cast<int>(options.posture.size()) != chain.num_joints()) {
    throw InputError("--posture: expected " + std::to_string(chain.num_joints()) +
                     " joint values with --posture-weight, got " + std::to_string(options.posture.size()));
  }
  if ((options.start_weight > 0 || options.closest_to_start) && !has_starts) {
    throw InputError(std::string(options.closest_to_start ? "--closest-to-start" : "--start-weight") +
                     ": expected start columns in " + options.input_path +
                     " (start_<joint> for every joint)");
  }
  const bool ranked = options.closest_to_start || many_options.posture.active();
  many_options.candidates = options.candidates > 0 ? options.candidates : (ranked ? 8 : 0);
  const bool many = options.solutions > 0;  // the output gets target and solution columns
  const bool through_many = many || ranked;
  if (through_many && solver_name == "network") {
    throw InputError(
        "--solutions, --closest-to-start and posture weights: expected an exact solver (refined, lm, "
        "kdl-*), got --solver network");
  }
  const SolverSettings settings = ToSolverSettings(options.settings);
  const std::unique_ptr<Solver> solver = MakeSolver(solver_name, chain, loaded.model_or_null(), settings);
  AtomicFileWriter writer(options.output_path);
  std::ostream& out = writer.stream();
  for (const Joint& joint : chain.joints()) out << joint.name << ',';
  out << "x,y,z,qw,qx,qy,qz,position_error,angle_error,status" << (many ? ",target,solution\n" : "\n");
  int64_t count = 0, converged = 0, problem_count = 0, solution_rows = 0;
  std::vector<std::string> problems;
  NumericRows rows;
  std::vector<IkTarget> targets;
  std::vector<Eigen::VectorXd> starts;
  // Block by block (each block solved on the threads), so that memory stays bounded whatever the
  // file's length; a bad row anywhere throws before Commit(), and the writer discards the output.
  while (input.ReadChunk(kCsvChunkRows, &rows)) {
    RowsToTargets(rows, options.input_path, bounds, pose_header, &targets, &problems, &problem_count,
                  &starts);
    if (problem_count > 0) continue;  // read on for the reader's own checks, solve no more
    for (size_t t = 0; t < starts.size(); ++t) {
      if (!chain.WithinLimits(starts[t])) {
        throw InputError(options.input_path + ":" + std::to_string(rows.line_numbers[t]) +
                         ": expected start joint values within the limits");
      }
    }
    if (through_many) {
      const std::vector<ManySolutions> answers =
          SolveManyBatch(*solver, targets, many_options, settings, options.threads, starts);
      for (size_t t = 0; t < answers.size(); ++t) {
        for (size_t k = 0; k < answers[t].solutions.size(); ++k) {
          WriteResultRow(out, chain, answers[t].solutions[k]);
          if (many) out << ',' << count + static_cast<int64_t>(t) << ',' << k;
          out << '\n';
          ++solution_rows;
        }
        if (answers[t].exact()) ++converged;
      }
    } else {
      std::vector<SolveResult> results;
      if (has_starts) {
        results.resize(targets.size());
        for (size_t t = 0; t < targets.size(); ++t) results[t] = solver->Solve(targets[t], &starts[t]);
      } else {
        results = solver->SolveBatch(targets, options.threads);
      }
      for (const SolveResult& r : results) {
        WriteResultRow(out, chain, r);
        out << '\n';
        if (r.status == SolveStatus::kConverged) ++converged;
      }
    }
    count += static_cast<int64_t>(rows.size());
  }
  if (problem_count > 0) ThrowBadQuaternions(options.input_path, problems, problem_count);
  writer.Commit();
  log << "solve: " << Plural(count, "target") << " (" << converged << " converged) with " << solver->name();
  if (many) log << ", " << solution_rows << " solution rows (up to " << options.solutions << " per target)";
  log << " -> " << options.output_path << "\n";
}

void RunTrack(const TrackCommandOptions& options, std::ostream& log) {
  const Vector6d bounds = ParseAxisBounds(options.settings.bounds);
  CheckDistinctFiles(options.input_path, options.output_path);
  NumericCsvReader input = OpenTargetFile(options.input_path);
  const ArmAndModel loaded = LoadArmOrModel(options.model_path, options.arm, "track");
  const Chain& chain = loaded.chain();
  const std::string solver_name =
      !options.solver.empty() ? options.solver : (loaded.model ? "refined" : "lm");
  const SolverSettings settings = ToSolverSettings(options.settings);
  const std::unique_ptr<Solver> solver = MakeSolver(solver_name, chain, loaded.model_or_null(), settings);
  Eigen::VectorXd start;
  if (!options.start.empty()) {
    if (static_cast<int>(options.start.size()) != chain.num_joints()) {
      throw InputError("--start: expected " + std::to_string(chain.num_joints()) + " joint values, got " +
                       std::to_string(options.start.size()));
    }
    start = Eigen::Map<const Eigen::VectorXd>(options.start.data(), chain.num_joints());
    if (!chain.WithinLimits(start)) throw InputError("--start: expected joint values within the limits");
  }
  std::vector<IkTarget> path, block;
  std::vector<std::string> problems;
  int64_t problem_count = 0;
  NumericRows rows;
  while (input.ReadChunk(kCsvChunkRows, &rows)) {
    RowsToTargets(rows, options.input_path, bounds, IsPoseHeader(input), &block, &problems, &problem_count);
    path.insert(path.end(), block.begin(), block.end());
  }
  if (problem_count > 0) ThrowBadQuaternions(options.input_path, problems, problem_count);
  TrackOptions track;
  track.step_ratio = options.step_ratio;
  track.step_floor = options.step_floor;
  const std::vector<TrackPoint> points =
      TrackPath(*solver, path, settings, track, options.start.empty() ? nullptr : &start);
  AtomicFileWriter writer(options.output_path);
  std::ostream& out = writer.stream();
  for (const Joint& joint : chain.joints()) out << joint.name << ',';
  out << "x,y,z,qw,qx,qy,qz,position_error,angle_error,status,joint_step,step_bound\n";
  for (const TrackPoint& point : points) {
    WriteResultFields(out, chain, point.result);
    out << ToString(point.status) << ',' << FormatDouble(point.joint_step) << ','
        << (std::isinf(point.step_bound) ? std::string() : FormatDouble(point.step_bound)) << '\n';
  }
  writer.Commit();
  const TrackSummary s = SummarizeTrack(points);
  log << "track: " << Plural(s.rows, "row") << " with " << solver->name() << ": " << s.tracked << " tracked, "
      << s.out_of_reach << " out of reach, " << Plural(s.reconfigurations, "reconfiguration") << " ("
      << Plural(s.reconfiguration_rows, "row") << "); largest joint step " << FormatDouble(s.max_joint_step)
      << " rad -> " << options.output_path << "\n";
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
  const SolverSettings settings = ToSolverSettings(options.settings);
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
    const std::unique_ptr<Solver> solver = MakeSolver(name, chain, loaded.model_or_null(), settings);
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

void AddSolveCommands(CLI::App& app, CommandSet* set) {
  auto solve = std::make_shared<SolveCommandOptions>();
  CLI::App* solve_command =
      app.add_subcommand("solve", "inverse kinematics for a CSV of targets (positions or poses)");
  solve_command->add_option("--model,-m", solve->model_path, "model file (or --arm)");
  AddArmOption(solve_command, &solve->arm);
  solve_command->add_option(
      "--solver,-s", solve->solver,
      "network, refined (default with a model), lm (default without), analytic (seed arm), "
      "kdl-nr, kdl-nr-restarts, kdl-lma, kdl-lma-restarts");
  solve_command
      ->add_option(
          "--input,-i", solve->input_path,
          "CSV with header x,y,z (positions) or x,y,z,qw,qx,qy,qz (poses: tip orientation in the base "
          "frame, w first, either sign; norm within 0.01 of 1, normalised) (m, base frame); optionally "
          "followed by start columns start_<joint> for every joint in chain order: each row's start "
          "configuration; - for stdin")
      ->required();
  solve_command
      ->add_option("--output,-o", solve->output_path,
                   "CSV: joints (rad, m), reached x,y,z,qw,qx,qy,qz, position_error (m), angle_error (rad; "
                   "empty for positions), status; - or none: stdout")
      ->capture_default_str();
  AddSettingsOptions(solve_command, &solve->settings);
  solve_command->add_option("--threads", solve->threads, "solver threads")
      ->capture_default_str()
      ->check(WholeNumberIn(1, kMaxThreads));
  solve_command
      ->add_option("--solutions", solve->solutions,
                   "up to K distinct exact solutions per target (the solver's answer, then single "
                   "Levenberg-Marquardt starts from a multi-head model's other heads (refined), then from "
                   "seeded uniform configurations, at most 10 K + 10 starts): one row each, with columns "
                   "target (input row from 0) and solution (from "
                   "0); a target with none gives one row with its status")
      ->check(WholeNumberIn(1, ManySolutionsOptions::kMaxSolutions));
  solve_command
      ->add_option("--min-distance", solve->min_distance,
                   "with --solutions: least joint-space distance (rad; Euclidean, full-turn joints "
                   "modulo 2 pi) between two solutions")
      ->capture_default_str()
      ->check(NumberIn(0.0, 100.0));
  solve_command->add_flag("--closest-to-start", solve->closest_to_start,
                          "among the candidates found, return the solutions closest (joint-space distance) "
                          "to the row's start columns first (TRAC-IK's Distance mode)");
  solve_command
      ->add_option("--candidates", solve->candidates,
                   "solutions to find and rank before keeping --solutions (default 8 with "
                   "--closest-to-start or a posture weight)")
      ->check(WholeNumberIn(1, ManySolutionsOptions::kMaxSolutions));
  solve_command
      ->add_option("--avoid-limits", solve->avoid_limits,
                   "weight W of limit avoidance: minimise W * sum ((q - mid) / half range)^2 over the "
                   "joints with limits, along the target's self-motion (every answer stays exact)")
      ->check(NumberIn(0.0, 1e6));
  solve_command->add_option("--posture", solve->posture, "a preferred configuration q1,q2,... (rad or m)")
      ->delimiter(',');
  solve_command
      ->add_option("--posture-weight", solve->posture_weight,
                   "weight W of staying near --posture: W * |q - posture|^2 (full turns modulo 2 pi)")
      ->check(NumberIn(0.0, 1e6));
  solve_command
      ->add_option("--start-weight", solve->start_weight,
                   "weight W of the displacement from the row's start columns: W * |q - start|^2")
      ->check(NumberIn(0.0, 1e6));
  set->commands.push_back({solve_command, [solve] {
                             RunSolve(*solve, std::cerr);
                             return 0;
                           }});

  auto track = std::make_shared<TrackCommandOptions>();
  CLI::App* track_command = app.add_subcommand(
      "track", "a path of targets -> a joint trajectory without jumps, warm-started row by row");
  track_command->add_option("arm", track->arm.arm, "built-in arm, DH table or URDF (as --arm)");
  track_command->add_option("--model,-m", track->model_path, "model file (or an arm)");
  AddArmOption(track_command, &track->arm);
  track_command->add_option("--solver,-s", track->solver,
                            "solver of the first row: refined (default with a model), lm (default "
                            "without), ...; later rows are one Levenberg-Marquardt start each from the "
                            "previous row's joints");
  track_command
      ->add_option("--input,-i", track->input_path,
                   "CSV of the path's targets, in order: header x,y,z or x,y,z,qw,qx,qy,qz (as solve); - for "
                   "stdin")
      ->required();
  track_command
      ->add_option("--output,-o", track->output_path,
                   "CSV: joints, reached x,y,z,qw,qx,qy,qz, position_error, angle_error, status (tracked; "
                   "out of reach; reconfiguration: reachable, but not without a jump: the row holds the "
                   "joints; failed: first row only), joint_step (rad: largest joint change from the "
                   "previous row, full-turn joints modulo 2 pi), step_bound (rad); - or none: stdout")
      ->capture_default_str();
  AddSettingsOptions(track_command, &track->settings);
  track_command->add_option("--start", track->start, "the first row's start joints q1,q2,... (rad or m)")
      ->delimiter(',');
  track_command
      ->add_option("--step-ratio", track->step_ratio,
                   "step bound: joint_step <= RATIO * s + FLOOR, s = |target - previous reached position| "
                   "/ reach + angle to the previous reached orientation (rad, pose targets)")
      ->capture_default_str()
      ->check(NumberIn(1e-6, 1e6));
  track_command->add_option("--step-floor", track->step_floor, "FLOOR of the step bound (rad)")
      ->capture_default_str()
      ->check(NumberIn(0.0, 10.0));
  set->commands.push_back({track_command, [track] {
                             RunTrack(*track, std::cerr);
                             return 0;
                           }});

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
  CLI::App* bench_command =
      app.add_subcommand("bench", "latency and throughput of solvers; --pose: the full-pose protocol");
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
  bench_command->add_option("--count", bench->count, "in-reach targets (default 2000; 10000 with --pose)")
      ->check(WholeNumberIn(1, kMaxEvalTargets));
  bench_command->add_option("--near-limit", bench->near_limit_count, "--pose: near-limit targets")
      ->capture_default_str()
      ->check(WholeNumberIn(0, kMaxEvalTargets));
  bench_command->add_option("--out-of-reach", bench->out_of_reach_count, "--pose: out-of-reach targets")
      ->capture_default_str()
      ->check(WholeNumberIn(0, kMaxEvalTargets));
  bench_command->add_option("--seed", bench->seed, "target seed")->capture_default_str();
  AddSettingsOptions(bench_command, &bench->settings);
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
