#include "deepik/solve/pose_bench.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>
#include <stdexcept>

#include "deepik/data/random.hpp"
#include "deepik/kinematics/fk.hpp"
#include "deepik/learn/network_options.hpp"

namespace deepik {
namespace {

IkTarget PoseOf(const Chain& chain, const Eigen::VectorXd& q) {
  const Eigen::Isometry3d X = TipPose(chain, q);
  return IkTarget(X.translation(), Eigen::Quaterniond(X.linear()));
}

}  // namespace

double RankPercentile(std::vector<double> values, double p) {
  if (values.empty()) return 0.0;
  std::sort(values.begin(), values.end());
  const size_t index =
      std::min(values.size() - 1, static_cast<size_t>(p * static_cast<double>(values.size())));
  return values[index];
}

void PoseBenchOptions::Validate() const {
  if (count < 0) throw std::invalid_argument("PoseBenchOptions::count: expected >= 0");
  if (near_limit_count < 0) throw std::invalid_argument("PoseBenchOptions::near_limit_count: expected >= 0");
  if (out_of_reach_count < 0)
    throw std::invalid_argument("PoseBenchOptions::out_of_reach_count: expected >= 0");
  if (!(near_limit_deg > 0)) throw std::invalid_argument("PoseBenchOptions::near_limit_deg: expected > 0");
  if (!(success_position > 0))
    throw std::invalid_argument("PoseBenchOptions::success_position: expected > 0");
  if (!(success_angle > 0)) throw std::invalid_argument("PoseBenchOptions::success_angle: expected > 0");
}

PoseBenchTargets MakePoseBenchTargets(const Chain& chain, const PoseBenchOptions& options) {
  options.Validate();
  PoseBenchTargets targets;
  Eigen::VectorXd q(chain.num_joints());
  std::mt19937_64 rng(options.seed);
  for (int64_t i = 0; i < options.count; ++i) {
    UniformConfiguration(chain, &rng, q);
    targets.in_reach.push_back(PoseOf(chain, q));
  }
  std::vector<int> stopped;  // joints with real stops (not a full turn)
  for (int j = 0; j < chain.num_joints(); ++j) {
    if (!IsFullTurn(chain.joint(j))) stopped.push_back(j);
  }
  if (stopped.empty()) {
    for (int j = 0; j < chain.num_joints(); ++j) stopped.push_back(j);
  }
  const double band = options.near_limit_deg * M_PI / 180.0;
  for (int64_t i = 0; i < options.near_limit_count; ++i) {
    UniformConfiguration(chain, &rng, q);
    const int j =
        stopped[std::min(stopped.size() - 1, static_cast<size_t>(UniformUnit(&rng) * stopped.size()))];
    const Joint& joint = chain.joint(j);
    const double width = std::min(band, joint.upper - joint.lower);
    const double offset = UniformUnit(&rng) * width;
    q[j] = UniformUnit(&rng) < 0.5 ? joint.lower + offset : joint.upper - offset;
    targets.near_limit.push_back(PoseOf(chain, q));
  }
  for (int64_t i = 0; i < options.out_of_reach_count; ++i) {
    UniformConfiguration(chain, &rng, q);
    IkTarget target = PoseOf(chain, q);
    const double scale = (1.1 + 0.4 * UniformUnit(&rng)) * chain.reach();
    const double norm = target.p_BT.norm();
    target.p_BT = norm > 1e-9 ? Eigen::Vector3d(target.p_BT * (scale / norm)) : Eigen::Vector3d(scale, 0, 0);
    targets.out_of_reach.push_back(target);
  }
  return targets;
}

PoseBenchRow BenchPoseSolver(const Solver& solver, const std::vector<IkTarget>& targets,
                             const std::string& set, const PoseBenchOptions& options) {
  using Clock = std::chrono::steady_clock;
  const Chain& chain = solver.chain();
  PoseBenchRow row;
  row.solver = solver.name();
  row.set = set;
  row.targets = static_cast<int64_t>(targets.size());
  // Warm-up (caches, lazy initialisation), untimed.
  for (size_t i = 0; i < std::min<size_t>(targets.size(), 20); ++i) (void)solver.Solve(targets[i]);
  std::vector<double> times_us;
  times_us.reserve(targets.size());
  double total_us = 0, total_iterations = 0;
  for (const IkTarget& target : targets) {
    const Clock::time_point start = Clock::now();
    const SolveResult r = solver.Solve(target);
    const double us = std::chrono::duration<double, std::micro>(Clock::now() - start).count();
    times_us.push_back(us);
    total_us += us;
    total_iterations += r.iterations;
    const bool finite = r.q.size() == chain.num_joints() && r.q.allFinite();
    if (!finite) {
      ++row.non_finite;
      continue;
    }
    const bool within = chain.WithinLimits(r.q);
    if (!within) ++row.limit_violations;
    const Eigen::Isometry3d X = TipPose(chain, r.q);
    const bool position_ok = (X.translation() - target.p_BT).norm() <= options.success_position;
    const bool angle_ok = !target.Q_BT || RotationAngleBetween(target.Q_BT->toRotationMatrix(), X.linear()) <=
                                              options.success_angle;
    const bool success = within && position_ok && angle_ok;
    if (success) ++row.successes;
    if (r.status == SolveStatus::kConverged) {
      ++row.claimed_converged;
      if (!success) ++row.false_claims;
    }
    if (r.status == SolveStatus::kOutOfReach) ++row.out_of_reach;
  }
  if (!times_us.empty()) {
    row.mean_us = total_us / static_cast<double>(times_us.size());
    row.mean_iterations = total_iterations / static_cast<double>(times_us.size());
    row.median_us = RankPercentile(times_us, 0.5);
    row.p99_us = RankPercentile(times_us, 0.99);
  }
  return row;
}

double PoseBatchThroughput(const Solver& solver, const std::vector<IkTarget>& targets, int threads) {
  using Clock = std::chrono::steady_clock;
  if (targets.empty()) return 0.0;
  const Clock::time_point start = Clock::now();
  (void)solver.SolveBatch(targets, threads);
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return static_cast<double>(targets.size()) / seconds;
}

std::string PoseBenchMarkdown(const std::vector<PoseBenchRow>& rows) {
  std::string out =
      "| set | solver | success | mean | median | p99 | iterations (mean) | claimed converged | "
      "false claims | out of reach | limit violations | non-finite |\n"
      "|---|---|---|---|---|---|---|---|---|---|---|---|\n";
  for (const PoseBenchRow& r : rows) {
    char line[512];
    const double rate =
        r.targets > 0 ? 100.0 * static_cast<double>(r.successes) / static_cast<double>(r.targets) : 0;
    std::snprintf(
        line, sizeof(line),
        "| %s | %s | %.2f %% (%lld/%lld) | %.1f us | %.1f us | %.1f us | %.1f | %lld | %lld | %lld | %lld "
        "| %lld |\n",
        r.set.c_str(), r.solver.c_str(), rate, static_cast<long long>(r.successes),
        static_cast<long long>(r.targets), r.mean_us, r.median_us, r.p99_us, r.mean_iterations,
        static_cast<long long>(r.claimed_converged), static_cast<long long>(r.false_claims),
        static_cast<long long>(r.out_of_reach), static_cast<long long>(r.limit_violations),
        static_cast<long long>(r.non_finite));
    out += line;
  }
  return out;
}

}  // namespace deepik
