// Bringing joint values into a chain's limits, shared by the refinements. Internal to the library.
#pragma once

#include <algorithm>
#include <cmath>

#include "deepik/kinematics/chain.hpp"
#include "deepik/learn/network_options.hpp"

namespace deepik::internal {

/// Brings q into the limits: full-turn joints (IsFullTurn) wrap around, the others are clamped.
/// Allocates nothing.
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

}  // namespace deepik::internal
