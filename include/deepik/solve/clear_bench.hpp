// The collision-free IK benchmark (issue 23): FK poses of uniform configurations that are clear by
// the exact check, every solver on one thread with its time budget, success judged here by FK and
// by the exact check (never the solver's status); and the baseline MoveIt runs, solve-check-restart.
#pragma once

#include <Eigen/Core>
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "deepik/geometry/collision_model.hpp"
#include "deepik/kinematics/chain.hpp"
#include "deepik/solve/solver.hpp"

namespace deepik {

/// The CPU time this thread has used (us, CLOCK_THREAD_CPUTIME_ID): a call's own cost, which
/// waiting for a core on a loaded machine does not change.
double ThreadCpuMicros();

/// Which targets and what counts as a success.
struct ClearBenchOptions {
  int64_t count = 2000;            ///< targets
  double success_position = 1e-5;  ///< m
  double success_angle = 1e-5;     ///< rad
  uint64_t seed = 42;
  /// Uniform configurations drawn at most, over all targets (a scene that leaves nothing clear
  /// must not loop forever): 1000 x count.
  int64_t MaxDraws() const { return 1000 * count; }
  /// The untimed solves BenchClearSolver makes first (the first targets, at most 20).
  int64_t Warmup() const { return std::min<int64_t>(count, 20); }

  /// @throws std::invalid_argument naming the field when count < 0 or a tolerance is not > 0.
  void Validate() const;
};

/// The targets: configurations clear by the exact check, and their FK poses.
struct ClearBenchTargets {
  std::vector<Eigen::VectorXd> configurations;  ///< chain order, within the limits, clear
  std::vector<IkTarget> targets;                ///< full poses, FK of `configurations`
  int64_t draws = 0;                            ///< uniform configurations drawn (clear or not)
};

/// Draws UniformConfiguration (std::mt19937_64 from `seed`) and keeps those `exact` finds clear
/// (InCollision false) until `count` are kept.
/// @throws std::invalid_argument for bad options; std::runtime_error when MaxDraws() draws give
///         fewer than `count` clear configurations.
ClearBenchTargets MakeClearBenchTargets(const Chain& chain, const CollisionChecker& exact,
                                        const ClearBenchOptions& options);

/// What the bench keeps of one answer.
struct ClearBenchAnswer {
  Eigen::VectorXd q;
  SolveStatus status = SolveStatus::kFailed;
  bool reached = false;  ///< within the limits, FK within success_position and success_angle
  bool clear = false;    ///< the verifier finds no collision
  double us = 0;         ///< wall time of the solve
  double cpu_us = 0;     ///< this thread's CPU time of the solve (what waiting for the CPU leaves out)
};

/// One solver on the targets.
struct ClearBenchRow {
  std::string solver;
  int64_t targets = 0;
  int64_t successes = 0;                          ///< reached AND clear, checked here
  int64_t reached_only = 0;                       ///< reached, in collision
  int64_t claimed_converged = 0;                  ///< status "converged"
  int64_t converged_in_collision = 0;             ///< status "converged", the verifier finds a collision
  int64_t converged_off_target = 0;               ///< status "converged", not reached
  int64_t in_collision_status = 0;                ///< status "in collision"
  double mean_us = 0, median_us = 0, p99_us = 0;  ///< per target, failures included (wall time)
  /// Mean thread CPU time per target: on a loaded machine the wall time also counts the waits for a
  /// core (and the budget is wall time, so a solve that waits has less of it).
  double cpu_mean_us = 0;
  double mean_iterations = 0;             ///< SolveResult::iterations, mean over the targets
  std::vector<ClearBenchAnswer> answers;  ///< one per target, in order
};

/// Solves every target once on this thread from no start (the solver's own), each timed alone
/// (steady_clock, and this thread's CPU time; options.Warmup() untimed solves first), and judges each answer:
/// FK within the options' tolerances within the limits (`reached`), and `verifier`'s InCollision false
/// (`clear`).
ClearBenchRow BenchClearSolver(const Solver& solver, const ClearBenchTargets& targets,
                               const CollisionChecker& verifier, const ClearBenchOptions& options);

/// The rows as a Markdown table (success, converged in collision, times, CPU time, the ratio of
/// each row's mean to `reference`'s mean when a row of that name is there).
std::string ClearBenchMarkdown(const std::vector<ClearBenchRow>& rows, const std::string& reference);

/// The baseline of MoveIt's collision-aware IK: run `attempt` (a solver that makes one attempt
/// from the start it is given, e.g. lm with max_starts 1, or KDL's NR_JL) from a seeded uniform
/// configuration, check a converged answer with `checker`, and start again from a new uniform
/// configuration until an answer is converged and clear or `timeout_seconds` has passed (the
/// first attempt always runs; no attempt starts after the budget).
/// Status: kConverged for a converged clear answer; else kInCollision when some attempt converged
/// in collision (q: the first such); else the closest attempt's (kFailed).
class CheckRestartSolver final : public Solver {
 public:
  /// `checker` must outlive the solver.
  /// @throws std::invalid_argument when attempt is null or timeout_seconds is not in [0, 60].
  CheckRestartSolver(std::unique_ptr<Solver> attempt, const CollisionChecker* checker, double timeout_seconds,
                     uint64_t seed);
  /// The attempt's name followed by "+check".
  std::string name() const override { return attempt_->name() + "+check"; }
  const Chain& chain() const override { return attempt_->chain(); }
  /// q_start is ignored: every attempt starts from a seeded uniform configuration (the same
  /// stream at every solve). iterations: the attempts made.
  SolveResult Solve(const IkTarget& target, const Eigen::VectorXd* q_start = nullptr) const override;

 private:
  std::unique_ptr<Solver> attempt_;
  const CollisionChecker* checker_;
  std::chrono::steady_clock::duration timeout_;
  uint64_t seed_;
};

}  // namespace deepik
