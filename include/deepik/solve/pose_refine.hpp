// Full-pose IK by Levenberg-Marquardt on the 6-D error twist, within the joint limits and a time
// budget; and `lm`, the solver that needs no model.
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <string>

#include "deepik/kinematics/chain.hpp"
#include "deepik/solve/refine.hpp"
#include "deepik/solve/solver.hpp"

namespace deepik {

/// Settings of RefinePose. Defaults in the declaration.
struct PoseRefineOptions {
  double position_tolerance = 1e-9;  ///< m: position excess over the bounds that counts as reached
  double angle_tolerance = 1e-9;     ///< rad: rotation excess over the bounds that counts as reached
  /// The weighting of the 6-D residual: r = (e_p, angle_weight * e_r), e_p in m, e_r the rotation
  /// vector in rad, so one radian weighs as much as angle_weight metres (KDL's LMA default: 0.1,
  /// a point 10 cm from the tool centre). Decides the "closest pose" of an unreachable target.
  double angle_weight = 0.1;
  double timeout_seconds = 0.005;  ///< per target (s): no new iteration starts after it (TRAC-IK: 5 ms)
  int max_iterations = 100;        ///< per start
  int max_starts = 0;              ///< at most this many starts in all (0: as many as the budget allows)
  uint64_t seed = 7;               ///< the restarts' configurations (the same stream at every solve)

  /// True when valid; otherwise false with `error` naming the offending field.
  bool IsValid(std::string* error) const;
};

/// Full-pose IK from q_start: Levenberg-Marquardt on the residual r = W * ExcessOverBounds(e)
/// (e the error twist of IkTarget, in the target frame; W = diag(1, 1, 1, a, a, a), a =
/// angle_weight) with the exact Jacobian (the rotation rows through the inverse left Jacobian of
/// SO(3)); damping by Nielsen's gain-ratio rule; joints the gradient presses against a limit are
/// frozen (active set), other steps are clamped into the limits and full-turn joints wrap.
///
/// A start ends converged (within both tolerances after the bounds), stationary (no feasible
/// step reduces the cost beyond rounding, or the gradient vanishes against |J| |r|: a minimum,
/// perhaps local), stalled (the cost fell by less than 10 % over 6 iterations) or after
/// max_iterations; then restarts begin from configurations uniform within the limits (seeded),
/// until one converges, 9/10 of timeout_seconds has passed or max_starts starts have run. Ends
/// that are not minima yet are polished: followed on without the stall rule until they converge
/// or become stationary; at once when a second end comes within 1e-3 (relative) of the lowest
/// cost (a second start in the lowest basin), and the lowest others (up to 6) in what is left of
/// the budget. The best end wins: the closest pose found in the weighted metric.
///
/// Status: kConverged within the tolerances. Otherwise kOutOfReach when it can be shown:
/// - the position lies beyond chain.reach() (an upper bound of the tip's distance from the base
///   origin) plus the position bounds;
/// - or the position alone is out of reach by more than the position bounds (RefinePosition from
///   the best end, with position_tolerance and seed, says kOutOfReach: the certificate of `lm`
///   and `refined` for positions);
/// - or the best end is a stationary point (nonzero residual, vanishing gradient) that at least
///   three starts reached with the same cost (within 1e-6 relative), none lower.
/// Else kFailed: the search gave up (the budget ran out before it could show either; perhaps a
/// local minimum). The last two need a search (max_starts 0 or >= 3; a single start, as tracking
/// uses, certifies only the first) and time left: a search cut short before it could show
/// either ends kFailed. The result is measured by MeasureResult and always within the limits. Allocates
/// nothing per iteration (fixed-maximum-size Eigen types up to 16 joints).
/// @throws std::invalid_argument for invalid options, an invalid target (ThrowUnlessValidTarget),
///         or a q_start of the wrong size or not finite.
SolveResult RefinePose(const Chain& chain, const IkTarget& target, const Eigen::VectorXd& q_start,
                       const PoseRefineOptions& options);

/// Solving with no model: `lm`. A full-pose target, or a target with bounds, goes to RefinePose
/// from q_start or the middle of the limits (with its seeded restarts within the time budget); a
/// plain position-only target goes to RefinePosition from the same start (position tolerance
/// from the pose options), which restarts as it does for `refined`.
class LmSolver final : public Solver {
 public:
  /// @throws std::invalid_argument for invalid options.
  LmSolver(Chain chain, const PoseRefineOptions& pose = {}, const RefineOptions& position = {});
  std::string name() const override { return "lm"; }
  const Chain& chain() const override { return chain_; }
  SolveResult Solve(const IkTarget& target, const Eigen::VectorXd* q_start = nullptr) const override;

 private:
  Chain chain_;
  PoseRefineOptions pose_;
  RefineOptions position_;
};

}  // namespace deepik
