#include "deepik/kinematics/dh.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <random>

#include "deepik/errors.hpp"
#include "deepik/kinematics/fk.hpp"
#include "deepik/kinematics/urdf.hpp"
#include "test_util.hpp"

namespace deepik {
namespace {

using testing::RandomConfiguration;
using testing::RobotFile;
using testing::TempDir;

constexpr double kPi = 3.14159265358979323846;

// Franka's published modified-DH table (panda_link0 -> flange), with the 0.107 m flange offset.
std::vector<DhRow> PandaModifiedDh(const Chain& urdf) {
  const double a[] = {0, 0, 0, 0.0825, -0.0825, 0, 0.088};
  const double d[] = {0.333, 0, 0.316, 0, 0.384, 0, 0};
  const double alpha[] = {0, -kPi / 2, kPi / 2, kPi / 2, -kPi / 2, kPi / 2, kPi / 2};
  std::vector<DhRow> rows;
  for (int i = 0; i < 7; ++i) {
    DhRow row;
    row.name = urdf.joint(i).name;
    row.a = a[i];
    row.d = d[i];
    row.alpha = alpha[i];
    row.lower = urdf.joint(i).lower;
    row.upper = urdf.joint(i).upper;
    rows.push_back(row);
  }
  return rows;
}

// Two independent descriptions of one arm must give the same tip pose everywhere.
void ExpectSamePoses(const Chain& a, const Chain& b, const Eigen::Isometry3d& X_AB, double tolerance) {
  std::mt19937_64 rng(7);
  for (int trial = 0; trial < 500; ++trial) {
    const Eigen::VectorXd q = RandomConfiguration(a, &rng);
    const Eigen::Isometry3d X_a = TipPose(a, q);
    const Eigen::Isometry3d X_b = X_AB * TipPose(b, q);
    ASSERT_LT((X_a.translation() - X_b.translation()).norm(), tolerance) << "q = " << q.transpose();
    ASSERT_LT(RotationAngleBetween(X_a.linear(), X_b.linear()), tolerance) << "q = " << q.transpose();
  }
}

TEST(DhTest, PandaModifiedDhEqualsUrdf) {
  const Chain urdf = LoadUrdfChain(RobotFile("panda.urdf"), {"panda_link0", "panda_link8"});
  const Chain dh = ChainFromDh("panda", DhConvention::kModified, PandaModifiedDh(urdf),
                               TransformFromXyzRpy({0, 0, 0.107}, {0, 0, 0}));
  // The URDF writes pi/2 as 1.57079632679 (5e-12 short), hence 1e-9 and not 1e-12.
  ExpectSamePoses(urdf, dh, Eigen::Isometry3d::Identity(), 1e-9);
}

TEST(DhTest, Ur5StandardDhEqualsUrdfUpToTheBaseHalfTurn) {
  const Chain urdf = LoadUrdfChain(RobotFile("ur5.urdf"), {"base_link", "tool0"});
  const double a[] = {0, -0.425, -0.39225, 0, 0, 0};
  const double d[] = {0.089159, 0, 0, 0.10915, 0.09465, 0.0823};
  const double alpha[] = {kPi / 2, 0, 0, kPi / 2, -kPi / 2, 0};
  std::vector<DhRow> rows;
  for (int i = 0; i < 6; ++i) {
    rows.push_back(DhRow{urdf.joint(i).name, JointType::kRevolute, a[i], alpha[i], d[i], 0.0,
                         urdf.joint(i).lower, urdf.joint(i).upper});
  }
  const Chain dh = ChainFromDh("ur5", DhConvention::kStandard, rows);
  // UR's DH base frame is the URDF's base_link turned half a turn about z.
  ExpectSamePoses(urdf, dh, TransformFromXyzRpy({0, 0, 0}, {0, 0, kPi}), 1e-8);
}

TEST(DhTest, StandardAndModifiedPlanarArmsAgreeWithTheClosedForm) {
  // A 2R planar arm in both conventions: x = l1 c1 + l2 c12, y = l1 s1 + l2 s12.
  const std::vector<DhRow> standard = {{"j1", JointType::kRevolute, 0.7, 0, 0, 0, -kPi, kPi},
                                       {"j2", JointType::kRevolute, 0.4, 0, 0, 0, -kPi, kPi}};
  const std::vector<DhRow> modified = {{"j1", JointType::kRevolute, 0, 0, 0, 0, -kPi, kPi},
                                       {"j2", JointType::kRevolute, 0.7, 0, 0, 0, -kPi, kPi}};
  const Chain s = ChainFromDh("s", DhConvention::kStandard, standard);
  const Chain m =
      ChainFromDh("m", DhConvention::kModified, modified, TransformFromXyzRpy({0.4, 0, 0}, {0, 0, 0}));
  std::mt19937_64 rng(3);
  for (int trial = 0; trial < 200; ++trial) {
    const Eigen::VectorXd q = RandomConfiguration(s, &rng);
    const Eigen::Vector3d expected(0.7 * std::cos(q[0]) + 0.4 * std::cos(q[0] + q[1]),
                                   0.7 * std::sin(q[0]) + 0.4 * std::sin(q[0] + q[1]), 0);
    EXPECT_LT((TipPosition(s, q) - expected).norm(), 1e-12);
    EXPECT_LT((TipPosition(m, q) - expected).norm(), 1e-12);
  }
}

TEST(DhTest, PrismaticRowAddsToD) {
  const std::vector<DhRow> rows = {{"lift", JointType::kPrismatic, 0.2, 0, 0.5, 0, 0, 1}};
  for (DhConvention convention : {DhConvention::kStandard, DhConvention::kModified}) {
    const Chain chain = ChainFromDh("p", convention, rows);
    Eigen::VectorXd q(1);
    q << 0.3;
    const Eigen::Vector3d p = TipPosition(chain, q);
    EXPECT_NEAR(p.z(), 0.8, 1e-15);
    EXPECT_NEAR(p.x(), 0.2, 1e-15);
  }
}

TEST(DhTest, LoadsTheJsonFileFormat) {
  TempDir dir;
  const std::string path = dir.Path("arm.json");
  std::ofstream(path) << R"({"name": "two", "convention": "standard",
    "joints": [{"name": "a", "a": 0.7, "lower": -3, "upper": 3},
               {"name": "b", "a": 0.4, "lower": -3, "upper": 3}],
    "tool": {"xyz": [0.1, 0, 0], "rpy": [0, 0, 0]}})";
  const Chain chain = LoadDhFile(path);
  EXPECT_EQ(chain.name(), "two");
  ASSERT_EQ(chain.num_joints(), 2);
  EXPECT_EQ(chain.joint(1).name, "b");
  EXPECT_NEAR(TipPosition(chain, Eigen::Vector2d::Zero()).x(), 1.2, 1e-15);
}

std::string LoadError(const std::string& text) {
  TempDir dir;
  const std::string path = dir.Path("bad.json");
  std::ofstream(path) << text;
  try {
    LoadDhFile(path);
  } catch (const InputError& e) {
    return e.what();
  }
  return "no error";
}

TEST(DhTest, BadFilesAreRefusedWithTheFieldNamed) {
  EXPECT_NE(LoadError("{ not json").find("malformed JSON"), std::string::npos);
  EXPECT_NE(LoadError(R"({"convention": "sideways", "joints": []})").find("convention"), std::string::npos);
  EXPECT_NE(LoadError(R"({"convention": "standard", "joints": []})").find("joints"), std::string::npos);
  EXPECT_NE(LoadError(R"({"convention": "standard", "joints": [{"a": 1, "upper": 1}]})").find("'lower'"),
            std::string::npos);
  EXPECT_NE(LoadError(R"({"convention": "standard", "joints": [{"a": "x", "lower": 0, "upper": 1}]})")
                .find("field 'a': expected a number"),
            std::string::npos);
  const std::string reversed =
      LoadError(R"({"convention": "standard", "joints": [{"name": "elbow", "lower": 2, "upper": 1}]})");
  EXPECT_NE(reversed.find("elbow"), std::string::npos) << reversed;
  EXPECT_NE(reversed.find("lower <= upper"), std::string::npos) << reversed;
  try {
    LoadDhFile("/nonexistent/arm.json");
    FAIL() << "a missing file must throw";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/arm.json"), std::string::npos);
  }
}

TEST(DhTest, AMisspeltFieldIsAnErrorNotAZero) {
  const std::string row = LoadError(
      R"({"convention": "standard", "joints": [{"name": "j1", "a": 1, "aplha": 1.57, "lower": -1, "upper": 1}]})");
  EXPECT_NE(row.find("joints[0]: unknown field 'aplha'"), std::string::npos) << row;
  EXPECT_NE(row.find("alpha"), std::string::npos) << row;  // the list of the known fields
  const std::string top = LoadError(R"({"convention": "standard", "joint": []})");
  EXPECT_NE(top.find("unknown field 'joint'"), std::string::npos) << top;
  const std::string tool = LoadError(
      R"({"convention": "standard", "joints": [{"lower": -1, "upper": 1}], "tool": {"xyz": [0,0,0], "rot": [0,0,0]}})");
  EXPECT_NE(tool.find("tool: unknown field 'rot'"), std::string::npos) << tool;
}

TEST(DhTest, NumbersWithoutPhysicalSenseAreRefusedWithTheJointNamed) {
  const std::string far = LoadError(
      R"({"convention": "standard", "joints": [{"name": "j1", "a": 1e308, "lower": -1, "upper": 1}]})");
  EXPECT_NE(far.find("row 'j1': expected a within +-10000 m, got 1e+308"), std::string::npos) << far;
  const std::string limits = LoadError(
      R"({"convention": "standard", "joints": [{"name": "j1", "a": 1, "lower": -1e300, "upper": 1e300}]})");
  EXPECT_NE(limits.find("'j1'"), std::string::npos) << limits;
  EXPECT_NE(limits.find("expected limits within +-1000 rad"), std::string::npos) << limits;
  const std::string slide = LoadError(
      R"({"convention": "standard", "joints": [{"name": "s", "type": "prismatic", "lower": 0, "upper": 1e5}]})");
  EXPECT_NE(slide.find("expected limits within +-10000 m"), std::string::npos) << slide;
}

}  // namespace
}  // namespace deepik
