// A chosen posture: null-space objectives move exact solutions along the self-motion, keep them
// exact (by FK) and lower the objective; limit avoidance raises the distance to the nearest limit.
#include "deepik/solve/posture.hpp"

#include <gtest/gtest.h>

#include <Eigen/Geometry>
#include <cmath>
#include <iostream>
#include <random>
#include <stdexcept>
#include <vector>

#include "deepik/kinematics/builtin_arms.hpp"
#include "deepik/kinematics/fk.hpp"
#include "deepik/solve/many_solutions.hpp"
#include "deepik/solve/solvers.hpp"
#include "test_util.hpp"

namespace deepik {
namespace {

// The exact solution a target was made from (FK of uniform joints) as a converged result.
SolveResult KnownSolution(const Chain& chain, const IkTarget& target, const Eigen::VectorXd& q) {
  SolveResult r;
  r.q = q;
  r.status = SolveStatus::kConverged;
  MeasureResult(chain, target, &r);
  return r;
}

// The distance to the nearest limit computed here, from the joint table.
double NearestLimit(const Chain& chain, const Eigen::VectorXd& q) {
  double nearest = 1e300;
  for (int j = 0; j < chain.num_joints(); ++j) {
    const Joint& joint = chain.joint(j);
    if (joint.upper - joint.lower >= 2 * M_PI - 1e-9) continue;  // a full turn has no limit to avoid
    nearest = std::min({nearest, q[j] - joint.lower, joint.upper - q[j]});
  }
  return nearest;
}

void ExpectExact(const Chain& chain, const IkTarget& target, const SolveResult& r, int t) {
  ASSERT_EQ(r.status, SolveStatus::kConverged) << "target " << t;
  EXPECT_TRUE(chain.WithinLimits(r.q)) << "target " << t;
  const Eigen::Isometry3d X = TipPose(chain, r.q);
  EXPECT_LE((X.translation() - target.p_BT).norm(), 1e-8) << "target " << t;
  if (target.Q_BT) {
    EXPECT_LE(Eigen::AngleAxisd(target.Q_BT->toRotationMatrix().transpose() * X.linear()).angle(), 1e-8)
        << "target " << t;
  }
}

struct Case {
  const char* arm;
  bool pose;
};

class AvoidLimits : public ::testing::TestWithParam<Case> {};

TEST_P(AvoidLimits, RaisesTheDistanceToTheNearestLimitAndStaysExact) {
  const Chain chain = MakeBuiltinArm(GetParam().arm);
  PostureOptions posture;
  posture.avoid_limits = 1.0;
  SolverSettings settings;
  settings.pose.timeout_seconds = 0.05;
  std::mt19937_64 rng(21);
  const int count = 100;
  double before = 0, after = 0;
  int raised = 0;
  for (int t = 0; t < count; ++t) {
    const Eigen::VectorXd q = testing::RandomConfiguration(chain, &rng);
    const Eigen::Isometry3d X = TipPose(chain, q);
    const IkTarget target = GetParam().pose ? IkTarget(X.translation(), Eigen::Quaterniond(X.linear()))
                                            : IkTarget(X.translation());
    const SolveResult start = KnownSolution(chain, target, q);
    const SolveResult better = ImprovePosture(chain, target, start, posture, settings);
    ExpectExact(chain, target, better, t);
    EXPECT_LE(PostureCost(chain, better.q, posture), PostureCost(chain, start.q, posture) + 1e-12);
    EXPECT_NEAR(DistanceToNearestLimit(chain, better.q), NearestLimit(chain, better.q), 1e-15);
    before += NearestLimit(chain, start.q) / count;
    after += NearestLimit(chain, better.q) / count;
    raised += NearestLimit(chain, better.q) > NearestLimit(chain, start.q);
  }
  std::cout << GetParam().arm << (GetParam().pose ? " poses" : " positions")
            << ": mean distance to the nearest limit " << before << " -> " << after << " rad, raised on "
            << raised << "/" << count << "\n";
  EXPECT_GT(after, 1.1 * before);
}

INSTANTIATE_TEST_SUITE_P(Arms, AvoidLimits,
                         ::testing::Values(Case{"seed", false}, Case{"panda", true}, Case{"panda", false}),
                         [](const ::testing::TestParamInfo<Case>& info) {
                           return std::string(info.param.arm) + (info.param.pose ? "_poses" : "_positions");
                         });

TEST(Posture, PostureAndStartWeightsPullTowardTheirConfiguration) {
  const Chain chain = MakePanda();
  SolverSettings settings;
  settings.pose.timeout_seconds = 0.05;
  std::mt19937_64 rng(22);
  for (int t = 0; t < 20; ++t) {
    const Eigen::VectorXd q = testing::RandomConfiguration(chain, &rng);
    const IkTarget target(TipPosition(chain, q));
    const Eigen::VectorXd preferred = testing::RandomConfiguration(chain, &rng);
    PostureOptions posture;
    posture.posture = preferred;
    posture.posture_weight = 1.0;
    const SolveResult start = KnownSolution(chain, target, q);
    const SolveResult near_posture = ImprovePosture(chain, target, start, posture, settings);
    ExpectExact(chain, target, near_posture, t);
    EXPECT_LT((near_posture.q - preferred).norm(), (q - preferred).norm()) << "target " << t;
    PostureOptions displacement;
    displacement.start_weight = 1.0;
    const SolveResult near_start = ImprovePosture(chain, target, start, displacement, settings, &preferred);
    ExpectExact(chain, target, near_start, t);
    EXPECT_LT((near_start.q - preferred).norm(), (q - preferred).norm()) << "target " << t;
  }
}

TEST(Posture, LeavesUnconvergedAnswersAndRefusesBadOptions) {
  const Chain chain = MakePanda();
  SolveResult failed;
  failed.q = chain.mid_configuration();
  failed.status = SolveStatus::kOutOfReach;
  PostureOptions posture;
  posture.avoid_limits = 1.0;
  const IkTarget far(Eigen::Vector3d(5, 0, 0));
  EXPECT_EQ(ImprovePosture(chain, far, failed, posture, SolverSettings{}).q, failed.q);
  posture.avoid_limits = -1;
  EXPECT_THROW((void)ImprovePosture(chain, far, failed, posture, SolverSettings{}), std::invalid_argument);
  posture.avoid_limits = 0;
  posture.posture_weight = 1;
  posture.posture = Eigen::VectorXd::Zero(3);
  EXPECT_THROW((void)ImprovePosture(chain, far, failed, posture, SolverSettings{}), std::invalid_argument);
  PostureOptions start;
  start.start_weight = 1;
  EXPECT_THROW((void)ImprovePosture(chain, far, failed, start, SolverSettings{}), std::invalid_argument);
}

}  // namespace
}  // namespace deepik
