// Seeded random draws that give the same numbers on every platform: explicit formulas on
// std::mt19937_64's output, never the implementation-defined std::*_distribution.
#pragma once

#include <Eigen/Core>
#include <random>

#include "deepik/kinematics/joint_configuration.hpp"  // UniformUnit, UniformConfiguration

namespace deepik {

/// A point uniform in volume in the ball of `radius` around the origin, by rejection from the
/// enclosing cube (no log, sin or cbrt, whose last bits differ between maths libraries).
Eigen::Vector3d UniformInBall(double radius, std::mt19937_64* rng);

}  // namespace deepik
