// The `deepik` sub-commands: their options and what each one does. main.cpp only parses the
// command line into these options and calls the matching Run function.
#pragma once

#include <atomic>
#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "deepik/data/dataset.hpp"
#include "deepik/kinematics/arm_spec.hpp"
#include "deepik/learn/distributed_options.hpp"
#include "deepik/learn/network_options.hpp"
#include "deepik/learn/trainer.hpp"

namespace deepik::cli {

/// `deepik arm info ARM`: writes the arm's joints (name, type, axis, limits), DOF and reach.
/// @throws InputError when the arm cannot be loaded.
void RunArmInfo(const ArmSpec& arm, std::ostream& out);

/// Options of `deepik fk`.
struct FkCommandOptions {
  ArmSpec arm;
  std::string input_path;  ///< CSV: header, then one row of joint values (rad or m) per line; "-": stdin
  std::string output_path = "-";  ///< CSV: x,y,z,qw,qx,qy,qz per input row, in order; "-": stdout
};

/// `deepik fk`: tip poses for rows of joint values. The output appears whole or not at all.
/// @throws InputError for a bad arm or input file (naming file, line and column), values
///         outside the joint limits are allowed (FK is defined there) but must be finite.
void RunFk(const FkCommandOptions& options, std::ostream& log);

/// Options of `deepik dataset`.
struct DatasetCommandOptions {
  ArmSpec arm;
  SamplerOptions sampler;
  std::string output_path;
};

/// `deepik dataset`: samples, splits and saves a dataset; reports its size (and for the
/// workspace sampler the share of targets beyond the reach).
/// @throws InputError / std::invalid_argument for a bad arm, options or output path.
void RunDataset(const DatasetCommandOptions& options, std::ostream& log);

/// Parses a loss specification such as "fk", "mse", "fk+limit" or "fk=1,limit=0.1" into the
/// weights of `options` (a name without a weight has weight 1; limit alone defaults to 0.1).
/// @throws std::invalid_argument for an unknown loss name or a bad weight.
void ParseLossSpec(const std::string& spec, TrainOptions* options);

/// `train`'s sampler: the one `named`, else (empty) joints for a pose model, which learns the FK
/// poses of joint values, and workspace for a position model. The command and Python's
/// deepik.train both choose by it.
inline SamplerKind TrainSampler(const std::string& named, TargetKind target) {
  if (!named.empty()) return SamplerKindFromString(named);
  return target == TargetKind::kPose ? SamplerKind::kJoints : SamplerKind::kWorkspace;
}

/// Options of `deepik train`.
/// `train --collision-weight`: the penalty's sphere model, CoarsenSphereSet of the arm's sphere model
/// with this many spheres per link and this shrink (on panda's shipped model, 4,000 uniform
/// configurations: it flags 767 where the shipped model flags 705, 627 of them the same).
inline constexpr int kTrainSpheresPerLink = 4;
inline constexpr double kTrainSphereShrink = 0.8;

struct TrainCommandOptions {
  std::string data_path;  ///< a dataset file; when empty, data is sampled from `arm` with `sampler`
  ArmSpec arm;            ///< when given with a dataset, it must be the dataset's arm
  SamplerOptions sampler;
  NetworkOptions network;
  TrainOptions train;
  std::string loss = "fk";
  /// With train.collision_weight > 0: the sphere model and self-collision matrix the penalty
  /// coarsens and checks; empty = the shipped ones of the built-in arm the chain is named after.
  std::string spheres_path, matrix_path;
  std::string output_path;      ///< the model file
  std::string checkpoint_path;  ///< default: output_path + ".ckpt"
  std::string log_path;         ///< default: output_path + ".log.csv"
  bool resume = false;
  /// This process's place in a data-parallel job (torchrun's variables or --rank, --world-size,
  /// --master); world_size 1: one process.
  DistributedOptions dist;
};

/// `deepik train`: trains and saves a model, showing progress on `log` (a bar with ETA on a
/// terminal, periodic lines otherwise). Returns kExitOk, or kExitInterrupted when `stop` was set
/// (the checkpoint is then saved and `--resume` continues the run). Runs in the learning plugin.
/// With options.dist.world_size > 1 it runs as one rank of a data-parallel job (Train with a
/// DistributedGroup): rank 0 reports and writes the files, the other ranks print only their errors,
/// which start with "rank R: ".
/// @throws InputError / std::invalid_argument for bad data, options or files; DistributedError when
///         the job fails as a job (a rank lost, the master unreachable, ranks that disagree).
int RunTrain(const TrainCommandOptions& options, std::ostream& log, const std::atomic<bool>* stop);

/// `deepik model info FILE`: arm, architecture, training options, history and headline metrics, as
/// a summary for people (units in the names: mm, deg, %), or with `raw_json` the file's JSON texts
/// of the training options and metrics. Names from the file are printed with control characters
/// escaped.
/// @throws InputError for a missing or corrupted model file.
void RunModelInfo(const std::string& path, bool raw_json, std::ostream& out);

/// The solver settings the commands share: tolerances, time budget, free and bounded axes.
struct SolveSettingsOptions {
  double timeout_ms = 5.0;           ///< per target (pose refinement, lm, KDL restarts)
  double position_tolerance = 1e-9;  ///< m
  double angle_tolerance = 1e-9;     ///< rad
  std::string bounds;                ///< e.g. "rz=free" or "x=1e-3,y=1e-3,z=1e-3" (ParseAxisBounds)
};

/// Options of `deepik export`.
struct ExportCommandOptions {
  std::string model_path;
  std::string format = "onnx";  ///< onnx (the only one so far)
  std::string output_path;
};

/// `deepik export`: the model's network as one ONNX graph (float32 `targets` [batch, 3] in m,
/// base frame -> `joints` [batch, dof] in rad or m), for any ONNX runtime.
/// @throws InputError for a bad model file, an unknown format, an unwritable output, or a build
///         without ONNX support.
void RunExport(const ExportCommandOptions& options, std::ostream& log);

/// The collision options of `solve` (and the other solving commands).
struct CollisionCommandOptions {
  std::string collisions;  ///< off, self, all; empty: self when the arm has collision geometry
  double clearance = 0.0;  ///< m
  std::string scene_path;  ///< --scene FILE (needs --collisions all)
  std::string matrix_path, spheres_path;
  std::vector<std::string> package_paths;
};

/// Options of `deepik solve`.
struct SolveCommandOptions {
  std::string model_path;  ///< a model file; or, for the solvers that need none, `arm`
  ArmSpec arm;             ///< the arm when there is no model (lm, kdl-*)
  std::string solver;      ///< empty: refined with a model, lm without (see SolverNames())
  std::string input_path;  ///< CSV with header x,y,z or x,y,z,qw,qx,qy,qz (m, base frame)
  /// CSV: joint values named after the joints, then the reached x,y,z,qw,qx,qy,qz,
  /// position_error (m), angle_error (rad; empty for position-only targets), status; "-": stdout
  std::string output_path = "-";
  SolveSettingsOptions settings;
  int threads = 1;
  /// 0: one answer per target row. K >= 1: up to K distinct exact solutions per target
  /// (SolveMany), one output row each, with two more columns: target (the input row's index
  /// from 0) and solution (from 0).
  int solutions = 0;
  double min_distance = 0.1;          ///< rad: with `solutions`, the least JointDistance between two
  bool closest_to_start = false;      ///< rank the solutions by distance to the row's start columns
  int candidates = 0;                 ///< solutions to rank before keeping K (0: 8 when ranking, else K)
  double avoid_limits = 0.0;          ///< PostureOptions::avoid_limits
  std::vector<double> posture;        ///< PostureOptions::posture
  double posture_weight = 0.0;        ///< PostureOptions::posture_weight
  double start_weight = 0.0;          ///< PostureOptions::start_weight (needs start columns)
  CollisionCommandOptions collision;  ///< --collisions, --clearance, --scene, ...
};

/// `deepik solve`: IK for every row of a target file, in order, following the CSV contract.
/// @throws InputError for a bad model or arm, an unknown solver, both or neither of model and arm,
///         or bad rows (all listed with line numbers; a quaternion whose norm is off by more than
///         kTypedQuaternionNormTolerance is a bad row).
void RunSolve(const SolveCommandOptions& options, std::ostream& log);

/// Options of `deepik track`.
struct TrackCommandOptions {
  std::string model_path;  ///< a model file; or `arm`
  ArmSpec arm;
  std::string solver;      ///< of the first row; empty: refined with a model, lm without
  std::string input_path;  ///< CSV x,y,z or x,y,z,qw,qx,qy,qz: the path's targets, in order
  /// CSV: joints, reached x,y,z,qw,qx,qy,qz, position_error, angle_error, status (tracked, out of
  /// reach, reconfiguration, failed, in collision), joint_step, step_bound; "-": stdout
  std::string output_path = "-";
  SolveSettingsOptions settings;
  std::vector<double> start;          ///< the first row's start configuration (empty: the solver's own)
  double step_ratio = 20.0;           ///< TrackOptions
  double step_floor = 1e-3;           ///< TrackOptions (rad)
  CollisionCommandOptions collision;  ///< --collisions, --clearance, --scene, ... (as solve)
};

/// `deepik track`: a path of targets -> a joint trajectory without jumps (TrackPath), kept clear
/// of collisions as `solve` keeps its answers (MakeCollisionAware).
/// @throws InputError for a bad model, arm, input or start, or collision options `solve` refuses.
void RunTrack(const TrackCommandOptions& options, std::ostream& log);

/// Options of `deepik eval`.
struct EvalCommandOptions {
  std::string model_path;
  std::vector<std::string> solvers;  ///< empty = every solver that applies to the arm
  std::string targets_path;          ///< CSV x,y,z of extra in-reach targets; empty = generated only
  int64_t in_reach_count = 10000;
  int64_t out_of_reach_count = 2000;
  uint64_t seed = 2024;
  int threads = 2;        ///< for the batch throughput
  std::string json_path;  ///< write the JSON report here too
  std::string plots_dir;  ///< write error_histogram.svg and error_slice_<solver>.svg here
};

/// `deepik eval`: every solver side by side on the same targets, as a Markdown table.
void RunEval(const EvalCommandOptions& options, std::ostream& out, std::ostream& log);

/// Options of `deepik bench`.
struct BenchCommandOptions {
  std::string model_path;  ///< a model file; or `arm` (solvers that need no model only)
  ArmSpec arm;
  /// empty = network, refined (+ analytic on the seed arm), kdl-nr, kdl-nr-restarts; with `pose`:
  /// (network, refined with a model,) lm, kdl-nr, kdl-nr-restarts, kdl-lma, kdl-lma-restarts
  std::vector<std::string> solvers;
  /// The full-pose protocol (PoseBenchOptions): success rate and time per target on FK poses,
  /// near-limit poses and unreachable poses, one thread, plus batch throughput on `threads`.
  bool pose = false;
  int64_t count = 0;                  ///< in-reach targets; 0: 2000 (10000 with `pose`)
  int64_t near_limit_count = 1000;    ///< `pose` only
  int64_t out_of_reach_count = 1000;  ///< `pose` only
  SolveSettingsOptions settings;      ///< `pose` only: budget, tolerances of lm and refined
  /// The collision-free IK protocol (ClearBenchOptions, issue 23): FK poses of configurations
  /// clear by FCL; collision-aware lm (and refined with a model) beside solve-check-restart with
  /// lm and kdl-nr-restarts; runs in the geometry plugin.
  bool collision_free = false;
  CollisionCommandOptions collision;  ///< `collision_free` only: --scene, --matrix, --spheres, ...
  int warmup = 1;
  int repetitions = 5;
  int threads = 2;
  uint64_t seed = 99;
};

/// `deepik bench`: single-query latency (median, p99) and batch throughput of each solver; with
/// `pose`, the full-pose protocol (success, mean/median/p99 time per target) as Markdown.
void RunBench(const BenchCommandOptions& options, std::ostream& out, std::ostream& log);

/// Options of `deepik experiment seed`.
struct ExperimentCommandOptions {
  double seconds_per_model = 90;  ///< training budget of each of the models A, B, C
  int64_t in_reach_count = 2000;
  int64_t out_of_reach_count = 500;
  int threads = 1;  ///< libtorch threads for training (1 is fastest on 2 cores) and batch threads
  std::string work_dir = "experiment";  ///< models and datasets are kept here
};

/// `deepik experiment seed`: the seed's story as one table: (A) MSE on joint-grid data, free head;
/// (B) FK loss on workspace data, free head; (C) B with the bounded head; (D) C + refinement; then
/// the analytic and KDL rows. Fixed seeds throughout. Runs in the learning plugin.
void RunExperimentSeed(const ExperimentCommandOptions& options, std::ostream& out, std::ostream& log,
                       const std::atomic<bool>* stop);

/// "1m05s" or "1h02m": durations in progress lines and model info.
std::string FormatDuration(double seconds);

/// `value` with `decimals` decimals ("%.*f"), never "-0.00": a value that rounds to zero prints
/// without a sign.
std::string FormatFixed(double value, int decimals);

/// "1 row", "2 rows": a count and its noun, plural when the count is not 1.
std::string Plural(int64_t count, const std::string& noun);

/// `text` with the control characters a terminal would obey (C0, DEL, C1) written as \xNN or
/// \uNNNN escapes, so that a name read from a file cannot move the cursor, retitle the window or
/// hide text; newlines are kept when `keep_newlines` (multi-line messages).
std::string PrintableText(const std::string& text, bool keep_newlines = true);
/// A name from an arm or model file as printed: PrintableText without newlines either.
std::string PrintableName(const std::string& name);

}  // namespace deepik::cli
