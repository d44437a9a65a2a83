// Forward kinematics and Jacobian speed: Eigen single queries and batched torch FK.
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <random>
#include <string>

#include "deepik/kinematics/builtin_arms.hpp"
#include "deepik/kinematics/fk.hpp"
#include "deepik/kinematics/torch_fk.hpp"

namespace {

// A random in-limit configuration, seeded.
Eigen::VectorXd RandomConfiguration(const deepik::Chain& chain, unsigned seed) {
  std::mt19937 rng(seed);
  Eigen::VectorXd q(chain.num_joints());
  for (int i = 0; i < chain.num_joints(); ++i) {
    q[i] = std::uniform_real_distribution<double>(chain.joint(i).lower, chain.joint(i).upper)(rng);
  }
  return q;
}

void BM_EigenTipPose(benchmark::State& state, const std::string& arm) {
  const deepik::Chain chain = deepik::MakeBuiltinArm(arm);
  const Eigen::VectorXd q = RandomConfiguration(chain, 1);
  for (auto _ : state) benchmark::DoNotOptimize(deepik::TipPose(chain, q));
}

void BM_EigenTipJacobian(benchmark::State& state, const std::string& arm) {
  const deepik::Chain chain = deepik::MakeBuiltinArm(arm);
  const Eigen::VectorXd q = RandomConfiguration(chain, 1);
  deepik::Matrix6Xd J(6, chain.num_joints());
  for (auto _ : state) {
    deepik::TipJacobian(chain, q, J);
    benchmark::DoNotOptimize(J.data());
    benchmark::ClobberMemory();
  }
}

// state.range(0) = batch size; float32, as in training.
void BM_TorchTipPositions(benchmark::State& state, const std::string& arm) {
  const deepik::Chain chain = deepik::MakeBuiltinArm(arm);
  const deepik::TorchFk fk(chain);
  torch::manual_seed(1);
  const torch::Tensor q = torch::rand({state.range(0), chain.num_joints()}, torch::kFloat32) * 2 - 1;
  torch::NoGradGuard no_grad;
  for (auto _ : state) benchmark::DoNotOptimize(fk.TipPositions(q));
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

// Forward and backward, as in the training loss.
void BM_TorchTipPositionsBackward(benchmark::State& state, const std::string& arm) {
  const deepik::Chain chain = deepik::MakeBuiltinArm(arm);
  const deepik::TorchFk fk(chain);
  torch::manual_seed(1);
  const torch::Tensor q =
      (torch::rand({state.range(0), chain.num_joints()}, torch::kFloat32) * 2 - 1).requires_grad_(true);
  for (auto _ : state) {
    fk.TipPositions(q).square().sum().backward();
    q.mutable_grad().reset();
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

BENCHMARK_CAPTURE(BM_EigenTipPose, seed, std::string("seed"));
BENCHMARK_CAPTURE(BM_EigenTipPose, planar2, std::string("planar2"));
BENCHMARK_CAPTURE(BM_EigenTipPose, panda, std::string("panda"));
BENCHMARK_CAPTURE(BM_EigenTipPose, ur5, std::string("ur5"));
BENCHMARK_CAPTURE(BM_EigenTipPose, iiwa14, std::string("iiwa14"));
BENCHMARK_CAPTURE(BM_EigenTipJacobian, seed, std::string("seed"));
BENCHMARK_CAPTURE(BM_EigenTipJacobian, panda, std::string("panda"));
BENCHMARK_CAPTURE(BM_TorchTipPositions, seed, std::string("seed"))
    ->Arg(1)
    ->Arg(4096)
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_TorchTipPositions, panda, std::string("panda"))
    ->Arg(1)
    ->Arg(4096)
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_TorchTipPositionsBackward, seed, std::string("seed"))
    ->Arg(1)
    ->Arg(4096)
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_TorchTipPositionsBackward, panda, std::string("panda"))
    ->Arg(1)
    ->Arg(4096)
    ->Unit(benchmark::kMicrosecond);

}  // namespace
