#include "deepik/solve/solver.hpp"

#include <algorithm>
#include <thread>

namespace deepik {

const char* ToString(SolveStatus status) {
  switch (status) {
    case SolveStatus::kConverged:
      return "converged";
    case SolveStatus::kApproximate:
      return "approximate";
    case SolveStatus::kOutOfReach:
      return "out of reach";
    case SolveStatus::kFailed:
      return "failed";
  }
  return "unknown";
}

std::vector<SolveResult> Solver::SolveBatch(const std::vector<IkTarget>& targets, int threads) const {
  std::vector<SolveResult> results(targets.size());
  const int workers = std::max(1, std::min<int>(threads, static_cast<int>(targets.size())));
  auto work = [&](int w) {
    for (size_t i = static_cast<size_t>(w); i < targets.size(); i += static_cast<size_t>(workers)) {
      results[i] = Solve(targets[i]);
    }
  };
  if (workers == 1) {
    work(0);
    return results;
  }
  std::vector<std::thread> pool;
  for (int w = 0; w < workers; ++w) pool.emplace_back(work, w);
  for (std::thread& t : pool) t.join();
  return results;
}

}  // namespace deepik
