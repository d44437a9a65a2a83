#include "deepik/kinematics/joint_configuration.hpp"

#include <stdexcept>
#include <string>

namespace deepik {

bool IsFullTurn(const Joint& joint) {
  return joint.type == JointType::kRevolute &&
         (joint.continuous || joint.upper - joint.lower >= 2 * M_PI - 1e-9);
}

Eigen::VectorXd JointDifference(const Chain& chain, const Eigen::VectorXd& a, const Eigen::VectorXd& b) {
  const int n = chain.num_joints();
  if (a.size() != n || b.size() != n) {
    throw std::invalid_argument("expected two configurations of " + std::to_string(n) + " values, got " +
                                std::to_string(a.size()) + " and " + std::to_string(b.size()));
  }
  Eigen::VectorXd d = a - b;
  for (int j = 0; j < n; ++j) {
    if (IsFullTurn(chain.joint(j))) d[j] = std::remainder(d[j], 2.0 * M_PI);
  }
  return d;
}

double JointDistance(const Chain& chain, const Eigen::VectorXd& a, const Eigen::VectorXd& b) {
  return JointDifference(chain, a, b).norm();
}

double MaxJointStep(const Chain& chain, const Eigen::VectorXd& a, const Eigen::VectorXd& b) {
  return JointDifference(chain, a, b).cwiseAbs().maxCoeff();
}

double UniformUnit(std::mt19937_64* rng) { return static_cast<double>((*rng)() >> 11) * 0x1.0p-53; }

void UniformConfiguration(const Chain& chain, std::mt19937_64* rng, Eigen::Ref<Eigen::VectorXd> q) {
  for (int j = 0; j < chain.num_joints(); ++j) {
    const Joint& joint = chain.joint(j);
    q[j] = std::min(joint.lower + (joint.upper - joint.lower) * UniformUnit(rng), joint.upper);
  }
}

}  // namespace deepik
