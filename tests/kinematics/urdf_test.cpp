// URDF import: the published robots against the built-in arms, the default tip rule, fixed-joint
// folding, continuous joints, and every error the importer reports.
#include "deepik/kinematics/urdf.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "deepik/errors.hpp"
#include "deepik/kinematics/builtin_arms.hpp"
#include "deepik/kinematics/fk.hpp"
#include "test_util.hpp"

namespace deepik {
namespace {

using testing::RandomConfiguration;

constexpr double kPi = 3.14159265358979323846;

using testing::RobotFile;

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

/// The message of the InputError that `load` throws; a test failure if it throws none.
template <typename F>
std::string InputErrorMessage(F load) {
  try {
    load();
  } catch (const InputError& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected an InputError, got another exception: " << e.what();
    return e.what();
  }
  ADD_FAILURE() << "expected an InputError, got none";
  return "";
}

UrdfOptions BaseTip(const std::string& base, const std::string& tip) {
  UrdfOptions options;
  options.base_link = base;
  options.tip_link = tip;
  return options;
}

/// Tip poses of two chains with the same joints agree on 1000 random in-limit configurations:
/// position within `tol_m` metres and orientation within `tol_rad` radians.
void ExpectSameTipPoses(const Chain& a, const Chain& b, double tol_m, double tol_rad, unsigned seed) {
  ASSERT_EQ(a.num_joints(), b.num_joints());
  std::mt19937 rng(seed);
  double worst_m = 0.0, worst_rad = 0.0;
  for (int trial = 0; trial < 1000; ++trial) {
    const Eigen::VectorXd q = RandomConfiguration(a, &rng);
    const Eigen::Isometry3d X_a = TipPose(a, q), X_b = TipPose(b, q);
    worst_m = std::max(worst_m, (X_a.translation() - X_b.translation()).norm());
    worst_rad = std::max(worst_rad, RotationAngleBetween(X_a.linear(), X_b.linear()));
  }
  EXPECT_LE(worst_m, tol_m) << a.name() << " vs " << b.name();
  EXPECT_LE(worst_rad, tol_rad) << a.name() << " vs " << b.name();
}

/// Same joint names, types, limits and count; then the same tip poses to 1e-9 m and 1e-9 rad.
void ExpectSameChain(const Chain& builtin, const Chain& from_urdf, unsigned seed) {
  EXPECT_EQ(builtin.name(), from_urdf.name());
  ASSERT_EQ(builtin.num_joints(), from_urdf.num_joints());
  for (int i = 0; i < builtin.num_joints(); ++i) {
    const Joint& a = builtin.joint(i);
    const Joint& b = from_urdf.joint(i);
    EXPECT_EQ(a.name, b.name) << "joint " << i;
    EXPECT_EQ(a.type, b.type) << a.name;
    EXPECT_NEAR(a.lower, b.lower, 1e-12) << a.name;
    EXPECT_NEAR(a.upper, b.upper, 1e-12) << a.name;
    EXPECT_EQ(a.continuous, b.continuous) << a.name;
  }
  ExpectSameTipPoses(builtin, from_urdf, 1e-9, 1e-9, seed);
}

// ---------------------------------------------------------------------------------------------
// The published robots against the built-in arms.

TEST(UrdfRobots, PandaMatchesBuiltin) {
  const Chain chain = LoadUrdfChain(RobotFile("panda.urdf"), BaseTip("panda_link0", "panda_link8"));
  ExpectSameChain(MakePanda(), chain, 1);
}

TEST(UrdfRobots, Ur5MatchesBuiltin) {
  const Chain chain = LoadUrdfChain(RobotFile("ur5.urdf"), BaseTip("base_link", "tool0"));
  ExpectSameChain(MakeUr5(), chain, 2);
}

TEST(UrdfRobots, Iiwa14MatchesBuiltin) {
  const Chain chain = LoadUrdfChain(RobotFile("iiwa14.urdf"), BaseTip("base_link", "tool0"));
  ExpectSameChain(MakeIiwa14(), chain, 3);
  // The URDF's "0 -1 0" axis survives as written.
  EXPECT_TRUE(chain.joint(3).axis_J.isApprox(-Eigen::Vector3d::UnitY(), 0.0));
}

// ---------------------------------------------------------------------------------------------
// The default base (the root) and tip (the end of the longest actuated chain).

TEST(UrdfDefaultTip, Iiwa14EndsAtTheDeepestFixedFrame) {
  // Below link_7 hang tool0 (1 fixed joint) and tool0 -> ball_link (2 fixed joints): with 7
  // actuated joints on every path, the tie goes to the path with more joints, ball_link.
  const Chain by_default = LoadUrdfChain(RobotFile("iiwa14.urdf"));
  const Chain explicit_tip = LoadUrdfChain(RobotFile("iiwa14.urdf"), BaseTip("base_link", "ball_link"));
  EXPECT_EQ(by_default.num_joints(), 7);
  EXPECT_EQ(by_default.joint(6).name, "joint_a7");
  EXPECT_TRUE(by_default.X_LT().isApprox(explicit_tip.X_LT(), 0.0));
  EXPECT_GT(by_default.X_LT().translation().z(), 0.126);  // beyond tool0
  ExpectSameTipPoses(by_default, explicit_tip, 0.0, 0.0, 4);
}

TEST(UrdfDefaultTip, Ur5StartsAtWorldAndEndsAtTool0) {
  // The root is "world" (fixed to base_link by an identity joint); tool0 is two fixed joints below
  // wrist_3_link, deeper than ft_frame and flange.
  const Chain by_default = LoadUrdfChain(RobotFile("ur5.urdf"));
  const Chain explicit_chain = LoadUrdfChain(RobotFile("ur5.urdf"), BaseTip("world", "tool0"));
  EXPECT_EQ(by_default.num_joints(), 6);
  ExpectSameTipPoses(by_default, explicit_chain, 0.0, 0.0, 5);
  ExpectSameTipPoses(by_default, MakeUr5(), 1e-9, 1e-9, 6);
}

// Two one-joint branches from "root": "zeta" comes first in the document but last alphabetically.
// `inside` is placed right after the <robot> tag.
std::string TwoBranchUrdf(const std::string& inside) {
  return R"(<robot name="tree">)" + inside + R"(
      <link name="root"/>
      <link name="zeta"/>
      <link name="alpha"/>
      <joint name="jz" type="revolute">
        <parent link="root"/><child link="zeta"/><axis xyz="0 0 1"/>
        <limit lower="-1" upper="1" effort="1" velocity="1"/>
      </joint>
      <joint name="ja" type="revolute">
        <parent link="root"/><child link="alpha"/><axis xyz="0 0 1"/>
        <limit lower="-1" upper="1" effort="1" velocity="1"/>
      </joint>
    </robot>)";
}

TEST(UrdfDefaultTip, PandaEndsAtTheHandNotInAFinger) {
  // panda_hand branches into two finger joints (a gripper): the default arm ends at the hand, with
  // the 7 arm joints, the same chain as naming the hand as the tip.
  const Chain chain = LoadUrdfChain(RobotFile("panda.urdf"));
  ASSERT_EQ(chain.num_joints(), 7);
  for (int i = 0; i < 7; ++i) EXPECT_EQ(chain.joint(i).name, "panda_joint" + std::to_string(i + 1));
  const Chain to_hand = LoadUrdfChain(RobotFile("panda.urdf"), BaseTip("panda_link0", "panda_hand"));
  ExpectSameTipPoses(chain, to_hand, 0.0, 0.0, 7);
}

TEST(UrdfDefaultTip, AFingerIsStillReachableWhenNamed) {
  const Chain chain = LoadUrdfChain(RobotFile("panda.urdf"), BaseTip("panda_link0", "panda_leftfinger"));
  ASSERT_EQ(chain.num_joints(), 8);
  EXPECT_EQ(chain.joint(7).name, "panda_finger_joint1");
  EXPECT_EQ(chain.joint(7).type, JointType::kPrismatic);
  EXPECT_DOUBLE_EQ(chain.joint(7).lower, 0.0);
  EXPECT_DOUBLE_EQ(chain.joint(7).upper, 0.04);
}

TEST(UrdfErrors, AMissingLinkListsTheLinksThatExist) {
  const std::string message =
      InputErrorMessage([] { LoadUrdfChain(RobotFile("ur5.urdf"), BaseTip("base_link", "no_such_link")); });
  EXPECT_TRUE(Contains(message, "tip link 'no_such_link' not found")) << message;
  for (const char* link : {"base_link", "shoulder_link", "wrist_3_link", "tool0"})
    EXPECT_TRUE(Contains(message, link)) << message;
  const std::string base_message =
      InputErrorMessage([] { LoadUrdfChain(RobotFile("ur5.urdf"), BaseTip("nowhere", "")); });
  EXPECT_TRUE(Contains(base_message, "base link 'nowhere' not found")) << base_message;
  EXPECT_TRUE(Contains(base_message, "upper_arm_link")) << base_message;
}

TEST(UrdfRobustness, NumbersWithoutPhysicalSenseAreRefused) {
  const auto urdf = [](const std::string& origin, const std::string& limit) {
    return R"(<robot name="r"><link name="a"/><link name="b"/>
      <joint name="j" type="revolute"><parent link="a"/><child link="b"/><axis xyz="0 0 1"/>
      <origin xyz=")" +
           origin + R"("/><limit lower="-)" + limit + R"(" upper=")" + limit +
           R"(" effort="1" velocity="1"/></joint></robot>)";
  };
  std::string message = InputErrorMessage([&] { ParseUrdfChain(urdf("1e308 0 0", "1"), {}, "far.urdf"); });
  EXPECT_TRUE(Contains(message, "far.urdf")) << message;
  EXPECT_TRUE(Contains(message, "'j'")) << message;
  EXPECT_TRUE(Contains(message, "expected an origin within 10000 m")) << message;
  message = InputErrorMessage([&] { ParseUrdfChain(urdf("0 0 1", "1e300"), {}, "wide.urdf"); });
  EXPECT_TRUE(Contains(message, "'j'")) << message;
  EXPECT_TRUE(Contains(message, "expected limits within +-1000 rad")) << message;
  // Real numbers of real robots still load.
  EXPECT_EQ(ParseUrdfChain(urdf("0 0 0.333", "6.283185"), {}, "ok.urdf").num_joints(), 1);
}

TEST(UrdfRobustness, DeepNestingIsRefusedNotACrash) {
  const int levels = 100000;
  std::string xml = R"(<robot name="deep"><link name="a"/>)";
  for (int i = 0; i < levels; ++i) xml += "<g>";
  for (int i = 0; i < levels; ++i) xml += "</g>";
  xml += "</robot>";
  const std::string message = InputErrorMessage([&] { ParseUrdfChain(xml, {}, "deep.urdf"); });
  EXPECT_TRUE(Contains(message, "deep.urdf")) << message;
  EXPECT_TRUE(Contains(message, "deeper than 1000 levels")) << message;
}

TEST(UrdfRobustness, ALargeCommentLoadsAndKeepsTheDocumentOrder) {
  // 200 KB of comment (a std::regex over it overflowed the stack), with a decoy link inside it.
  const std::string comment = "<!-- <link name=\"decoy\"/> " + std::string(200000, 'x') + " -->";
  const std::string xml = TwoBranchUrdf(comment);
  const Chain chain = ParseUrdfChain(xml, {}, "big.urdf");
  ASSERT_EQ(chain.num_joints(), 1);
  EXPECT_EQ(chain.joint(0).name, "jz");  // document order, not the alphabet
}

TEST(UrdfDefaultTip, TiesGoToMoreJointsThenDocumentOrder) {
  // "zeta" comes first in the document but last alphabetically.
  const std::string two_branches = TwoBranchUrdf("");
  Chain chain = ParseUrdfChain(two_branches, {}, "tree.urdf");
  ASSERT_EQ(chain.num_joints(), 1);
  EXPECT_EQ(chain.joint(0).name, "jz");

  // A third branch with one actuated joint behind a fixed one has more joints in all: it wins.
  std::string three_branches = two_branches;
  three_branches.replace(three_branches.find("</robot>"), 8, R"(
      <link name="mid"/>
      <link name="deep"/>
      <joint name="jm" type="fixed">
        <parent link="root"/><child link="mid"/><origin xyz="0 0 0.5"/>
      </joint>
      <joint name="jd" type="continuous">
        <parent link="mid"/><child link="deep"/><axis xyz="1 0 0"/>
      </joint>
    </robot>)");
  chain = ParseUrdfChain(three_branches, {}, "tree.urdf");
  ASSERT_EQ(chain.num_joints(), 1);
  EXPECT_EQ(chain.joint(0).name, "jd");
  EXPECT_NEAR(chain.joint(0).X_PJ.translation().z(), 0.5, 1e-15);
}

// ---------------------------------------------------------------------------------------------
// Folding fixed joints, axes, continuous joints, ignored content.

// base -mount(fixed)-> l0 -j1(revolute, axis "0 2 0")-> l1 -bend(fixed)-> l2 -j2(prismatic)-> l3
// -tool(fixed)-> tool -tcp(fixed)-> tcp.
const char* kFoldingUrdf = R"(<?xml version="1.0"?>
<robot name="folding">
  <link name="base"/>
  <link name="l0"/>
  <link name="l1"/>
  <link name="l2"/>
  <link name="l3"/>
  <link name="tool"/>
  <link name="tcp"/>
  <joint name="mount" type="fixed">
    <parent link="base"/><child link="l0"/><origin xyz="0.1 0.2 0.3" rpy="0.1 0.2 0.3"/>
  </joint>
  <joint name="j1" type="revolute">
    <parent link="l0"/><child link="l1"/><origin xyz="0 0 0.5" rpy="0 0 0"/>
    <axis xyz="0 2 0"/><limit lower="-2" upper="2.5" effort="10" velocity="1"/>
  </joint>
  <joint name="bend" type="fixed">
    <parent link="l1"/><child link="l2"/><origin xyz="0.3 0 0" rpy="0 0.4 0"/>
  </joint>
  <joint name="j2" type="prismatic">
    <parent link="l2"/><child link="l3"/><origin xyz="0 0 0.1"/>
    <axis xyz="1 0 0"/><limit lower="-0.2" upper="0.3" effort="10" velocity="1"/>
  </joint>
  <joint name="tool" type="fixed">
    <parent link="l3"/><child link="tool"/><origin xyz="0 0 0.05" rpy="0.2 0 0"/>
  </joint>
  <joint name="tcp" type="fixed">
    <parent link="tool"/><child link="tcp"/><origin xyz="0.01 0 0"/>
  </joint>
  EXTRA
</robot>)";

std::string FoldingUrdf(const std::string& extra = "") {
  std::string xml = kFoldingUrdf;
  xml.replace(xml.find("EXTRA"), 5, extra);
  return xml;
}

Eigen::Isometry3d XyzRpy(double x, double y, double z, double roll, double pitch, double yaw) {
  return TransformFromXyzRpy(Eigen::Vector3d(x, y, z), Eigen::Vector3d(roll, pitch, yaw));
}

TEST(UrdfChain, FoldsFixedJointsIntoTheirNeighbours) {
  const Chain chain = ParseUrdfChain(FoldingUrdf(), BaseTip("base", "tcp"), "folding.urdf");
  EXPECT_EQ(chain.name(), "folding");
  ASSERT_EQ(chain.num_joints(), 2);
  EXPECT_EQ(chain.joint(0).name, "j1");
  EXPECT_EQ(chain.joint(0).type, JointType::kRevolute);
  EXPECT_FALSE(chain.joint(0).continuous);
  EXPECT_EQ(chain.joint(0).lower, -2.0);
  EXPECT_EQ(chain.joint(0).upper, 2.5);
  EXPECT_TRUE(chain.joint(0).axis_J.isApprox(Eigen::Vector3d::UnitY(), 1e-15));  // normalised
  EXPECT_EQ(chain.joint(1).name, "j2");
  EXPECT_EQ(chain.joint(1).type, JointType::kPrismatic);

  const Eigen::Isometry3d mount = XyzRpy(0.1, 0.2, 0.3, 0.1, 0.2, 0.3);
  const Eigen::Isometry3d j1 = XyzRpy(0, 0, 0.5, 0, 0, 0);
  const Eigen::Isometry3d bend = XyzRpy(0.3, 0, 0, 0, 0.4, 0);
  const Eigen::Isometry3d j2 = XyzRpy(0, 0, 0.1, 0, 0, 0);
  const Eigen::Isometry3d tool = XyzRpy(0, 0, 0.05, 0.2, 0, 0);
  const Eigen::Isometry3d tcp = XyzRpy(0.01, 0, 0, 0, 0, 0);
  EXPECT_TRUE(chain.joint(0).X_PJ.isApprox(mount * j1, 1e-14));
  EXPECT_TRUE(chain.joint(1).X_PJ.isApprox(bend * j2, 1e-14));
  EXPECT_TRUE(chain.X_LT().isApprox(tool * tcp, 1e-14));

  std::mt19937 rng(8);
  for (int trial = 0; trial < 100; ++trial) {
    const Eigen::VectorXd q = RandomConfiguration(chain, &rng);
    Eigen::Isometry3d rotate = Eigen::Isometry3d::Identity(), slide = Eigen::Isometry3d::Identity();
    rotate.linear() = Eigen::AngleAxisd(q[0], Eigen::Vector3d::UnitY()).toRotationMatrix();
    slide.translation() = Eigen::Vector3d(q[1], 0, 0);
    const Eigen::Isometry3d expected = mount * j1 * rotate * bend * j2 * slide * tool * tcp;
    ASSERT_LT((TipPose(chain, q).matrix() - expected.matrix()).cwiseAbs().maxCoeff(), 1e-14);
  }
}

TEST(UrdfChain, BaseInsideTheTree) {
  // From l1: the fixed "bend" offset goes into j2's origin; the chain has only j2.
  const Chain chain = ParseUrdfChain(FoldingUrdf(), BaseTip("l1", "tool"), "folding.urdf");
  ASSERT_EQ(chain.num_joints(), 1);
  EXPECT_EQ(chain.joint(0).name, "j2");
  EXPECT_TRUE(chain.joint(0).X_PJ.isApprox(XyzRpy(0.3, 0, 0, 0, 0.4, 0) * XyzRpy(0, 0, 0.1, 0, 0, 0), 1e-14));
  EXPECT_TRUE(chain.X_LT().isApprox(XyzRpy(0, 0, 0.05, 0.2, 0, 0), 1e-14));
}

TEST(UrdfChain, UnknownTagsAndMeshesAreIgnored) {
  const std::string extra = R"(
    <link name="decorated">
      <visual>
        <origin xyz="0 0 0" rpy="0 0 0"/>
        <geometry><mesh filename="package://does_not_exist/meshes/link.dae" scale="1 1 1"/></geometry>
      </visual>
      <collision><geometry><mesh filename="file:///no/such/file.stl"/></geometry></collision>
      <inertial><mass value="1.5"/><inertia ixx="1" ixy="0" ixz="0" iyy="1" iyz="0" izz="1"/></inertial>
    </link>
    <joint name="decor" type="fixed"><parent link="tcp"/><child link="decorated"/></joint>
    <gazebo reference="l1"><material>Gazebo/Orange</material></gazebo>
    <my_vendor_tag version="3"><anything goes="here"/></my_vendor_tag>
    <transmission name="t1"><type>transmission_interface/SimpleTransmission</type></transmission>)";
  const Chain plain = ParseUrdfChain(FoldingUrdf(), BaseTip("base", "tcp"), "plain.urdf");
  const Chain decorated = ParseUrdfChain(FoldingUrdf(extra), BaseTip("base", "decorated"), "decorated.urdf");
  ASSERT_EQ(decorated.num_joints(), 2);
  ExpectSameTipPoses(plain, decorated, 1e-15, 1e-15, 9);
}

TEST(UrdfChain, ContinuousJointBecomesRevoluteOverOneTurn) {
  const std::string xml = R"(
    <robot name="wheel">
      <link name="hub"/>
      <link name="rim"/>
      <joint name="spin" type="continuous">
        <parent link="hub"/><child link="rim"/><origin xyz="0 0 0.2"/><axis xyz="0 0 -3"/>
        <limit effort="5" velocity="2"/>
      </joint>
    </robot>)";
  const Chain chain = ParseUrdfChain(xml, {}, "wheel.urdf");
  EXPECT_EQ(chain.name(), "wheel");
  ASSERT_EQ(chain.num_joints(), 1);
  const Joint& spin = chain.joint(0);
  EXPECT_EQ(spin.name, "spin");
  EXPECT_EQ(spin.type, JointType::kRevolute);
  EXPECT_TRUE(spin.continuous);
  EXPECT_DOUBLE_EQ(spin.lower, -kPi);
  EXPECT_DOUBLE_EQ(spin.upper, kPi);
  EXPECT_TRUE(spin.axis_J.isApprox(-Eigen::Vector3d::UnitZ(), 1e-15));
}

// ---------------------------------------------------------------------------------------------
// Errors: each one an InputError naming the file and the link or joint.

TEST(UrdfErrors, MissingFile) {
  const std::string path = "/no/such/dir/robot.urdf";
  const std::string message = InputErrorMessage([&] { LoadUrdfChain(path); });
  EXPECT_TRUE(Contains(message, path)) << message;
  EXPECT_TRUE(Contains(message, "cannot open")) << message;
}

TEST(UrdfErrors, MalformedXml) {
  std::string message =
      InputErrorMessage([] { ParseUrdfChain("<robot name='x'><link name='a'>", {}, "broken.urdf"); });
  EXPECT_TRUE(Contains(message, "broken.urdf: malformed URDF")) << message;

  message = InputErrorMessage([] { ParseUrdfChain("this is not xml at all", {}, "text.urdf"); });
  EXPECT_TRUE(Contains(message, "text.urdf: malformed URDF")) << message;

  message = InputErrorMessage([] { ParseUrdfChain("<notarobot/>", {}, "other.xml"); });
  EXPECT_TRUE(Contains(message, "other.xml: malformed URDF")) << message;
}

TEST(UrdfErrors, MissingBaseOrTipLink) {
  const std::string path = RobotFile("iiwa14.urdf");
  std::string message = InputErrorMessage([&] { LoadUrdfChain(path, BaseTip("nowhere", "tool0")); });
  EXPECT_TRUE(Contains(message, "link 'nowhere' not found in " + path)) << message;

  message = InputErrorMessage([&] { LoadUrdfChain(path, BaseTip("", "gripper")); });
  EXPECT_TRUE(Contains(message, "link 'gripper' not found in " + path)) << message;
}

TEST(UrdfErrors, TipNotBelowBase) {
  const std::string path = RobotFile("iiwa14.urdf");
  std::string message = InputErrorMessage([&] { LoadUrdfChain(path, BaseTip("link_7", "link_1")); });
  EXPECT_TRUE(Contains(message, "'link_1' is not below 'link_7'")) << message;
  EXPECT_TRUE(Contains(message, path)) << message;

  // Siblings: neither is below the other.
  message = InputErrorMessage(
      [] { LoadUrdfChain(RobotFile("panda.urdf"), BaseTip("panda_leftfinger", "panda_rightfinger")); });
  EXPECT_TRUE(Contains(message, "'panda_rightfinger' is not below 'panda_leftfinger'")) << message;
}

TEST(UrdfErrors, MimicJointSuggestsAnotherTip) {
  const std::string path = RobotFile("panda.urdf");
  const std::string message =
      InputErrorMessage([&] { LoadUrdfChain(path, BaseTip("panda_link0", "panda_rightfinger")); });
  EXPECT_TRUE(Contains(message, path)) << message;
  EXPECT_TRUE(Contains(message, "'panda_finger_joint2'")) << message;
  EXPECT_TRUE(Contains(message, "mimic")) << message;
  EXPECT_TRUE(Contains(message, "--tip")) << message;
}

std::string OneJointUrdf(const std::string& type, const std::string& body) {
  return R"(<robot name="one"><link name="a"/><link name="b"/><link name="c"/>
    <joint name="first" type="revolute"><parent link="a"/><child link="b"/><axis xyz="0 0 1"/>
      <limit lower="-1" upper="1" effort="1" velocity="1"/></joint>
    <joint name="odd" type=")" +
         type + R"("><parent link="b"/><child link="c"/>)" + body + R"(</joint></robot>)";
}

TEST(UrdfErrors, FloatingAndPlanarJoints) {
  std::string message = InputErrorMessage(
      [] { ParseUrdfChain(OneJointUrdf("floating", ""), BaseTip("a", "c"), "float.urdf"); });
  EXPECT_TRUE(Contains(message, "float.urdf")) << message;
  EXPECT_TRUE(Contains(message, "'odd'")) << message;
  EXPECT_TRUE(Contains(message, "floating")) << message;

  message = InputErrorMessage([] {
    ParseUrdfChain(OneJointUrdf("planar", R"(<axis xyz="0 0 1"/>)"), BaseTip("a", "c"), "plane.urdf");
  });
  EXPECT_TRUE(Contains(message, "plane.urdf")) << message;
  EXPECT_TRUE(Contains(message, "'odd'")) << message;
  EXPECT_TRUE(Contains(message, "planar")) << message;

  // Above the unsupported joint, the chain loads (and the default tip stops there).
  const Chain chain = ParseUrdfChain(OneJointUrdf("floating", ""), {}, "float.urdf");
  EXPECT_EQ(chain.num_joints(), 1);
}

TEST(UrdfErrors, LowerAboveUpper) {
  const std::string xml = OneJointUrdf("prismatic", R"(<axis xyz="1 0 0"/>
      <limit lower="0.5" upper="0.1" effort="1" velocity="1"/>)");
  const std::string message =
      InputErrorMessage([&] { ParseUrdfChain(xml, BaseTip("a", "c"), "limits.urdf"); });
  EXPECT_TRUE(Contains(message, "limits.urdf")) << message;
  EXPECT_TRUE(Contains(message, "'odd'")) << message;
  EXPECT_TRUE(Contains(message, "lower")) << message;
}

TEST(UrdfErrors, ZeroAxisOnAnActuatedJoint) {
  const std::string xml = OneJointUrdf("revolute", R"(<axis xyz="0 0 0"/>
      <limit lower="-1" upper="1" effort="1" velocity="1"/>)");
  const std::string message = InputErrorMessage([&] { ParseUrdfChain(xml, BaseTip("a", "c"), "axis.urdf"); });
  EXPECT_TRUE(Contains(message, "axis.urdf")) << message;
  EXPECT_TRUE(Contains(message, "'odd'")) << message;
  EXPECT_TRUE(Contains(message, "axis")) << message;
}

TEST(UrdfErrors, NoActuatedJoint) {
  const std::string path = RobotFile("iiwa14.urdf");
  std::string message = InputErrorMessage([&] { LoadUrdfChain(path, BaseTip("link_7", "ball_link")); });
  EXPECT_TRUE(Contains(message, path)) << message;
  EXPECT_TRUE(Contains(message, "no actuated joint between 'link_7' and 'ball_link'")) << message;

  message = InputErrorMessage([&] { LoadUrdfChain(path, BaseTip("link_3", "link_3")); });
  EXPECT_TRUE(Contains(message, "no actuated joint")) << message;

  // The default tip below a leaf is the leaf itself.
  message = InputErrorMessage([&] { LoadUrdfChain(path, BaseTip("ball_link", "")); });
  EXPECT_TRUE(Contains(message, "no actuated joint")) << message;
}

}  // namespace
}  // namespace deepik
