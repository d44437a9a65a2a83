// Collision-aware IK (issue 23): the sphere model's distance gradients against finite
// differences, and RefineClear on a folding toy arm and on panda among obstacles, with the exact
// check (FCL, deepik::geometry) as the independent judge.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "deepik/geometry/exact_checker.hpp"
#include "deepik/geometry/sphere_world.hpp"
#include "deepik/kinematics/fk.hpp"
#include "deepik/solve/collision_solver.hpp"
#include "test_util.hpp"

namespace deepik {
namespace {

using testing::RobotFile;

// Every sphere distance (activation: +inf) at q: the same pairs in the same order at every q.
Eigen::VectorXd AllDistances(const SphereWorld& world, const Eigen::VectorXd& q, Eigen::MatrixXd* gradients) {
  SphereWorld::Workspace workspace;
  Eigen::VectorXd d;
  Eigen::MatrixXd g;
  world.Proximities(q, std::numeric_limits<double>::infinity(), &workspace, &d, gradients ? gradients : &g);
  return d;
}

struct Panda {
  RobotGeometry geometry = LoadRobotGeometry(ArmSpec{"panda"}, {}, true);
  CollisionMatrix matrix = LoadCollisionMatrix(RobotFile("collision/panda.matrix.json"), geometry);
  SphereSet spheres = LoadSphereSet(RobotFile("collision/panda.spheres.json"), geometry);
  std::vector<std::pair<int, int>> pairs = CheckedPairs(geometry, &matrix);
};

TEST(SphereWorld, GradientsMatchFiniteDifferences) {
  const Panda panda;
  const SphereWorld world(panda.geometry, panda.spheres, panda.pairs,
                          LoadScene(RobotFile("scenes/table-boxes.json")), CollisionMode::kAll);
  std::mt19937_64 rng(5);
  for (int trial = 0; trial < 3; ++trial) {
    const Eigen::VectorXd q = testing::RandomConfiguration(panda.geometry.chain, &rng);
    Eigen::MatrixXd gradients;
    const Eigen::VectorXd d = AllDistances(world, q, &gradients);
    ASSERT_GT(d.size(), 1000);
    ASSERT_EQ(gradients.cols(), 7);
    const double h = 1e-6;
    for (int k = 0; k < 7; ++k) {
      Eigen::VectorXd plus = q, minus = q;
      plus[k] += h;
      minus[k] -= h;
      const Eigen::VectorXd fd =
          (AllDistances(world, plus, nullptr) - AllDistances(world, minus, nullptr)) / (2 * h);
      ASSERT_EQ(fd.size(), d.size());
      // Box fields have kinks (edges inside, faces meeting): compare where the difference is smooth.
      int compared = 0;
      for (Eigen::Index r = 0; r < d.size(); ++r) {
        if (std::abs(fd[r] - gradients(r, k)) < 1e-6) {
          ++compared;
        } else {
          ADD_FAILURE() << "row " << r << " joint " << k << ": analytic " << gradients(r, k) << ", finite "
                        << fd[r];
          if (compared < 0) break;
        }
      }
      EXPECT_EQ(compared, d.size());
    }
  }
}

// A planar arm folding back over its base: links b and c (0.5 m each) turn about z; c's end can
// reach the base's sphere a (radius 0.1) only when j2 nearly folds, and then it hits it.
constexpr const char* kFoldingUrdf = R"(<robot name="fold">
  <link name="a"><collision><geometry><sphere radius="0.1"/></geometry></collision></link>
  <link name="b"><collision><origin xyz="0.25 0 0.2"/><geometry><box size="0.5 0.04 0.04"/></geometry></collision></link>
  <link name="c"><collision><origin xyz="0.25 0 0"/><geometry><box size="0.5 0.04 0.04"/></geometry></collision></link>
  <link name="tip"/>
  <joint name="j1" type="revolute"><parent link="a"/><child link="b"/><origin xyz="0 0 0"/>
    <axis xyz="0 0 1"/><limit lower="-3.1" upper="3.1" effort="1" velocity="1"/></joint>
  <joint name="j2" type="revolute"><parent link="b"/><child link="c"/><origin xyz="0.5 0 0"/>
    <axis xyz="0 0 1"/><limit lower="-3.1" upper="3.1" effort="1" velocity="1"/></joint>
  <joint name="t" type="fixed"><parent link="c"/><child link="tip"/><origin xyz="0.5 0 0"/></joint>
</robot>)";

RobotGeometry WriteFolding(const testing::TempDir& dir) {
  testing::WriteBytes(dir.Path("fold.urdf"), kFoldingUrdf);
  return LoadRobotGeometry(ArmSpec{dir.Path("fold.urdf"), "a", "tip"}, {}, true);
}

struct Folding {
  explicit Folding(double sphere_scale) : geometry(WriteFolding(dir)) {
    spheres.links = {{"a", {Eigen::Vector4d(0, 0, 0, 0.1 * sphere_scale)}}, {"c", {}}};
    for (int i = 0; i <= 10; ++i) spheres.links[1].spheres.emplace_back(0.05 * i, 0, 0, 0.03 * sphere_scale);
  }
  testing::TempDir dir;
  RobotGeometry geometry;
  SphereSet spheres;
};

PoseRefineOptions Budget() {
  PoseRefineOptions pose;
  pose.timeout_seconds = 0.5;  // a generous budget: these tests judge answers, not speed
  pose.max_starts = 40;
  return pose;
}

TEST(RefineClear, TargetReachableOnlyInSelfCollisionIsInCollision) {
  const Folding arm(1.0);
  const auto pairs = CheckedPairs(arm.geometry, nullptr);  // a-c only: a-b and b-c are adjacent
  ASSERT_EQ(pairs.size(), 1u);
  const SphereWorld world(arm.geometry, arm.spheres, pairs, {}, CollisionMode::kSelf);
  const ExactChecker exact(arm.geometry, pairs);
  const IkTarget target(Eigen::Vector3d(0.05, 0, 0));
  const Eigen::VectorXd q0 = Eigen::Vector2d(0.3, 1.0);
  const SolveResult r = RefineClear(arm.geometry.chain, target, q0, Budget(), {}, world, &exact);
  EXPECT_EQ(r.status, SolveStatus::kInCollision) << ToString(r.status);
  EXPECT_LT(r.error, 1e-6);  // q reaches the target, in collision
  EXPECT_LT(r.collision_distance, 0.0);
  EXPECT_TRUE(exact.InCollision(r.q));
  // A target the arm reaches clear converges, by both checks.
  const SolveResult clear = RefineClear(arm.geometry.chain, IkTarget(Eigen::Vector3d(0.6, 0.3, 0)), q0,
                                        Budget(), {}, world, &exact);
  EXPECT_EQ(clear.status, SolveStatus::kConverged);
  EXPECT_FALSE(exact.InCollision(clear.q));
  SphereWorld::Workspace workspace;
  EXPECT_GT(world.MinDistance(clear.q, &workspace), 0.0);
  // At clearance 0 a converged answer is not measured (the exact check judged it).
  EXPECT_TRUE(std::isnan(clear.collision_distance));
}

TEST(RefineClear, PairsDisabledByTheMatrixAreIgnored) {
  const Folding arm(1.0);
  CollisionMatrix matrix;
  matrix.disabled.push_back({"a", "c", CollisionMatrix::Reason::kUser});
  const auto pairs = CheckedPairs(arm.geometry, &matrix);
  EXPECT_TRUE(pairs.empty());
  const SphereWorld world(arm.geometry, arm.spheres, pairs, {}, CollisionMode::kSelf);
  const ExactChecker exact(arm.geometry, pairs);
  const SolveResult r = RefineClear(arm.geometry.chain, IkTarget(Eigen::Vector3d(0.05, 0, 0)),
                                    Eigen::Vector2d(0.3, 1.0), Budget(), {}, world, &exact);
  EXPECT_EQ(r.status, SolveStatus::kConverged) << ToString(r.status);
  EXPECT_LT(r.error, 1e-9);
}

// Spheres shrunk to 30 %: the model calls the folded answer clear, the meshes do not.
TEST(RefineClear, VerifierCatchesAWrongSphereModel) {
  const Folding arm(0.3);
  const auto pairs = CheckedPairs(arm.geometry, nullptr);
  const SphereWorld world(arm.geometry, arm.spheres, pairs, {}, CollisionMode::kSelf);
  const ExactChecker exact(arm.geometry, pairs);
  const IkTarget target(Eigen::Vector3d(0.05, 0, 0));
  const Eigen::VectorXd q0 = Eigen::Vector2d(0.3, 1.0);
  // Without the verifier the wrong model's answer is called converged (so this test can fail)...
  const SolveResult trusting = RefineClear(arm.geometry.chain, target, q0, Budget(), {}, world, nullptr);
  ASSERT_EQ(trusting.status, SolveStatus::kConverged);
  EXPECT_TRUE(exact.InCollision(trusting.q));
  // ... with it, never.
  const SolveResult verified = RefineClear(arm.geometry.chain, target, q0, Budget(), {}, world, &exact);
  EXPECT_EQ(verified.status, SolveStatus::kInCollision) << ToString(verified.status);
  EXPECT_TRUE(exact.InCollision(verified.q));
}

TEST(RefineClear, PandaKeepsTheClearanceBesideAnObstacle) {
  const Panda panda;
  const Chain& chain = panda.geometry.chain;
  // A clear configuration's tip position, and a box 10 cm beside it (the hand around the tip is
  // about 8 cm across, so the hand must turn away from the box).
  Eigen::VectorXd q_goal(7);
  q_goal << 0.3, 0.4, 0.0, -1.6, 0.0, 2.0, 0.8;
  const Eigen::Vector3d p = TipPosition(chain, q_goal);
  Scene scene;
  Obstacle box;
  box.name = "beside";
  box.size = Eigen::Vector3d(0.1, 0.3, 0.3);
  box.X_BO.translation() = p + Eigen::Vector3d(0.10 + 0.05, 0, 0);
  scene.obstacles.push_back(box);
  const SphereWorld world(panda.geometry, panda.spheres, panda.pairs, scene, CollisionMode::kAll);
  const ExactChecker exact(panda.geometry, panda.pairs, {}, &scene);
  CollisionSolveOptions options;
  options.clearance = 0.01;
  const SolveResult r =
      RefineClear(chain, IkTarget(p), chain.mid_configuration(), Budget(), options, world, &exact);
  SphereWorld::Workspace workspace;
  ASSERT_EQ(r.status, SolveStatus::kConverged)
      << ToString(r.status) << " error " << r.error << " spheres " << world.MinDistance(r.q, &workspace)
      << " exact " << exact.Check(r.q).min_distance << " goal: spheres "
      << world.MinDistance(q_goal, &workspace) << " exact " << exact.Check(q_goal).min_distance << " link "
      << exact.Check(q_goal).link_a << "-" << exact.Check(q_goal).link_b;
  EXPECT_LT(r.error, 1e-9);
  EXPECT_GE(world.MinDistance(r.q, &workspace), options.clearance);
  EXPECT_GE(exact.Check(r.q).min_distance, options.clearance);
  EXPECT_DOUBLE_EQ(r.collision_distance, world.MinDistance(r.q, &workspace));
}

TEST(RefineClear, PandaTargetInsideAnObstacleIsInCollision) {
  const Panda panda;
  const Chain& chain = panda.geometry.chain;
  Scene scene;
  Obstacle ball;
  ball.shape = Obstacle::Shape::kSphere;
  ball.size = Eigen::Vector3d(0.12, 0, 0);
  ball.X_BO.translation() = Eigen::Vector3d(0.45, 0.2, 0.45);
  scene.obstacles.push_back(ball);
  const SphereWorld world(panda.geometry, panda.spheres, panda.pairs, scene, CollisionMode::kAll);
  const ExactChecker exact(panda.geometry, panda.pairs, {}, &scene);
  PoseRefineOptions budget = Budget();
  budget.max_starts = 8;
  const SolveResult r = RefineClear(chain, IkTarget(ball.X_BO.translation()), chain.mid_configuration(),
                                    budget, {}, world, &exact);
  EXPECT_EQ(r.status, SolveStatus::kInCollision) << ToString(r.status);
  EXPECT_LT(r.error, 1e-6);
  EXPECT_TRUE(exact.InCollision(r.q));
}

}  // namespace
}  // namespace deepik

namespace deepik {
namespace {

// FK targets of configurations clear by the exact check are reached clear; no converged answer collides.
TEST(RefineClear, PandaSelfClearTargetsConverge) {
  const Panda panda;
  const Chain& chain = panda.geometry.chain;
  const SphereWorld world(panda.geometry, panda.spheres, panda.pairs, {}, CollisionMode::kSelf);
  const ExactChecker exact(panda.geometry, panda.pairs);
  std::mt19937_64 rng(3);
  int converged = 0, targets = 0;
  // At most 20 seeded starts per target and time enough for them on any build (the sanitizers'
  // too): the outcome does not depend on the machine's speed.
  PoseRefineOptions budget = Budget();
  budget.max_starts = 20;
  budget.timeout_seconds = 10.0;
  while (targets < 20) {
    const Eigen::VectorXd q = testing::RandomConfiguration(chain, &rng);
    if (exact.InCollision(q)) continue;
    ++targets;
    const Eigen::Isometry3d X = TipPose(chain, q);
    for (const IkTarget& target :
         {IkTarget(X.translation()), IkTarget(X.translation(), Eigen::Quaterniond(X.linear()))}) {
      const SolveResult r = RefineClear(chain, target, chain.mid_configuration(), budget, {}, world, &exact);
      if (r.status == SolveStatus::kConverged) {
        ++converged;
        EXPECT_FALSE(exact.InCollision(r.q));
      }
    }
  }
  EXPECT_GE(converged, 38);
}

}  // namespace
}  // namespace deepik
