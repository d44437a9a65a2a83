// A URDF's visual geometry placed in the chain's frames: every shape's pose, by the chain's FK
// and the shape's frame, must equal the pose of its link by an independent route (the chain from
// the same base to that link, LoadUrdfChain with --tip = the link) times the visual's <origin>.
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>

#include "deepik/errors.hpp"
#include "deepik/kinematics/arm_spec.hpp"
#include "deepik/kinematics/fk.hpp"
#include "deepik/kinematics/urdf.hpp"
#include "test_util.hpp"

namespace deepik {
namespace {

std::string BoxArm() { return std::string(DEEPIK_SOURCE_DIR) + "/tests/web/box_arm.urdf"; }

// The visual <origin>s of box_arm.urdf, per link, in document order (typed in from the file).
Eigen::Isometry3d Origin(const Eigen::Vector3d& xyz, const Eigen::Vector3d& rpy = Eigen::Vector3d::Zero()) {
  return TransformFromXyzRpy(xyz, rpy);
}

TEST(UrdfVisualsTest, ShapesSitOnTheirLinksInEveryConfiguration) {
  const UrdfOptions options{"base", "tool"};
  const Chain chain = LoadUrdfChain(BoxArm(), options);
  const UrdfVisuals visuals = LoadUrdfVisuals(BoxArm(), options);
  ASSERT_EQ(chain.num_joints(), 6);
  // base, column, upper_arm (2), elbow_mount, forearm, wrist1, wrist2, flange and the hand below
  // the tip; not the finger (a prismatic joint off the chain); the forearm's mesh is counted.
  ASSERT_EQ(visuals.shapes.size(), 10u);
  EXPECT_EQ(visuals.meshes, 1);

  // How many actuated joints lie above each link (its chain prefix), and its visual origins.
  const std::map<std::string, int> joints_above = {{"base", 0},        {"column", 1},  {"upper_arm", 2},
                                                   {"elbow_mount", 2}, {"forearm", 3}, {"wrist1", 4},
                                                   {"wrist2", 5},      {"flange", 6},  {"hand", 6}};
  std::mt19937_64 rng(2026);
  for (int trial = 0; trial < 5; ++trial) {
    const Eigen::VectorXd q = testing::RandomConfiguration(chain, &rng);
    std::vector<Eigen::Isometry3d> X_BF;
    JointFrames(chain, q, &X_BF);
    std::map<std::string, int> seen;
    for (const VisualShape& shape : visuals.shapes) {
      ASSERT_TRUE(joints_above.count(shape.link)) << shape.link;
      EXPECT_EQ(shape.frame, joints_above.at(shape.link) - 1) << shape.link;
      const Eigen::Isometry3d X_BS =
          shape.frame < 0 ? shape.X_FS : X_BF[static_cast<size_t>(shape.frame)] * shape.X_FS;
      // The link's pose by its own chain (the base link: the identity), then the visual origin.
      Eigen::Isometry3d X_BL = Eigen::Isometry3d::Identity();
      if (shape.link != "base") {
        const Chain to_link = LoadUrdfChain(BoxArm(), UrdfOptions{"base", shape.link});
        X_BL = TipPose(to_link, q.head(to_link.num_joints()));
      }
      const int k = seen[shape.link]++;
      Eigen::Isometry3d origin = Eigen::Isometry3d::Identity();
      if (shape.link == "base") origin = Origin({0, 0, 0.05});
      if (shape.link == "column") origin = Origin({0, 0, 0.1});
      if (shape.link == "upper_arm" && k == 0) origin = Origin({0, 0, 0.2}, {0, 0, 0.3});
      if (shape.link == "elbow_mount") origin = Origin({0, 0, 0}, {1.5707963, 0, 0});
      if (shape.link == "forearm") origin = Origin({0, 0, 0.17});
      if (shape.link == "wrist2") origin = Origin({0, 0, 0.04});
      if (shape.link == "flange") origin = Origin({0, 0, 0.01});
      if (shape.link == "hand") origin = Origin({0, 0, 0.03});
      const Eigen::Isometry3d expected = X_BL * origin;
      EXPECT_LT((X_BS.matrix() - expected.matrix()).cwiseAbs().maxCoeff(), 1e-12)
          << shape.link << " #" << k << " at trial " << trial;
    }
  }
}

TEST(UrdfVisualsTest, KindsSizesAndColoursAreTheFilesOwn) {
  const UrdfVisuals visuals = LoadUrdfVisuals(BoxArm(), UrdfOptions{"base", "tool"});
  std::map<std::string, const VisualShape*> first;
  for (const VisualShape& shape : visuals.shapes) first.emplace(shape.link, &shape);
  EXPECT_EQ(first.at("base")->kind, VisualShape::Kind::kCylinder);
  EXPECT_TRUE(first.at("base")->size.isApprox(Eigen::Vector3d(0.12, 0.1, 0)));
  EXPECT_EQ(first.at("forearm")->kind, VisualShape::Kind::kBox);
  EXPECT_TRUE(first.at("forearm")->size.isApprox(Eigen::Vector3d(0.07, 0.07, 0.34)));
  EXPECT_EQ(first.at("wrist1")->kind, VisualShape::Kind::kSphere);
  EXPECT_DOUBLE_EQ(first.at("wrist1")->size.x(), 0.05);
  // urdfdom keeps colours as float.
  EXPECT_TRUE(first.at("column")->rgba.isApprox(Eigen::Vector4d(0.95, 0.55, 0.15, 1), 1e-6));
}

TEST(UrdfVisualsTest, ArmsWithoutAUrdfHaveNoneAndRealRobotsOnlyMeshes) {
  EXPECT_TRUE(LoadArmVisuals(ArmSpec{"seed", "", ""}).shapes.empty());
  // The published Panda draws every link from a mesh file: nothing to draw from primitives.
  const UrdfVisuals panda =
      LoadArmVisuals(ArmSpec{testing::RobotFile("panda.urdf"), "panda_link0", "panda_link8"});
  EXPECT_TRUE(panda.shapes.empty());
  EXPECT_GE(panda.meshes, 8);
  EXPECT_THROW(LoadUrdfVisuals(BoxArm(), UrdfOptions{"base", "no_such_link"}), InputError);
}

}  // namespace
}  // namespace deepik
