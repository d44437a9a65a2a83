// `deepik solve`, `deepik eval` and `deepik bench`: IK for a CSV of targets, every solver side by
// side on the same targets, and latency and throughput.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>

#include "collision_options.hpp"
#include "deepik/data/csv.hpp"
#include "deepik/errors.hpp"
#include "deepik/kinematics/arm_spec.hpp"
#include "deepik/learn/accuracy.hpp"
#include "deepik/learn/model.hpp"
#include "deepik/solve/eval.hpp"
#include "deepik/solve/many_solutions.hpp"
#include "deepik/solve/pose_bench.hpp"
#include "deepik/solve/solve_request.hpp"
#include "deepik/solve/solvers.hpp"
#include "deepik/solve/track.hpp"
#include "solve_common.hpp"

namespace deepik::cli {

void WriteTextFile(const std::string& path, const std::string& text) {
  AtomicFileWriter writer(path);
  writer.stream() << text;
  writer.Commit();
}

namespace {

const std::vector<std::string> kPositionHeader = {"x", "y", "z"};
const std::vector<std::string> kPoseHeader = {"x", "y", "z", "qw", "qx", "qy", "qz"};

}  // namespace

// Target files (`solve -i`, `eval --targets`): header x,y,z (positions) or x,y,z,qw,qx,qy,qz
// (poses), coordinates within +-1e4 m.
// With `chain`, the header may go on with start columns, start_<joint> for every joint in chain
// order: a start configuration per row.
NumericCsvReader OpenTargetFile(const std::string& path, const Chain* chain) {
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
                   std::vector<Eigen::VectorXd>* starts) {
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

// The request's settings that `solve`, `track` and `bench --pose` share (--timeout is in ms).
SolveRequest SettingsRequest(const SolveSettingsOptions& options) {
  SolveRequest request;
  request.timeout_seconds = options.timeout_ms * 1e-3;
  request.position_tolerance = options.position_tolerance;
  request.angle_tolerance = options.angle_tolerance;
  return request;
}

// A request's refusal in the command line's words: its fields as options ("posture_weight:" ->
// "--posture-weight:"; "starts[3]" stays, the start columns have no option).
std::string AsOptions(const std::string& message) {
  const size_t colon = message.find(": ");
  if (colon == std::string::npos) return message;
  std::string fields, item;
  std::stringstream items(message.substr(0, colon));
  while (std::getline(items, item, ',')) {
    item.erase(0, item.find_first_not_of(' '));
    if (item.find_first_not_of("abcdefghijklmnopqrstuvwxyz_") == std::string::npos) {
      std::replace(item.begin(), item.end(), '_', '-');
      item = "--" + item;
    }
    fields += (fields.empty() ? "" : ", ") + item;
  }
  return fields + message.substr(colon);
}

// SolveRequest::IsValid as the command line reports it (exit 3: the options met the arm).
void ThrowUnlessValid(const SolveRequest& request, const Solver* solver) {
  std::string error;
  if (!request.IsValid(&error, solver)) throw InputError(AsOptions(error));
}

ArmAndModel LoadArmOrModel(const std::string& model_path, const ArmSpec& arm, const std::string& command) {
  if (model_path.empty() == arm.arm.empty()) {
    throw InputError(command +
                     ": expected a model (--model FILE) or an arm (--arm ARM), exactly one of them");
  }
  ArmAndModel result;
  if (!model_path.empty()) {
    result.model = std::make_shared<const IkModel>(IkModel::Load(model_path));
  } else {
    result.arm = LoadArm(arm);
  }
  return result;
}

void AddSettingsOptions(CLI::App* command, SolveSettingsOptions* settings) {
  constexpr NumberRange kSeconds = SolveRequest::kTimeoutSeconds, kTolerance = SolveRequest::kTolerance;
  command
      ->add_option("--timeout", settings->timeout_ms,
                   "time budget per target (ms) of pose refinement, lm and the KDL restarts")
      ->capture_default_str()
      ->check(NumberIn(kSeconds.min * 1e3, kSeconds.max * 1e3));
  command
      ->add_option("--position-tolerance", settings->position_tolerance,
                   "position error (m) that counts as reached (lm, refined)")
      ->capture_default_str()
      ->check(NumberIn(kTolerance.min, kTolerance.max));
  command
      ->add_option("--angle-tolerance", settings->angle_tolerance,
                   "angle error (rad) that counts as reached (lm, refined; pose targets)")
      ->capture_default_str()
      ->check(NumberIn(kTolerance.min, kTolerance.max));
  command->add_option("--bounds", settings->bounds,
                      "free or bounded axes of the error, in the target tool frame: AXIS=VALUE,... with AXIS "
                      "x, y, z (m) or rx, ry, rz (rad) and VALUE a bound >= 0 or 'free'; e.g. rz=free (any "
                      "turn about the tool's z axis), x=1e-3,y=1e-3,z=1e-3 (a +-1 mm box)");
}

// A list of joint values (--posture, --start): each a number within SolveRequest::kJointValue.
CLI::Option* AddJointValues(CLI::App* command, const std::string& name, std::vector<double>* values,
                            const std::string& help) {
  return command->add_option(name, *values, help)
      ->delimiter(',')
      ->check(NumberIn(SolveRequest::kJointValue.min, SolveRequest::kJointValue.max));
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

namespace {

// The request `solve`'s options give; its targets and starts come from the file, block by block.
SolveRequest RequestOf(const SolveCommandOptions& options) {
  SolveRequest request = SettingsRequest(options.settings);
  request.threads = options.threads;
  request.solutions = options.solutions;
  request.min_distance = options.min_distance;
  request.closest_to_start = options.closest_to_start;
  request.candidates = options.candidates;
  ApplyCollisionOptions(options.collision, &request);
  request.posture.avoid_limits = options.avoid_limits;
  request.posture.posture_weight = options.posture_weight;
  request.posture.start_weight = options.start_weight;
  if (!options.posture.empty()) {
    request.posture.posture =
        Eigen::Map<const Eigen::VectorXd>(options.posture.data(), options.posture.size());
  }
  return request;
}

// What `solve` tells at the end.
struct SolveTally {
  int64_t targets = 0, converged = 0, rows = 0;
};

// One block's answers as rows of `solve`'s output: one row per target, or with `list` (--solutions)
// one row per solution with its target index (from `first_target`) and solution index.
void WriteAnswers(std::ostream& out, const Chain& chain, const std::vector<ManySolutions>& answers, bool list,
                  SolveTally* tally) {
  for (size_t t = 0; t < answers.size(); ++t) {
    const std::vector<SolveResult>& solutions = answers[t].solutions;
    for (size_t k = 0; k < solutions.size(); ++k) {
      WriteResultRow(out, chain, solutions[k]);
      if (list) out << ',' << tally->targets + static_cast<int64_t>(t) << ',' << k;
      out << '\n';
      ++tally->rows;
    }
    if (answers[t].exact()) ++tally->converged;
  }
  tally->targets += static_cast<int64_t>(answers.size());
}

// SolveRequest::IsValid for a block of a target file: a refusal of targets[i] or starts[i] names
// the file's line instead ("t.csv:3: start columns: expected joint values within the limits").
void ThrowUnlessValidRows(const SolveRequest& request, const Solver& solver, const NumericRows& rows,
                          const std::string& path) {
  std::string error;
  if (request.IsValid(&error, &solver)) return;
  for (const std::string field : {"targets", "starts"}) {
    if (error.rfind(field + "[", 0) != 0) continue;
    const size_t close = error.find("]: ");
    const size_t index = std::stoul(error.substr(field.size() + 1));
    if (close == std::string::npos || index >= rows.size()) break;
    throw InputError(path + ":" + std::to_string(rows.line_numbers[index]) + ": " +
                     (field == "starts" ? "start columns: " : "") + error.substr(close + 3));
  }
  throw InputError(AsOptions(error));
}

}  // namespace

void RunSolve(const SolveCommandOptions& options, std::ostream& log) {
  SolveRequest request = RequestOf(options);
  ThrowUnlessValid(request, nullptr);
  const Vector6d bounds = ParseAxisBounds(options.settings.bounds);
  CheckDistinctFiles(options.input_path, options.output_path);
  const ArmAndModel loaded = LoadArmOrModel(options.model_path, options.arm, "solve");
  const Chain& chain = loaded.chain();
  NumericCsvReader input = OpenTargetFile(options.input_path, &chain);
  const bool pose_header = IsPoseHeader(input);
  if ((options.start_weight > 0 || options.closest_to_start) && input.columns() == (pose_header ? 7 : 3)) {
    throw InputError(std::string(options.closest_to_start ? "--closest-to-start" : "--start-weight") +
                     ": expected start columns in " + options.input_path +
                     " (start_<joint> for every joint)");
  }
  const std::string solver_name =
      !options.solver.empty() ? options.solver : DefaultSolverName(loaded.model != nullptr);
  const std::unique_ptr<Solver> solver =
      MakeCollisionAware(MakeSolver(solver_name, chain, loaded.model, request.solver_settings()), request,
                         options.collision, GeometryArm(options.arm, chain), log);
  ThrowUnlessValid(request, solver.get());  // the posture's length, an exact solver for --solutions
  AtomicFileWriter writer(options.output_path);
  std::ostream& out = writer.stream();
  const bool list = request.solutions > 0;  // the output gets target and solution columns
  for (const Joint& joint : chain.joints()) out << joint.name << ',';
  out << "x,y,z,qw,qx,qy,qz,position_error,angle_error,status" << (list ? ",target,solution\n" : "\n");
  SolveTally tally;
  int64_t problem_count = 0;
  std::vector<std::string> problems;
  NumericRows rows;
  // Block by block (each block solved on the threads), so that memory stays bounded whatever the
  // file's length; a bad row anywhere throws before Commit(), and the writer discards the output.
  while (input.ReadChunk(kCsvChunkRows, &rows)) {
    RowsToTargets(rows, options.input_path, bounds, pose_header, &request.targets, &problems, &problem_count,
                  &request.starts);
    if (problem_count > 0) continue;  // read on for the reader's own checks, solve no more
    ThrowUnlessValidRows(request, *solver, rows, options.input_path);
    WriteAnswers(out, chain, RunSolveRequest(*solver, request), list, &tally);
  }
  if (problem_count > 0) ThrowBadQuaternions(options.input_path, problems, problem_count);
  writer.Commit();
  log << "solve: " << Plural(tally.targets, "target") << " (" << tally.converged << " converged) with "
      << solver->name();
  if (list) log << ", " << tally.rows << " solution rows (up to " << options.solutions << " per target)";
  log << " -> " << options.output_path << "\n";
}

void RunTrack(const TrackCommandOptions& options, std::ostream& log) {
  const Vector6d bounds = ParseAxisBounds(options.settings.bounds);
  CheckDistinctFiles(options.input_path, options.output_path);
  NumericCsvReader input = OpenTargetFile(options.input_path);
  const ArmAndModel loaded = LoadArmOrModel(options.model_path, options.arm, "track");
  const Chain& chain = loaded.chain();
  const std::string solver_name =
      !options.solver.empty() ? options.solver : DefaultSolverName(loaded.model != nullptr);
  SolveRequest request = SettingsRequest(options.settings);
  ApplyCollisionOptions(options.collision, &request);
  ThrowUnlessValid(request, nullptr);
  const SolverSettings settings = request.solver_settings();
  const std::unique_ptr<Solver> solver =
      MakeCollisionAware(MakeSolver(solver_name, chain, loaded.model, settings), request, options.collision,
                         GeometryArm(options.arm, chain), log);
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
      << s.out_of_reach << " out of reach, " << s.in_collision << " in collision, "
      << Plural(s.reconfigurations, "reconfiguration") << " (" << Plural(s.reconfiguration_rows, "row")
      << "); largest joint step " << FormatDouble(s.max_joint_step) << " rad -> " << options.output_path
      << "\n";
}

namespace {

// `solve`'s model or arm, solver, files, settings and threads.
std::shared_ptr<SolveCommandOptions> AddSolveCommand(CLI::App& app) {
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
  AddCollisionOptions(solve_command, &solve->collision);
  solve_command->add_option("--threads", solve->threads, "solver threads")
      ->capture_default_str()
      ->check(WholeNumberIn(SolveRequest::kThreads.min, SolveRequest::kThreads.max));
  return solve;
}

// `solve`'s redundancy options: --solutions, their ranking and the posture objective.
void AddSolutionOptions(CLI::App* solve_command, SolveCommandOptions* solve) {
  solve_command
      ->add_option("--solutions", solve->solutions,
                   "up to K distinct exact solutions per target (the solver's answer, then single "
                   "Levenberg-Marquardt starts from a multi-head model's other heads (refined), then from "
                   "seeded uniform configurations, at most 10 K + 10 starts): one row each, with columns "
                   "target (input row from 0) and solution (from "
                   "0); a target with none gives one row with its status")
      ->check(WholeNumberIn(SolveRequest::kSolutions.min, SolveRequest::kSolutions.max));
  solve_command
      ->add_option("--min-distance", solve->min_distance,
                   "with --solutions: least joint-space distance (rad; Euclidean, full-turn joints "
                   "modulo 2 pi) between two solutions")
      ->capture_default_str()
      ->check(NumberIn(SolveRequest::kMinDistance.min, SolveRequest::kMinDistance.max));
  solve_command->add_flag("--closest-to-start", solve->closest_to_start,
                          "among the candidates found, return the solutions closest (joint-space distance) "
                          "to the row's start columns first (TRAC-IK's Distance mode)");
  solve_command
      ->add_option("--candidates", solve->candidates,
                   "solutions to find and rank before keeping --solutions (default " +
                       std::to_string(SolveRequest::kDefaultRankedCandidates) +
                       " with --closest-to-start or a posture weight)")
      ->check(WholeNumberIn(SolveRequest::kSolutions.min, SolveRequest::kSolutions.max));
  solve_command
      ->add_option("--avoid-limits", solve->avoid_limits,
                   "weight W of limit avoidance: minimise W * sum ((q - mid) / half range)^2 over the "
                   "joints with limits, along the target's self-motion (every answer stays exact)")
      ->check(NumberIn(SolveRequest::kWeight.min, SolveRequest::kWeight.max));
  AddJointValues(solve_command, "--posture", &solve->posture,
                 "a preferred configuration q1,q2,... (rad or m)");
  solve_command
      ->add_option("--posture-weight", solve->posture_weight,
                   "weight W of staying near --posture: W * |q - posture|^2 (full turns modulo 2 pi)")
      ->check(NumberIn(SolveRequest::kWeight.min, SolveRequest::kWeight.max));
  solve_command
      ->add_option("--start-weight", solve->start_weight,
                   "weight W of the displacement from the row's start columns: W * |q - start|^2")
      ->check(NumberIn(SolveRequest::kWeight.min, SolveRequest::kWeight.max));
}

void AddTrackCommand(CLI::App& app, CommandSet* set) {
  auto track = std::make_shared<TrackCommandOptions>();
  CLI::App* track_command = app.add_subcommand(
      "track", "a path of targets -> a joint trajectory without jumps, warm-started row by row");
  track_command->add_option("arm", track->arm.arm, "built-in arm, DH table or URDF (as --arm)");
  track_command->add_option("--model,-m", track->model_path, "model file (or an arm)");
  AddArmOption(track_command, &track->arm);
  track_command->add_option("--solver,-s", track->solver,
                            "solver of the first row: refined (default with a model), lm (default "
                            "without), ...; later rows are one Levenberg-Marquardt start each from the "
                            "previous row's joints (with collisions checked: on the sphere model, each "
                            "row verified on the meshes)");
  track_command
      ->add_option("--input,-i", track->input_path,
                   "CSV of the path's targets, in order: header x,y,z or x,y,z,qw,qx,qy,qz (as solve); - for "
                   "stdin")
      ->required();
  track_command
      ->add_option("--output,-o", track->output_path,
                   "CSV: joints, reached x,y,z,qw,qx,qy,qz, position_error, angle_error, status (tracked; "
                   "out of reach; reconfiguration: reachable (clear, with collisions checked), but not "
                   "without a jump: the row holds the joints; in collision: reached only in collision, the "
                   "row holds clear joints; failed: first row only), joint_step (rad: largest joint change "
                   "from the previous row, full-turn joints modulo 2 pi), step_bound (rad); - or none: "
                   "stdout")
      ->capture_default_str();
  AddSettingsOptions(track_command, &track->settings);
  AddCollisionOptions(track_command, &track->collision);
  AddJointValues(track_command, "--start", &track->start,
                 "the first row's start joints q1,q2,... (rad or m)");
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
}

}  // namespace

void AddSolveCommands(CLI::App& app, CommandSet* set) {
  const std::shared_ptr<SolveCommandOptions> solve = AddSolveCommand(app);
  CLI::App* solve_command = app.get_subcommand("solve");
  AddSolutionOptions(solve_command, solve.get());
  set->commands.push_back({solve_command, [solve] {
                             RunSolve(*solve, std::cerr);
                             return 0;
                           }});
  AddTrackCommand(app, set);
  AddEvalCommand(app, set);
  AddBenchCommand(app, set);
}

}  // namespace deepik::cli
