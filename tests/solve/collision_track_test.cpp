// Collision-aware tracking and several solutions (issue 23): TrackPath and SolveMany with a
// ClearSolver on panda among obstacles, judged independently: FK against the targets, the joint
// steps against their bound recomputed from the targets, and a second exact check (FCL) of every
// answer. Each test also runs the same work without collisions, to show the obstacle is in the way.
#include <gtest/gtest.h>

#include <Eigen/Geometry>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "deepik/geometry/exact_checker.hpp"
#include "deepik/geometry/sphere_world.hpp"
#include "deepik/kinematics/fk.hpp"
#include "deepik/solve/collision_solver.hpp"
#include "deepik/solve/many_solutions.hpp"
#include "deepik/solve/track.hpp"
#include "test_util.hpp"

namespace deepik {
namespace {

using testing::RobotFile;

struct Panda {
  RobotGeometry geometry = LoadRobotGeometry(ArmSpec{"panda"}, {}, true);
  CollisionMatrix matrix = LoadCollisionMatrix(RobotFile("collision/panda.matrix.json"), geometry);
  SphereSet spheres = LoadSphereSet(RobotFile("collision/panda.spheres.json"), geometry);
  std::vector<std::pair<int, int>> pairs = CheckedPairs(geometry, &matrix);
  const Chain& chain() const { return geometry.chain; }
};

// The "ready" posture of docs/BENCHMARKS.md's Panda line: the hand points down, the tip (the
// flange, panda_link8) at (0.474, 0, 0.516).
Eigen::VectorXd Ready() {
  Eigen::VectorXd q(7);
  q << 0, -0.3, 0, -2.2, 0, 2.0, 0.8;
  return q;
}

// 41 poses 1.25 cm apart: the ready tip pose moved from y = -0.25 to +0.25 m.
std::vector<IkTarget> Line(const Chain& chain) {
  const Eigen::Isometry3d X = TipPose(chain, Ready());
  std::vector<IkTarget> path;
  for (int i = 0; i <= 40; ++i) {
    path.emplace_back(X.translation() + Eigen::Vector3d(0, -0.25 + 0.0125 * i, 0),
                      Eigen::Quaterniond(X.linear()));
  }
  return path;
}

Obstacle Box(const Eigen::Vector3d& centre, double edge) {
  Obstacle box;
  box.name = "box";
  box.size = Eigen::Vector3d::Constant(edge);
  box.X_BO.translation() = centre;
  return box;
}

// The example scene's table (1 cm under the base) and one box.
Scene TableAnd(const Obstacle& box) {
  Scene scene;
  scene.obstacles.push_back(LoadScene(RobotFile("scenes/table-boxes.json")).obstacles.at(0));
  EXPECT_EQ(scene.obstacles[0].name, "table");
  scene.obstacles.push_back(box);
  return scene;
}

// A generous budget (the warm starts end long before it, on any build) and at most 8 starts per
// full search, so that the outcome does not depend on the machine's speed.
SolverSettings Settings() {
  SolverSettings settings;
  settings.pose.timeout_seconds = 20.0;
  settings.pose.max_starts = 8;
  return settings;
}

// lm made collision-aware among `scene` (self pairs and obstacles), as `--collisions all` does.
std::unique_ptr<ClearSolver> ClearLm(const Panda& panda, const Scene& scene, double clearance) {
  CollisionWorld world;
  world.spheres =
      std::make_unique<SphereWorld>(panda.geometry, panda.spheres, panda.pairs, scene, CollisionMode::kAll);
  world.exact = std::make_unique<ExactChecker>(panda.geometry, panda.pairs, MeshLimits{}, &scene);
  CollisionSolveOptions options;
  options.clearance = clearance;
  const SolverSettings settings = Settings();
  return std::make_unique<ClearSolver>(
      std::make_unique<LmSolver>(panda.chain(), settings.pose, settings.refine), std::move(world),
      settings.pose, options);
}

// True when q reaches the target within 1e-8 m and 1e-8 rad, by FK.
bool Reaches(const Chain& chain, const IkTarget& target, const Eigen::VectorXd& q) {
  const Eigen::Isometry3d X = TipPose(chain, q);
  const double angle = Eigen::AngleAxisd(target.Q_BT->toRotationMatrix().transpose() * X.linear()).angle();
  return (X.translation() - target.p_BT).norm() <= 1e-8 && angle <= 1e-8;
}

// Every row within the limits, clear by `judge` (a distance of at least `clearance`), and a step
// within the default bound recomputed from the targets and the previous row's FK (panda has no
// full-turn joint); every tracked row reaches its target.
void ExpectClearAndContinuous(const Chain& chain, const std::vector<IkTarget>& path,
                              const std::vector<TrackPoint>& points, const ExactChecker& judge,
                              double clearance) {
  ASSERT_EQ(points.size(), path.size());
  const TrackOptions defaults;
  for (size_t i = 0; i < points.size(); ++i) {
    const Eigen::VectorXd& q = points[i].result.q;
    ASSERT_TRUE(chain.WithinLimits(q)) << "row " << i;
    const CollisionReport report = judge.Check(q);
    EXPECT_FALSE(report.in_collision) << "row " << i << ": " << report.link_a << "-" << report.link_b;
    EXPECT_GE(report.min_distance, clearance) << "row " << i;
    if (points[i].status == TrackStatus::kTracked) EXPECT_TRUE(Reaches(chain, path[i], q)) << "row " << i;
    if (i == 0) continue;
    const Eigen::Isometry3d X = TipPose(chain, points[i - 1].result.q);
    const double s = (path[i].p_BT - X.translation()).norm() / chain.reach() +
                     Eigen::AngleAxisd(path[i].Q_BT->toRotationMatrix().transpose() * X.linear()).angle();
    const double bound = defaults.step_ratio * s + defaults.step_floor;
    EXPECT_LE((q - points[i - 1].result.q).cwiseAbs().maxCoeff(), bound * (1 + 1e-9)) << "row " << i;
  }
}

// A 10 cm box beside the line, where the upper arm sweeps: tracked without collisions, the arm
// passes through it at both ends; with them, every row is tracked clear with a 1 cm clearance.
TEST(CollisionTrack, PathBesideABoxStaysClearAndContinuous) {
  const Panda panda;
  const Chain& chain = panda.chain();
  const Scene scene = TableAnd(Box(Eigen::Vector3d(0.1, 0.0, 0.55), 0.1));
  const ExactChecker judge(panda.geometry, panda.pairs, MeshLimits{}, &scene);
  const std::vector<IkTarget> path = Line(chain);
  const Eigen::VectorXd q0 = Ready();
  const SolverSettings settings = Settings();

  const LmSolver lm(chain, settings.pose, settings.refine);
  const std::vector<TrackPoint> plain = TrackPath(lm, path, settings, {}, &q0);
  int plain_collisions = 0;
  for (const TrackPoint& point : plain) {
    EXPECT_EQ(point.status, TrackStatus::kTracked);
    plain_collisions += judge.InCollision(point.result.q);
  }
  EXPECT_GE(plain_collisions, 5);  // the control: the box is in the way
  std::cout << "lm without collisions: " << plain_collisions << " of " << plain.size()
            << " rows in collision (FCL)\n";

  constexpr double kClearance = 0.01;
  const std::unique_ptr<ClearSolver> clear = ClearLm(panda, scene, kClearance);
  const std::vector<TrackPoint> points = TrackPath(*clear, path, settings, {}, &q0);
  ExpectClearAndContinuous(chain, path, points, judge, kClearance);
  const TrackSummary summary = SummarizeTrack(points);
  EXPECT_EQ(summary.tracked, static_cast<int>(path.size()));
  EXPECT_EQ(summary.in_collision, 0);
  EXPECT_LE(summary.max_step_ratio, 1.0);
}

// A 4 cm box around the line's middle: the rows whose target lies inside it are reached only in
// collision. They are marked `in collision`, hold clear joints, and the path resumes beyond.
TEST(CollisionTrack, RowsInsideABoxAreMarkedInCollision) {
  const Panda panda;
  const Chain& chain = panda.chain();
  const std::vector<IkTarget> path = Line(chain);
  const Obstacle box = Box(path[20].p_BT, 0.04);
  const Scene scene = TableAnd(box);
  const ExactChecker judge(panda.geometry, panda.pairs, MeshLimits{}, &scene);
  const Eigen::VectorXd q0 = Ready();
  const SolverSettings settings = Settings();
  const auto inside = [&](const IkTarget& target) {
    return ((target.p_BT - box.X_BO.translation()).array().abs() < 0.02).all();
  };
  ASSERT_TRUE(inside(path[19]) && inside(path[20]) && inside(path[21]) && !inside(path[18]));

  // Without collisions the rows inside are tracked, in collision.
  const LmSolver lm(chain, settings.pose, settings.refine);
  const std::vector<TrackPoint> plain = TrackPath(lm, path, settings, {}, &q0);
  for (size_t i = 19; i <= 21; ++i) {
    EXPECT_EQ(plain[i].status, TrackStatus::kTracked) << "row " << i;
    EXPECT_TRUE(judge.InCollision(plain[i].result.q)) << "row " << i;
  }

  const std::unique_ptr<ClearSolver> clear = ClearLm(panda, scene, 0.0);
  const std::vector<TrackPoint> points = TrackPath(*clear, path, settings, {}, &q0);
  ExpectClearAndContinuous(chain, path, points, judge, 0.0);
  int in_collision = 0;
  for (size_t i = 0; i < points.size(); ++i) {
    if (inside(path[i])) {
      EXPECT_EQ(points[i].status, TrackStatus::kInCollision) << "row " << i;
      EXPECT_EQ(points[i].result.status, SolveStatus::kInCollision) << "row " << i;
    }
    EXPECT_TRUE(points[i].status == TrackStatus::kTracked || points[i].status == TrackStatus::kInCollision)
        << "row " << i << ": " << ToString(points[i].status);
    in_collision += points[i].status == TrackStatus::kInCollision;
  }
  EXPECT_EQ(points.front().status, TrackStatus::kTracked);
  EXPECT_EQ(points.back().status, TrackStatus::kTracked);  // resumed beyond the box
  EXPECT_EQ(SummarizeTrack(points).in_collision, in_collision);
  EXPECT_STREQ(ToString(TrackStatus::kInCollision), "in collision");
}

// --solutions K with collisions (SolveMany with a ClearSolver): K distinct answers, each reaching
// the pose and clear by the second exact check; lm alone finds some of its K in collision.
TEST(CollisionTrack, SeveralSolutionsAreEachClear) {
  const Panda panda;
  const Chain& chain = panda.chain();
  const Scene scene = TableAnd(Box(Eigen::Vector3d(0.1, 0.0, 0.55), 0.1));
  const ExactChecker judge(panda.geometry, panda.pairs, MeshLimits{}, &scene);
  const IkTarget target = Line(chain).back();
  const SolverSettings settings = Settings();
  ManySolutionsOptions many;
  many.solutions = 8;

  const LmSolver lm(chain, settings.pose, settings.refine);
  int plain_collisions = 0;
  for (const SolveResult& r : SolveMany(lm, target, many, settings).solutions)
    plain_collisions += judge.InCollision(r.q);
  EXPECT_GE(plain_collisions, 1);  // the control

  constexpr double kClearance = 0.005;
  const std::unique_ptr<ClearSolver> clear = ClearLm(panda, scene, kClearance);
  const ManySolutions found = SolveMany(*clear, target, many, settings);
  ASSERT_EQ(found.solutions.size(), 8u);
  for (size_t k = 0; k < found.solutions.size(); ++k) {
    const SolveResult& r = found.solutions[k];
    EXPECT_EQ(r.status, SolveStatus::kConverged) << "solution " << k;
    EXPECT_TRUE(chain.WithinLimits(r.q)) << "solution " << k;
    EXPECT_TRUE(Reaches(chain, target, r.q)) << "solution " << k;
    const CollisionReport report = judge.Check(r.q);
    EXPECT_FALSE(report.in_collision) << "solution " << k;
    EXPECT_GE(report.min_distance, kClearance) << "solution " << k;
    for (size_t l = 0; l < k; ++l)
      EXPECT_GE((r.q - found.solutions[l].q).norm(), many.min_distance) << "solutions " << l << ", " << k;
  }
}

}  // namespace
}  // namespace deepik
