#include "deepik/data/random.hpp"

#include <algorithm>

namespace deepik {

double UniformUnit(std::mt19937_64* rng) { return static_cast<double>((*rng)() >> 11) * 0x1.0p-53; }

void UniformConfiguration(const Chain& chain, std::mt19937_64* rng, Eigen::Ref<Eigen::VectorXd> q) {
  for (int j = 0; j < chain.num_joints(); ++j) {
    const Joint& joint = chain.joint(j);
    q[j] = std::min(joint.lower + (joint.upper - joint.lower) * UniformUnit(rng), joint.upper);
  }
}

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
