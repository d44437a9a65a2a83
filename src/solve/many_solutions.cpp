#include "deepik/solve/many_solutions.hpp"

#include <algorithm>
#include <cmath>
#include <random>
#include <stdexcept>

#include "deepik/errors.hpp"
#include "deepik/kinematics/joint_configuration.hpp"
#include "deepik/solve/collision_solver.hpp"
#include "deepik/solve/pose_refine.hpp"
#include "solve/parallel.hpp"

namespace deepik {

bool ManySolutionsOptions::IsValid(std::string* error) const {
  auto fail = [error](const std::string& message) {
    if (error != nullptr) *error = message;
    return false;
  };
  if (solutions < 1 || solutions > kMaxSolutions)
    return fail("solutions: expected 1.." + std::to_string(kMaxSolutions) + ", got " +
                std::to_string(solutions));
  if (!(min_distance >= 0.0) || !std::isfinite(min_distance))
    return fail("min_distance: expected a finite value >= 0 (rad)");
  if (candidates < 0) return fail("candidates: expected >= 0 (0: K), got " + std::to_string(candidates));
  if (max_starts < 0)
    return fail("max_starts: expected >= 0 (0: 10 K + 10), got " + std::to_string(max_starts));
  return true;
}

ManySolutions SolveMany(const Solver& solver, const IkTarget& target, const ManySolutionsOptions& options,
                        const SolverSettings& settings, const Eigen::VectorXd* q_start) {
  std::string message;
  if (!options.IsValid(&message)) throw std::invalid_argument("ManySolutionsOptions::" + message);
  ThrowUnlessValidTarget(target);
  const Chain& chain = solver.chain();
  const int n = chain.num_joints();
  if (q_start != nullptr && (q_start->size() != n || !q_start->allFinite())) {
    throw std::invalid_argument("SolveMany: expected a finite q_start of " + std::to_string(n) +
                                " values, got size " + std::to_string(q_start->size()));
  }
  if (options.solutions > 1 && !solver.exact()) {
    throw InputError("several solutions need an exact solver (refined, lm, kdl-*), not the network alone");
  }
  std::string posture_error;
  if (!options.posture.IsValid(chain, &posture_error))
    throw std::invalid_argument("PostureOptions::" + posture_error);
  if (options.posture.start_weight > 0 && q_start == nullptr) {
    throw std::invalid_argument("SolveMany: a start weight needs a q_start");
  }
  const int wanted = std::max(options.solutions, options.candidates);
  ManySolutions out;
  auto accept = [&](SolveResult&& r) {
    if (r.status != SolveStatus::kConverged || !r.q.allFinite() || !chain.WithinLimits(r.q)) return;
    for (const SolveResult& s : out.solutions) {
      if (JointDistance(chain, s.q, r.q) < options.min_distance) return;
    }
    out.solutions.push_back(std::move(r));
  };
  SolveResult first = solver.Solve(target, q_start);
  out.starts = 1;
  const bool out_of_reach = first.status == SolveStatus::kOutOfReach;
  SolveResult fallback = first;
  accept(std::move(first));

  // The extra starts: one Levenberg-Marquardt run each (the next start is the restart).
  SolverSettings single = settings;
  single.refine.restarts = 0;
  single.pose.max_starts = 1;
  const LmSolver lm(chain, single.pose, single.refine);
  // A collision-aware solver refines its extra starts clear of collisions too.
  const auto* clear = dynamic_cast<const ClearSolver*>(&solver);
  const auto refine = [&](const Eigen::VectorXd& start) {
    return clear != nullptr ? clear->SolveFrom(target, start, single.pose) : lm.Solve(target, &start);
  };
  const int max_starts = options.max_starts > 0 ? options.max_starts : 10 * wanted + 10;
  std::mt19937_64 rng(options.seed);
  auto more = [&] {
    return !out_of_reach && static_cast<int>(out.solutions.size()) < wanted && out.starts < max_starts;
  };
  // The solver's own proposals first (a multi-head network's other heads), then random ones.
  if (more()) {
    for (const Eigen::VectorXd& start : solver.ProposeStarts(target)) {
      if (!more()) break;
      ++out.starts;
      accept(refine(start));
    }
  }
  Eigen::VectorXd q(n);
  while (more()) {
    UniformConfiguration(chain, &rng, q);
    ++out.starts;
    accept(refine(q));
  }
  if (out.solutions.empty()) {
    out.solutions.push_back(std::move(fallback));
    return out;
  }
  if (options.posture.active()) {
    std::vector<std::pair<double, SolveResult>> ranked;
    for (const SolveResult& s : out.solutions) {
      SolveResult better = ImprovePosture(chain, target, s, options.posture, settings, q_start);
      ranked.emplace_back(PostureCost(chain, better.q, options.posture, q_start), std::move(better));
    }
    std::stable_sort(ranked.begin(), ranked.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    out.solutions.clear();
    for (auto& [cost, s] : ranked) accept(std::move(s));
  } else if (options.order == SolutionOrder::kClosestToStart && q_start != nullptr) {
    std::stable_sort(out.solutions.begin(), out.solutions.end(),
                     [&](const SolveResult& a, const SolveResult& b) {
                       return JointDistance(chain, a.q, *q_start) < JointDistance(chain, b.q, *q_start);
                     });
  }
  if (static_cast<int>(out.solutions.size()) > options.solutions) out.solutions.resize(options.solutions);
  return out;
}

std::vector<ManySolutions> SolveManyBatch(const Solver& solver, const std::vector<IkTarget>& targets,
                                          const ManySolutionsOptions& options, const SolverSettings& settings,
                                          int threads, const std::vector<Eigen::VectorXd>& q_starts) {
  if (!q_starts.empty() && q_starts.size() != targets.size()) {
    throw std::invalid_argument("SolveManyBatch: expected one q_start per target (" +
                                std::to_string(targets.size()) + "), got " + std::to_string(q_starts.size()));
  }
  std::vector<ManySolutions> results(targets.size());
  internal::ParallelFor(targets.size(), threads, [&](size_t i) {
    results[i] = SolveMany(solver, targets[i], options, settings, q_starts.empty() ? nullptr : &q_starts[i]);
  });
  return results;
}

}  // namespace deepik
