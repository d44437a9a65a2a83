// Single-query latency of every solver on the shipped seed model, side by side in one run:
//   build/bench/deepik_bench_solve --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <random>

#include "deepik/kinematics/fk.hpp"
#include "deepik/learn/network.hpp"
#include "deepik/solve/solvers.hpp"

namespace deepik {
namespace {

const IkModel& Model() {
  static const IkModel model = IkModel::Load(DEEPIK_SEED_MODEL);
  return model;
}

// In-reach targets: FK of uniform random joint values (seeded).
std::vector<IkTarget> MakeTargets(int count, uint64_t seed) {
  const Chain& chain = Model().chain();
  std::mt19937_64 rng(seed);
  std::vector<IkTarget> out;
  Eigen::VectorXd q(chain.num_joints());
  for (int i = 0; i < count; ++i) {
    for (int j = 0; j < chain.num_joints(); ++j) {
      q[j] = std::uniform_real_distribution<double>(chain.joint(j).lower, chain.joint(j).upper)(rng);
    }
    out.push_back(IkTarget{TipPosition(chain, q)});
  }
  return out;
}

const std::vector<IkTarget>& Targets() {
  static const std::vector<IkTarget> targets = [] {
    const Chain& chain = Model().chain();
    std::mt19937_64 rng(99);
    std::vector<IkTarget> out;
    Eigen::VectorXd q(chain.num_joints());
    for (int i = 0; i < 1000; ++i) {
      for (int j = 0; j < chain.num_joints(); ++j) {
        q[j] = std::uniform_real_distribution<double>(chain.joint(j).lower, chain.joint(j).upper)(rng);
      }
      out.push_back(IkTarget{TipPosition(chain, q)});
    }
    return out;
  }();
  return targets;
}

void BM_Solver(benchmark::State& state, const std::string& name) {
  const std::unique_ptr<Solver> solver = MakeSolver(name, Model());
  const std::vector<IkTarget>& targets = Targets();
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(solver->Solve(targets[i]));
    i = (i + 1) % targets.size();
  }
}

// The network's forward pass alone (IkModel::Predict) in each precision: float64 sums (the
// `network` solver, equal to the ONNX export) against float32 ones (the `refined` solver's start).
void BM_Predict(benchmark::State& state, ForwardPrecision precision) {
  const std::vector<IkTarget>& targets = Targets();
  IkModel::Scratch scratch;
  Eigen::VectorXd q(Model().chain().num_joints());
  size_t i = 0;
  for (auto _ : state) {
    Model().Predict(targets[i].p_BT, q, &scratch, precision);
    benchmark::DoNotOptimize(q.data());
    i = (i + 1) % targets.size();
  }
}

// The same network through libtorch, one query per call: the per-call overhead the lean path avoids.
void BM_NetworkLibtorchSingle(benchmark::State& state) {
  at::set_num_threads(1);
  IkNet net = MakeIkNet(Model());
  const std::vector<IkTarget>& targets = Targets();
  size_t i = 0;
  for (auto _ : state) {
    const Eigen::Vector3d& p = targets[i].p_BT;
    const torch::Tensor t = torch::tensor({p.x(), p.y(), p.z()}, torch::kFloat64).reshape({1, 3});
    benchmark::DoNotOptimize(PredictBatch(net, t));
    i = (i + 1) % targets.size();
  }
}

// One SolveBatch call on n targets and one thread: what deepik.Solver.solve calls, so that
// bench/python_solve_overhead.py can show the cost of the Python call itself (docs/BENCHMARKS.md).
void BM_SolveBatch(benchmark::State& state, const std::string& name) {
  const std::unique_ptr<Solver> solver = MakeSolver(name, Model());
  const std::vector<IkTarget> targets = MakeTargets(static_cast<int>(state.range(0)), 7);
  for (auto _ : state) benchmark::DoNotOptimize(solver->SolveBatch(targets, 1));
}

BENCHMARK_CAPTURE(BM_SolveBatch, network, std::string("network"))
    ->Arg(1)
    ->Arg(10000)
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_SolveBatch, refined, std::string("refined"))
    ->Arg(1)
    ->Arg(10000)
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_SolveBatch, analytic, std::string("analytic"))
    ->Arg(1)
    ->Arg(10000)
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Predict, float64, ForwardPrecision::kFloat64);
BENCHMARK_CAPTURE(BM_Predict, float32, ForwardPrecision::kFloat32);
BENCHMARK_CAPTURE(BM_Solver, network, std::string("network"));
BENCHMARK(BM_NetworkLibtorchSingle);
BENCHMARK_CAPTURE(BM_Solver, refined, std::string("refined"));
BENCHMARK_CAPTURE(BM_Solver, analytic, std::string("analytic"));
BENCHMARK_CAPTURE(BM_Solver, kdl_nr, std::string("kdl-nr"));
BENCHMARK_CAPTURE(BM_Solver, kdl_lma, std::string("kdl-lma"));

}  // namespace
}  // namespace deepik
