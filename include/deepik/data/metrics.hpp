// Summaries of position errors, as DESIGN.md defines "accurate".
#pragma once

#include <string>
#include <vector>

namespace deepik {

/// Percentiles and shares of a set of position errors (m).
struct ErrorStats {
  int64_t count = 0;
  double median = 0, p95 = 0, p99 = 0, max = 0, mean = 0;
  double share_within_1um = 0, share_within_100um = 0, share_within_1mm = 0, share_within_1cm = 0;
  int64_t non_finite = 0;  ///< NaN or infinite errors (counted, excluded from the percentiles)
};

/// Summarises `errors` (m; eval also uses it for latencies). Percentiles by linear interpolation
/// between order statistics.
ErrorStats SummariseErrors(std::vector<double> errors);

/// One line: "median 1.2 mm, p95 4.5 mm, p99 9 mm, max 20 mm; within 1 mm 40.0 %, 1 cm 99.9 %".
std::string FormatErrorStats(const ErrorStats& stats);

}  // namespace deepik
