// Uses the installed deepik core alone: loads a trained model, solves a reachable target with the
// refined solver and checks the answer by forward kinematics (an independent route).
#include <deepik/kinematics/fk.hpp>
#include <deepik/learn/model.hpp>
#include <deepik/solve/solvers.hpp>
#include <iostream>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: consumer MODEL\n";
    return 2;
  }
  const deepik::IkModel model = deepik::IkModel::Load(argv[1]);
  const deepik::Chain& chain = model.chain();
  Eigen::VectorXd q_true(chain.num_joints());
  for (int i = 0; i < chain.num_joints(); ++i) {
    q_true[i] = 0.5 * (chain.joint(i).lower + chain.joint(i).upper) + 0.1 * (i + 1);
  }
  const Eigen::Vector3d target = deepik::TipPosition(chain, q_true);
  const std::unique_ptr<deepik::Solver> solver = deepik::MakeSolver("refined", model);
  const deepik::SolveResult result = solver->Solve(deepik::IkTarget{target});
  const double error = (deepik::TipPosition(chain, result.q) - target).norm();
  std::cout << "solved " << target.transpose() << " with " << solver->name() << ": error " << error
            << " m, status " << deepik::ToString(result.status) << "\n";
  return error < 1e-9 && result.status == deepik::SolveStatus::kConverged ? 0 : 1;
}
