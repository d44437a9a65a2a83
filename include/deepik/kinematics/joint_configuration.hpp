// Operations on joint configurations q of a Chain: which joints wrap around, bringing q into the
// limits, the difference and distance of two configurations, and seeded uniform draws. The one
// home of these rules for every layer above (data, learn, solve, serve), after Pinocchio's
// algorithm/joint-configuration.hpp.
#pragma once

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <random>

#include "deepik/kinematics/chain.hpp"

namespace deepik {

/// The most actuated joints a chain may have (Chain's constructor refuses more, naming the limit;
/// the command's exit 3). Every solver handles any count up to it: the refinements keep joint
/// vectors and matrices in fixed-size storage (no heap) up to 16 joints, the common arms, and on
/// the heap beyond. The limit bounds the work of one solve: the full-Hessian step factors an n x n
/// matrix (O(n^3)), and KDL's velocity solver works on n x n matrices too; at 1,000 joints one
/// out-of-reach target took minutes.
constexpr int kMaxJoints = 256;

/// True when the joint is revolute and its range is a full turn (continuous, or upper - lower >=
/// 2 pi - 1e-9): q and q + 2 pi are then the same configuration. Such joints wrap around in
/// ProjectIntoLimits, their differences are taken modulo 2 pi, and the network predicts them as
/// (sin, cos) (`NetworkOptions::periodic_sincos`).
bool IsFullTurn(const Joint& joint);

/// Brings q (chain order; rad or m; size chain.num_joints()) into the limits in place: a
/// full-turn joint (IsFullTurn) out of its range wraps to lower + (q - lower) mod 2 pi, every
/// other value is clamped. Allocates nothing; works on any Eigen vector (fixed capacity too).
template <typename Vector>
void ProjectIntoLimits(const Chain& chain, Vector& q) {
  for (int j = 0; j < chain.num_joints(); ++j) {
    const Joint& joint = chain.joint(j);
    if (IsFullTurn(joint) && (q[j] < joint.lower || q[j] > joint.upper)) {
      const double turn = 2 * M_PI;
      q[j] = joint.lower + std::fmod(std::fmod(q[j] - joint.lower, turn) + turn, turn);
    }
    q[j] = std::min(std::max(q[j], joint.lower), joint.upper);
  }
}

/// a - b per joint, a full-turn joint's difference (IsFullTurn) taken modulo 2 pi into
/// [-pi, pi] (rad or m).
/// @throws std::invalid_argument when a or b does not have chain.num_joints() values.
Eigen::VectorXd JointDifference(const Chain& chain, const Eigen::VectorXd& a, const Eigen::VectorXd& b);

/// The Euclidean norm of JointDifference(a, b) (rad or m): the distance of two configurations.
/// @throws std::invalid_argument as JointDifference.
double JointDistance(const Chain& chain, const Eigen::VectorXd& a, const Eigen::VectorXd& b);

/// The largest |JointDifference(a, b)| over the joints (rad or m): how far one joint moves from a
/// to b.
/// @throws std::invalid_argument as JointDifference.
double MaxJointStep(const Chain& chain, const Eigen::VectorXd& a, const Eigen::VectorXd& b);

/// Uniform in [0, 1) from the top 53 bits of one draw: every seeded draw of the library starts
/// here (explicit formulas, never the implementation-defined std::*_distribution), so the same
/// seed gives the same numbers on every platform.
double UniformUnit(std::mt19937_64* rng);

/// Joint values uniform within the chain's limits, one draw per joint in chain order (q must have
/// chain.num_joints() values).
void UniformConfiguration(const Chain& chain, std::mt19937_64* rng, Eigen::Ref<Eigen::VectorXd> q);

}  // namespace deepik
