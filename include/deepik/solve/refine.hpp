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
  int max_iterations = 30;        ///< per start
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
/// when the error is below the tolerance; kOutOfReach when it stops at a point where no feasible
/// direction reduces the error (the closest reachable point it found); kFailed otherwise.
SolveResult RefinePosition(const Chain& chain, const Eigen::Vector3d& p_target, Eigen::VectorXd q_start,
                           const RefineOptions& options);

}  // namespace deepik
