// The full-pose benchmark protocol of the IK literature (TRAC-IK, IKFlow): FK poses of uniform
// configurations, every solver from the middle of the limits, a 5 ms budget, success by FK of
// the answer, one thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "deepik/kinematics/chain.hpp"
#include "deepik/solve/solver.hpp"

namespace deepik {

/// Which targets and what counts as a success.
struct PoseBenchOptions {
  int64_t count = 10000;              ///< in-reach targets: FK poses of uniform configurations
  int64_t near_limit_count = 1000;    ///< FK poses of configurations with a joint within near_limit_deg
                                      ///< of a limit
  int64_t out_of_reach_count = 1000;  ///< poses moved beyond the reach (orientation kept)
  double near_limit_deg = 2.0;
  double success_position = 1e-5;  ///< m
  double success_angle = 1e-5;     ///< rad
  uint64_t seed = 42;

  /// @throws std::invalid_argument naming the field when a count is negative or a tolerance not > 0.
  void Validate() const;
};

/// The three target sets.
struct PoseBenchTargets {
  std::vector<IkTarget> in_reach;
  std::vector<IkTarget> near_limit;
  std::vector<IkTarget> out_of_reach;
};

/// Draws the targets (std::mt19937_64 from `seed` through deepik/data/random.hpp, so the same
/// options give the same targets everywhere). In reach: FK of UniformConfiguration. Near the
/// limits: the same, then one joint (uniform among the joints with stops) set uniformly within
/// near_limit_deg of its lower or upper limit. Out of reach: an in-reach pose whose position is
/// moved along its direction from the base origin to 1.1-1.5 x chain.reach() (an upper bound of
/// the reach, so the position cannot be reached).
PoseBenchTargets MakePoseBenchTargets(const Chain& chain, const PoseBenchOptions& options);

/// One solver on one set.
struct PoseBenchRow {
  std::string solver;
  std::string set;
  int64_t targets = 0;
  /// FK of the answer within success_position AND success_angle, q within the limits (checked
  /// here, not taken from the solver's status).
  int64_t successes = 0;
  int64_t claimed_converged = 0;  ///< status "converged"
  int64_t false_claims = 0;       ///< status "converged" but not a success by the test above
  int64_t out_of_reach = 0;       ///< status "out of reach"
  int64_t limit_violations = 0;
  int64_t non_finite = 0;
  double mean_us = 0, median_us = 0, p99_us = 0;  ///< per target, failures included
  /// The solver's own count per target (SolveResult::iterations: over all its starts; 0 for the
  /// network), mean over the set: a measure of the work that the machine's load does not change.
  double mean_iterations = 0;
};

/// The value at rank floor(p * size) of the sorted values (the nearest-rank percentile the
/// benchmark tables print; 0 for none).
double RankPercentile(std::vector<double> values, double p);

/// Solves every target once on this thread, each timed alone (steady_clock), with no start
/// given (iterative solvers begin at the middle of the limits, the network ignores starts).
PoseBenchRow BenchPoseSolver(const Solver& solver, const std::vector<IkTarget>& targets,
                             const std::string& set, const PoseBenchOptions& options);

/// Targets per second of one SolveBatch over `targets` on `threads` threads.
double PoseBatchThroughput(const Solver& solver, const std::vector<IkTarget>& targets, int threads);

/// The rows as a Markdown table (success rate, mean, median, p99, mean iterations, claims,
/// violations).
std::string PoseBenchMarkdown(const std::vector<PoseBenchRow>& rows);

}  // namespace deepik
