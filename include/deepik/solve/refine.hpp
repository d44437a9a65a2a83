// Polishing an IK answer to machine precision: damped least squares / Levenberg-Marquardt that
// respects the joint limits.
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <string>

#include "deepik/kinematics/chain.hpp"
#include "deepik/solve/solver.hpp"

namespace deepik {

/// Settings of the refinement. Defaults in the declaration.
struct RefineOptions {
  int max_iterations = 30;        ///< per start (see RefinePosition for the first start)
  double tolerance = 1e-9;        ///< position error (m) that counts as reached
  double initial_damping = 1e-6;  ///< Levenberg-Marquardt lambda (m^2) at the start
  /// When a start ends neither converged nor clearly out of reach (a local minimum: the wrong
  /// basin), refinement restarts from this many seeded configurations and keeps the best.
  int restarts = 6;
  uint64_t seed = 7;  ///< the restarts' configurations

  /// True when valid; otherwise false with `error` naming the offending field.
  bool IsValid(std::string* error) const;
};

/// Refines q_start toward the target. Never returns a worse error than the start's; the result is
/// always within the limits (full-turn joints are wrapped, others clamped). Status: kConverged
/// when the error is at most the tolerance; kOutOfReach when it stops at a point where no feasible
/// direction reduces the error beyond rounding (the closest reachable point it found); kFailed
/// when it gives up without either (every start ran out of iterations).
///
/// Budget: each start gets max_iterations; the first one (q_start) may go on while it keeps
/// making progress (near singular poses the way to the target can be long), up to 20 times that;
/// restarts get max_iterations; when the best end point came from a restart and is neither
/// within the tolerance nor a proven minimum, refinement continues from it.
SolveResult RefinePosition(const Chain& chain, const Eigen::Vector3d& p_target, Eigen::VectorXd q_start,
                           const RefineOptions& options);

}  // namespace deepik
