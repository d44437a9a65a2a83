// JSON forms shared inside the library (nlohmann::json stays out of the public headers).
#pragma once

#include <nlohmann/json.hpp>

#include "deepik/data/metrics.hpp"

namespace deepik::internal {

/// count, median_m, p95_m, p99_m, max_m, share_within_{1um,100um,1mm,1cm}, non_finite.
nlohmann::json ErrorStatsJson(const ErrorStats& stats);

}  // namespace deepik::internal
