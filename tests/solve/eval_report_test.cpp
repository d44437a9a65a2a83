// EvaluateSolver and BenchSolver against hand-computed figures: a scripted solver on planar2 (two
// 1 m links in the xy plane) whose every answer, error and excess is known in advance.
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "deepik/kinematics/builtin_arms.hpp"
#include "deepik/kinematics/fk.hpp"
#include "deepik/solve/eval.hpp"

namespace deepik {
namespace {

// Answers each target with the joint values scripted for it (looked up by the target's x).
class ScriptedSolver : public Solver {
 public:
  ScriptedSolver(Chain chain, std::map<double, Eigen::Vector2d> answers)
      : chain_(std::move(chain)), answers_(std::move(answers)) {}
  std::string name() const override { return "scripted"; }
  const Chain& chain() const override { return chain_; }
  SolveResult Solve(const IkTarget& target, const Eigen::VectorXd*) const override {
    SolveResult r;
    r.q = answers_.at(target.p_BT.x());
    r.p_reached = TipPosition(chain_, r.q);
    r.error = (r.p_reached - target.p_BT).norm();
    r.status = SolveStatus::kApproximate;
    return r;
  }

 private:
  Chain chain_;
  std::map<double, Eigen::Vector2d> answers_;
};

constexpr double kPi = 3.14159265358979323846;

TEST(EvaluateSolver, ErrorsExcessAndViolationsMatchTheHandComputedValues) {
  const Chain chain = MakePlanar2();
  EvalTargets targets;
  // In reach: (1, 1) exactly reached by q = (0, pi/2); (0.5, 0) reached by nothing scripted: the
  // answer q = (0, 0) puts the tip at (2, 0), an error of 1.5 m.
  targets.in_reach = {IkTarget{Eigen::Vector3d(1, 1, 0)}, IkTarget{Eigen::Vector3d(0.5, 0, 0)}};
  // Out of reach: (3, 0) with d* = 1 (the closest point is (2, 0)); answered by q = (0, 0): excess 0.
  // (4, 0) with d* = 2, answered by q = (pi/2, 0), tip (0, 2): error sqrt(16 + 4), excess sqrt(20) - 2.
  targets.out_of_reach = {IkTarget{Eigen::Vector3d(3, 0, 0)}, IkTarget{Eigen::Vector3d(4, 0, 0)}};
  targets.closest_distance = {1.0, 2.0};
  const ScriptedSolver solver(chain, {{1.0, Eigen::Vector2d(0, kPi / 2)},
                                      {0.5, Eigen::Vector2d(0, 0)},
                                      {3.0, Eigen::Vector2d(0, 0)},
                                      {4.0, Eigen::Vector2d(kPi / 2, 0)}});
  const SolverReport r = EvaluateSolver(solver, targets, 1);
  EXPECT_EQ(r.in_reach.count, 2);
  EXPECT_NEAR(r.in_reach.max, 1.5, 1e-12);
  EXPECT_NEAR(r.in_reach.median, 0.75, 1e-12);  // midpoint of 0 and 1.5
  EXPECT_DOUBLE_EQ(r.in_reach.share_within_1um, 0.5);
  EXPECT_EQ(r.excess.count, 2);
  EXPECT_NEAR(r.excess.max, std::sqrt(20.0) - 2.0, 1e-12);
  EXPECT_NEAR(r.excess.median, (std::sqrt(20.0) - 2.0) / 2, 1e-12);
  EXPECT_EQ(r.limit_violations, 0);
  EXPECT_EQ(r.non_finite, 0);
  ASSERT_EQ(r.in_reach_errors.size(), 2u);
  EXPECT_GT(r.latency_median_us, 0.0);
  EXPECT_GT(r.throughput_per_s, 0.0);
}

TEST(EvaluateSolver, AnswersBeyondTheLimitsAreCounted) {
  const Chain chain = MakePlanar2();
  const double beyond = chain.joint(1).upper + 0.5;
  EvalTargets targets;
  targets.in_reach = {IkTarget{Eigen::Vector3d(1, 0, 0)}, IkTarget{Eigen::Vector3d(2, 0, 0)}};
  const ScriptedSolver solver(chain, {{1.0, Eigen::Vector2d(0, beyond)}, {2.0, Eigen::Vector2d(0, 0)}});
  const SolverReport r = EvaluateSolver(solver, targets, 1);
  EXPECT_EQ(r.limit_violations, 1);
  EXPECT_NEAR(r.in_reach.median,
              0.5 * (TipPosition(chain, Eigen::Vector2d(0, beyond)) - Eigen::Vector3d(1, 0, 0)).norm(),
              1e-12);
}

TEST(BenchSolver, CountsEveryTimedQuery) {
  const Chain chain = MakePlanar2();
  const std::vector<IkTarget> targets = {IkTarget{Eigen::Vector3d(1, 1, 0)},
                                         IkTarget{Eigen::Vector3d(3, 0, 0)}};
  const ScriptedSolver solver(chain, {{1.0, Eigen::Vector2d(0, kPi / 2)}, {3.0, Eigen::Vector2d(0, 0)}});
  const SolverReport r = BenchSolver(solver, targets, 1, 3, 1);
  EXPECT_EQ(r.queries, 6);  // 3 timed passes over 2 targets
  EXPECT_EQ(r.limit_violations, 0);
  EXPECT_GT(r.latency_median_us, 0.0);
  EXPECT_LE(r.latency_median_us, r.latency_p99_us);
}

}  // namespace
}  // namespace deepik
