// Unreachable poses (issue 25): "out of reach" with the closest pose where it can be shown (the
// position beyond the reach, several polished starts agreeing on a minimum), "converged" for a
// reachable pose, and "failed" for a search cut off before it could show either. The truths are
// independent of the solver: the sum of the link lengths, a planar arm's plane and its orientation
// fixed by its joint sum, finite differences of the weighted pose error.
#include <gtest/gtest.h>

#include <Eigen/Geometry>
#include <cmath>
#include <random>

#include "deepik/kinematics/builtin_arms.hpp"
#include "deepik/kinematics/fk.hpp"
#include "deepik/solve/kdl_solvers.hpp"
#include "deepik/solve/pose_refine.hpp"
#include "test_util.hpp"

namespace deepik {
namespace {

constexpr double kPi = 3.14159265358979323846;

// A budget no test reaches and a fixed number of starts: the same answer on any machine.
PoseRefineOptions DeterministicPose() {
  PoseRefineOptions options;
  options.timeout_seconds = 100.0;
  options.max_starts = 64;
  return options;
}

// The geodesic angle from the trace (a route independent of the solver's quaternions).
double TraceAngle(const Eigen::Matrix3d& R_a, const Eigen::Matrix3d& R_b) {
  const double c = 0.5 * ((R_a.transpose() * R_b).trace() - 1.0);
  return std::acos(std::max(-1.0, std::min(1.0, c)));
}

// The weighted pose error RefinePose minimises: 0.5 (|p - p*|^2 + (a theta)^2).
double WeightedCost(const Chain& chain, const IkTarget& target, const Eigen::VectorXd& q, double a) {
  const Eigen::Isometry3d X = TipPose(chain, q);
  const double angle = TraceAngle(target.Q_BT->toRotationMatrix(), X.linear());
  return 0.5 * ((X.translation() - target.p_BT).squaredNorm() + a * a * angle * angle);
}

// The sum of the link lengths: no configuration puts the tip farther from the base origin.
double SumOfLinkLengths(const Chain& chain) {
  double sum = chain.X_LT().translation().norm();
  for (int j = 0; j < chain.num_joints(); ++j) sum += chain.joint(j).X_PJ.translation().norm();
  return sum;
}

// The answer is measured honestly: its errors are those of FK of its q.
void ExpectMeasured(const Chain& chain, const IkTarget& target, const SolveResult& r) {
  ASSERT_EQ(r.q.size(), chain.num_joints());
  EXPECT_TRUE(chain.WithinLimits(r.q));
  const Eigen::Isometry3d X = TipPose(chain, r.q);
  EXPECT_NEAR(r.error, (X.translation() - target.p_BT).norm(), 1e-12);
  EXPECT_NEAR(r.angle_error, TraceAngle(target.Q_BT->toRotationMatrix(), X.linear()), 1e-7);
}

TEST(PoseReachTest, PositionBeyondTheSumOfLinkLengthsIsOutOfReach) {
  for (const Chain& chain : {MakePanda(), MakeIiwa14(), MakeUr5()}) {
    SCOPED_TRACE(chain.name());
    const double reach = SumOfLinkLengths(chain);
    const Eigen::Vector3d direction = Eigen::Vector3d(1, 0.5, 0.2).normalized();
    const IkTarget target(1.1 * reach * direction, Eigen::Quaterniond(0, 1, 0, 0));
    const SolveResult r = RefinePose(chain, target, chain.mid_configuration(), DeterministicPose());
    EXPECT_EQ(r.status, SolveStatus::kOutOfReach);
    ExpectMeasured(chain, target, r);
    EXPECT_GE(r.error, 0.1 * reach - 1e-12);  // the triangle inequality
  }
}

TEST(PoseReachTest, PositionOffThePlanarArmsPlaneIsOutOfReach) {
  // Every axis of planar2 is z, so the tip never leaves z = 0: the pose of q0 lifted by 0.5 m lies
  // within the sum of the link lengths (2 m) yet 0.5 m from every reachable point, and the pose of
  // q0 is its closest (no angle error, no other error). The position refinement shows it.
  const Chain chain = MakePlanar2();
  const Eigen::VectorXd q0 = Eigen::Vector2d(0.4, 1.2);
  const Eigen::Isometry3d X = TipPose(chain, q0);
  const IkTarget target(X.translation() + Eigen::Vector3d(0, 0, 0.5), Eigen::Quaterniond(X.linear()));
  ASSERT_LT(target.p_BT.norm(), SumOfLinkLengths(chain));
  const SolveResult r = RefinePose(chain, target, chain.mid_configuration(), DeterministicPose());
  EXPECT_EQ(r.status, SolveStatus::kOutOfReach);
  ExpectMeasured(chain, target, r);
  EXPECT_NEAR(r.error, 0.5, 1e-9);
  EXPECT_NEAR(r.angle_error, 0.0, 1e-7);
  EXPECT_NEAR(std::remainder(r.q[0] - q0[0], 2 * kPi), 0.0, 1e-6);
  EXPECT_NEAR(std::remainder(r.q[1] - q0[1], 2 * kPi), 0.0, 1e-6);
}

// planar2 turns its tool about z by q1 + q2 only. A target orientation turned 90 degrees about the
// base x axis from the tool's at q* = (pi/2, -pi/2) leaves an angle of acos((cos psi - 1) / 2) >=
// 90 degrees (psi = q1 + q2), reached only at psi = 0, where q* reaches the position exactly: the
// closest pose is q*, with no position error and exactly 90 degrees of angle error.
IkTarget TiltedPlanarTarget(const Chain& chain, Eigen::Vector2d* q_closest) {
  *q_closest = Eigen::Vector2d(kPi / 2, -kPi / 2);
  const Eigen::Isometry3d X = TipPose(chain, Eigen::VectorXd(*q_closest));
  const Eigen::Matrix3d R =
      Eigen::AngleAxisd(kPi / 2, Eigen::Vector3d::UnitX()).toRotationMatrix() * X.linear();
  return IkTarget(X.translation(), Eigen::Quaterniond(R));
}

TEST(PoseReachTest, OrientationAPlanarArmCannotHoldIsOutOfReachWithTheClosestPose) {
  const Chain chain = MakePlanar2();
  Eigen::Vector2d q_closest;
  const IkTarget target = TiltedPlanarTarget(chain, &q_closest);
  for (const double start : {0.0, 2.0, -2.5}) {
    const Eigen::VectorXd q_start = Eigen::VectorXd::Constant(2, start);
    const SolveResult r = RefinePose(chain, target, q_start, DeterministicPose());
    EXPECT_EQ(r.status, SolveStatus::kOutOfReach);
    ExpectMeasured(chain, target, r);
    EXPECT_LT(r.error, 1e-7);
    EXPECT_NEAR(r.angle_error, kPi / 2, 1e-7);
    EXPECT_NEAR(std::remainder(r.q[0] - q_closest[0], 2 * kPi), 0.0, 1e-6);
    EXPECT_NEAR(std::remainder(r.q[1] - q_closest[1], 2 * kPi), 0.0, 1e-6);
  }
}

TEST(PoseReachTest, ToolDownPoseBeyondTheIiwasReachEndsAtAStationaryClosestPose) {
  // The page's case: the tool pointing down, 0.85 m out and 0.1 m up. The position alone is
  // reachable, the pose is not (KDL's restarts do not reach it either): the starts, polished,
  // agree on a minimum of the weighted error whose gradient vanishes by finite differences.
  const Chain chain = MakeIiwa14();
  const IkTarget target(Eigen::Vector3d(0.85, 0, 0.1), Eigen::Quaterniond(0, 1, 0, 0));
  const PoseRefineOptions options = DeterministicPose();
  const SolveResult r = RefinePose(chain, target, chain.mid_configuration(), options);
  EXPECT_EQ(r.status, SolveStatus::kOutOfReach);
  ExpectMeasured(chain, target, r);
  EXPECT_GT(r.error, 1e-3);
  const double cost = WeightedCost(chain, target, r.q, options.angle_weight);
  const double h = 1e-6;
  for (int j = 0; j < chain.num_joints(); ++j) {
    Eigen::VectorXd plus = r.q, minus = r.q;
    plus[j] += h;
    minus[j] -= h;
    if (!chain.WithinLimits(plus) || !chain.WithinLimits(minus)) continue;  // at a limit
    const double g = (WeightedCost(chain, target, plus, options.angle_weight) -
                      WeightedCost(chain, target, minus, options.angle_weight)) /
                     (2 * h);
    EXPECT_LT(std::abs(g), 1e-6 * std::sqrt(2 * cost)) << "joint " << j;
  }
  KdlOptions kdl = MoveItKdlOptions();
  kdl.timeout_seconds = 100.0;
  kdl.max_attempts = 64;
  const SolveResult k = MakeKdlSolver(chain, KdlMethod::kLmaRestarts, kdl)->Solve(target);
  EXPECT_NE(k.status, SolveStatus::kConverged);
  EXPECT_GE(WeightedCost(chain, target, k.q, options.angle_weight), cost * (1 - 1e-6));
}

TEST(PoseReachTest, ToolDownPoseWhosePositionPandaCannotReachIsOutOfReach) {
  // The same pose on Panda: here the position alone is out of reach (the position solve, a second
  // route, says so), which settles the pose; its closest pose is no nearer in position than the
  // closest point.
  const Chain chain = MakePanda();
  const IkTarget target(Eigen::Vector3d(0.85, 0, 0.1), Eigen::Quaterniond(0, 1, 0, 0));
  const SolveResult point = LmSolver(chain).Solve(IkTarget(target.p_BT));
  ASSERT_EQ(point.status, SolveStatus::kOutOfReach);
  const SolveResult r = RefinePose(chain, target, chain.mid_configuration(), DeterministicPose());
  EXPECT_EQ(r.status, SolveStatus::kOutOfReach);
  ExpectMeasured(chain, target, r);
  EXPECT_GE(r.error, point.error - 1e-9);
  EXPECT_GT(r.angle_error, 0.01);
}

TEST(PoseReachTest, ReachablePosesStillConverge) {
  std::mt19937_64 rng(25);
  for (const Chain& chain : {MakePanda(), MakeIiwa14(), MakePlanar2()}) {
    SCOPED_TRACE(chain.name());
    for (int i = 0; i < 20; ++i) {
      const Eigen::Isometry3d X = TipPose(chain, testing::RandomConfiguration(chain, &rng));
      const IkTarget target(X.translation(), Eigen::Quaterniond(X.linear()));
      const SolveResult r = RefinePose(chain, target, chain.mid_configuration(), DeterministicPose());
      EXPECT_EQ(r.status, SolveStatus::kConverged);
      ExpectMeasured(chain, target, r);
    }
  }
}

TEST(PoseReachTest, ASearchCutOffBeforeItCouldShowAnythingFails) {
  // A budget of 1 ns ends the first start before its first iteration: nothing is certified, for
  // a reachable pose as for an unreachable orientation (only a position beyond the link lengths
  // needs no search).
  PoseRefineOptions cut = DeterministicPose();
  cut.timeout_seconds = 1e-9;
  const Chain iiwa = MakeIiwa14();
  std::mt19937_64 rng(26);
  const Eigen::Isometry3d X = TipPose(iiwa, testing::RandomConfiguration(iiwa, &rng));
  const IkTarget reachable(X.translation(), Eigen::Quaterniond(X.linear()));
  const SolveResult a = RefinePose(iiwa, reachable, iiwa.mid_configuration(), cut);
  EXPECT_EQ(a.status, SolveStatus::kFailed);
  ExpectMeasured(iiwa, reachable, a);

  const Chain planar = MakePlanar2();
  Eigen::Vector2d q_closest;
  const IkTarget tilted = TiltedPlanarTarget(planar, &q_closest);
  const SolveResult b = RefinePose(planar, tilted, Eigen::VectorXd::Constant(2, 2.0), cut);
  EXPECT_EQ(b.status, SolveStatus::kFailed);

  const IkTarget tool_down(Eigen::Vector3d(0.85, 0, 0.1), Eigen::Quaterniond(0, 1, 0, 0));
  EXPECT_EQ(RefinePose(iiwa, tool_down, iiwa.mid_configuration(), cut).status, SolveStatus::kFailed);
}

TEST(PoseReachTest, ASingleStartCertifiesNoOrientation) {
  // A local solve (one start, as tracking and each of many solutions use) cannot tell a local
  // minimum from the closest pose: it fails rather than claim out of reach.
  PoseRefineOptions one = DeterministicPose();
  one.max_starts = 1;
  const Chain planar = MakePlanar2();
  Eigen::Vector2d q_closest;
  const IkTarget tilted = TiltedPlanarTarget(planar, &q_closest);
  const SolveResult r = RefinePose(planar, tilted, Eigen::VectorXd::Constant(2, 2.0), one);
  EXPECT_EQ(r.status, SolveStatus::kFailed);
}

}  // namespace
}  // namespace deepik
