// Forward kinematics, Jacobian and Chain validation, checked against closed forms and finite
// differences.
#include "deepik/kinematics/fk.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "deepik/kinematics/builtin_arms.hpp"
#include "deepik/kinematics/chain.hpp"
#include "test_util.hpp"

namespace deepik {
namespace {

using testing::RandomConfiguration;

constexpr double kPi = 3.14159265358979323846;

Eigen::Matrix3d Rz(double angle) {
  return Eigen::AngleAxisd(angle, Eigen::Vector3d::UnitZ()).toRotationMatrix();
}
Eigen::Matrix3d Ry(double angle) {
  return Eigen::AngleAxisd(angle, Eigen::Vector3d::UnitY()).toRotationMatrix();
}

/// DESIGN.md's closed form of the seed arm: p = R1*(0,0,L1) + R1*R2*(0,0,L2), Ri = Rz(yaw_i)*Ry(pitch_i).
Eigen::Vector3d SeedClosedForm(const Eigen::VectorXd& q, double l1, double l2) {
  const Eigen::Matrix3d R1 = Rz(q[0]) * Ry(q[1]);
  const Eigen::Matrix3d R2 = Rz(q[2]) * Ry(q[3]);
  return R1 * Eigen::Vector3d(0, 0, l1) + R1 * R2 * Eigen::Vector3d(0, 0, l2);
}

/// The message of the std::invalid_argument that `make` throws, or "" if it throws none.
template <typename F>
std::string InvalidArgumentMessage(F make) {
  try {
    make();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// ---------------------------------------------------------------------------------------------
// Seed arm and planar2 against their closed forms.

TEST(SeedArmFk, MatchesClosedFormOnRandomConfigurations) {
  SeedArmOptions options;
  options.link1_length = 0.7;
  options.link2_length = 1.3;
  options.shoulder_pitch_limit_deg = 120.0;
  options.elbow_pitch_limit_deg = 150.0;
  const Chain chain = MakeSeedArm(options);
  ASSERT_EQ(chain.num_joints(), 4);
  EXPECT_NEAR(chain.joint(1).upper, 120.0 * kPi / 180.0, 1e-15);
  EXPECT_NEAR(chain.joint(3).lower, -150.0 * kPi / 180.0, 1e-15);

  std::mt19937 rng(20240601);
  for (int trial = 0; trial < 1000; ++trial) {
    const Eigen::VectorXd q = RandomConfiguration(chain, &rng);
    const Eigen::Vector3d expected = SeedClosedForm(q, 0.7, 1.3);
    const Eigen::Vector3d actual = TipPosition(chain, q);
    ASSERT_LT((actual - expected).norm(), 1e-12) << "q = " << q.transpose();
  }
}

TEST(SeedArmFk, HandCheckedConfigurations) {
  const Chain chain = MakeSeedArm();
  EXPECT_EQ(chain.joint(0).name, "shoulder_yaw");
  EXPECT_EQ(chain.joint(1).name, "shoulder_pitch");
  EXPECT_EQ(chain.joint(2).name, "elbow_yaw");
  EXPECT_EQ(chain.joint(3).name, "elbow_pitch");

  Eigen::VectorXd q = Eigen::VectorXd::Zero(4);
  EXPECT_LT((TipPosition(chain, q) - Eigen::Vector3d(0, 0, 2)).norm(), 1e-15);

  q[1] = kPi / 2;  // shoulder_pitch = 90 deg: the whole arm lies along +x
  EXPECT_LT((TipPosition(chain, q) - Eigen::Vector3d(2, 0, 0)).norm(), 1e-15);

  q.setZero();
  q[3] = kPi / 2;  // elbow_pitch = 90 deg: link 1 up, link 2 along +x
  EXPECT_LT((TipPosition(chain, q) - Eigen::Vector3d(1, 0, 1)).norm(), 1e-15);

  q[0] = kPi / 2;  // and the shoulder yawed by 90 deg: link 2 along +y
  EXPECT_LT((TipPosition(chain, q) - Eigen::Vector3d(0, 1, 1)).norm(), 1e-15);

  EXPECT_DOUBLE_EQ(chain.reach(), 2.0);
}

TEST(Planar2Fk, MatchesClosedForm) {
  const double l1 = 0.8, l2 = 0.45;
  const Chain chain = MakePlanar2(l1, l2);
  std::mt19937 rng(7);
  for (int trial = 0; trial < 1000; ++trial) {
    const Eigen::VectorXd q = RandomConfiguration(chain, &rng);
    const Eigen::Vector3d expected(l1 * std::cos(q[0]) + l2 * std::cos(q[0] + q[1]),
                                   l1 * std::sin(q[0]) + l2 * std::sin(q[0] + q[1]), 0.0);
    ASSERT_LT((TipPosition(chain, q) - expected).norm(), 1e-12) << "q = " << q.transpose();
    // The tip's heading is q1 + q2 about z.
    ASSERT_LT(RotationAngleBetween(TipPose(chain, q).linear(), Rz(q[0] + q[1])), 1e-12);
  }
}

// ---------------------------------------------------------------------------------------------
// Jacobian against central finite differences on every built-in arm.

// Step h = 1e-6 (rad or m). The central difference has a truncation error ~h^2 * |d3 FK| ~ 1e-12
// and a rounding error ~eps * reach / h ~ 1e-10, so 1e-7 leaves a wide margin.
constexpr double kFdStep = 1e-6;
constexpr double kFdTolerance = 1e-7;

Matrix6Xd FiniteDifferenceJacobian(const Chain& chain, const Eigen::VectorXd& q) {
  Matrix6Xd J(6, chain.num_joints());
  for (int i = 0; i < chain.num_joints(); ++i) {
    Eigen::VectorXd q_plus = q, q_minus = q;
    q_plus[i] += kFdStep;
    q_minus[i] -= kFdStep;
    const Eigen::Isometry3d X_plus = TipPose(chain, q_plus);
    const Eigen::Isometry3d X_minus = TipPose(chain, q_minus);
    J.col(i).head<3>() = (X_plus.translation() - X_minus.translation()) / (2 * kFdStep);
    // R(q+h) R(q-h)^T = exp([w]x * 2h) with w the angular velocity in the base frame.
    const Eigen::AngleAxisd delta(X_plus.linear() * X_minus.linear().transpose());
    J.col(i).tail<3>() = delta.angle() * delta.axis() / (2 * kFdStep);
  }
  return J;
}

class JacobianTest : public ::testing::TestWithParam<std::string> {};

TEST_P(JacobianTest, MatchesCentralFiniteDifferences) {
  const Chain chain = MakeBuiltinArm(GetParam());
  std::mt19937 rng(12345);
  for (int trial = 0; trial < 200; ++trial) {
    const Eigen::VectorXd q = RandomConfiguration(chain, &rng);
    const Matrix6Xd J = TipJacobian(chain, q);
    const Matrix6Xd J_fd = FiniteDifferenceJacobian(chain, q);
    ASSERT_LT((J - J_fd).cwiseAbs().maxCoeff(), kFdTolerance) << "q = " << q.transpose() << "\nJ =\n"
                                                              << J << "\nJ_fd =\n"
                                                              << J_fd;
    // The in-place form gives the same numbers.
    Matrix6Xd J_in_place(6, chain.num_joints());
    TipJacobian(chain, q, J_in_place);
    ASSERT_TRUE(J_in_place == J);
    // The one-walk pose and Jacobian: the same Jacobian and TipPose's pose.
    Eigen::Isometry3d X_BT;
    Matrix6Xd J_with_pose(6, chain.num_joints());
    TipPoseAndJacobian(chain, q, &X_BT, J_with_pose);
    ASSERT_TRUE(J_with_pose == J);
    ASSERT_TRUE(X_BT.matrix() == TipPose(chain, q).matrix());
  }
}

INSTANTIATE_TEST_SUITE_P(BuiltinArms, JacobianTest, ::testing::ValuesIn(BuiltinArmNames()),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

TEST(Jacobian, PrismaticJointColumn) {
  Joint slide;
  slide.name = "slide";
  slide.type = JointType::kPrismatic;
  slide.axis_J = Eigen::Vector3d(0, 0.6, 0.8);
  slide.lower = -0.5;
  slide.upper = 0.5;
  Joint turn;
  turn.name = "turn";
  turn.X_PJ.translation() = Eigen::Vector3d(0.1, 0.2, 0.3);
  turn.axis_J = Eigen::Vector3d::UnitX();
  turn.lower = -kPi;
  turn.upper = kPi;
  Eigen::Isometry3d X_LT = Eigen::Isometry3d::Identity();
  X_LT.translation() = Eigen::Vector3d(0, 0.4, 0);
  const Chain chain("slider", {slide, turn}, X_LT);
  std::mt19937 rng(99);
  for (int trial = 0; trial < 100; ++trial) {
    const Eigen::VectorXd q = RandomConfiguration(chain, &rng);
    ASSERT_LT((TipJacobian(chain, q) - FiniteDifferenceJacobian(chain, q)).cwiseAbs().maxCoeff(),
              kFdTolerance);
  }
  EXPECT_NEAR(chain.reach(), 0.5 + Eigen::Vector3d(0.1, 0.2, 0.3).norm() + 0.4, 1e-15);
}

// ---------------------------------------------------------------------------------------------
// Joint frames.

TEST(JointFrames, LastIsTipAndEachFrameMatchesTheTruncatedChain) {
  std::mt19937 rng(2024);
  for (const std::string& name : BuiltinArmNames()) {
    const Chain chain = MakeBuiltinArm(name);
    std::vector<Eigen::Isometry3d> X_BF;
    for (int trial = 0; trial < 50; ++trial) {
      const Eigen::VectorXd q = RandomConfiguration(chain, &rng);
      JointFrames(chain, q, &X_BF);
      ASSERT_EQ(static_cast<int>(X_BF.size()), chain.num_joints() + 1) << name;
      const Eigen::Isometry3d X_BT = TipPose(chain, q);
      ASSERT_LT((X_BF.back().matrix() - X_BT.matrix()).cwiseAbs().maxCoeff(), 1e-14) << name;
      // The last joint's frame carries the tip offset.
      ASSERT_LT(((X_BF[X_BF.size() - 2] * chain.X_LT()).matrix() - X_BT.matrix()).cwiseAbs().maxCoeff(),
                1e-14)
          << name;
      for (int i = 0; i < chain.num_joints(); ++i) {
        // Frame i is the tip of the chain cut after joint i (an independent route through TipPose).
        const std::vector<Joint> head(chain.joints().begin(), chain.joints().begin() + i + 1);
        const Chain truncated(chain.name() + "_head", head);
        const Eigen::Isometry3d X_BC = TipPose(truncated, q.head(i + 1));
        ASSERT_LT((X_BF[static_cast<size_t>(i)].matrix() - X_BC.matrix()).cwiseAbs().maxCoeff(), 1e-14)
            << name << " frame " << i;
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Chain validation.

Joint ValidJoint(const std::string& name) {
  Joint joint;
  joint.name = name;
  joint.lower = -1.0;
  joint.upper = 1.0;
  return joint;
}

TEST(ChainConstructor, AcceptsAValidChain) {
  const Chain chain("ok", {ValidJoint("a"), ValidJoint("b")});
  EXPECT_EQ(chain.name(), "ok");
  EXPECT_EQ(chain.num_joints(), 2);
  EXPECT_TRUE(chain.WithinLimits(Eigen::Vector2d(0.5, -1.0)));
  EXPECT_FALSE(chain.WithinLimits(Eigen::Vector2d(0.5, -1.1)));
  EXPECT_TRUE(chain.WithinLimits(Eigen::Vector2d(0.5, -1.1), 0.2));
  EXPECT_FALSE(chain.WithinLimits(Eigen::Vector2d(std::nan(""), 0.0)));
  EXPECT_FALSE(chain.WithinLimits(Eigen::Vector3d::Zero()));
  EXPECT_TRUE(chain.mid_configuration().isZero(0.0));
}

TEST(ChainConstructor, RejectsLowerAboveUpper) {
  Joint bad = ValidJoint("elbow");
  bad.lower = 1.0;
  bad.upper = 0.5;
  const std::string message = InvalidArgumentMessage([&] { Chain("arm", {ValidJoint("shoulder"), bad}); });
  EXPECT_TRUE(Contains(message, "'elbow'")) << message;
  EXPECT_TRUE(Contains(message, "lower")) << message;
}

TEST(ChainConstructor, RejectsNanLimits) {
  Joint bad = ValidJoint("wrist");
  bad.upper = std::numeric_limits<double>::quiet_NaN();
  std::string message = InvalidArgumentMessage([&] { Chain("arm", {bad}); });
  EXPECT_TRUE(Contains(message, "'wrist'")) << message;
  EXPECT_TRUE(Contains(message, "finite")) << message;

  bad = ValidJoint("wrist");
  bad.lower = -std::numeric_limits<double>::infinity();
  message = InvalidArgumentMessage([&] { Chain("arm", {bad}); });
  EXPECT_TRUE(Contains(message, "'wrist'")) << message;
}

TEST(ChainConstructor, RejectsNonUnitAxis) {
  Joint bad = ValidJoint("twist");
  bad.axis_J = Eigen::Vector3d(0, 0, 2);
  std::string message = InvalidArgumentMessage([&] { Chain("arm", {bad}); });
  EXPECT_TRUE(Contains(message, "'twist'")) << message;
  EXPECT_TRUE(Contains(message, "unit axis")) << message;

  bad.axis_J = Eigen::Vector3d::Zero();
  message = InvalidArgumentMessage([&] { Chain("arm", {bad}); });
  EXPECT_TRUE(Contains(message, "'twist'")) << message;
}

TEST(ChainConstructor, RejectsDuplicateNames) {
  const std::string message = InvalidArgumentMessage([&] {
    Chain("arm", {ValidJoint("j1"), ValidJoint("j2"), ValidJoint("j1")});
  });
  EXPECT_TRUE(Contains(message, "'j1'")) << message;
}

TEST(ChainConstructor, RejectsEmptyChainAndEmptyName) {
  EXPECT_FALSE(InvalidArgumentMessage([] { Chain("arm", {}); }).empty());
  EXPECT_FALSE(InvalidArgumentMessage([] { Chain("arm", {ValidJoint("")}); }).empty());
}

// ---------------------------------------------------------------------------------------------
// Rotation distance.

TEST(RotationAngleBetween, KnownRotations) {
  const Eigen::Matrix3d R_a = Rz(0.3) * Ry(-1.1);
  const Eigen::Vector3d axis = Eigen::Vector3d(1, -2, 0.5).normalized();
  for (const double angle : {0.0, 1e-9, 0.7, 2.0, kPi - 1e-6}) {
    const Eigen::Matrix3d R_b = R_a * Eigen::AngleAxisd(angle, axis).toRotationMatrix();
    EXPECT_NEAR(RotationAngleBetween(R_a, R_b), angle, 1e-12) << "angle " << angle;
    EXPECT_NEAR(RotationAngleBetween(R_b, R_a), angle, 1e-12) << "angle " << angle;
  }
  // A turn of 4 rad is 2 pi - 4 rad the other way.
  const Eigen::Matrix3d R_c = R_a * Eigen::AngleAxisd(4.0, axis).toRotationMatrix();
  EXPECT_NEAR(RotationAngleBetween(R_a, R_c), 2 * kPi - 4.0, 1e-12);
  // A half turn.
  EXPECT_NEAR(RotationAngleBetween(Eigen::Matrix3d::Identity(), Rz(kPi)), kPi, 1e-12);
}

// ---------------------------------------------------------------------------------------------
// Seed arm options.

TEST(SeedArmOptions, DefaultsAreValid) {
  std::string error = "untouched";
  EXPECT_TRUE(SeedArmOptions().IsValid(&error));
  EXPECT_TRUE(SeedArmOptions().IsValid(nullptr));
}

TEST(SeedArmOptions, IsValidNamesTheOffendingField) {
  struct Case {
    const char* field;
    void (*spoil)(SeedArmOptions*);
  };
  const Case cases[] = {
      {"link1_length", [](SeedArmOptions* o) { o->link1_length = 0.0; }},
      {"link1_length", [](SeedArmOptions* o) { o->link1_length = std::nan(""); }},
      {"link2_length", [](SeedArmOptions* o) { o->link2_length = -1.0; }},
      {"link2_length", [](SeedArmOptions* o) { o->link2_length = std::numeric_limits<double>::infinity(); }},
      {"shoulder_yaw_limit_deg", [](SeedArmOptions* o) { o->shoulder_yaw_limit_deg = 181.0; }},
      {"shoulder_pitch_limit_deg", [](SeedArmOptions* o) { o->shoulder_pitch_limit_deg = -1.0; }},
      {"elbow_yaw_limit_deg", [](SeedArmOptions* o) { o->elbow_yaw_limit_deg = std::nan(""); }},
      {"elbow_pitch_limit_deg", [](SeedArmOptions* o) { o->elbow_pitch_limit_deg = 200.0; }},
  };
  for (const Case& c : cases) {
    SeedArmOptions options;
    c.spoil(&options);
    std::string error;
    EXPECT_FALSE(options.IsValid(&error)) << c.field;
    EXPECT_TRUE(Contains(error, c.field)) << error;
    EXPECT_FALSE(options.IsValid(nullptr)) << c.field;
    const std::string message = InvalidArgumentMessage([&] { MakeSeedArm(options); });
    EXPECT_TRUE(Contains(message, c.field)) << message;
  }
}

TEST(BuiltinArms, UnknownNameListsTheKnownOnes) {
  const std::string message = InvalidArgumentMessage([] { MakeBuiltinArm("nope"); });
  EXPECT_TRUE(Contains(message, "'nope'")) << message;
  for (const std::string& name : BuiltinArmNames()) {
    EXPECT_TRUE(Contains(message, name)) << message;
    EXPECT_NO_THROW(MakeBuiltinArm(name));
  }
}

}  // namespace
}  // namespace deepik
