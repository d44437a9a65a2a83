// One interface for every IK solver: the network, the network refined, closed forms and the
// classical baselines.
#pragma once

#include <Eigen/Core>
#include <Eigen/Geometry>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "deepik/kinematics/chain.hpp"

namespace deepik {

/// What a solver is asked to reach: a tip position (m, base frame) and, for a full-pose target,
/// the orientation of the tip frame T in the base frame B (a unit quaternion; either sign).
/// A target without an orientation is position-only.
struct IkTarget {
  Eigen::Vector3d p_BT = Eigen::Vector3d::Zero();
  std::optional<Eigen::Quaterniond> Q_BT;  ///< absent: any orientation will do
  bool has_orientation() const { return Q_BT.has_value(); }
};

/// How a solve ended. The one vocabulary of the command line (`solve`'s status column), the JSON
/// API ("status") and the page, through ToString().
enum class SolveStatus {
  kConverged,    ///< reached the target within the solver's tolerance
  kApproximate,  ///< a finite answer within the limits that is not within the tolerance, from a
                 ///< solver that does not iterate toward the target (the network alone)
  kOutOfReach,   ///< the target cannot be reached: q reaches the closest reachable point found
  kFailed,       ///< the solver gave up: it stopped neither within the tolerance nor at a point it
                 ///< could show to be the closest (or had no valid answer at all)
};

/// "converged", "approximate", "out of reach", "failed".
const char* ToString(SolveStatus status);

/// The outcome of one solve. `q` is always finite and within the joint limits.
struct [[nodiscard]] SolveResult {
  Eigen::VectorXd q;                                    ///< joint values, chain order (rad or m)
  Eigen::Vector3d p_reached = Eigen::Vector3d::Zero();  ///< FK(q) tip position (m, base frame)
  double error = 0.0;                                   ///< |p_reached - target| (m)
  SolveStatus status = SolveStatus::kFailed;
  int iterations = 0;
};

/// An IK solver for one chain. Solve() is const and thread-safe: one solver object can serve
/// many threads at once (scratch lives in the call, or per thread).
class Solver {
 public:
  virtual ~Solver() = default;
  /// The name used on the command line (network, refined, analytic, kdl-nr, kdl-nr-restarts,
  /// kdl-lma).
  virtual std::string name() const = 0;
  virtual const Chain& chain() const = 0;
  /// Solves one target; `q_start`, when given, is where iterative solvers begin (the network
  /// and closed forms ignore it).
  virtual SolveResult Solve(const IkTarget& target, const Eigen::VectorXd* q_start = nullptr) const = 0;
  /// Solves many targets, in order, on `threads` threads (the default splits Solve() calls).
  virtual std::vector<SolveResult> SolveBatch(const std::vector<IkTarget>& targets, int threads = 1) const;
};

}  // namespace deepik
