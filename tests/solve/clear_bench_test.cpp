// The collision-free benchmark (issue 23, `bench --collision-free`) against independent truth:
// a second exact checker built apart (FCL, deepik::geometry) and FK re-check every target and
// every answer the bench judged; the counts add up; the baseline restarts until clear.
#include "deepik/solve/clear_bench.hpp"

#include <gtest/gtest.h>

#include <random>

#include "deepik/geometry/exact_checker.hpp"
#include "deepik/geometry/sphere_world.hpp"
#include "deepik/kinematics/fk.hpp"
#include "deepik/solve/collision_solver.hpp"
#include "deepik/solve/kdl_solvers.hpp"
#include "deepik/solve/solvers.hpp"
#include "test_util.hpp"

namespace deepik {
namespace {

using testing::RobotFile;

struct Arm {
  explicit Arm(const std::string& name, bool with_scene)
      : geometry(LoadRobotGeometry(ArmSpec{name}, {}, true)),
        matrix(LoadCollisionMatrix(RobotFile("collision/" + name + ".matrix.json"), geometry)),
        spheres(LoadSphereSet(RobotFile("collision/" + name + ".spheres.json"), geometry)),
        pairs(CheckedPairs(geometry, &matrix)) {
    if (with_scene) scene = LoadScene(RobotFile("scenes/table-boxes.json"));
  }
  const Scene* scene_or_null() const { return scene.obstacles.empty() ? nullptr : &scene; }
  CollisionWorld World() const {
    CollisionWorld world;
    world.exact = std::make_unique<ExactChecker>(geometry, pairs, MeshLimits{}, scene_or_null());
    world.spheres =
        std::make_unique<SphereWorld>(geometry, spheres, pairs, scene,
                                      scene.obstacles.empty() ? CollisionMode::kSelf : CollisionMode::kAll);
    return world;
  }
  RobotGeometry geometry;
  CollisionMatrix matrix;
  SphereSet spheres;
  std::vector<std::pair<int, int>> pairs;
  Scene scene;
};

// Generous budgets: the invariants below hold on any build (sanitizers, a loaded machine).
SolverSettings Generous() {
  SolverSettings settings;
  settings.pose.timeout_seconds = 0.5;
  return settings;
}

// Every count of a row from its answers, and every answer judged again by FK and `truth`.
void ExpectRowAgreesWithTruth(const ClearBenchRow& row, const ClearBenchTargets& targets, const Chain& chain,
                              const CollisionChecker& truth, const ClearBenchOptions& options) {
  ASSERT_EQ(row.answers.size(), targets.targets.size()) << row.solver;
  int64_t successes = 0, reached_only = 0, converged = 0, converged_in_collision = 0, in_collision = 0;
  for (size_t i = 0; i < row.answers.size(); ++i) {
    const ClearBenchAnswer& a = row.answers[i];
    const IkTarget& target = targets.targets[i];
    ASSERT_EQ(a.q.size(), chain.num_joints());
    const Eigen::Isometry3d X = TipPose(chain, a.q);
    const bool reached =
        chain.WithinLimits(a.q) && (X.translation() - target.p_BT).norm() <= options.success_position &&
        Eigen::AngleAxisd(target.Q_BT->toRotationMatrix().transpose() * X.linear()).angle() <=
            options.success_angle;
    const bool clear = !truth.InCollision(a.q);
    EXPECT_EQ(a.reached, reached) << row.solver << " target " << i;
    EXPECT_EQ(a.clear, clear) << row.solver << " target " << i;
    EXPECT_GE(a.us, 0.0);
    successes += reached && clear;
    reached_only += reached && !clear;
    converged += a.status == SolveStatus::kConverged;
    converged_in_collision += a.status == SolveStatus::kConverged && !clear;
    in_collision += a.status == SolveStatus::kInCollision;
  }
  EXPECT_EQ(row.targets, static_cast<int64_t>(targets.targets.size()));
  EXPECT_EQ(row.successes, successes) << row.solver;
  EXPECT_EQ(row.reached_only, reached_only) << row.solver;
  EXPECT_EQ(row.claimed_converged, converged) << row.solver;
  EXPECT_EQ(row.converged_in_collision, converged_in_collision) << row.solver;
  EXPECT_EQ(row.in_collision_status, in_collision) << row.solver;
  EXPECT_LE(row.successes + row.reached_only, row.targets);
  EXPECT_LE(row.median_us, row.p99_us);
}

void CheckBench(const std::string& name, bool with_scene) {
  const Arm arm(name, with_scene);
  const Chain& chain = arm.geometry.chain;
  // The truth: an exact checker of its own, built apart from the bench's and the solvers'.
  const ExactChecker truth(arm.geometry, arm.pairs, {}, arm.scene_or_null());
  const ExactChecker judge(arm.geometry, arm.pairs, {}, arm.scene_or_null());
  ClearBenchOptions options;
  options.count = 30;
  options.seed = 11;
  const ClearBenchTargets targets = MakeClearBenchTargets(chain, judge, options);
  ASSERT_EQ(targets.targets.size(), 30u);
  ASSERT_EQ(targets.configurations.size(), 30u);
  EXPECT_GE(targets.draws, 30);
  for (size_t i = 0; i < targets.targets.size(); ++i) {
    const Eigen::VectorXd& q = targets.configurations[i];
    EXPECT_TRUE(chain.WithinLimits(q));
    EXPECT_FALSE(truth.InCollision(q)) << "target " << i << " is not clear";
    const Eigen::Isometry3d X = TipPose(chain, q);
    EXPECT_LT((X.translation() - targets.targets[i].p_BT).norm(), 1e-12);
  }
  const SolverSettings settings = Generous();
  const ClearSolver lm(MakeSolver("lm", chain, nullptr, settings), arm.World(), settings.pose, {});
  SolverSettings one = settings;
  one.pose.max_starts = 1;
  const CheckRestartSolver lm_check(MakeSolver("lm", chain, nullptr, one), &judge,
                                    settings.pose.timeout_seconds, 7);
  KdlOptions kdl = MoveItKdlOptions();
  kdl.max_attempts = 1;
  const CheckRestartSolver kdl_check(MakeKdlSolver(chain, KdlMethod::kNewtonRaphsonJlRestarts, kdl), &judge,
                                     0.05, 7);
  for (const Solver* solver : std::initializer_list<const Solver*>{&lm, &lm_check, &kdl_check}) {
    const ClearBenchRow row = BenchClearSolver(*solver, targets, judge, options);
    ExpectRowAgreesWithTruth(row, targets, chain, truth, options);
    // No solver here calls an answer in collision converged (ClearSolver verifies by FCL; the
    // baselines return only answers their check passed).
    EXPECT_EQ(row.converged_in_collision, 0) << row.solver;
    if (solver != &kdl_check) EXPECT_GE(row.successes, 29) << row.solver;  // with 0.5 s each
  }
}

TEST(ClearBench, PandaSelfAgreesWithIndependentChecks) { CheckBench("panda", false); }
TEST(ClearBench, Ur5SceneAgreesWithIndependentChecks) { CheckBench("ur5", true); }

// The baseline restarts until its check passes: with a checker that calls everything in
// collision it never converges, makes more than one attempt, and says `in collision` when an
// attempt reached the target.
class EverythingCollides final : public CollisionChecker {
 public:
  CollisionReport Check(const Eigen::Ref<const Eigen::VectorXd>&) const override {
    CollisionReport report;
    report.in_collision = true;
    return report;
  }
  bool InCollision(const Eigen::Ref<const Eigen::VectorXd>&) const override { return true; }
  const std::vector<std::string>& link_names() const override { return names_; }

 private:
  std::vector<std::string> names_;
};

TEST(ClearBench, BaselineRestartsUntilTheCheckPasses) {
  const Chain chain = Arm("panda", false).geometry.chain;
  const EverythingCollides checker;
  SolverSettings one;
  one.pose.max_starts = 1;
  const CheckRestartSolver solver(MakeSolver("lm", chain, nullptr, one), &checker, 0.02, 7);
  std::mt19937_64 rng(4);
  const Eigen::VectorXd q = testing::RandomConfiguration(chain, &rng);
  const Eigen::Isometry3d X = TipPose(chain, q);
  const SolveResult r = solver.Solve(IkTarget(X.translation(), Eigen::Quaterniond(X.linear())));
  EXPECT_EQ(r.status, SolveStatus::kInCollision) << ToString(r.status);
  EXPECT_GT(r.iterations, 1);  // attempts
  EXPECT_LT(r.error, 1e-9);
  EXPECT_THROW(CheckRestartSolver(nullptr, &checker, 0.005, 1), std::invalid_argument);
  EXPECT_THROW(CheckRestartSolver(MakeSolver("lm", chain, nullptr, one), &checker, -1, 1),
               std::invalid_argument);
}

TEST(ClearBench, RefusesBadOptionsAndImpossibleTargets) {
  const Chain chain = Arm("panda", false).geometry.chain;
  ClearBenchOptions options;
  options.count = -1;
  const EverythingCollides checker;
  EXPECT_THROW(MakeClearBenchTargets(chain, checker, options), std::invalid_argument);
  options.count = 2;
  options.success_angle = 0;
  EXPECT_THROW(MakeClearBenchTargets(chain, checker, options), std::invalid_argument);
  options.success_angle = 1e-5;
  EXPECT_THROW(MakeClearBenchTargets(chain, checker, options), std::runtime_error);  // nothing is clear
}

}  // namespace
}  // namespace deepik
