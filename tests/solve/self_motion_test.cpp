// The self-motion coverage metric against closed forms: on the seed arm, a horizontal target's
// elbow circle is feasible exactly on its upper half (the shoulder pitch limit is 90 deg), a
// vertical target's all around; configurations built from a known elbow angle fall in its bin and
// branch; the Panda sweep finds the bin of a known solution.
#include "deepik/solve/self_motion.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <stdexcept>

#include "deepik/kinematics/builtin_arms.hpp"
#include "deepik/kinematics/fk.hpp"
#include "test_util.hpp"

namespace deepik {
namespace {

constexpr double kPi = 3.14159265358979323846;

// The seed-arm configuration (L1 = L2 = 1) whose elbow sits at `elbow` and whose tip reaches
// `p`, built independently of self_motion.cpp: q0, q1 from the elbow's direction, q2, q3 from the
// forearm's direction in the upper arm's frame.
Eigen::VectorXd SeedConfiguration(const Eigen::Vector3d& elbow, const Eigen::Vector3d& p) {
  Eigen::VectorXd q(4);
  q[0] = std::atan2(elbow.y(), elbow.x());
  q[1] = std::acos(elbow.z());
  const Eigen::Matrix3d R1 =
      (Eigen::AngleAxisd(q[0], Eigen::Vector3d::UnitZ()) * Eigen::AngleAxisd(q[1], Eigen::Vector3d::UnitY()))
          .toRotationMatrix();
  const Eigen::Vector3d d = R1.transpose() * (p - elbow);  // unit length
  q[2] = std::atan2(d.y(), d.x());
  q[3] = std::acos(std::clamp(d.z(), -1.0, 1.0));
  return q;
}

TEST(SeedArmSelfMotion, HorizontalTargetIsFeasibleOnTheUpperHalfOfTheCircle) {
  const Chain chain = MakeSeedArm();
  // Axis x, "up" = z: the elbow's height is r cos(phi), >= 0 exactly for phi in [-90, 90] deg,
  // i.e. bins 9..26 of 36 (bin b spans [-180 + 10 b, -170 + 10 b) deg), in all four branches.
  const SelfMotionCells cells = SeedArmSelfMotionCells(chain, Eigen::Vector3d(1.2, 0, 0), 36);
  ASSERT_EQ(cells.feasible.size(), 144u);
  EXPECT_EQ(cells.FeasibleCount(), 4 * 18);
  for (int branch = 0; branch < 4; ++branch) {
    for (int bin = 0; bin < 36; ++bin) {
      EXPECT_EQ(cells.feasible[static_cast<size_t>(branch * 36 + bin)], bin >= 9 && bin <= 26)
          << "branch " << branch << " bin " << bin;
    }
  }
}

TEST(SeedArmSelfMotion, VerticalTargetIsFeasibleAllAroundAndUnreachableNowhere) {
  const Chain chain = MakeSeedArm();
  // The elbow circle of (0, 0, 1.5) is horizontal at height 0.75: shoulder pitch acos(0.75) = 41 deg.
  EXPECT_EQ(SeedArmSelfMotionCells(chain, Eigen::Vector3d(0, 0, 1.5), 36).FeasibleCount(), 144);
  EXPECT_EQ(SeedArmSelfMotionCells(chain, Eigen::Vector3d(0, 0, 2.5), 36).FeasibleCount(), 0);
  // |p| = 0.5: the bend would be 151 deg > 135: out of reach (the inner hollow).
  EXPECT_EQ(SeedArmSelfMotionCells(chain, Eigen::Vector3d(0.5, 0, 0), 36).FeasibleCount(), 0);
}

TEST(SeedArmSelfMotion, ConfigurationsFallInTheirElbowAngleBinAndBranch) {
  const Chain chain = MakeSeedArm();
  const Eigen::Vector3d p(1.2, 0, 0);
  const SelfMotionCells cells = SeedArmSelfMotionCells(chain, p, 36);
  // The elbow circle of p: centre 0.6 along x, radius 0.8, in the plane x = 0.6; up = z, side = x
  // cross z = -y.
  for (const double phi_deg : {-85.0, -45.0, 5.0, 35.0, 89.0}) {
    const double phi = phi_deg * kPi / 180;
    const Eigen::Vector3d elbow(0.6, -0.8 * std::sin(phi), 0.8 * std::cos(phi));
    const Eigen::VectorXd q = SeedConfiguration(elbow, p);
    ASSERT_LE((TipPosition(chain, q) - p).norm(), 1e-12) << phi_deg;
    ASSERT_TRUE(chain.WithinLimits(q)) << phi_deg;
    const int bin = static_cast<int>(std::floor((phi_deg + 180) / 10));
    EXPECT_EQ(SeedArmSelfMotionCell(chain, p, q, 36), bin) << phi_deg;  // branch 0: q1, q3 >= 0
    // The same elbow the other way round: q0 + pi, -q1 turns the upper arm's frame by pi about
    // its axis, which q2 + pi undoes (branch 1); then q2 + pi, -q3 flips the elbow (branch 3).
    Eigen::VectorXd other = q;
    other[0] = std::remainder(q[0] + kPi, 2 * kPi);
    other[1] = -q[1];
    other[2] = std::remainder(q[2] + kPi, 2 * kPi);
    ASSERT_LE((TipPosition(chain, other) - p).norm(), 1e-12);
    EXPECT_EQ(SeedArmSelfMotionCell(chain, p, other, 36), 36 + bin) << phi_deg;
    other[2] = q[2];
    other[3] = -q[3];
    ASSERT_LE((TipPosition(chain, other) - p).norm(), 1e-12);
    EXPECT_EQ(SeedArmSelfMotionCell(chain, p, other, 36), 3 * 36 + bin) << phi_deg;
    EXPECT_TRUE(cells.feasible[static_cast<size_t>(bin)]);
  }
}

TEST(SeedArmSelfMotion, CoverageCountsDistinctFeasibleCells) {
  const SelfMotionCells cells = SeedArmSelfMotionCells(MakeSeedArm(), Eigen::Vector3d(1.2, 0, 0), 36);
  // 72 feasible cells; bin 20 is feasible, bin 0 (phi = -180 deg, the elbow below) is not.
  EXPECT_DOUBLE_EQ(cells.Coverage({20, 20, 0, -1}), 1.0 / 72);
  EXPECT_DOUBLE_EQ(cells.Coverage({}), 0.0);
  std::vector<int> all;
  for (int c = 0; c < 144; ++c) all.push_back(c);
  EXPECT_DOUBLE_EQ(cells.Coverage(all), 1.0);
}

TEST(SeedArmSelfMotion, RefusesOtherArmsAndBadBins) {
  EXPECT_THROW((void)SeedArmSelfMotionCells(MakePanda(), Eigen::Vector3d(0.5, 0, 0.5), 36),
               std::invalid_argument);
  EXPECT_THROW((void)SeedArmSelfMotionCells(MakeSeedArm(), Eigen::Vector3d(1, 0, 0), 0),
               std::invalid_argument);
  EXPECT_THROW((void)JointBinCell(MakePanda(), 7, 36, Eigen::VectorXd::Zero(7)), std::invalid_argument);
}

TEST(JointBinSelfMotion, PandaSweepFindsTheBinOfAKnownSolution) {
  const Chain chain = MakePanda();
  std::mt19937_64 rng(5);
  for (int t = 0; t < 3; ++t) {
    const Eigen::VectorXd q = testing::RandomConfiguration(chain, &rng);
    const Eigen::Isometry3d X = TipPose(chain, q);
    const IkTarget target(X.translation(), Eigen::Quaterniond(X.linear()));
    const SelfMotionCells cells = JointBinCells(chain, target, 6, 12, 30, 9);
    const int bin = JointBinCell(chain, 6, 12, q);
    EXPECT_TRUE(cells.feasible[static_cast<size_t>(bin)]) << "target " << t << ", bin " << bin;
    EXPECT_GE(cells.FeasibleCount(), 1);
    EXPECT_DOUBLE_EQ(cells.Coverage({bin}), 1.0 / cells.FeasibleCount());
  }
}

}  // namespace
}  // namespace deepik
