#include "deepik/data/random.hpp"

#include <algorithm>

namespace deepik {

Eigen::Vector3d UniformInBall(double radius, std::mt19937_64* rng) {
  while (true) {
    // Drawn z, y, x in that order: the order the first datasets were made in (and function
    // arguments must not decide it: their evaluation order is unspecified).
    const double z = 2.0 * UniformUnit(rng) - 1.0;
    const double y = 2.0 * UniformUnit(rng) - 1.0;
    const double x = 2.0 * UniformUnit(rng) - 1.0;
    const Eigen::Vector3d v(x, y, z);
    if (v.squaredNorm() <= 1.0) return radius * v;
  }
}

}  // namespace deepik
