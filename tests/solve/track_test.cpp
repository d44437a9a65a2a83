// Smooth paths: the page's demo paths on the seed arm (through and beyond the reach) and a Panda
// line and circle of poses. A test fails if any step jumps more than its documented bound.
#include "deepik/solve/track.hpp"

#include <gtest/gtest.h>

#include <Eigen/Geometry>
#include <cmath>
#include <iostream>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "deepik/kinematics/builtin_arms.hpp"
#include "deepik/kinematics/fk.hpp"
#include "deepik/solve/solvers.hpp"
#include "test_util.hpp"

namespace deepik {
namespace {

constexpr double kPi = 3.14159265358979323846;

// web/js/demo.js's demoPoint, with r = the arm's reach.
Eigen::Vector3d DemoPoint(const std::string& kind, double t, double r) {
  if (kind == "circle") {
    const double radius = r * (0.65 + 0.5 * (0.5 + 0.5 * std::sin(0.37 * t)));
    return {radius * std::cos(t), radius * std::sin(t), 0.45 * r + 0.25 * r * std::sin(2 * t)};
  }
  return {1.2 * r * std::sin(t), 0.6 * r * std::sin(2 * t), 0.6 * r + 0.4 * r * std::cos(t)};
}

// The largest joint change computed independently of MaxJointStep: full-turn joints through
// atan2 of the sine and cosine of the difference.
double IndependentStep(const Chain& chain, const Eigen::VectorXd& a, const Eigen::VectorXd& b) {
  double largest = 0;
  for (int j = 0; j < chain.num_joints(); ++j) {
    double d = a[j] - b[j];
    if (chain.joint(j).upper - chain.joint(j).lower >= 2 * kPi - 1e-9)
      d = std::atan2(std::sin(d), std::cos(d));
    largest = std::max(largest, std::abs(d));
  }
  return largest;
}

// Every row: within the limits; a step within its bound (recomputed here from the targets and
// the previous row's FK); a tracked row reaches its target by FK.
void ExpectNoJumps(const Chain& chain, const std::vector<IkTarget>& path,
                   const std::vector<TrackPoint>& points, const TrackOptions& options,
                   const std::string& name) {
  ASSERT_EQ(points.size(), path.size());
  for (size_t i = 0; i < points.size(); ++i) {
    const Eigen::VectorXd& q = points[i].result.q;
    ASSERT_TRUE(chain.WithinLimits(q)) << name << " row " << i;
    const Eigen::Isometry3d X = TipPose(chain, q);
    if (points[i].status == TrackStatus::kTracked) {
      EXPECT_LE((X.translation() - path[i].p_BT).norm(), 1e-8) << name << " row " << i;
      if (path[i].Q_BT) {
        EXPECT_LE(Eigen::AngleAxisd(path[i].Q_BT->toRotationMatrix().transpose() * X.linear()).angle(), 1e-8)
            << name << " row " << i;
      }
    }
    if (i == 0) continue;
    const Eigen::Isometry3d X_prev = TipPose(chain, points[i - 1].result.q);
    double s = (path[i].p_BT - X_prev.translation()).norm() / chain.reach();
    if (path[i].Q_BT)
      s += Eigen::AngleAxisd(path[i].Q_BT->toRotationMatrix().transpose() * X_prev.linear()).angle();
    const double bound = options.step_ratio * s + options.step_floor;
    const double step = IndependentStep(chain, q, points[i - 1].result.q);
    EXPECT_LE(step, bound * (1 + 1e-6) + 1e-12) << name << " row " << i << " jumps";
    EXPECT_NEAR(step, points[i].joint_step, 1e-12) << name << " row " << i;
  }
}

void Report(const std::string& name, const std::vector<TrackPoint>& points) {
  const TrackSummary s = SummarizeTrack(points);
  std::cout << name << ": " << s.rows << " rows, " << s.tracked << " tracked, " << s.out_of_reach
            << " out of reach, " << s.reconfigurations << " reconfigurations (" << s.reconfiguration_rows
            << " rows), largest joint step " << s.max_joint_step << " rad, largest step/bound "
            << s.max_step_ratio << "\n";
}

class SeedDemoPath : public ::testing::TestWithParam<std::string> {};

TEST_P(SeedDemoPath, NeverJumpsAndFlagsTheRowsBeyondTheReach) {
  const Chain chain = MakeSeedArm();
  const double r = chain.reach();
  const std::string kind = GetParam();
  const double period = kind == "circle" ? 2 * kPi / 0.37 : 2 * kPi;
  std::vector<IkTarget> path;
  for (double t = 0; t < period; t += 0.01) path.emplace_back(DemoPoint(kind, t, r));
  const std::unique_ptr<Solver> lm = MakeSolver("lm", chain, nullptr, SolverSettings{});
  const TrackOptions options;
  const std::vector<TrackPoint> points = TrackPath(*lm, path, SolverSettings{}, options);
  ExpectNoJumps(chain, path, points, options, kind);
  Report("seed " + kind, points);
  // The reachable set of the seed arm (1 m links, elbow pitch within +-135 deg): distances from
  // the base between 2 cos(135 deg / 2) (the inner hollow) and 2 m; these paths stay above the
  // base, where the shoulder's hemisphere is no constraint.
  const double r_min = 2 * std::cos(0.5 * 135 * kPi / 180);
  int beyond = 0, tracked_inside = 0, inside = 0;
  for (size_t i = 0; i < path.size(); ++i) {
    const double d = path[i].p_BT.norm();
    if (d > r + 1e-9 || d < r_min - 1e-9) {
      ++beyond;
      EXPECT_EQ(points[i].status, TrackStatus::kOutOfReach) << kind << " row " << i;
    } else if (d < r - 1e-3 && d > r_min + 1e-3) {
      ++inside;
      tracked_inside += points[i].status == TrackStatus::kTracked;
    }
  }
  EXPECT_GT(beyond, 0) << "the path must leave the reach";
  // Inside the reach the seed arm follows these paths on one branch almost everywhere.
  EXPECT_GE(tracked_inside, 0.95 * inside);
}

INSTANTIATE_TEST_SUITE_P(Demo, SeedDemoPath, ::testing::Values("circle", "eight"));

// A Panda line and circle of poses at a constant orientation, around the pose of a comfortable
// configuration: tracked at every row, without a jump.
TEST(TrackPanda, LineAndCircleOfPoses) {
  const Chain chain = MakePanda();
  Eigen::VectorXd q_ref(7);
  q_ref << 0.0, -0.3, 0.0, -2.2, 0.0, 2.0, 0.8;
  const Eigen::Isometry3d X_ref = TipPose(chain, q_ref);
  const Eigen::Quaterniond Q(X_ref.linear());
  SolverSettings settings;
  settings.pose.timeout_seconds = 0.05;
  const std::unique_ptr<Solver> lm = MakeSolver("lm", chain, nullptr, settings);
  const TrackOptions options;
  std::vector<IkTarget> line, circle;
  for (int i = 0; i <= 200; ++i) {
    line.emplace_back(X_ref.translation() + Eigen::Vector3d(0, -0.25 + 0.5 * i / 200.0, 0.1 * i / 200.0), Q);
  }
  for (int i = 0; i <= 300; ++i) {
    const double a = 2 * kPi * i / 300.0;
    circle.emplace_back(X_ref.translation() + 0.15 * Eigen::Vector3d(std::cos(a) - 1, std::sin(a), 0), Q);
  }
  for (const auto& [name, path] :
       {std::make_pair("panda line", line), std::make_pair("panda circle", circle)}) {
    const std::vector<TrackPoint> points = TrackPath(*lm, path, settings, options, &q_ref);
    ExpectNoJumps(chain, path, points, options, name);
    Report(name, points);
    EXPECT_EQ(SummarizeTrack(points).tracked, static_cast<int>(path.size())) << name;
  }
}

// Two targets far apart on a path of two rows: the bound grows with the target step, so a large
// step is allowed; a tiny target step with a forced branch change is not, and the row holds.
TEST(TrackPath, HoldsInsteadOfJumping) {
  const Chain chain = MakeSeedArm();
  const std::unique_ptr<Solver> lm = MakeSolver("lm", chain, nullptr, SolverSettings{});
  // Straight up, then the same point: any solution works, and the warm start stays put.
  const Eigen::Vector3d p(0.5, 0.3, 1.2);
  std::vector<IkTarget> path = {IkTarget(p), IkTarget(p)};
  TrackOptions options;
  std::vector<TrackPoint> points = TrackPath(*lm, path, SolverSettings{}, options);
  EXPECT_EQ(points[1].status, TrackStatus::kTracked);
  EXPECT_LE(points[1].joint_step, options.step_floor);
  // A bound too tight to follow a 10 cm move: the row holds the previous q and says so.
  path[1] = IkTarget(p + Eigen::Vector3d(0.1, 0, 0));
  options.step_ratio = 1e-3;
  options.step_floor = 0;
  points = TrackPath(*lm, path, SolverSettings{}, options);
  EXPECT_EQ(points[1].status, TrackStatus::kReconfiguration);
  EXPECT_EQ(points[1].joint_step, 0.0);
  EXPECT_EQ(points[1].result.q, points[0].result.q);
  EXPECT_NEAR(points[1].result.error, 0.1, 1e-9);
  // Out of reach: the closest point, reached continuously.
  path[1] = IkTarget(Eigen::Vector3d(2.5, 0, 0.5));
  points = TrackPath(*lm, path, SolverSettings{}, TrackOptions{});
  EXPECT_EQ(points[1].status, TrackStatus::kOutOfReach);
  EXPECT_NEAR(points[1].result.error, Eigen::Vector3d(2.5, 0, 0.5).norm() - chain.reach(), 1e-6);
}

// A path tracked in two calls, the second continued from the first's last q, never jumps at the
// seam either: its row 0 keeps the bound measured from that q (checked as a path whose row -1 is
// the first part's last row), and it follows the same branch as the path tracked in one call.
TEST(TrackPath, ContinuesWhereAnEarlierTrackEnded) {
  const Chain chain = MakeSeedArm();
  const std::unique_ptr<Solver> lm = MakeSolver("lm", chain, nullptr, SolverSettings{});
  std::vector<IkTarget> path;
  for (double t = 0; t < 2 * kPi; t += 0.02) path.emplace_back(DemoPoint("eight", t, chain.reach()));
  const std::vector<TrackPoint> whole = TrackPath(*lm, path, SolverSettings{}, TrackOptions{});
  // The seam: the first row after a third of the path where both sides are tracked.
  size_t seam = path.size() / 3;
  while (seam + 1 < path.size() &&
         !(whole[seam - 1].status == TrackStatus::kTracked && whole[seam].status == TrackStatus::kTracked))
    ++seam;
  ASSERT_LT(seam + 1, path.size());
  const std::vector<IkTarget> first(path.begin(), path.begin() + seam),
      second(path.begin() + seam, path.end());
  const std::vector<TrackPoint> head = TrackPath(*lm, first, SolverSettings{}, TrackOptions{});
  TrackOptions continued;
  continued.continue_from_start = true;
  const Eigen::VectorXd last = head.back().result.q;
  const std::vector<TrackPoint> tail = TrackPath(*lm, second, SolverSettings{}, continued, &last);
  ASSERT_EQ(tail.size(), second.size());
  EXPECT_TRUE(std::isfinite(tail[0].step_bound));
  std::vector<IkTarget> seam_path = {path[seam - 1]};
  seam_path.insert(seam_path.end(), second.begin(), second.end());
  std::vector<TrackPoint> seam_points = {head.back()};
  seam_points.insert(seam_points.end(), tail.begin(), tail.end());
  ExpectNoJumps(chain, seam_path, seam_points, TrackOptions{}, "continued");
  for (size_t i = 0; i < tail.size(); ++i) {
    EXPECT_EQ(tail[i].status, whole[seam + i].status) << "row " << seam + i;
    EXPECT_LT(IndependentStep(chain, tail[i].result.q, whole[seam + i].result.q), 1e-6) << "row " << seam + i;
  }
  // Without continue_from_start, row 0 is solved afresh: no bound.
  EXPECT_TRUE(std::isinf(TrackPath(*lm, second, SolverSettings{}, TrackOptions{}, &last)[0].step_bound));
}

TEST(TrackPath, RefusesBadInput) {
  const Chain chain = MakeSeedArm();
  const std::unique_ptr<Solver> lm = MakeSolver("lm", chain, nullptr, SolverSettings{});
  const std::vector<IkTarget> path = {IkTarget(Eigen::Vector3d(1, 0, 1))};
  TrackOptions options;
  options.step_ratio = 0;
  EXPECT_THROW((void)TrackPath(*lm, path, SolverSettings{}, options), std::invalid_argument);
  const Eigen::VectorXd wrong = Eigen::VectorXd::Zero(2);
  EXPECT_THROW((void)TrackPath(*lm, path, SolverSettings{}, TrackOptions{}, &wrong), std::invalid_argument);
  EXPECT_TRUE(TrackPath(*lm, {}, SolverSettings{}).empty());
}

}  // namespace
}  // namespace deepik
