// orocos-kdl's position IK solvers on a deepik Chain, as robotics users run them: the baselines.
#pragma once

#include <memory>

#include "deepik/solve/solver.hpp"

namespace deepik {

/// Which KDL solver.
enum class KdlMethod {
  kNewtonRaphsonJl,  ///< ChainIkSolverPos_NR_JL ("kdl-nr")
  kLma,              ///< ChainIkSolverPos_LMA ("kdl-lma")
};

/// Settings; defaults are KDL's usual ones.
struct KdlOptions {
  int max_iterations = 100;  ///< at most this many Newton (kdl-nr) or LMA (kdl-lma) iterations
  double eps = 1e-5;         ///< convergence tolerance (m) on the position error
};

/// A KDL solver on a copy of `chain` (the returned Solver owns it and its KDL::Chain), started
/// from the middle of the joint limits unless a start is given (a start outside the limits is
/// clamped into them). The KDL chain reproduces deepik::TipPose exactly (to rounding).
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
/// - kdl-lma: ChainIkSolverPos_LMA with weights L = (1, 1, 1, 0, 0, 0), eps and max_iterations
///   from the options. LMA ignores joint limits: its answer is clamped into them afterwards and
///   the error recomputed from the clamped q.
///
/// SolveResult: q finite and within the limits; p_reached = TipPosition(q); error =
/// |p_reached - target|; status kConverged when error < eps, else kFailed (KDL cannot tell an
/// out-of-reach target from a failure, so kOutOfReach never comes back); iterations = Newton
/// steps taken (kdl-nr) or LMA's lastNrOfIter (kdl-lma).
///
/// Thread-safety: Solve() is const and may be called from many threads at once. KDL solvers hold
/// mutable scratch and a reference to their chain, and even KDL::Joint caches its last pose in
/// mutable members, so every Solve() call copies the KDL::Chain and builds its KDL solvers on the
/// stack (about 0.75 us per call, a few per cent of a solve).
///
/// Solve() @throws std::invalid_argument when the target is not finite, or q_start is not finite
/// or its size is not num_joints().
/// @throws std::invalid_argument when options.max_iterations < 1 or options.eps is not a finite
///         value > 0.
std::unique_ptr<Solver> MakeKdlSolver(const Chain& chain, KdlMethod method, const KdlOptions& options = {});

}  // namespace deepik
