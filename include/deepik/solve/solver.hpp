// One interface for every IK solver: the network, the network refined, closed forms and the
// classical baselines.
#pragma once

#include <Eigen/Core>
#include <Eigen/Geometry>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "deepik/kinematics/chain.hpp"

namespace deepik {

/// Six numbers per axis of an error twist: x, y, z (m), then rx, ry, rz (rad).
using Vector6d = Eigen::Matrix<double, 6, 1>;

/// What a solver is asked to reach: a tip position (m, base frame) and, for a full-pose target,
/// the orientation of the tip frame T in the base frame B (a unit quaternion; either sign).
/// A target without an orientation is position-only.
///
/// Free and bounded axes (TRAC-IK's per-axis bounds): the error of a reached tip pose X_BT
/// against the target pose X_BT* is the twist e = (R*^T (p - p*), log(R*^T R)), position (m) and
/// rotation vector (rad), both expressed in the TARGET tip frame T* (for a position-only target,
/// T* has the base frame's orientation). Component i counts only by how far it lies beyond
/// +-bounds[i]: 0 (the default) = exact, +infinity = free. E.g. bounds[5] = +inf accepts any
/// rotation about the target tool's z axis (a symmetric tool); bounds.head<3>() = 1e-3 accepts
/// the position within a +-1 mm box. The rotation bounds matter only for full-pose targets.
struct IkTarget {
  IkTarget() = default;
  /// A position-only target.
  explicit IkTarget(const Eigen::Vector3d& p) : p_BT(p) {}
  /// A full-pose target.
  IkTarget(const Eigen::Vector3d& p, const Eigen::Quaterniond& Q) : p_BT(p), Q_BT(Q) {}

  Eigen::Vector3d p_BT = Eigen::Vector3d::Zero();
  std::optional<Eigen::Quaterniond> Q_BT;  ///< absent: any orientation will do
  Vector6d bounds = Vector6d::Zero();      ///< per-axis slack of the error twist (see above), >= 0
  bool has_orientation() const { return Q_BT.has_value(); }
  /// True when some component of `bounds` is not 0.
  bool has_bounds() const { return (bounds.array() != 0.0).any(); }
};

/// The error twist of the tip pose (R_BT, p_BT) against `target` (see IkTarget), before bounds:
/// position in metres, rotation vector in radians, both in the target frame T*. For a
/// position-only target the rotation part is 0.
Vector6d PoseErrorTwist(const IkTarget& target, const Eigen::Matrix3d& R_BT, const Eigen::Vector3d& p_BT);

/// The part of each component of `error` beyond +-bounds (0 within, e_i - bounds_i beyond).
Vector6d ExcessOverBounds(const Vector6d& error, const Vector6d& bounds);

/// Parses an axis-bounds list such as "rz=free" or "x=1e-3,y=1e-3,z=0.002,rx=0.1": axes x, y,
/// z (m) and rx, ry, rz (rad) of the error twist in the target frame, values >= 0 or `free`
/// (or `inf`); unnamed axes are exact (0). An empty string gives all zeros.
/// @throws InputError naming the offending item for an unknown axis, a repeated axis, or a value
///         that is not a number >= 0.
Vector6d ParseAxisBounds(const std::string& text);

/// Checks a target from a caller: finite position, a finite quaternion of norm 1 within 1e-6
/// (either sign), bounds >= 0 and not NaN.
/// @throws std::invalid_argument saying what was expected and what was given.
void ThrowUnlessValidTarget(const IkTarget& target);

/// How a solve ended. The one vocabulary of the command line (`solve`'s status column), the JSON
/// API ("status") and the page, through ToString().
enum class SolveStatus {
  kConverged,    ///< reached the target within the solver's tolerance
  kApproximate,  ///< a finite answer within the limits that is not within the tolerance, from a
                 ///< solver that does not iterate toward the target (the network alone)
  kOutOfReach,   ///< the target cannot be reached: q reaches the closest reachable point found
  kFailed,       ///< the solver gave up: it stopped neither within the tolerance nor at a point it
                 ///< could show to be the closest (or had no valid answer at all)
  kInCollision,  ///< collision-aware solving (--collisions self|all): the target was reached only in
                 ///< collision (or within less than the clearance), or no clear answer was found
                 ///< within the budget; q is the least penetrating answer that reaches the target
};

/// "converged", "approximate", "out of reach", "failed", "in collision".
const char* ToString(SolveStatus status);

/// The outcome of one solve. `q` is always finite and within the joint limits.
struct [[nodiscard]] SolveResult {
  Eigen::VectorXd q;                                    ///< joint values, chain order (rad or m)
  Eigen::Vector3d p_reached = Eigen::Vector3d::Zero();  ///< FK(q) tip position (m, base frame)
  /// FK(q) tip orientation in the base frame (unit, w >= 0); set by every solver.
  Eigen::Quaterniond Q_reached = Eigen::Quaterniond::Identity();
  double error = 0.0;  ///< |p_reached - target| (m), the position error
  /// Geodesic angle (rad, [0, pi]) between Q_reached and the target orientation; NaN for a
  /// position-only target. The full angle: free or bounded axes widen the status test, not this.
  double angle_error = std::numeric_limits<double>::quiet_NaN();
  SolveStatus status = SolveStatus::kFailed;
  int iterations = 0;
  /// Collision-aware solving only (else NaN): the smallest signed distance (m) at q between the
  /// checked bodies (link pairs of the self-collision matrix; links and obstacles) on the sphere
  /// model, negative for the deepest overlap (the status comes from the exact check, whose
  /// distance costs milliseconds and says 0 for any collision).
  double collision_distance = std::numeric_limits<double>::quiet_NaN();
};

/// FK of result->q against the target: sets p_reached, Q_reached, error and angle_error (NaN for
/// a position-only target). The one check every solver's answer goes through.
void MeasureResult(const Chain& chain, const IkTarget& target, SolveResult* result);

/// Sets only Q_reached (and angle_error, for a full-pose target) from FK of result->q, leaving the
/// position and its error as the solver computed them (the position-only paths' numbers).
void MeasureOrientation(const Chain& chain, const IkTarget& target, SolveResult* result);

/// True when the reached pose is within the tolerances of the target after its bounds: the
/// position excess |ExcessOverBounds(e).head<3>()| <= position_tolerance and, for a full-pose
/// target, the rotation excess |...tail<3>()| <= angle_tolerance.
bool WithinTolerance(const IkTarget& target, const Eigen::Matrix3d& R_BT, const Eigen::Vector3d& p_BT,
                     double position_tolerance, double angle_tolerance);

/// An IK solver for one chain. Solve() is const and thread-safe: one solver object can serve
/// many threads at once (scratch lives in the call, or per thread).
class Solver {
 public:
  virtual ~Solver() = default;
  /// The name used on the command line (network, refined, lm, analytic, kdl-nr, kdl-nr-restarts,
  /// kdl-lma, kdl-lma-restarts).
  virtual std::string name() const = 0;
  virtual const Chain& chain() const = 0;

  // ---- Traits: what a front end may ask of this solver (never test name() for them) ----
  /// True when a converged answer is an exact solution within the solver's tolerance, so that
  /// SolveMany and the posture ranking can use it; false for the network alone.
  virtual bool exact() const { return true; }
  /// True for the solvers built from a model file (network, refined); see SolverNeedsModel.
  virtual bool needs_model() const { return false; }
  /// True when ProposeStarts may give starts (refined on a multi-head model).
  virtual bool proposes_starts() const { return false; }
  /// True when the solver takes position-only targets alone (analytic): no orientation, no bounds.
  virtual bool position_only() const { return false; }

  /// Solves one target; `q_start`, when given, is where iterative solvers begin (the network
  /// and closed forms ignore it).
  virtual SolveResult Solve(const IkTarget& target, const Eigen::VectorXd* q_start = nullptr) const = 0;
  /// Starts this solver proposes for `target` besides the one its Solve() begins at, best first:
  /// SolveMany refines them before its random starts. By default none; `refined` on a multi-head
  /// model: the network's other heads.
  virtual std::vector<Eigen::VectorXd> ProposeStarts(const IkTarget& target) const;
  /// Solves many targets, in order, on `threads` threads (the default splits Solve() calls); an
  /// exception from Solve() on any thread is rethrown to the caller after all threads end.
  virtual std::vector<SolveResult> SolveBatch(const std::vector<IkTarget>& targets, int threads = 1) const;
};

}  // namespace deepik
