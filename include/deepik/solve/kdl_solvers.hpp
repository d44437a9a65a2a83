// orocos-kdl's position IK solvers on a deepik Chain, as robotics users run them: the baselines.
#pragma once

#include <cstdint>
#include <memory>

#include "deepik/solve/solver.hpp"

namespace deepik {

/// Which KDL solver.
enum class KdlMethod {
  kNewtonRaphsonJl,          ///< ChainIkSolverPos_NR_JL ("kdl-nr"): one attempt
  kLma,                      ///< ChainIkSolverPos_LMA ("kdl-lma")
  kNewtonRaphsonJlRestarts,  ///< NR_JL with random restarts in a time budget ("kdl-nr-restarts")
  kLmaRestarts,              ///< LMA with random restarts in a time budget ("kdl-lma-restarts")
};

/// The solver's name: "kdl-nr", "kdl-lma", "kdl-nr-restarts", "kdl-lma-restarts".
const char* ToString(KdlMethod method);

/// Settings; defaults are KDL's usual ones (MoveItKdlOptions() gives MoveIt's).
struct KdlOptions {
  int max_iterations = 100;  ///< at most this many Newton or LMA iterations per attempt
  double eps = 1e-5;         ///< convergence tolerance: position error (m) and, for a pose, angle (rad)
  /// kdl-nr-restarts only: new attempts start while the solve has taken less than this (s); the
  /// first attempt always runs to its end. MoveIt's default kinematics_solver_timeout.
  double timeout_seconds = 0.005;
  /// kdl-nr-restarts only: at most this many attempts in all (0: as many as the budget allows).
  /// Tests set it, with a large budget, to make the number of attempts independent of timing.
  int max_attempts = 0;
  uint64_t seed = 1;  ///< kdl-nr-restarts only: the restarts' configurations (one stream per solve)
};

/// The settings of MoveIt's KDL kinematics plugin (kdl_kinematics_plugin/KDLKinematicsPlugin):
/// max_solver_iterations 500 per attempt, epsilon 1e-5 m, kinematics_solver_timeout 5 ms.
KdlOptions MoveItKdlOptions();

/// A KDL solver on a copy of `chain` (the returned Solver owns it and its KDL::Chain), started
/// from the middle of the joint limits unless a start is given (a start outside the limits is
/// clamped into them). The KDL chain reproduces deepik::TipPose exactly (to rounding).
///
/// Full-pose targets (IkTarget::Q_BT): NR_JL's wdls keeps its default task-space weights
/// (identity) and the goal frame is the whole pose; LMA gets KDL's default weights L = (1, 1, 1,
/// 0.1, 0.1, 0.1) and eps / 10 (its test is on the weighted norm); both stop when the position
/// error AND the angle error are below eps. Free or bounded axes (IkTarget::bounds) only widen the
/// final test (WithinTolerance with eps): KDL iterates toward the exact pose. kdl-lma-restarts is
/// kdl-lma in the restart loop of kdl-nr-restarts.
///
/// Position-only targets; the methods as run here:
/// - kdl-nr: ChainIkSolverPos_NR_JL with ChainFkSolverPos_recursive and ChainIkSolverVel_wdls.
///   NR_JL's own convergence test uses the full 6-D twist, which never vanishes for a
///   position-only target, so orientation is weighted out: wdls gets task-space weights
///   diag(1, 1, 1, 0, 0, 0) (setWeightTS) and the target frame any rotation (identity), and NR_JL
///   runs one iteration per call (maxiter = 1) in a loop of at most `max_iterations` that checks
///   the position error |p - target| < eps before each step: NR_JL's algorithm (Newton step,
///   then clamp into the limits) with a position-only stopping test. Two KDL 1.5 defects are
///   worked around: wdls's default lambda = 0 turns the exactly-zero singular values of the
///   weighted Jacobian into NaN steps, so lambda = 1e-3 (it only damps singular values below
///   1e-5; success rates are the same with 1e-6); and wdls aborts on chains of fewer than 6
///   joints (orocos_kinematics_dynamics issue #77), so such chains get extra revolute joints at
///   the tip, locked at 0, which cannot move the tip's position.
/// - kdl-nr-restarts: kdl-nr as MoveIt's KDL kinematics plugin runs it (searchPositionIK): the
///   first attempt from q_start (or mid-range), then, while the solve has taken less than
///   timeout_seconds (and fewer than max_attempts attempts, when set), new attempts from joint
///   values uniform within the limits (deepik::UniformConfiguration from a generator seeded with
///   `seed` at every solve), until one converges. Not converged: the attempt that came closest,
///   status kFailed. Differences from MoveIt: the step is NR_JL's weighted-DLS one above (MoveIt:
///   an SVD pseudo-inverse of the position rows, the same step up to the damping of singular
///   values below 1e-5), and convergence is |p - target| < eps rather than each coordinate below
///   eps. With a time budget the number of attempts, and so the answer to a target the first
///   attempts miss, depends on the machine's speed.
/// - kdl-lma: ChainIkSolverPos_LMA with weights L = (1, 1, 1, 0, 0, 0), eps and max_iterations
///   from the options. LMA ignores joint limits: its answer is clamped into them afterwards and
///   the error recomputed from the clamped q.
///
/// SolveResult: q finite and within the limits, measured by MeasureResult; status kConverged when
/// error < eps (position-only; a pose: WithinTolerance(eps, eps)), else kFailed (KDL cannot tell an
/// out-of-reach target from a failure, so kOutOfReach never comes back); iterations = Newton
/// steps taken (kdl-nr; over all attempts for kdl-nr-restarts) or LMA's lastNrOfIter (kdl-lma).
///
/// Thread-safety: Solve() is const and may be called from many threads at once. KDL solvers hold
/// mutable scratch and a reference to their chain, and even KDL::Joint caches its last pose in
/// mutable members, so every Solve() call copies the KDL::Chain and builds its KDL solvers on the
/// stack (about 0.75 us per call, a few per cent of a solve).
///
/// Solve() @throws std::invalid_argument when the target is not finite, or q_start is not finite
/// or its size is not num_joints().
/// @throws std::invalid_argument when options.max_iterations < 1, options.eps is not a finite
///         value > 0, options.timeout_seconds is not a finite value >= 0 or options.max_attempts < 0.
std::unique_ptr<Solver> MakeKdlSolver(const Chain& chain, KdlMethod method, const KdlOptions& options = {});

}  // namespace deepik
