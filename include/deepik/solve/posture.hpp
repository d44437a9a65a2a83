// A chosen posture: objectives that choose among the exact solutions of a target, in the null
// space of the task, without giving up exactness.
#pragma once

#include <Eigen/Core>
#include <string>

#include "deepik/kinematics/chain.hpp"
#include "deepik/solve/solver.hpp"
#include "deepik/solve/solvers.hpp"

namespace deepik {

/// The weights of the posture objective h(q) (all >= 0; all 0: no objective):
///   h(q) = avoid_limits   * sum_j ((q_j - mid_j) / half_range_j)^2   (joints with limits only)
///        + posture_weight * |q - posture|^2
///        + start_weight   * |q - q_start|^2
/// where mid_j and half_range_j are the middle and half the width of joint j's limits, full-turn
/// joints (IsFullTurn) have no limits to avoid, and the differences of full-turn joints to the
/// posture and the start are taken modulo 2 pi (JointDifference). Lower is better.
struct PostureOptions {
  double avoid_limits = 0.0;  ///< weight of the distance from the middle of the limits
  Eigen::VectorXd posture;    ///< the preferred configuration (empty: none)
  double posture_weight = 0.0;
  double start_weight = 0.0;  ///< weight of the displacement from q_start (needs a q_start)
  int max_iterations = 50;    ///< null-space steps at most

  /// True when some weight is > 0.
  bool active() const { return avoid_limits > 0 || posture_weight > 0 || start_weight > 0; }
  /// True when valid for `chain` (finite weights >= 0; a posture of one value per joint when
  /// posture_weight > 0); otherwise false with `error` naming the offending field.
  bool IsValid(const Chain& chain, std::string* error) const;
};

/// h(q) of `options` (see PostureOptions); q_start may be null when start_weight is 0.
double PostureCost(const Chain& chain, const Eigen::VectorXd& q, const PostureOptions& options,
                   const Eigen::VectorXd* q_start = nullptr);

/// The distance of q to its nearest joint limit (rad or m), over the joints that are not full
/// turns; +infinity when every joint is a full turn.
double DistanceToNearestLimit(const Chain& chain, const Eigen::VectorXd& q);

/// Moves an exact solution along the target's self-motion to lower h(q): each iteration steps
/// along the gradient of h projected on the null space of the task Jacobian (position rows; all
/// six for a target with an orientation), then restores exactness by one Levenberg-Marquardt
/// start (`settings`' tolerances) and keeps the step only if the result is converged, within the
/// limits and lower in h; the step length adapts (doubles on success, halves on failure). A
/// solution that is not converged is returned unchanged. The result's h is never higher than the
/// input's, and it stays kConverged.
/// @throws std::invalid_argument for invalid options, or start_weight > 0 without a q_start.
SolveResult ImprovePosture(const Chain& chain, const IkTarget& target, const SolveResult& solution,
                           const PostureOptions& options, const SolverSettings& settings,
                           const Eigen::VectorXd* q_start = nullptr);

}  // namespace deepik
