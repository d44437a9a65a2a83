// Solvers: refinement against FK round trips and its guarantees, the shipped seed model with
// refinement against the closed form, solver construction, and many threads on one solver.
#include <gtest/gtest.h>

#include <random>
#include <thread>

#include "deepik/solve/analytic_seed.hpp"
#include "deepik/kinematics/builtin_arms.hpp"
#include "deepik/errors.hpp"
#include "deepik/kinematics/fk.hpp"
#include "deepik/solve/refine.hpp"
#include "deepik/solve/solvers.hpp"
#include "test_util.hpp"

namespace deepik {
namespace {

using testing::RandomConfiguration;

const std::string kSeedModel = std::string(DEEPIK_SOURCE_DIR) + "/models/seed-default.safetensors";

class RefineOnEveryArm : public ::testing::TestWithParam<std::string> {};

TEST_P(RefineOnEveryArm, RoundTripsAndNeverIncreasesTheError) {
  const Chain chain = MakeBuiltinArm(GetParam());
  std::mt19937_64 rng(17);
  RefineOptions options;
  int converged = 0;
  const int trials = 300;
  for (int i = 0; i < trials; ++i) {
    const Eigen::VectorXd q_true = RandomConfiguration(chain, &rng);
    const Eigen::Vector3d target = TipPosition(chain, q_true);
    const Eigen::VectorXd q_start = RandomConfiguration(chain, &rng);
    const double start_error = (TipPosition(chain, q_start) - target).norm();
    const SolveResult r = RefinePosition(chain, target, q_start, options);
    ASSERT_TRUE(r.q.allFinite());
    ASSERT_TRUE(chain.WithinLimits(r.q)) << r.q.transpose();
    EXPECT_LE(r.error, start_error);
    EXPECT_NEAR((TipPosition(chain, r.q) - target).norm(), r.error, 1e-15);
    if (r.status == SolveStatus::kConverged) {
      ++converged;
      EXPECT_LT(r.error, 1e-9);
    }
  }
  // From random starts (not the network), with restarts: every reachable target is reached.
  EXPECT_GE(converged, trials * 99 / 100) << GetParam();
}

INSTANTIATE_TEST_SUITE_P(AllBuiltinArms, RefineOnEveryArm, ::testing::ValuesIn(BuiltinArmNames()));

TEST(RefineTest, StartsOutsideTheLimitsOrNonFiniteAreBroughtIn) {
  const Chain chain = MakeSeedArm();
  Eigen::VectorXd q_start(4);
  q_start << 10.0, -7.0, std::nan(""), 1e300;
  const SolveResult r = RefinePosition(chain, Eigen::Vector3d(0.5, 0.5, 1.0), q_start, RefineOptions{});
  EXPECT_TRUE(chain.WithinLimits(r.q));
  EXPECT_EQ(r.status, SolveStatus::kConverged);
}

TEST(ShippedSeedModel, RefinedReachesEveryInReachTargetWithinOneMicrometre) {
  const IkModel model = IkModel::Load(kSeedModel);
  const std::unique_ptr<Solver> refined = MakeSolver("refined", model);
  std::mt19937_64 rng(4242);
  int within = 0;
  const int trials = 2000;
  for (int i = 0; i < trials; ++i) {
    const Eigen::Vector3d target = TipPosition(model.chain(), RandomConfiguration(model.chain(), &rng));
    const SolveResult r = refined->Solve(IkTarget{target});
    ASSERT_TRUE(model.chain().WithinLimits(r.q));
    if (r.error < 1e-6) ++within;
  }
  EXPECT_EQ(within, trials);
}

TEST(ShippedSeedModel, RefinedNeverWorsensTheNetworkAndExtendsTowardUnreachableTargets) {
  const IkModel model = IkModel::Load(kSeedModel);
  const std::unique_ptr<Solver> network = MakeSolver("network", model),
                                refined = MakeSolver("refined", model);
  const AnalyticSeedSolver analytic;
  std::mt19937_64 rng(77);
  std::uniform_real_distribution<double> u(-5, 5);
  std::vector<Eigen::Vector3d> targets = {{1e4, 0, 0}, {0, 0, 1e4},  {0, 0, -1e4},
                                          {0, 0, 0},   {0, 0, -1.9}, {0, 0, 0.3}};
  for (int i = 0; i < 300; ++i) targets.emplace_back(u(rng), u(rng), u(rng));
  for (const Eigen::Vector3d& target : targets) {
    const SolveResult start = network->Solve(IkTarget{target});
    const SolveResult r = refined->Solve(IkTarget{target});
    ASSERT_TRUE(r.q.allFinite());
    ASSERT_TRUE(model.chain().WithinLimits(r.q));
    EXPECT_LE(r.error, start.error + 1e-12);
    double d_star = 0;
    analytic.ClosestReachablePoint(target, &d_star);
    if (analytic.Classify(target) != SeedReachability::kReachable) {
      EXPECT_EQ(r.status, SolveStatus::kOutOfReach) << target.transpose();
      EXPECT_LT(r.error - d_star, 1e-6 * std::max(1.0, d_star * 1e-4)) << target.transpose();
    } else {
      EXPECT_LT(r.error, 1e-9) << target.transpose();
    }
  }
}

TEST(ShippedSeedModel, ManyThreadsShareOneSolver) {
  const IkModel model = IkModel::Load(kSeedModel);
  for (const std::string& name : {"network", "refined", "analytic", "kdl-nr"}) {
    const std::unique_ptr<Solver> solver = MakeSolver(name, model);
    std::mt19937_64 rng(5);
    std::vector<IkTarget> targets;
    std::uniform_real_distribution<double> u(-2.5, 2.5);
    for (int i = 0; i < 400; ++i) targets.push_back(IkTarget{Eigen::Vector3d(u(rng), u(rng), u(rng))});
    std::vector<SolveResult> sequential;
    for (const IkTarget& t : targets) sequential.push_back(solver->Solve(t));
    const std::vector<SolveResult> parallel = solver->SolveBatch(targets, 8);
    ASSERT_EQ(parallel.size(), sequential.size());
    for (size_t i = 0; i < targets.size(); ++i) {
      EXPECT_EQ(parallel[i].q, sequential[i].q) << name << " target " << i;
      EXPECT_EQ(parallel[i].status, sequential[i].status) << name;
    }
  }
}

TEST(SolverFactoryTest, UnknownNamesAndAnalyticOnOtherArmsAreRefused) {
  const IkModel model = IkModel::Load(kSeedModel);
  try {
    (void)MakeSolver("magic", model);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("kdl-nr"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(SeedArmOptionsOf(MakeSeedArm()).has_value());
  EXPECT_FALSE(SeedArmOptionsOf(MakePanda()).has_value());
  SeedArmOptions custom;
  custom.link1_length = 0.7;
  custom.elbow_pitch_limit_deg = 150;
  const std::optional<SeedArmOptions> found = SeedArmOptionsOf(MakeSeedArm(custom));
  ASSERT_TRUE(found.has_value());
  EXPECT_DOUBLE_EQ(found->link1_length, 0.7);
  EXPECT_NEAR(found->elbow_pitch_limit_deg, 150, 1e-12);
}

}  // namespace
}  // namespace deepik
