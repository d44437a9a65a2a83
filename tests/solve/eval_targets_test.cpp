// Given evaluation targets (eval --targets) are sorted by reachability: the closed form on the seed
// arm, multi-start refinement elsewhere; each unreachable one carries its distance d* to the
// reachable set.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "deepik/kinematics/builtin_arms.hpp"
#include "deepik/kinematics/fk.hpp"
#include "deepik/solve/analytic_seed.hpp"
#include "deepik/solve/eval.hpp"
#include "test_util.hpp"

namespace deepik {
namespace {

TEST(EvalTargetsTest, Planar2TargetsGoToTheSetTheirDistanceToTheDiscSays) {
  // planar2 (two 1 m links, both joints a full turn) reaches exactly the disc of radius 2 in the
  // plane z = 0, so d* = hypot(max(0, r - 2), z) with r the distance from the z axis.
  const Chain chain = MakePlanar2();
  std::mt19937_64 rng(5);
  std::vector<Eigen::Vector3d> points;
  for (int i = 0; i < 5; ++i) points.push_back(TipPosition(chain, testing::RandomConfiguration(chain, &rng)));
  points.insert(points.end(),
                {{3, 0, 0}, {0, 0, 0.5}, {1, 1, 0}, {-2.5, 0, -1}, {0, 0, 0}, {0, 1.9999999, 0}});
  EvalTargetOptions options;
  options.in_reach_count = 0;
  options.out_of_reach_count = 0;
  EvalTargets targets = MakeEvalTargets(chain, options);
  const int64_t unreachable = AddClassifiedTargets(chain, points, options, &targets);

  std::vector<Eigen::Vector3d> expected_in;
  std::vector<std::pair<Eigen::Vector3d, double>> expected_out;
  for (const Eigen::Vector3d& p : points) {
    const double d = std::hypot(std::max(0.0, std::hypot(p.x(), p.y()) - 2.0), p.z());
    if (d > kReachTolerance) {
      expected_out.emplace_back(p, d);
    } else {
      expected_in.push_back(p);
    }
  }
  ASSERT_EQ(expected_out.size(), 3u);  // the test's own premise
  EXPECT_EQ(unreachable, 3);
  ASSERT_EQ(targets.in_reach.size(), expected_in.size());
  for (size_t i = 0; i < expected_in.size(); ++i) EXPECT_EQ(targets.in_reach[i].p_BT, expected_in[i]);
  ASSERT_EQ(targets.out_of_reach.size(), expected_out.size());
  ASSERT_EQ(targets.closest_distance.size(), expected_out.size());
  for (size_t i = 0; i < expected_out.size(); ++i) {
    EXPECT_EQ(targets.out_of_reach[i].p_BT, expected_out[i].first);
    EXPECT_NEAR(targets.closest_distance[i], expected_out[i].second, 1e-9)
        << expected_out[i].first.transpose();
  }
  EXPECT_EQ(targets.closest_method, "best of 32 multi-start refinements");
}

TEST(EvalTargetsTest, SeedArmTargetsFollowTheClosedFormClassification) {
  const Chain chain = MakeSeedArm();
  const AnalyticSeedSolver analytic;
  std::mt19937_64 rng(11);
  std::vector<Eigen::Vector3d> points;
  for (int i = 0; i < 20; ++i)
    points.push_back(TipPosition(chain, testing::RandomConfiguration(chain, &rng)));
  // Beyond reach, the inner hollow, below the allowed region, and uniform points in 2.5 m.
  points.insert(points.end(), {{3, 0, 0}, {0, 0, 0.1}, {0, 0, -1.9}, {0.05, 0.05, 0}});
  std::uniform_real_distribution<double> u(-2.5, 2.5);
  for (int i = 0; i < 40; ++i) points.emplace_back(u(rng), u(rng), u(rng));
  EvalTargetOptions options;
  options.in_reach_count = 3;
  options.out_of_reach_count = 2;
  EvalTargets targets = MakeEvalTargets(chain, options);
  const size_t in_before = targets.in_reach.size(), out_before = targets.out_of_reach.size();
  AddClassifiedTargets(chain, points, options, &targets);

  size_t in = in_before, out = out_before;
  for (const Eigen::Vector3d& p : points) {
    if (analytic.Classify(p) == SeedReachability::kReachable) {
      ASSERT_LT(in, targets.in_reach.size());
      EXPECT_EQ(targets.in_reach[in++].p_BT, p);
    } else {
      ASSERT_LT(out, targets.out_of_reach.size());
      EXPECT_EQ(targets.out_of_reach[out].p_BT, p);
      // d* is the distance to FK of the closed form's answer, which lies in the reachable set.
      const SolveResult closest = analytic.Solve(IkTarget{p});
      EXPECT_NEAR(targets.closest_distance[out++], (TipPosition(chain, closest.q) - p).norm(), 1e-12);
    }
  }
  EXPECT_EQ(in, targets.in_reach.size());
  EXPECT_EQ(out, targets.out_of_reach.size());
  EXPECT_GE(out - out_before, 8u);  // enough of both kinds to mean something
  EXPECT_GE(in - in_before, 20u);
}

}  // namespace
}  // namespace deepik
