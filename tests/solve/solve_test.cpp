// Solvers: refinement against FK round trips and its guarantees, the shipped seed model with
// refinement against the closed form, solver construction, and many threads on one solver.
#include <gtest/gtest.h>

#include <random>
#include <thread>

#include "deepik/errors.hpp"
#include "deepik/kinematics/builtin_arms.hpp"
#include "deepik/kinematics/fk.hpp"
#include "deepik/solve/analytic_seed.hpp"
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

// The near-singular shell of the seed arm, where refinement used to stop "failed" a few
// micrometres short of a reachable target, or at the closest point of an unreachable one without
// saying so: targets within 1e-5 m of the outer sphere (the stretched arm; some near the yaw
// axis, where the two yaw joints are nearly redundant), of the inner hollow's sphere (elbow pitch
// at its limit) and of the surface the arm sweeps with the shoulder pitch at its limit, each
// judged against the closed form: reachable or not, and d*.
struct ShellTarget {
  Eigen::Vector3d p;
  std::string family;
};

std::vector<ShellTarget> NearSingularShell(const AnalyticSeedSolver& analytic, int per_family,
                                           uint64_t seed) {
  const Chain& chain = analytic.chain();
  const SeedArmOptions& o = analytic.options();
  const double rho_max = o.link1_length + o.link2_length;
  const double elbow = o.elbow_pitch_limit_deg * M_PI / 180;
  const double rho_min = std::sqrt(o.link1_length * o.link1_length + o.link2_length * o.link2_length +
                                   2 * o.link1_length * o.link2_length * std::cos(elbow));
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> unit(-1, 1), exponent(-10, -5);
  auto offset = [&] { return (unit(rng) < 0 ? -1 : 1) * std::pow(10.0, exponent(rng)); };  // +-1e-10..1e-5 m
  auto direction = [&] {
    Eigen::Vector3d d;
    do d = Eigen::Vector3d(unit(rng), unit(rng), unit(rng));
    while (d.norm() > 1 || d.norm() < 0.1);
    return d.normalized();
  };
  std::vector<ShellTarget> targets;
  for (int i = 0; i < per_family; ++i) {
    Eigen::Vector3d d = direction();
    if (i % 3 == 0) d = Eigen::Vector3d(0.01 * d.x(), 0.01 * d.y(), std::abs(d.z()) + 0.1).normalized();
    targets.push_back({d * (rho_max + offset()), "outer sphere"});
    targets.push_back({direction() * (rho_min + offset()), "inner sphere"});
    // A point the arm reaches with the shoulder pitch at a limit, moved off it by up to 1e-5 m.
    Eigen::VectorXd q = testing::RandomConfiguration(chain, &rng);
    q[1] = unit(rng) < 0 ? chain.joint(1).lower : chain.joint(1).upper;
    targets.push_back({TipPosition(chain, q) + std::abs(offset()) * direction(), "pitch-limit surface"});
  }
  return targets;
}

// The statuses against the closed form: a reachable target (d* = 0) is reached within the
// tolerance; an answer not within the tolerance is at the closest point (to 1e-10 m) and says
// "out of reach"; one within it says "converged" (also for an unreachable target with d* below
// the tolerance).
void ExpectMatchesTheClosedForm(const Chain& chain, const ShellTarget& t, double d_star,
                                const SolveResult& r) {
  constexpr double kTolerance = RefineOptions{}.tolerance;
  SCOPED_TRACE(t.family + " target " + ::testing::PrintToString(t.p.transpose()) + " |p| " +
               ::testing::PrintToString(t.p.norm()) + " d* " + ::testing::PrintToString(d_star));
  ASSERT_TRUE(r.q.allFinite());
  ASSERT_TRUE(chain.WithinLimits(r.q));
  EXPECT_GE(r.error, d_star - 1e-13);                            // the oracle's d* is a lower bound
  if (d_star == 0) EXPECT_LE(r.error, kTolerance);               // reachable: reached
  if (r.error > kTolerance) EXPECT_LE(r.error - d_star, 1e-10);  // else at the closest point
  EXPECT_EQ(ToString(r.status),
            std::string(ToString(r.error <= kTolerance ? SolveStatus::kConverged : SolveStatus::kOutOfReach)))
      << "error " << r.error;
}

TEST(ShippedSeedModel, RefinedMatchesTheClosedFormOnTheNearSingularShell) {
  const IkModel model = IkModel::Load(kSeedModel);
  const std::unique_ptr<Solver> refined = MakeSolver("refined", model);
  const AnalyticSeedSolver analytic;
  int reachable = 0, unreachable = 0;
  for (const ShellTarget& t : NearSingularShell(analytic, 100, 2718)) {
    double d_star = 0;
    analytic.ClosestReachablePoint(t.p, &d_star);
    (d_star == 0 ? reachable : unreachable) += 1;
    ExpectMatchesTheClosedForm(model.chain(), t, d_star, refined->Solve(IkTarget{t.p}));
  }
  // Both sides of the shell are covered.
  EXPECT_GT(reachable, 60);
  EXPECT_GT(unreachable, 60);
  // The example of the report: a few micrometres inside full stretch, near the yaw axis.
  const Eigen::Vector3d inside = Eigen::Vector3d(0.004, 0.008, 1.99998).normalized() * (2 - 3e-6);
  ASSERT_EQ(analytic.Classify(inside), SeedReachability::kReachable);
  const SolveResult r = refined->Solve(IkTarget{inside});
  EXPECT_EQ(r.status, SolveStatus::kConverged);
  EXPECT_LE(r.error, 1e-9);
}

// The same shell on a seed arm with a real shoulder-pitch cone (60 degrees) and another elbow
// limit, refined from seeded random starts (no network: refinement alone).
TEST(RefineTest, MatchesTheClosedFormOnTheNearSingularShellOfAnotherSeedArm) {
  SeedArmOptions options;
  options.link1_length = 0.8;
  options.link2_length = 0.6;
  options.shoulder_pitch_limit_deg = 60;
  options.elbow_pitch_limit_deg = 150;
  const AnalyticSeedSolver analytic(options);
  const Chain& chain = analytic.chain();
  std::mt19937_64 rng(31);
  for (const ShellTarget& t : NearSingularShell(analytic, 60, 1414)) {
    double d_star = 0;
    analytic.ClosestReachablePoint(t.p, &d_star);
    const Eigen::VectorXd q_start = testing::RandomConfiguration(chain, &rng);
    ExpectMatchesTheClosedForm(chain, t, d_star, RefinePosition(chain, t.p, q_start, RefineOptions{}));
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

TEST(NetworkSolverTest, OutputsThatOverflowAreFailedRowsWithFiniteInLimitValues) {
  // The shipped model with every weight scaled by 1e20: finite weights; float32 sums overflow
  // inside (inf - inf: NaN), float64 ones do not, but their raw outputs round to +-inf in float32.
  SafetensorsFile file = IkModel::Load(kSeedModel).file();
  for (auto& [name, tensor] : file.tensors) {
    if (name.find("weight") == std::string::npos) continue;
    std::vector<float> values = tensor.ToFloats();
    for (float& v : values) v *= 1e20f;
    tensor = RawTensor::FromFloats(values, tensor.shape);
  }
  const IkModel huge = IkModel::FromSafetensors(file, "huge");
  const std::unique_ptr<Solver> network = MakeSolver("network", huge);
  const std::unique_ptr<Solver> refined = MakeSolver("refined", huge);  // starts from float32 sums
  const Chain& chain = huge.chain();
  std::mt19937_64 rng(77);
  int non_finite_inside = 0;
  IkModel::Scratch scratch;
  Eigen::VectorXd raw32(chain.num_joints());
  for (int i = 0; i < 50; ++i) {
    const Eigen::Vector3d target = TipPosition(chain, testing::RandomConfiguration(chain, &rng));
    huge.Predict(target, raw32, &scratch, ForwardPrecision::kFloat32);
    non_finite_inside += raw32.allFinite() ? 0 : 1;
    const Eigen::VectorXd raw = huge.Predict(target);
    for (const Solver* solver : {network.get(), refined.get()}) {
      const SolveResult r = solver->Solve(IkTarget{target});
      ASSERT_TRUE(r.q.allFinite()) << solver->name() << ": " << r.q.transpose();
      EXPECT_TRUE(chain.WithinLimits(r.q)) << solver->name() << ": " << r.q.transpose();
      EXPECT_TRUE(std::isfinite(r.error)) << solver->name();
      if (solver == network.get() && !raw.allFinite()) EXPECT_EQ(r.status, SolveStatus::kFailed);
    }
  }
  EXPECT_GT(non_finite_inside, 0) << "the scaled model should overflow float32 sums for some targets";
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

// A server's network and refined solvers share one loaded model: the sharing overload must answer
// exactly as solvers holding their own copy do, and keep the model alive after its loader drops it.
TEST(SolverFactoryTest, SolversSharingOneModelAnswerAsCopiesAndKeepItAlive) {
  auto model = std::make_shared<const IkModel>(IkModel::Load(kSeedModel));
  const IkModel copy = *model;
  const Chain chain = model->chain();
  const SolverSettings settings;
  const std::unique_ptr<Solver> shared_network = MakeSolver("network", chain, model, settings),
                                shared_refined = MakeSolver("refined", chain, model, settings),
                                own_network = MakeSolver("network", chain, &copy, settings),
                                own_refined = MakeSolver("refined", chain, &copy, settings);
  EXPECT_EQ(model.use_count(), 3);  // the caller, network, and refined (through its network)
  model.reset();
  std::mt19937_64 rng(2407);
  for (int i = 0; i < 200; ++i) {
    const IkTarget target{TipPosition(chain, RandomConfiguration(chain, &rng))};
    const SolveResult a = shared_network->Solve(target), b = own_network->Solve(target);
    const SolveResult c = shared_refined->Solve(target), d = own_refined->Solve(target);
    ASSERT_EQ(a.q, b.q);
    ASSERT_EQ(c.q, d.q);
    ASSERT_EQ(c.status, d.status);
  }
  EXPECT_THROW(NetworkSolver(std::shared_ptr<const IkModel>()), std::invalid_argument);
  EXPECT_THROW(RefinedSolver(std::shared_ptr<const IkModel>()), std::invalid_argument);
  EXPECT_THROW((void)MakeSolver("refined", chain, std::shared_ptr<const IkModel>(), settings), InputError);
}

}  // namespace
}  // namespace deepik
