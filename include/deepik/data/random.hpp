// Seeded random draws that give the same numbers on every platform: explicit formulas on
// std::mt19937_64's output, never the implementation-defined std::*_distribution.
#pragma once

#include <Eigen/Core>
#include <random>

#include "deepik/kinematics/chain.hpp"

namespace deepik {

/// Uniform in [0, 1) from the top 53 bits of one draw.
double UniformUnit(std::mt19937_64* rng);

/// Uniform joint values within the chain's limits (one draw per joint, in chain order).
void UniformConfiguration(const Chain& chain, std::mt19937_64* rng, Eigen::Ref<Eigen::VectorXd> q);

/// A point uniform in volume in the ball of `radius` around the origin, by rejection from the
/// enclosing cube (no log, sin or cbrt, whose last bits differ between maths libraries).
Eigen::Vector3d UniformInBall(double radius, std::mt19937_64* rng);

}  // namespace deepik
