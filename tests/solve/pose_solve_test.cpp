// Full-pose IK: round trips FK -> solve -> FK for every model-free solver, quaternion signs, free
// and bounded axes, and the angle error checked against an independent formula.
#include <gtest/gtest.h>

#include <Eigen/Geometry>
#include <cmath>
#include <limits>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "deepik/errors.hpp"
#include "deepik/kinematics/builtin_arms.hpp"
#include "deepik/kinematics/dh.hpp"
#include "deepik/kinematics/fk.hpp"
#include "deepik/solve/kdl_solvers.hpp"
#include "deepik/solve/pose_refine.hpp"
#include "deepik/solve/solvers.hpp"
#include "test_util.hpp"

namespace deepik {
namespace {

constexpr double kPi = 3.14159265358979323846;

// The angle of R_a^T R_b from its trace: an independent route to the geodesic angle (acos loses
// precision near 0, so comparisons use a tolerance of 1e-7 there).
double TraceAngle(const Eigen::Matrix3d& R_a, const Eigen::Matrix3d& R_b) {
  const double c = 0.5 * ((R_a.transpose() * R_b).trace() - 1.0);
  return std::acos(std::max(-1.0, std::min(1.0, c)));
}

std::vector<Chain> Arms() { return {MakePanda(), MakeUr5(), MakeIiwa14(), testing::MakePumaDh()}; }

IkTarget PoseTarget(const Chain& chain, const Eigen::VectorXd& q) {
  const Eigen::Isometry3d X = TipPose(chain, q);
  return IkTarget(X.translation(), Eigen::Quaterniond(X.linear()));
}

// Deterministic settings: a budget no test reaches, a fixed number of starts.
PoseRefineOptions DeterministicPose() {
  PoseRefineOptions options;
  options.timeout_seconds = 100.0;
  options.max_starts = 64;
  return options;
}

std::unique_ptr<Solver> MakeTestSolver(const std::string& name, const Chain& chain) {
  if (name == "lm") return std::make_unique<LmSolver>(chain, DeterministicPose());
  KdlOptions options;
  if (name == "kdl-nr") return MakeKdlSolver(chain, KdlMethod::kNewtonRaphsonJl, options);
  if (name == "kdl-lma") return MakeKdlSolver(chain, KdlMethod::kLma, options);
  options = MoveItKdlOptions();
  options.timeout_seconds = 100.0;
  options.max_attempts = 40;
  if (name == "kdl-nr-restarts") return MakeKdlSolver(chain, KdlMethod::kNewtonRaphsonJlRestarts, options);
  return MakeKdlSolver(chain, KdlMethod::kLmaRestarts, options);
}

// Checks a result against the target by FK of its q (independent of the solver's report).
void ExpectHonest(const Chain& chain, const IkTarget& target, const SolveResult& r, double tolerance) {
  ASSERT_EQ(r.q.size(), chain.num_joints());
  EXPECT_TRUE(chain.WithinLimits(r.q));
  const Eigen::Isometry3d X = TipPose(chain, r.q);
  const double position_error = (X.translation() - target.p_BT).norm();
  const double angle = TraceAngle(target.Q_BT->toRotationMatrix(), X.linear());
  EXPECT_NEAR(r.error, position_error, 1e-12);
  EXPECT_NEAR(r.angle_error, angle, 1e-7);
  EXPECT_TRUE(X.translation().isApprox(r.p_reached, 1e-12));
  EXPECT_LT(TraceAngle(X.linear(), r.Q_reached.toRotationMatrix()), 1e-7);
  if (r.status == SolveStatus::kConverged) {
    EXPECT_LE(position_error, tolerance);
    EXPECT_LE(angle, tolerance + 1e-7);
  }
}

TEST(PoseSolveTest, RoundTripsOnEveryArmForEveryModelFreeSolver) {
  // Success shares that each solver must reach (single KDL attempts from mid-range fail often:
  // the published KDL figures are 17-62 %).
  const std::vector<std::pair<std::string, double>> solvers = {
      {"lm", 1.0}, {"kdl-nr", 0.0}, {"kdl-lma", 0.0}, {"kdl-nr-restarts", 0.5}, {"kdl-lma-restarts", 0.5}};
  for (const Chain& chain : Arms()) {
    std::mt19937_64 rng(2025);
    std::vector<IkTarget> targets;
    for (int i = 0; i < 12; ++i)
      targets.push_back(PoseTarget(chain, testing::RandomConfiguration(chain, &rng)));
    for (const auto& [name, share] : solvers) {
      SCOPED_TRACE(chain.name() + " " + name);
      const std::unique_ptr<Solver> solver = MakeTestSolver(name, chain);
      const double tolerance = name == "lm" ? 1e-9 : 1e-5;
      int converged = 0;
      for (const IkTarget& target : targets) {
        const SolveResult r = solver->Solve(target);
        ExpectHonest(chain, target, r, tolerance);
        if (r.status == SolveStatus::kConverged) ++converged;
      }
      EXPECT_GE(converged, share * static_cast<double>(targets.size()));
    }
  }
}

TEST(PoseSolveTest, BothQuaternionSignsGiveTheSameAnswer) {
  const Chain chain = MakePanda();
  std::mt19937_64 rng(3);
  const LmSolver solver(chain, DeterministicPose());
  for (int i = 0; i < 5; ++i) {
    IkTarget target = PoseTarget(chain, testing::RandomConfiguration(chain, &rng));
    const SolveResult plus = solver.Solve(target);
    target.Q_BT->coeffs() = -target.Q_BT->coeffs();
    const SolveResult minus = solver.Solve(target);
    EXPECT_EQ(plus.status, SolveStatus::kConverged);
    EXPECT_EQ(minus.status, SolveStatus::kConverged);
    EXPECT_TRUE(plus.q.isApprox(minus.q, 1e-9));
    EXPECT_GE(minus.Q_reached.w(), 0.0);
  }
}

TEST(PoseSolveTest, NonUnitQuaternionIsRefused) {
  const Chain chain = MakeUr5();
  const LmSolver solver(chain, DeterministicPose());
  IkTarget target(Eigen::Vector3d(0.3, 0.1, 0.4), Eigen::Quaterniond(1.0, 0.0, 0.0, 0.01));
  EXPECT_THROW((void)solver.Solve(target), std::invalid_argument);
  const std::unique_ptr<Solver> kdl = MakeKdlSolver(chain, KdlMethod::kNewtonRaphsonJl);
  EXPECT_THROW((void)kdl->Solve(target), std::invalid_argument);
  target.Q_BT = Eigen::Quaterniond(1.0 + 5e-7, 0.0, 0.0, 0.0);  // within 1e-6: accepted
  EXPECT_NO_THROW((void)solver.Solve(target));
}

TEST(PoseSolveTest, AngleErrorAgreesWithTheTraceFormula) {
  const Chain chain = MakeIiwa14();
  std::mt19937_64 rng(17);
  for (int i = 0; i < 50; ++i) {
    const IkTarget target = PoseTarget(chain, testing::RandomConfiguration(chain, &rng));
    SolveResult r;
    r.q = testing::RandomConfiguration(chain, &rng);
    MeasureResult(chain, target, &r);
    const double angle = TraceAngle(target.Q_BT->toRotationMatrix(), TipPose(chain, r.q).linear());
    EXPECT_NEAR(r.angle_error, angle, 1e-9);  // angles far from 0: acos is accurate there
    const Vector6d e =
        PoseErrorTwist(target, TipPose(chain, r.q).linear(), TipPose(chain, r.q).translation());
    EXPECT_NEAR(e.tail<3>().norm(), angle, 1e-9);
  }
  SolveResult position_only;
  position_only.q = chain.mid_configuration();
  MeasureResult(chain, IkTarget(Eigen::Vector3d(0.1, 0.2, 0.3)), &position_only);
  EXPECT_TRUE(std::isnan(position_only.angle_error));
}

TEST(PoseSolveTest, FreeRotationAboutTheToolAxisIsFree) {
  const Chain chain = MakePanda();
  std::mt19937_64 rng(5);
  const LmSolver solver(chain, DeterministicPose());
  for (int i = 0; i < 6; ++i) {
    const IkTarget reachable = PoseTarget(chain, testing::RandomConfiguration(chain, &rng));
    // The same tool axis, turned 2.5 rad about it: as a full pose often out of the wrist's range,
    // with the rotation about z free always reachable.
    IkTarget target = reachable;
    target.Q_BT = *reachable.Q_BT * Eigen::Quaterniond(Eigen::AngleAxisd(2.5, Eigen::Vector3d::UnitZ()));
    target.bounds[5] = std::numeric_limits<double>::infinity();
    const SolveResult r = solver.Solve(target);
    ASSERT_EQ(r.status, SolveStatus::kConverged);
    const Eigen::Isometry3d X = TipPose(chain, r.q);
    EXPECT_LE((X.translation() - target.p_BT).norm(), 1e-9);
    const Eigen::Vector3d z_target = target.Q_BT->toRotationMatrix().col(2);
    EXPECT_LE(std::acos(std::min(1.0, X.linear().col(2).dot(z_target))), 1e-7);
    // Free means free: the solver stopped where the tool axis matched, not at the given turn.
    EXPECT_GT(r.angle_error, 1e-3);
  }
}

TEST(PoseSolveTest, AnAnswerWithinTheBoundsIsAccepted) {
  const Chain chain = MakeUr5();
  std::mt19937_64 rng(8);
  const LmSolver solver(chain, DeterministicPose());
  for (int i = 0; i < 5; ++i) {
    const Eigen::VectorXd q = testing::RandomConfiguration(chain, &rng);
    IkTarget target = PoseTarget(chain, q);
    // 0.6 mm off along the target tool's x axis and 0.05 rad about its y axis, bounds 1 mm / 0.1 rad.
    const Eigen::Matrix3d R = target.Q_BT->toRotationMatrix();
    target.p_BT += R * Eigen::Vector3d(6e-4, 0, 0);
    target.Q_BT = *target.Q_BT * Eigen::Quaterniond(Eigen::AngleAxisd(0.05, Eigen::Vector3d::UnitY()));
    target.bounds << 1e-3, 1e-3, 1e-3, 0.1, 0.1, 0.1;
    const SolveResult r = solver.Solve(target, &q);
    EXPECT_EQ(r.status, SolveStatus::kConverged);
    EXPECT_EQ(r.iterations, 0);
    EXPECT_TRUE(r.q.isApprox(q, 0.0));
    EXPECT_NEAR(r.error, 6e-4, 1e-12);
    EXPECT_NEAR(r.angle_error, 0.05, 1e-12);
    // Outside the bounds the same start is not accepted as it is.
    target.bounds << 1e-4, 1e-4, 1e-4, 0.1, 0.1, 0.1;
    const SolveResult tighter = solver.Solve(target, &q);
    EXPECT_EQ(tighter.status, SolveStatus::kConverged);
    // Pulled to the edge of the box (in the target frame), no further.
    EXPECT_GE(tighter.error, 1e-4 - 1e-9);
    EXPECT_LE(tighter.error, std::sqrt(3.0) * 1e-4 + 1e-9);
  }
}

TEST(PoseSolveTest, UnreachablePoseEndsOutOfReachWithinTheLimits) {
  const Chain chain = MakeIiwa14();
  std::mt19937_64 rng(21);
  const LmSolver solver(chain, DeterministicPose());
  for (int i = 0; i < 4; ++i) {
    IkTarget target = PoseTarget(chain, testing::RandomConfiguration(chain, &rng));
    target.p_BT = target.p_BT.normalized() * 1.5 * chain.reach();
    const SolveResult r = solver.Solve(target);
    EXPECT_NE(r.status, SolveStatus::kConverged);
    EXPECT_TRUE(chain.WithinLimits(r.q));
    EXPECT_GT(r.error, 0.4 * chain.reach());
  }
}

TEST(PoseSolveTest, AxisBoundsParse) {
  const Vector6d b = ParseAxisBounds("x=1e-3,rz=free,ry=0.5");
  EXPECT_EQ(b[0], 1e-3);
  EXPECT_EQ(b[1], 0.0);
  EXPECT_EQ(b[4], 0.5);
  EXPECT_TRUE(std::isinf(b[5]));
  EXPECT_TRUE(ParseAxisBounds("").isZero());
  EXPECT_THROW(ParseAxisBounds("w=1"), InputError);
  EXPECT_THROW(ParseAxisBounds("x=-1"), InputError);
  EXPECT_THROW(ParseAxisBounds("x=1,x=2"), InputError);
  EXPECT_THROW(ParseAxisBounds("x=nan"), InputError);
}

}  // namespace
}  // namespace deepik
