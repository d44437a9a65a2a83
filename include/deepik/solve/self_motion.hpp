// How much of a target's self-motion a set of solutions covers: the self-motion (the exact
// solutions of one target on a redundant arm) cut into cells, the cells where a solution exists
// found by a dense sweep, and the share of those cells that the solutions hit.
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <vector>

#include "deepik/kinematics/chain.hpp"
#include "deepik/solve/solvers.hpp"

namespace deepik {

/// A target's self-motion cut into cells: `branches` discrete branches times `bins` bins of a
/// continuous coordinate; cell = branch * bins + bin.
struct SelfMotionCells {
  int bins = 0;
  int branches = 1;
  std::vector<bool> feasible;  ///< per cell: some exact solution of the target lies in it

  int FeasibleCount() const;
  /// The share of the feasible cells that hold at least one of `cells` (cell indices; -1 and
  /// cells that are not feasible are ignored): in [0, 1], 0 when no cell is feasible.
  double Coverage(const std::vector<int>& cells) const;
};

/// Seed arm (4 joints), position target p_BT: the self-motion is 1-D. The elbow lies on the
/// circle of points L1 from the shoulder and L2 from the target; its coordinate is the angle phi
/// (in [-pi, pi)) of the elbow around the base-target axis a = p/|p|, measured from "up" (the unit
/// vector orthogonal to a in the plane of a and z; x when a is vertical) toward a x up. Each elbow
/// position is reached in four ways, the branches: the sign of the shoulder pitch q1 (q0 and q2
/// turned by pi) and of the elbow pitch q3 (q2 turned by pi); branch = (q1 < 0) + 2 (q3 < 0). Returns the
/// cell of configuration q (which must reach p_BT) among `bins` equal bins of phi.
/// @throws std::invalid_argument when `chain` is not a seed arm with full-turn yaw joints, or
///         bins < 1.
int SeedArmSelfMotionCell(const Chain& chain, const Eigen::Vector3d& p_BT, const Eigen::VectorXd& q,
                          int bins);

/// The seed arm's cells for p_BT (as SeedArmSelfMotionCell) and which of them hold a solution,
/// from a dense sweep of phi (`samples_per_bin` per bin): an elbow position is feasible when the
/// shoulder pitch it needs (its angle from z) and the elbow bend (fixed by |p_BT|) are within their
/// limits; then all four branches are (the pitch limits are symmetric). No cell is feasible when
/// p_BT is out of reach.
/// @throws std::invalid_argument as SeedArmSelfMotionCell, or samples_per_bin < 1.
SelfMotionCells SeedArmSelfMotionCells(const Chain& chain, const Eigen::Vector3d& p_BT, int bins,
                                       int samples_per_bin = 100);

/// Any arm: the coordinate is joint `joint`'s value (e.g. Panda's q7, the usual redundancy
/// parameter of its analytical IK), cut into `bins` equal bins of its range; one branch. Returns
/// the bin of q.
/// @throws std::invalid_argument for a joint index out of range or bins < 1.
int JointBinCell(const Chain& chain, int joint, int bins, const Eigen::VectorXd& q);

/// The cells of JointBinCell and which hold a solution of `target`: a bin is feasible when one of
/// `starts` Levenberg-Marquardt runs (`settings`, from seeded uniform configurations) on the arm
/// with that joint's limits narrowed to the bin converges. A sweep, so a lower bound of the truth
/// (a bin reached only from a rare start can be missed).
/// @throws std::invalid_argument as JointBinCell, for starts < 1 or an invalid target.
SelfMotionCells JointBinCells(const Chain& chain, const IkTarget& target, int joint, int bins, int starts,
                              uint64_t seed, const SolverSettings& settings = {});

}  // namespace deepik
