// Smooth paths: a sequence of targets -> a joint trajectory that never jumps.
#pragma once

#include <Eigen/Core>
#include <string>
#include <vector>

#include "deepik/kinematics/joint_configuration.hpp"  // MaxJointStep
#include "deepik/solve/solver.hpp"
#include "deepik/solve/solvers.hpp"

namespace deepik {

/// Settings of TrackPath. Defaults in the declaration.
///
/// The step bound of row i: the joint step max_j |q_j(i) - q_j(i-1)| (rad or m; a full-turn
/// joint's difference taken modulo 2 pi) may be at most
///   step_ratio * s_i + step_floor,   s_i = |p*_i - p(i-1)| / reach + angle(R*_i, R(i-1)),
/// where p*_i, R*_i is row i's target, p(i-1), R(i-1) the tip pose the previous row reached (FK
/// of q(i-1)), reach = Chain::reach() (m) and the angle (rad) counts for pose targets only: the
/// target's step, its position part in units of the arm's reach (the joint step that moves a
/// tip at full reach that far).
struct TrackOptions {
  double step_ratio = 20.0;  ///< > 0
  double step_floor = 1e-3;  ///< rad, >= 0: what rounding and tolerances may move at any step
  /// With a q_start: false, row 0 is solved afresh from it (solver.Solve(path[0], q_start), no
  /// bound); true, q_start is the row before path[0] (a path continued where an earlier track
  /// ended): row 0 is tracked like every later row, from q_start and within the bound measured
  /// from q_start's tip pose. Without a q_start it changes nothing.
  bool continue_from_start = false;

  /// True when valid; otherwise false with `error` naming the offending field.
  bool IsValid(std::string* error) const;
};

/// How one row of a tracked path ended.
enum class TrackStatus {
  kTracked,          ///< reached within the tolerances with a step within the bound
  kOutOfReach,       ///< the target is not reachable (by any configuration the solver found): q
                     ///< is the closest point reached continuously (a step within the bound) or
                     ///< the previous row's q
  kReconfiguration,  ///< the target is reachable, but not continuously from the previous row
                     ///< (another branch, a limit or a singularity is in the way): q holds the
                     ///< previous row's q (or the closest point reached within the bound)
  kFailed,           ///< the first row only: the solver found no solution and no proof that
                     ///< the target is out of reach
  kInCollision,      ///< a collision-aware solver (ClearSolver) only: the target is reached, but
                     ///< no answer found keeps the arm clear (within the budget of the row's
                     ///< search): q holds the previous row's q (or the closest clear point
                     ///< reached within the bound); on the first row, the solver's answer
};

/// "tracked", "out of reach", "reconfiguration", "failed", "in collision".
const char* ToString(TrackStatus status);

/// One row of a tracked path.
struct TrackPoint {
  SolveResult result;  ///< q and its FK against the row's target (MeasureResult); status: the
                       ///< status of the solve that produced q
  TrackStatus status = TrackStatus::kFailed;
  double joint_step = 0.0;  ///< max_j |q_j(i) - q_j(i-1)| (full turns modulo 2 pi); 0 on row 0
  double step_bound = 0.0;  ///< the bound of this row (TrackOptions); +infinity on row 0
};

/// Tracks `path`: row 0 is solver.Solve(path[0], q_start) (q_start may be null; with
/// options.continue_from_start and a q_start, row 0 is tracked from q_start as below); every later
/// row is one Levenberg-Marquardt start (RefinePose or RefinePosition, `settings`' tolerances
/// and budget, no restarts) from the previous row's q, so the trajectory follows one branch of
/// solutions. A row whose warm start converges with a joint step within the bound is kTracked;
/// otherwise the row never jumps: q is the warm start's end if its step is within the bound,
/// else the previous q, and the status says why: kReconfiguration when the target is reachable
/// (`lm` with its seeded restarts converges on it), kOutOfReach when not. The step bound is
/// measured from the pose the previous row reached, so after a held row the path resumes as soon
/// as the warm start reaches the target within the bound again.
///
/// With a collision-aware solver (a ClearSolver: `lm` or `refined` with collisions checked) every
/// row is kept clear: the warm start is ClearSolver::SolveFrom (one RefineClear start from the
/// previous row's q: the sphere model's distances as residuals, the answer verified by the exact
/// check), kTracked needs that start to converge clear and within the bound, and a row that is
/// not tracked keeps the warm start's end only when it is within the bound and clear by the
/// solver's judge (the exact check when it has one, else the sphere model), else the previous q.
/// Such a row is kReconfiguration when the solver's full search (ClearSolver::Solve from the
/// previous q, then from its own start) finds a clear answer elsewhere, kInCollision when it
/// reaches the target only in collision, kOutOfReach when not at all. So a path tracked from a
/// clear first row never holds a configuration in collision, and never jumps.
/// @throws std::invalid_argument for invalid options or settings, an invalid target, or a
///         q_start of the wrong size.
std::vector<TrackPoint> TrackPath(const Solver& solver, const std::vector<IkTarget>& path,
                                  const SolverSettings& settings, const TrackOptions& options = {},
                                  const Eigen::VectorXd* q_start = nullptr);

/// Summary figures of a tracked path.
struct TrackSummary {
  int rows = 0;
  int tracked = 0;
  int out_of_reach = 0;          ///< rows
  int in_collision = 0;          ///< rows
  int reconfiguration_rows = 0;  ///< rows
  int reconfigurations = 0;      ///< runs of consecutive kReconfiguration rows
  double max_joint_step = 0.0;   ///< rad, over all rows
  double max_step_ratio = 0.0;   ///< max of joint_step / step_bound (<= 1 always)
};
TrackSummary SummarizeTrack(const std::vector<TrackPoint>& points);

}  // namespace deepik
