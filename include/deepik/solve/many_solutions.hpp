// Redundancy: several distinct exact solutions of one target, and the one closest to a start.
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <string>
#include <vector>

#include "deepik/kinematics/chain.hpp"
#include "deepik/kinematics/joint_configuration.hpp"  // JointDifference, JointDistance
#include "deepik/solve/posture.hpp"
#include "deepik/solve/solver.hpp"
#include "deepik/solve/solvers.hpp"

namespace deepik {

/// How the solutions of SolveMany are ordered.
enum class SolutionOrder {
  kFound,           ///< in the order found: the solver's own answer first
  kClosestToStart,  ///< by JointDistance to q_start, closest first (TRAC-IK's "Distance" mode);
                    ///< without a q_start, as kFound
};

/// Settings of SolveMany. Defaults in the declaration.
struct ManySolutionsOptions {
  int solutions = 1;  ///< K: at most this many solutions, 1..kMaxSolutions
  /// Two solutions count as distinct when JointDistance between them is at least this (rad).
  double min_distance = 0.1;
  /// Starts in all, the solver's own answer included; 0: 10 K + 10.
  int max_starts = 0;
  uint64_t seed = 7;  ///< the extra starts' configurations (the same stream for every target)
  SolutionOrder order = SolutionOrder::kFound;
  /// Ranking: with a posture objective (posture.active()), every solution found is moved by
  /// ImprovePosture (q_start as its start) and the list is ordered by PostureCost, lowest first;
  /// solutions that come within min_distance of a better one are dropped.
  PostureOptions posture;
  /// Solutions to find before ranking and keeping the best K (0: K). More candidates let the
  /// ranking (kClosestToStart, posture) choose among more branches.
  int candidates = 0;

  static constexpr int kMaxSolutions = 10000;
  /// True when valid; otherwise false with `error` naming the offending field.
  bool IsValid(std::string* error) const;
};

/// The solutions of one target.
struct [[nodiscard]] ManySolutions {
  /// Up to K exact solutions (status kConverged, within the limits, measured by FK of q through
  /// MeasureResult), pairwise at least min_distance apart. When none was found: exactly one
  /// entry, the solver's own answer with its status (out of reach, failed, approximate).
  std::vector<SolveResult> solutions;
  int starts = 0;  ///< starts tried (the solver's answer counts as one)
  /// True when `solutions` holds exact solutions (false: the one entry is not converged).
  bool exact() const { return !solutions.empty() && solutions.front().status == SolveStatus::kConverged; }
};

/// Up to options.solutions distinct exact solutions of `target`. The first start is the solver's
/// own answer, solver.Solve(target, q_start) (for `refined`, the network's answer refined); then
/// the solver's proposals, solver.ProposeStarts(target) (for `refined` on a multi-head model, the
/// other heads); the others begin at configurations uniform within the limits (seeded by options.seed) and
/// are refined by one Levenberg-Marquardt start each: RefinePose for a target with an orientation or bounds,
/// RefinePosition otherwise, with `settings`' tolerances and time budget per start (and no restarts of their
/// own: the next start is the restart). Starts stop once K distinct solutions are found, after max_starts, or
/// at once when the solver's answer is out of reach (no start can do better than the closest point). An
/// answer joins the list when its status is kConverged, it is within the limits, and its JointDistance to
/// every listed one is at least min_distance. Then the list is ranked (order, posture) and cut to K. Without
/// a ranking and with K = 1 the answer is the solver's own (as Solve) when it converged.
/// @throws std::invalid_argument for invalid options or settings, an invalid target, or a
///         q_start of the wrong size; InputError when K > 1 and the solver is not exact
///         ("network": use "refined").
ManySolutions SolveMany(const Solver& solver, const IkTarget& target, const ManySolutionsOptions& options,
                        const SolverSettings& settings, const Eigen::VectorXd* q_start = nullptr);

/// SolveMany for every target, in order, on `threads` threads; `q_starts`, when not empty, holds
/// one start per target. Exceptions from any thread are rethrown after all threads end.
/// @throws std::invalid_argument when q_starts is neither empty nor one per target.
std::vector<ManySolutions> SolveManyBatch(const Solver& solver, const std::vector<IkTarget>& targets,
                                          const ManySolutionsOptions& options, const SolverSettings& settings,
                                          int threads = 1, const std::vector<Eigen::VectorXd>& q_starts = {});

}  // namespace deepik
