// Uses the installed deepik: the seed arm's tip at zero must be (0, 0, 2).
#include <deepik/kinematics/builtin_arms.hpp>
#include <deepik/kinematics/fk.hpp>
#include <iostream>

int main() {
  const deepik::Chain chain = deepik::MakeSeedArm();
  const Eigen::Vector3d p_BT = deepik::TipPosition(chain, Eigen::VectorXd::Zero(chain.num_joints()));
  std::cout << "tip " << p_BT.transpose() << "\n";
  return (p_BT - Eigen::Vector3d(0, 0, 2)).norm() < 1e-12 ? 0 : 1;
}
