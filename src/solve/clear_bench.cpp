#include "deepik/solve/clear_bench.hpp"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <random>
#include <stdexcept>

#include "deepik/kinematics/fk.hpp"
#include "deepik/kinematics/joint_configuration.hpp"
#include "deepik/solve/pose_bench.hpp"

namespace deepik {
namespace {

using Clock = std::chrono::steady_clock;

std::string Fixed(const char* format, double value) {
  char text[64];
  std::snprintf(text, sizeof(text), format, value);
  return text;
}

}  // namespace

double ThreadCpuMicros() {
  timespec now{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return 1e6 * static_cast<double>(now.tv_sec) + 1e-3 * static_cast<double>(now.tv_nsec);
}

void ClearBenchOptions::Validate() const {
  if (count < 0)
    throw std::invalid_argument("ClearBenchOptions::count: expected >= 0, got " + std::to_string(count));
  if (!(success_position > 0))
    throw std::invalid_argument("ClearBenchOptions::success_position: expected > 0");
  if (!(success_angle > 0)) throw std::invalid_argument("ClearBenchOptions::success_angle: expected > 0");
}

ClearBenchTargets MakeClearBenchTargets(const Chain& chain, const CollisionChecker& exact,
                                        const ClearBenchOptions& options) {
  options.Validate();
  ClearBenchTargets made;
  std::mt19937_64 rng(options.seed);
  Eigen::VectorXd q(chain.num_joints());
  while (static_cast<int64_t>(made.targets.size()) < options.count) {
    if (made.draws >= options.MaxDraws()) {
      throw std::runtime_error("MakeClearBenchTargets: " + std::to_string(made.draws) +
                               " uniform configurations gave only " + std::to_string(made.targets.size()) +
                               " clear ones of " + std::to_string(options.count));
    }
    UniformConfiguration(chain, &rng, q);
    ++made.draws;
    if (exact.InCollision(q)) continue;
    const Eigen::Isometry3d X_BT = TipPose(chain, q);
    made.configurations.push_back(q);
    made.targets.emplace_back(X_BT.translation(), Eigen::Quaterniond(X_BT.linear()));
  }
  return made;
}

ClearBenchRow BenchClearSolver(const Solver& solver, const ClearBenchTargets& targets,
                               const CollisionChecker& verifier, const ClearBenchOptions& options) {
  options.Validate();
  const Chain& chain = solver.chain();
  ClearBenchRow row;
  row.solver = solver.name();
  row.targets = static_cast<int64_t>(targets.targets.size());
  for (size_t i = 0; i < std::min<size_t>(targets.targets.size(), static_cast<size_t>(options.Warmup())); ++i)
    (void)solver.Solve(targets.targets[i]);  // warm-up (caches, lazy initialisation), untimed
  std::vector<double> times_us;
  double total_us = 0, total_cpu_us = 0, total_iterations = 0;
  for (const IkTarget& target : targets.targets) {
    const double cpu_start = ThreadCpuMicros();
    const Clock::time_point start = Clock::now();
    const SolveResult r = solver.Solve(target);
    ClearBenchAnswer answer;
    answer.us = std::chrono::duration<double, std::micro>(Clock::now() - start).count();
    answer.cpu_us = ThreadCpuMicros() - cpu_start;
    total_cpu_us += answer.cpu_us;
    answer.q = r.q;
    answer.status = r.status;
    times_us.push_back(answer.us);
    total_us += answer.us;
    total_iterations += r.iterations;
    if (r.q.size() == chain.num_joints() && r.q.allFinite()) {
      const Eigen::Isometry3d X = TipPose(chain, r.q);
      answer.reached =
          chain.WithinLimits(r.q) && (X.translation() - target.p_BT).norm() <= options.success_position &&
          RotationAngleBetween(target.Q_BT->toRotationMatrix(), X.linear()) <= options.success_angle;
      answer.clear = !verifier.InCollision(r.q);
    }
    row.successes += answer.reached && answer.clear;
    row.reached_only += answer.reached && !answer.clear;
    if (r.status == SolveStatus::kConverged) {
      ++row.claimed_converged;
      row.converged_in_collision += !answer.clear;
      row.converged_off_target += !answer.reached;
    }
    row.in_collision_status += r.status == SolveStatus::kInCollision;
    row.answers.push_back(std::move(answer));
  }
  if (!times_us.empty()) {
    const double n = static_cast<double>(times_us.size());
    row.mean_us = total_us / n;
    row.cpu_mean_us = total_cpu_us / n;
    row.mean_iterations = total_iterations / n;
    row.median_us = RankPercentile(times_us, 0.5);
    row.p99_us = RankPercentile(std::move(times_us), 0.99);
  }
  return row;
}

std::string ClearBenchMarkdown(const std::vector<ClearBenchRow>& rows, const std::string& reference) {
  const ClearBenchRow* ref = nullptr;
  for (const ClearBenchRow& r : rows)
    if (r.solver == reference) ref = &r;
  std::string out =
      "| solver | success | converged in collision | reached in collision | status in collision | mean | "
      "median | p99 | CPU mean | iterations (mean) | mean / " +
      reference + " |\n|---|---|---|---|---|---|---|---|---|---|---|\n";
  for (const ClearBenchRow& r : rows) {
    const double rate =
        r.targets > 0 ? 100.0 * static_cast<double>(r.successes) / static_cast<double>(r.targets) : 0;
    const std::string ratio =
        ref != nullptr && ref->mean_us > 0 ? Fixed("%.1f x", r.mean_us / ref->mean_us) : "-";
    out += "| " + r.solver + " | " + Fixed("%.2f %%", rate) + " (" + std::to_string(r.successes) + "/" +
           std::to_string(r.targets) + ") | " + std::to_string(r.converged_in_collision) + " | " +
           std::to_string(r.reached_only) + " | " + std::to_string(r.in_collision_status) + " | " +
           Fixed("%.1f us", r.mean_us) + " | " + Fixed("%.1f us", r.median_us) + " | " +
           Fixed("%.1f us", r.p99_us) + " | " + Fixed("%.1f us", r.cpu_mean_us) + " | " +
           Fixed("%.1f", r.mean_iterations) + " | " + ratio + " |\n";
  }
  return out;
}

CheckRestartSolver::CheckRestartSolver(std::unique_ptr<Solver> attempt, const CollisionChecker* checker,
                                       double timeout_seconds, uint64_t seed)
    : attempt_(std::move(attempt)), checker_(checker), seed_(seed) {
  if (!attempt_) throw std::invalid_argument("CheckRestartSolver: expected an attempt solver");
  if (checker_ == nullptr) throw std::invalid_argument("CheckRestartSolver: expected a collision checker");
  if (!(timeout_seconds >= 0 && timeout_seconds <= 60))
    throw std::invalid_argument("CheckRestartSolver: timeout_seconds: expected a value in [0, 60] s");
  timeout_ = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(timeout_seconds));
}

SolveResult CheckRestartSolver::Solve(const IkTarget& target, const Eigen::VectorXd*) const {
  const Chain& chain = attempt_->chain();
  const Clock::time_point deadline = Clock::now() + timeout_;
  std::mt19937_64 rng(seed_);
  Eigen::VectorXd q0(chain.num_joints());
  SolveResult best, first_colliding;
  bool have_best = false, have_colliding = false;
  int attempts = 0;
  for (;; ++attempts) {
    if (attempts > 0 && Clock::now() >= deadline) break;
    UniformConfiguration(chain, &rng, q0);
    SolveResult r = attempt_->Solve(target, &q0);
    if (r.status == SolveStatus::kConverged) {
      if (!checker_->InCollision(r.q)) {
        r.iterations = attempts + 1;
        return r;
      }
      if (!have_colliding) {
        first_colliding = r;
        have_colliding = true;
      }
    } else if (!have_best || r.error < best.error) {
      best = r;
      have_best = true;
    }
  }
  SolveResult result = have_colliding ? first_colliding : best;  // best: never converged
  if (have_colliding) result.status = SolveStatus::kInCollision;
  result.iterations = attempts;
  return result;
}

}  // namespace deepik
