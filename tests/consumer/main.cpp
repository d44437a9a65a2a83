// Uses the installed deepik: the seed arm's tip at zero must be (0, 0, 2), and the server's
// options (deepik::serve) refuse a server with nothing to serve.
#include <deepik/kinematics/builtin_arms.hpp>
#include <deepik/kinematics/fk.hpp>
#include <deepik/serve/server.hpp>
#include <iostream>

int main() {
  const deepik::Chain chain = deepik::MakeSeedArm();
  const Eigen::Vector3d p_BT = deepik::TipPosition(chain, Eigen::VectorXd::Zero(chain.num_joints()));
  std::cout << "tip " << p_BT.transpose() << "\n";
  std::string error;
  const bool empty_valid = deepik::ServeOptions().IsValid(&error);
  std::cout << "serve options without a model: " << error << "\n";
  return (p_BT - Eigen::Vector3d(0, 0, 2)).norm() < 1e-12 && !empty_valid && !error.empty() ? 0 : 1;
}
