// Splitting independent work items over threads, shared by the batch solvers. Internal to the
// library.
#pragma once

#include <algorithm>
#include <cstddef>
#include <exception>
#include <thread>
#include <vector>

namespace deepik::internal {

/// Calls work(i) for i in [0, count) on min(threads, count) threads (item i on thread i mod
/// workers). An exception on any thread is rethrown here after all threads end, not left to end
/// the process from its thread.
template <typename Work>
void ParallelFor(size_t count, int threads, const Work& work) {
  const int workers = std::max(1, std::min<int>(threads, static_cast<int>(count)));
  auto run = [&](int w) {
    for (size_t i = static_cast<size_t>(w); i < count; i += static_cast<size_t>(workers)) work(i);
  };
  if (workers == 1) {
    run(0);
    return;
  }
  std::vector<std::exception_ptr> errors(static_cast<size_t>(workers));
  std::vector<std::thread> pool;
  for (int w = 0; w < workers; ++w) {
    pool.emplace_back([&run, &errors, w] {
      try {
        run(w);
      } catch (...) {
        errors[static_cast<size_t>(w)] = std::current_exception();
      }
    });
  }
  for (std::thread& t : pool) t.join();
  for (const std::exception_ptr& error : errors) {
    if (error) std::rethrow_exception(error);
  }
}

}  // namespace deepik::internal
