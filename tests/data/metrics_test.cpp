// Error statistics (SummariseErrors) against values computed by hand.
#include "deepik/data/metrics.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

namespace deepik {
namespace {

TEST(SummariseErrors, PercentilesInterpolateBetweenOrderStatistics) {
  // Sorted: 1 2 3 4 5 (given shuffled). Position of quantile p is p * (n - 1):
  // median at 2 -> 3; p95 at 3.8 -> 4 + 0.8 * (5 - 4) = 4.8; p99 at 3.96 -> 4.96.
  const ErrorStats s = SummariseErrors({4, 1, 5, 3, 2});
  EXPECT_EQ(s.count, 5);
  EXPECT_DOUBLE_EQ(s.median, 3.0);
  EXPECT_DOUBLE_EQ(s.p95, 4.8);
  EXPECT_DOUBLE_EQ(s.p99, 4.96);
  EXPECT_DOUBLE_EQ(s.max, 5.0);
  EXPECT_DOUBLE_EQ(s.mean, 3.0);
}

TEST(SummariseErrors, EvenCountMedianIsTheMidpoint) {
  const ErrorStats s = SummariseErrors({10, 20, 30, 40});  // median at 1.5 -> 25
  EXPECT_DOUBLE_EQ(s.median, 25.0);
  EXPECT_DOUBLE_EQ(s.p95, 30.0 + 0.85 * 10.0);  // position 2.85
}

TEST(SummariseErrors, SharesCountErrorsAtOrBelowEachBound) {
  // 1 um, 0.5 um, 50 um, 0.1 mm (on the bound), 0.9 mm, 5 mm, 2 cm, 1 m.
  const ErrorStats s = SummariseErrors({1e-6, 5e-7, 5e-5, 1e-4, 9e-4, 5e-3, 2e-2, 1.0});
  EXPECT_DOUBLE_EQ(s.share_within_1um, 2.0 / 8);
  EXPECT_DOUBLE_EQ(s.share_within_100um, 4.0 / 8);
  EXPECT_DOUBLE_EQ(s.share_within_1mm, 5.0 / 8);
  EXPECT_DOUBLE_EQ(s.share_within_1cm, 6.0 / 8);
}

TEST(SummariseErrors, NonFiniteErrorsAreCountedApartAndExcluded) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  const ErrorStats s = SummariseErrors({nan, 2.0, inf, 4.0, -inf});
  EXPECT_EQ(s.non_finite, 3);
  EXPECT_EQ(s.count, 2);
  EXPECT_DOUBLE_EQ(s.median, 3.0);
  EXPECT_DOUBLE_EQ(s.max, 4.0);
  EXPECT_DOUBLE_EQ(s.share_within_1cm, 0.0);
}

TEST(SummariseErrors, EmptyAndSingleInputs) {
  const ErrorStats empty = SummariseErrors({});
  EXPECT_EQ(empty.count, 0);
  EXPECT_EQ(empty.median, 0.0);
  const ErrorStats one = SummariseErrors({7e-4});
  EXPECT_DOUBLE_EQ(one.median, 7e-4);
  EXPECT_DOUBLE_EQ(one.p99, 7e-4);
  EXPECT_DOUBLE_EQ(one.share_within_1mm, 1.0);
  EXPECT_DOUBLE_EQ(one.share_within_100um, 0.0);
}

TEST(FormatErrorStats, StatesMillimetresAndPercentages) {
  const ErrorStats s = SummariseErrors({1e-3, 2e-3, 3e-3});
  EXPECT_EQ(FormatErrorStats(s),
            "median 2.000 mm, p95 2.900 mm, p99 2.980 mm, max 3.000 mm; within 0.1 mm 0.0 %, 1 mm 33.3 %, "
            "1 cm 100.0 % (n=3)");
}

}  // namespace
}  // namespace deepik
