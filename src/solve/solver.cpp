#include "deepik/solve/solver.hpp"

#include <algorithm>
#include <exception>
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
  // A Solve that throws (a target the solver cannot take, such as a position-only target for a
  // pose model) must reach the caller, not terminate the process from a worker thread.
  std::vector<std::exception_ptr> errors(static_cast<size_t>(workers));
  std::vector<std::thread> pool;
  for (int w = 0; w < workers; ++w) {
    pool.emplace_back([&, w] {
      try {
        work(w);
      } catch (...) {
        errors[static_cast<size_t>(w)] = std::current_exception();
      }
    });
  }
  for (std::thread& t : pool) t.join();
  for (const std::exception_ptr& error : errors) {
    if (error) std::rethrow_exception(error);
  }
  return results;
}

}  // namespace deepik
