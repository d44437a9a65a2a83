// The gradient all-reduce of a data-parallel training step, by itself: DistributedGroup's bucketed
// c10d/Gloo all-reduce of FLOATS float32 values, ITERATIONS times, in a job started like
// `deepik train` (torchrun's variables). Rank 0 prints the median and the 90th percentile.
//   RANK=0 WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=29600 build/bench/deepik_bench_allreduce 200000 300
//   & RANK=1 WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=29600 build/bench/deepik_bench_allreduce 200000
//   300
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "deepik/learn/distributed.hpp"

int main(int argc, char** argv) {
  const int64_t floats = argc > 1 ? std::stoll(argv[1]) : 200000;
  const int iterations = argc > 2 ? std::stoi(argv[2]) : 300;
  auto env = [](const char* name, const char* fallback) {
    const char* value = std::getenv(name);
    return std::string(value ? value : fallback);
  };
  deepik::DistributedOptions options;
  options.rank = std::stoi(env("RANK", "0"));
  options.world_size = std::stoi(env("WORLD_SIZE", "1"));
  options.master_addr = env("MASTER_ADDR", "127.0.0.1");
  options.master_port = std::stoi(env("MASTER_PORT", "29600"));
  at::set_num_threads(1);
  const auto group = deepik::DistributedGroup::Join(options);
  torch::Tensor gradient = torch::ones({floats});
  for (int i = 0; i < 20; ++i) group->AllReduceSum({gradient}, "warm-up");
  std::vector<double> ms;
  for (int i = 0; i < iterations; ++i) {
    gradient.fill_(1);
    const auto start = std::chrono::steady_clock::now();
    group->AllReduceSum({gradient}, "the measured all-reduce");
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(ms.begin(), ms.end());
  if (options.rank == 0) {
    std::cout << "allreduce: " << options.world_size << " ranks, " << floats << " floats ("
              << floats * 4 / 1e6 << " MB): median " << ms[ms.size() / 2] << " ms, p90 "
              << ms[ms.size() * 9 / 10] << " ms over " << iterations << "\n";
  }
  return gradient[0].item<float>() == options.world_size ? 0 : 1;
}
