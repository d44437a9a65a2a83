// The robot's body as the URDF describes it (core, no mesh read): mesh references resolved as ROS
// tools do, the links that move with the chain, the matrix and sphere files, the sphere check.
#include "deepik/geometry/robot_geometry.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <limits>
#include <random>

#include "deepik/errors.hpp"
#include "deepik/geometry/collision_model.hpp"
#include "deepik/kinematics/builtin_arms.hpp"
#include "deepik/kinematics/fk.hpp"
#include "test_util.hpp"

namespace deepik {
namespace {

using testing::RobotFile;
using testing::TempDir;
using testing::WriteBytes;

const std::string kMeshes = RobotFile("meshes");

// Unsets ROS_PACKAGE_PATH for a test and restores it after.
class NoRosPackagePath {
 public:
  NoRosPackagePath() {
    if (const char* old = std::getenv("ROS_PACKAGE_PATH")) saved_ = old, had_ = true;
    ::unsetenv("ROS_PACKAGE_PATH");
  }
  ~NoRosPackagePath() {
    if (had_) ::setenv("ROS_PACKAGE_PATH", saved_.c_str(), 1);
  }

 private:
  std::string saved_;
  bool had_ = false;
};

TEST(MeshReference, RelativeToAPackageRootIsFoundInAParentFolder) {
  // panda's references are relative to the repository root, one folder above the URDF.
  const MeshLookup lookup =
      ResolveMeshReference("robots/meshes/panda/collision/link0.stl", RobotFile("panda.urdf"), {});
  ASSERT_TRUE(lookup.error.empty()) << lookup.error;
  EXPECT_EQ(lookup.path, std::string(DEEPIK_SOURCE_DIR) + "/robots/meshes/panda/collision/link0.stl");
  EXPECT_EQ(lookup.tried.size(), 2u);  // robots/robots/..., then the root
}

TEST(MeshReference, RelativeToTheUrdfFolder) {
  const MeshLookup lookup = ResolveMeshReference("meshes/iiwa14/link_1.dae", RobotFile("iiwa14.urdf"), {});
  EXPECT_EQ(lookup.path, kMeshes + "/iiwa14/link_1.dae");
  EXPECT_EQ(lookup.tried.size(), 1u);
}

TEST(MeshReference, PackageThroughThePackagePathOptionAndTheVariable) {
  NoRosPackagePath clean;
  const std::string reference = "package://ur_description/meshes/ur5/collision/base.obj";
  MeshSearchOptions search;
  search.package_paths = {"/nonexistent", kMeshes};
  const MeshLookup by_option = ResolveMeshReference(reference, RobotFile("ur5.urdf"), search);
  EXPECT_EQ(by_option.path, kMeshes + "/ur_description/meshes/ur5/collision/base.obj");
  EXPECT_EQ(by_option.tried.front(), "/nonexistent/ur_description/meshes/ur5/collision/base.obj");

  ::setenv("ROS_PACKAGE_PATH", ("/nowhere:" + kMeshes).c_str(), 1);
  EXPECT_EQ(ResolveMeshReference(reference, RobotFile("ur5.urdf"), {}).path, by_option.path);
  // ROS_PACKAGE_PATH may name the package folder itself.
  ::setenv("ROS_PACKAGE_PATH", (kMeshes + "/ur_description").c_str(), 1);
  EXPECT_EQ(ResolveMeshReference(reference, RobotFile("ur5.urdf"), {}).path,
            kMeshes + "/ur_description/meshes/ur5/collision/base.obj");
  search.use_ros_package_path = false;
  search.package_paths.clear();
  EXPECT_TRUE(ResolveMeshReference(reference, RobotFile("ur5.urdf"), search).path.empty());
}

TEST(MeshReference, PackageWithoutASearchPathNamesTheOption) {
  NoRosPackagePath clean;
  const MeshLookup lookup = ResolveMeshReference("package://ur_description/meshes/ur5/collision/base.obj",
                                                 RobotFile("ur5.urdf"), {});
  EXPECT_TRUE(lookup.path.empty());
  EXPECT_NE(lookup.error.find("package://ur_description/meshes/ur5/collision/base.obj"), std::string::npos);
  EXPECT_NE(lookup.error.find("--package-path"), std::string::npos);
  EXPECT_NE(lookup.error.find("ROS_PACKAGE_PATH"), std::string::npos);
}

TEST(MeshReference, FileUrlsAndMissingFiles) {
  const std::string stl = kMeshes + "/panda/collision/link1.stl";
  EXPECT_EQ(ResolveMeshReference("file://" + stl, "/tmp/x.urdf", {}).path, stl);
  const MeshLookup missing = ResolveMeshReference("meshes/none.stl", RobotFile("iiwa14.urdf"), {});
  EXPECT_TRUE(missing.path.empty());
  EXPECT_NE(missing.error.find("meshes/none.stl"), std::string::npos);
  EXPECT_NE(missing.error.find(RobotFile("meshes/none.stl")), std::string::npos);  // the file searched
  EXPECT_NE(missing.error.find("--package-path"), std::string::npos);
  EXPECT_FALSE(ResolveMeshReference("http://example.com/a.stl", "/tmp/x.urdf", {}).error.empty());
}

TEST(RobotGeometry, PandaLinksFramesAndAdjacency) {
  const RobotGeometry geometry = LoadRobotGeometry(ArmSpec{"panda", "", ""}, {}, true);
  EXPECT_EQ(geometry.CountLinksWithShapes(), 11);  // link0..7, hand, two fingers
  EXPECT_TRUE(geometry.MissingMeshes().empty());
  const int hand = geometry.FindLink("panda_hand"), link7 = geometry.FindLink("panda_link7");
  ASSERT_GE(hand, 0);
  EXPECT_EQ(geometry.links[static_cast<size_t>(hand)].frame, 6);
  // panda_link8 has no shape: link7 and the hand touch through it.
  const auto adjacent = geometry.AdjacentPairs();
  EXPECT_NE(std::find(adjacent.begin(), adjacent.end(),
                      std::make_pair(std::min(hand, link7), std::max(hand, link7))),
            adjacent.end());
  EXPECT_EQ(adjacent.size(), 10u);  // a tree of 11 links with shapes
  // The same joint frames as the built-in panda: one kinematics for IK and for collisions.
  const Chain builtin = MakeBuiltinArm("panda");
  std::vector<Eigen::Isometry3d> a, b;
  const Eigen::VectorXd q = (Eigen::VectorXd(7) << 0.3, -0.5, 0.2, -2.0, 0.4, 1.5, -0.7).finished();
  JointFrames(builtin, q, &a);
  JointFrames(geometry.chain, q, &b);
  for (int i = 0; i < 7; ++i)
    EXPECT_TRUE(a[static_cast<size_t>(i)].isApprox(b[static_cast<size_t>(i)], 1e-12)) << i;
}

TEST(RobotGeometry, Iiwa14UsesItsVisualMeshesAndSaysSo) {
  const RobotGeometry geometry = LoadRobotGeometry(ArmSpec{"iiwa14", "", ""}, {}, true);
  EXPECT_EQ(geometry.CountLinksWithShapes(), 9);  // links 0-7 and a calibration ball
  for (const LinkGeometry& link : geometry.links)
    EXPECT_EQ(link.from_visual, !link.shapes.empty()) << link.name;
}

TEST(RobotGeometry, MissingMeshesAreErrorsOnlyWhenRequired) {
  TempDir dir;
  WriteBytes(dir.Path("arm.urdf"), testing::ReadBytes(RobotFile("iiwa14.urdf")));  // its meshes are not there
  const ArmSpec spec{dir.Path("arm.urdf"), "", ""};
  const RobotGeometry found_none = LoadRobotGeometry(spec, {}, false);
  EXPECT_EQ(found_none.MissingMeshes().size(), 8u);
  try {
    (void)LoadRobotGeometry(spec, {}, true);
    FAIL() << "expected an InputError";
  } catch (const InputError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("meshes/iiwa14/base_link.dae"), std::string::npos) << message;
    EXPECT_NE(message.find(dir.Path("meshes/iiwa14/base_link.dae")), std::string::npos) << message;
    EXPECT_NE(message.find("--package-path"), std::string::npos) << message;
  }
  EXPECT_THROW((void)LoadRobotGeometry(ArmSpec{"seed", "", ""}, {}, false), InputError);
}

TEST(SphereFile, BadFilesGetClearErrors) {
  const RobotGeometry geometry = LoadRobotGeometry(ArmSpec{"panda", "", ""}, {}, false);
  const auto error_of = [&geometry](const std::string& text) {
    try {
      (void)ParseSphereSet(text, "s.json", geometry);
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(error_of(R"({"links":[{"link":"panda_link1","spheres":[[0,0,0,-0.1]]}]})").find("radius > 0"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"links":[{"link":"panda_link1","spheres":[[0,0,0,0]]}]})").find("radius > 0"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"links":[{"link":"elbow","spheres":[]}]})").find("unknown link 'elbow'"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"links":[{"link":"panda_link1","spheres":[[0,0,0]]}]})").find("[x, y, z, radius]"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"links":[{"link":"panda_link1","spheres":[]},{"link":"panda_link1","spheres":[]}]})")
                .find("twice"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"links":[{"link":"panda_link1","spheres":[[0,0,1e999,0.1]]}]})").find("s.json"),
            std::string::npos);
  EXPECT_NE(error_of("[1,2").find("not a valid JSON"), std::string::npos);
  EXPECT_NE(error_of("{}").find("\"links\""), std::string::npos);
  EXPECT_EQ(error_of(R"({"links":[{"link":"panda_link1","spheres":[[0,0,0,0.1]]}]})"), "no error");
}

// Two spheres on two links at known poses: the distance is |c_a - c_b| - r_a - r_b.
TEST(SphereChecker, DistanceOfTwoSpheresByHand) {
  const RobotGeometry geometry = LoadRobotGeometry(ArmSpec{"panda", "", ""}, {}, false);
  SphereSet set;
  set.links = {{"panda_link0", {Eigen::Vector4d(0.3, 0, 0.1, 0.05)}, 0, -1},
               {"panda_link7", {Eigen::Vector4d(0, 0, 0, 0.04)}, 0, -1}};
  const int a = geometry.FindLink("panda_link0"), b = geometry.FindLink("panda_link7");
  const SphereChecker checker(geometry, set, {{a, b}});
  const Eigen::VectorXd q = (Eigen::VectorXd(7) << 0.1, 0.2, -0.3, -1.5, 0.5, 1.0, 0.2).finished();
  std::vector<Eigen::Isometry3d> X_BF;
  JointFrames(geometry.chain, q, &X_BF);
  const Eigen::Vector3d c_b = X_BF[6] * geometry.links[static_cast<size_t>(b)].X_FL * Eigen::Vector3d::Zero();
  const double expected = (c_b - Eigen::Vector3d(0.3, 0, 0.1)).norm() - 0.09;
  const CollisionReport report = checker.Check(q);
  EXPECT_NEAR(report.min_distance, expected, 1e-12);
  EXPECT_EQ(report.in_collision, expected < 0);
  EXPECT_EQ(checker.InCollision(q), expected < 0);
  EXPECT_EQ(report.link_a, a);
  // Grow the first sphere until it reaches the second: now in collision, by the overlap.
  set.links[0].spheres[0][3] += expected + 0.01;
  const SphereChecker touching(geometry, set, {{a, b}});
  EXPECT_TRUE(touching.InCollision(q));
  EXPECT_NEAR(touching.Check(q).min_distance, -0.01, 1e-12);
  EXPECT_THROW((void)touching.Check(Eigen::VectorXd::Zero(6)), std::invalid_argument);
}

// The checker's hierarchy (groups of spheres, and a tree of bounding spheres over the groups) only
// prunes: over random sphere sets of several sizes (one group, a few, many levels of the tree) and
// configurations, its distance and verdict equal those of every sphere pair tried by hand.
TEST(SphereChecker, HierarchyAgreesWithEverySpherePairByHand) {
  const RobotGeometry geometry = LoadRobotGeometry(ArmSpec{"panda", "", ""}, {}, false);
  const int a = geometry.FindLink("panda_link2"), b = geometry.FindLink("panda_link6");
  std::mt19937_64 rng(11);
  for (const auto& [count_a, count_b] : {std::pair{1, 7}, std::pair{45, 45}, std::pair{130, 9}}) {
    std::uniform_real_distribution<double> centre(-0.12, 0.12), radius(0.005, count_a == 1   ? 0.12
                                                                              : count_a > 50 ? 0.03
                                                                                             : 0.06);
    SphereSet set;
    set.links = {{"panda_link2", {}, 0, -1}, {"panda_link6", {}, 0, -1}};
    for (int s = 0; s < count_a; ++s)
      set.links[0].spheres.emplace_back(centre(rng), centre(rng), centre(rng), radius(rng));
    for (int s = 0; s < count_b; ++s)
      set.links[1].spheres.emplace_back(centre(rng), centre(rng), centre(rng), radius(rng));
    const SphereChecker checker(geometry, set, {{a, b}});
    std::uniform_real_distribution<double> angle(-2.5, 2.5);
    int colliding = 0;
    SphereChecker::Workspace workspace;  // reused, as a solver does
    for (int trial = 0; trial < 300; ++trial) {
      Eigen::VectorXd q(7);
      for (int i = 0; i < 7; ++i) q[i] = angle(rng);
      std::vector<Eigen::Isometry3d> X_BF;
      JointFrames(geometry.chain, q, &X_BF);
      const auto place = [&](int link, const Eigen::Vector4d& s) {
        const LinkGeometry& g = geometry.links[static_cast<size_t>(link)];
        const Eigen::Vector3d p_F = g.X_FL * s.head<3>();
        return g.frame < 0 ? p_F : Eigen::Vector3d(X_BF[static_cast<size_t>(g.frame)] * p_F);
      };
      double expected = std::numeric_limits<double>::infinity();
      for (const Eigen::Vector4d& sa : set.links[0].spheres)
        for (const Eigen::Vector4d& sb : set.links[1].spheres)
          expected = std::min(expected, (place(a, sa) - place(b, sb)).norm() - sa[3] - sb[3]);
      EXPECT_NEAR(checker.Check(q, &workspace).min_distance, expected, 1e-12) << count_a << " " << trial;
      EXPECT_EQ(checker.InCollision(q, &workspace), expected < 0) << count_a << " " << trial;
      colliding += expected < 0;
    }
    EXPECT_GT(colliding, 5) << count_a;  // both verdicts are exercised
    EXPECT_LT(colliding, 290) << count_a;
  }
}

TEST(CollisionMatrixFile, RoundTripAndUnknownLinks) {
  const RobotGeometry geometry = LoadRobotGeometry(ArmSpec{"panda", "", ""}, {}, false);
  TempDir dir;
  CollisionMatrix matrix;
  matrix.samples = 100;
  matrix.seed = 3;
  matrix.disabled = {{"panda_link0", "panda_link2", CollisionMatrix::Reason::kNever}};
  SaveCollisionMatrix(matrix, dir.Path("m.json"));
  const CollisionMatrix back = LoadCollisionMatrix(dir.Path("m.json"), geometry);
  ASSERT_EQ(back.disabled.size(), 1u);
  EXPECT_EQ(back.disabled[0].b, "panda_link2");
  EXPECT_EQ(back.samples, 100);
  const auto all = CheckedPairs(geometry, nullptr), fewer = CheckedPairs(geometry, &back);
  EXPECT_EQ(all.size(), 55u - 10u);  // 11 links with shapes, 10 adjacent pairs
  EXPECT_EQ(fewer.size(), all.size() - 1);
  WriteBytes(dir.Path("bad.json"), R"({"disabled":[{"a":"panda_link0","b":"elbow"}]})");
  EXPECT_THROW((void)LoadCollisionMatrix(dir.Path("bad.json"), geometry), InputError);
}

}  // namespace
}  // namespace deepik
