// The closed-form IK of the seed arm: exact solutions in reach, the exact closest reachable
// point out of reach. A baseline and the test oracle.
#pragma once

#include <Eigen/Core>
#include <vector>

#include "deepik/kinematics/builtin_arms.hpp"
#include "deepik/solve/solver.hpp"

namespace deepik {

/// Where a target lies relative to the seed arm's reachable set.
enum class SeedReachability {
  kReachable,
  kBeyondReach,   ///< farther than L1 + L2 from the base
  kInnerHollow,   ///< closer than the elbow-pitch limit allows (|p| < |L1 + L2 R(elbow pitch limit)|)
  kBelowAllowed,  ///< within the distance range, but no allowed shoulder direction reaches it (below
                  ///< the shoulder-pitch cone, or near the z axis when the pitch limit is small)
};

/// "reachable", "beyond reach", "inner hollow", "below allowed".
const char* ToString(SeedReachability reachability);

/// Closed-form solver of the seed arm (any link lengths and limits of SeedArmOptions).
///
/// Exact range: when `shoulder_yaw_limit_deg >= 90` and (`elbow_yaw_limit_deg >= 90` or
/// `elbow_pitch_limit_deg == 0`) — any link lengths and any shoulder- and elbow-pitch limits in
/// [0, 180] — the reachable set is symmetric about the z axis: shoulder yaw and the sign of the
/// shoulder pitch cover every azimuth of link 1, elbow yaw and the sign of the elbow pitch every
/// azimuth of link 2 around link 1. Its section by the half-plane through the target is then the
/// workspace of a planar two-link arm with joint ranges [-pitch, pitch] and [-elbow pitch, elbow
/// pitch], whose boundary lies on five circular arcs (outer sphere, inner hollow sphere at both
/// elbow-pitch limits, and the two arcs traced by link 2 when the shoulder pitch is at a limit). In
/// this range Solve(), Classify() and ClosestReachablePoint() are exact up to rounding (~1e-15 m)
/// and Solve() takes no iterations (`exact()` is true).
///
/// Outside that range (a shoulder yaw or elbow yaw limit below 90 degrees) the set is no longer
/// symmetric and the solver falls back to a numeric method (`exact()` is false): the distance
/// range of Classify() (beyond reach, inner hollow) stays exact, but the angular part, the
/// solution and the closest point come from a joint grid (13 x 9 x 13 x 11 cell centres of the
/// limits) whose 12 best points with distinct positions start a damped Newton descent on
/// |FK(q) - p|^2 (Hessian by central differences of the exact gradient, joints clamped to the
/// limits with an active set, at most 200 iterations each); the best end point wins. A target
/// counts as reachable there when that point is within 1e-10 m. It is a best effort (a local
/// search from many starts), not a proof; `iterations` reports the total Newton steps.
class AnalyticSeedSolver final : public Solver {
 public:
  /// @throws std::invalid_argument when the options are invalid.
  explicit AnalyticSeedSolver(const SeedArmOptions& options = {});

  std::string name() const override { return "analytic"; }
  bool position_only() const override { return true; }
  const Chain& chain() const override { return chain_; }
  const SeedArmOptions& options() const { return options_; }
  /// True when the options are in the exact range (see the class comment).
  bool exact() const override { return exact_; }

  /// Exact joint values for a reachable target (error ~1e-15 m, status kConverged, iterations 0);
  /// otherwise the joint values reaching the closest reachable point (status kOutOfReach).
  /// Always finite and within limits. `q_start` is ignored.
  ///
  /// Of the many solutions of a reachable target it returns the one with the smallest |shoulder
  /// pitch|, elbow yaw 0, and shoulder yaw = the target's azimuth (0 on the z axis), or that
  /// azimuth -+ 180 degrees with both pitches negated when the yaw limit excludes it. Straight
  /// elbow: elbow yaw 0. Non-finite targets give the all-zero configuration with status kFailed.
  /// Position-only targets.
  /// @throws std::invalid_argument for a target with an orientation or bounds.
  SolveResult Solve(const IkTarget& target, const Eigen::VectorXd* q_start = nullptr) const override;

  /// Where p_BT (m, base frame) lies; points within 1e-13 (L1 + L2) of the reachable set count
  /// as reachable.
  /// @throws std::invalid_argument when p_BT is not finite.
  SeedReachability Classify(const Eigen::Vector3d& p_BT) const;

  /// The reachable point closest to p_BT (m, base frame): p_BT itself when Classify() says it is
  /// reachable, otherwise FK of the joint values Solve() returns. `distance`, when given,
  /// receives d* = |result - p_BT| (m).
  /// @throws std::invalid_argument when p_BT is not finite.
  Eigen::Vector3d ClosestReachablePoint(const Eigen::Vector3d& p_BT, double* distance = nullptr) const;

 private:
  // Joint values (chain order) of the closest reachable point; `reachable` tells whether it is p
  // itself (within tolerance); `iterations` counts numeric iterations (0 in the exact range).
  Eigen::Vector4d ClosestConfiguration(const Eigen::Vector3d& p_BT, bool* reachable, int* iterations) const;
  Eigen::Vector4d ExactClosestConfiguration(const Eigen::Vector3d& p_BT, bool* reachable) const;
  Eigen::Vector4d NumericClosestConfiguration(const Eigen::Vector3d& p_BT, int* iterations) const;
  Eigen::Vector3d Fk(const Eigen::Vector4d& q) const;

  SeedArmOptions options_;
  Chain chain_;
  bool exact_ = true;
  double l1_ = 1.0, l2_ = 1.0;                  // link lengths (m)
  double yaw_limit_ = 0.0, pitch_limit_ = 0.0;  // shoulder limits (rad)
  double elbow_pitch_limit_ = 0.0;
  double rho_min_ = 0.0, rho_max_ = 0.0;  // distance range of the tip from the base (m)
  double gamma_limit_ = 0.0;  // angle between link 1 and the tip direction at the elbow-pitch limit
  double tolerance_ = 0.0;    // m
  std::vector<Eigen::Vector4d> grid_q_;  // numeric fallback only
  std::vector<Eigen::Vector3d> grid_p_;
};

}  // namespace deepik
