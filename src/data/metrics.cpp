#include "deepik/data/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "data/json_util.hpp"

namespace deepik {
namespace {

double Percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0.0;
  const double position = p * static_cast<double>(sorted.size() - 1);
  const auto below = static_cast<size_t>(std::floor(position));
  const size_t above = std::min(below + 1, sorted.size() - 1);
  const double t = position - static_cast<double>(below);
  return sorted[below] + t * (sorted[above] - sorted[below]);
}

}  // namespace

ErrorStats SummariseErrors(std::vector<double> errors) {
  ErrorStats stats;
  std::vector<double> finite;
  finite.reserve(errors.size());
  for (double e : errors) {
    if (std::isfinite(e)) {
      finite.push_back(e);
    } else {
      ++stats.non_finite;
    }
  }
  std::sort(finite.begin(), finite.end());
  stats.count = static_cast<int64_t>(finite.size());
  if (finite.empty()) return stats;
  stats.median = Percentile(finite, 0.5);
  stats.p95 = Percentile(finite, 0.95);
  stats.p99 = Percentile(finite, 0.99);
  stats.max = finite.back();
  double sum = 0;
  for (double e : finite) sum += e;
  stats.mean = sum / static_cast<double>(finite.size());
  auto share = [&finite](double bound) {
    return static_cast<double>(std::upper_bound(finite.begin(), finite.end(), bound) - finite.begin()) /
           static_cast<double>(finite.size());
  };
  stats.share_within_1um = share(1e-6);
  stats.share_within_100um = share(1e-4);
  stats.share_within_1mm = share(1e-3);
  stats.share_within_1cm = share(1e-2);
  return stats;
}

std::string FormatErrorStats(const ErrorStats& s) {
  char text[512];
  std::snprintf(text, sizeof(text),
                "median %.3f mm, p95 %.3f mm, p99 %.3f mm, max %.3f mm; within 0.1 mm %.1f %%, 1 mm %.1f %%, "
                "1 cm %.1f %% (n=%lld)",
                s.median * 1e3, s.p95 * 1e3, s.p99 * 1e3, s.max * 1e3, 100 * s.share_within_100um,
                100 * s.share_within_1mm, 100 * s.share_within_1cm, static_cast<long long>(s.count));
  return text;
}

namespace internal {

nlohmann::json ErrorStatsJson(const ErrorStats& s) {
  return nlohmann::json{{"count", s.count},
                        {"median_m", s.median},
                        {"p95_m", s.p95},
                        {"p99_m", s.p99},
                        {"max_m", s.max},
                        {"share_within_1um", s.share_within_1um},
                        {"share_within_100um", s.share_within_100um},
                        {"share_within_1mm", s.share_within_1mm},
                        {"share_within_1cm", s.share_within_1cm},
                        {"non_finite", s.non_finite}};
}

}  // namespace internal
}  // namespace deepik
