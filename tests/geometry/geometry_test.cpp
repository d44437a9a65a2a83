// The geometry layer (assimp, FCL): meshes read and refused, exact distances against hand-computed
// cases, the self-collision matrix, and the sphere model's coverage of every shipped mesh.
#include <fcl/geometry/bvh/BVH_model.h>
#include <fcl/geometry/shape/box.h>
#include <fcl/geometry/shape/sphere.h>
#include <fcl/narrowphase/collision.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "deepik/data/random.hpp"
#include "deepik/errors.hpp"
#include "deepik/geometry/exact_checker.hpp"
#include "deepik/geometry/mesh.hpp"
#include "deepik/geometry/scene.hpp"
#include "deepik/geometry/sphere_fit.hpp"
#include "deepik/kinematics/fk.hpp"
#include "test_util.hpp"

namespace deepik {
namespace {

using testing::RobotFile;
using testing::TempDir;
using testing::WriteBytes;

// Two links with primitives: `a` fixed to the base, `b` behind a revolute joint about z at x = 0.5.
std::string TwoLinkUrdf(const std::string& shape_a, const std::string& shape_b, const std::string& origin_b) {
  return R"(<robot name="two">
  <link name="a"><collision><geometry>)" +
         shape_a + R"(</geometry></collision></link>
  <link name="b"><collision><origin xyz=")" +
         origin_b + R"(" rpy="0 0 0"/><geometry>)" + shape_b +
         R"(</geometry></collision></link>
  <joint name="j" type="revolute"><parent link="a"/><child link="b"/><origin xyz="0.5 0 0"/>
    <axis xyz="0 0 1"/><limit lower="-3" upper="3" effort="1" velocity="1"/></joint>
</robot>)";
}

RobotGeometry WriteAndLoad(const TempDir& dir, const std::string& urdf) {
  WriteBytes(dir.Path("two.urdf"), urdf);
  return LoadRobotGeometry(ArmSpec{dir.Path("two.urdf"), "", ""}, {}, true);
}

TEST(ExactChecker, BoxBoxDistanceByHand) {
  TempDir dir;
  // a: a 0.2 m cube at the origin; b: a 0.1 m cube centred on the joint (x = 0.5).
  const RobotGeometry geometry =
      WriteAndLoad(dir, TwoLinkUrdf(R"(<box size="0.2 0.2 0.2"/>)", R"(<box size="0.1 0.1 0.1"/>)", "0 0 0"));
  const ExactChecker checker(geometry, {{0, 1}});
  // Faces parallel: 0.5 - 0.1 - 0.05.
  EXPECT_NEAR(checker.LinkDistance(Eigen::VectorXd::Constant(1, 0.0), 0, 1), 0.35, 1e-6);
  // b turned 45 deg about z: its edge points at a, sqrt(2) x 0.05 from its centre.
  EXPECT_NEAR(checker.LinkDistance(Eigen::VectorXd::Constant(1, M_PI / 4), 0, 1), 0.4 - 0.05 * std::sqrt(2.0),
              1e-6);
  const CollisionReport report = checker.Check(Eigen::VectorXd::Constant(1, 0.0));
  EXPECT_FALSE(report.in_collision);
  EXPECT_NEAR(report.min_distance, 0.35, 1e-6);
}

TEST(ExactChecker, SphereAndMovedSphereByHandAndCollision) {
  TempDir dir;
  // b's sphere sits 0.3 m from the joint along its x: at q it is at (0.5 + 0.3 cos q, 0.3 sin q, 0).
  const RobotGeometry geometry =
      WriteAndLoad(dir, TwoLinkUrdf(R"(<sphere radius="0.2"/>)", R"(<sphere radius="0.05"/>)", "0.3 0 0"));
  const ExactChecker checker(geometry, {{0, 1}});
  for (double q : {0.0, 1.0, 2.0, 2.5, 3.0}) {
    const Eigen::Vector2d c(0.5 + 0.3 * std::cos(q), 0.3 * std::sin(q));
    const double gap = c.norm() - 0.25;  // centre distance less both radii
    EXPECT_NEAR(checker.LinkDistance(Eigen::VectorXd::Constant(1, q), 0, 1), std::max(0.0, gap), 1e-6) << q;
    EXPECT_EQ(checker.InCollision(Eigen::VectorXd::Constant(1, q)), gap < 0) << q;
    EXPECT_EQ(checker.Check(Eigen::VectorXd::Constant(1, q)).in_collision, gap < 0) << q;
  }
  EXPECT_TRUE(checker.InCollision(Eigen::VectorXd::Constant(1, 3.0)));  // |c| = 0.207 < 0.25
}

// The bounding spheres that spare FCL a pair only prune: on seeded configurations of panda among
// an example scene, Check's verdict and minimum distance equal those of every pair measured one by
// one (LinkDistance, which measures each pair in full), and InCollision agrees with Check.
TEST(ExactChecker, BoundsOnlyPrune) {
  const RobotGeometry geometry = LoadRobotGeometry(ArmSpec{"panda", "", ""}, {}, true);
  const CollisionMatrix matrix = LoadCollisionMatrix(RobotFile("collision/panda.matrix.json"), geometry);
  const Scene scene = LoadScene(RobotFile("scenes/table-boxes.json"));
  const ExactChecker checker(geometry, CheckedPairs(geometry, &matrix), MeshLimits{}, &scene);
  std::mt19937_64 rng(5);
  Eigen::VectorXd q(geometry.chain.num_joints());
  int colliding = 0;
  for (int trial = 0; trial < 40; ++trial) {
    UniformConfiguration(geometry.chain, &rng, q);
    const CollisionReport report = checker.Check(q);
    double least = std::numeric_limits<double>::infinity();
    for (const auto& [a, b] : checker.pairs()) least = std::min(least, checker.LinkDistance(q, a, b));
    EXPECT_EQ(report.in_collision, least == 0.0) << trial;
    EXPECT_EQ(checker.InCollision(q), report.in_collision) << trial;
    if (!report.in_collision) EXPECT_NEAR(report.min_distance, least, 1e-9) << trial;
    colliding += report.in_collision;
  }
  EXPECT_GT(colliding, 3);  // both verdicts are exercised
  EXPECT_LT(colliding, 37);
}

// A second route to the exact verdicts: FCL alone, on one bounding-volume tree per link built here
// from its surface, without the checker's bounding spheres and hull trees.
class PlainFcl {
 public:
  PlainFcl(const RobotGeometry& geometry, const ExactChecker& checker, const Scene& scene)
      : geometry_(geometry) {
    for (const TriangleMesh& surface : checker.surfaces()) {
      if (surface.triangles.empty()) {
        links_.push_back(nullptr);
        continue;
      }
      auto model = std::make_shared<fcl::BVHModel<fcl::OBBRSSd>>();
      std::vector<fcl::Triangle> triangles;
      for (const Eigen::Vector3i& t : surface.triangles)
        triangles.emplace_back(static_cast<size_t>(t[0]), static_cast<size_t>(t[1]),
                               static_cast<size_t>(t[2]));
      model->beginModel();
      model->addSubModel(surface.vertices, triangles);
      model->endModel();
      links_.push_back(model);
    }
    for (const Obstacle& obstacle : scene.obstacles) {
      EXPECT_TRUE(obstacle.shape == Obstacle::Shape::kBox || obstacle.shape == Obstacle::Shape::kSphere);
      if (obstacle.shape == Obstacle::Shape::kBox)
        obstacles_.push_back({std::make_shared<fcl::Boxd>(obstacle.size), obstacle.X_BO});
      else
        obstacles_.push_back({std::make_shared<fcl::Sphered>(obstacle.size[0]), obstacle.X_BO});
    }
  }
  // Whether link a collides with link or obstacle b (indices as the checker's).
  bool Collide(const Eigen::VectorXd& q, int a, int b) const {
    std::vector<Eigen::Isometry3d> X_BF;
    JointFrames(geometry_.chain, q, &X_BF);
    const auto placed = [&](int link) {
      const LinkGeometry& g = geometry_.links[static_cast<size_t>(link)];
      return g.frame < 0 ? g.X_FL : Eigen::Isometry3d(X_BF[static_cast<size_t>(g.frame)] * g.X_FL);
    };
    const int links = static_cast<int>(links_.size());
    const fcl::CollisionGeometryd* second = b < links
                                                ? links_[static_cast<size_t>(b)].get()
                                                : obstacles_[static_cast<size_t>(b - links)].first.get();
    const Eigen::Isometry3d X_B2 = b < links ? placed(b) : obstacles_[static_cast<size_t>(b - links)].second;
    fcl::CollisionResultd result;
    return fcl::collide(links_[static_cast<size_t>(a)].get(), placed(a), second, X_B2,
                        fcl::CollisionRequestd(), result) > 0;
  }

 private:
  const RobotGeometry& geometry_;
  std::vector<std::shared_ptr<fcl::CollisionGeometryd>> links_;
  std::vector<std::pair<std::shared_ptr<fcl::CollisionGeometryd>, Eigen::Isometry3d>> obstacles_;
};

// The checker's first tests (a bounding sphere, then a tree of convex hulls per link) only prune:
// on seeded uniform configurations of every shipped arm, among the example scene for panda, each
// checked pair's verdict equals FCL's on the bare meshes, pair by pair.
TEST(ExactChecker, HullTreesOnlyPrune) {
  for (const std::string arm : {"panda", "ur5", "iiwa14"}) {
    const RobotGeometry geometry = LoadRobotGeometry(ArmSpec{arm, "", ""}, {}, true);
    const CollisionMatrix matrix =
        LoadCollisionMatrix(RobotFile("collision/" + arm + ".matrix.json"), geometry);
    const Scene scene = arm == "panda" ? LoadScene(RobotFile("scenes/table-boxes.json")) : Scene{};
    const ExactChecker checker(geometry, CheckedPairs(geometry, &matrix), MeshLimits{}, &scene);
    const PlainFcl plain(geometry, checker, scene);
    std::mt19937_64 rng(11);
    Eigen::VectorXd q(geometry.chain.num_joints());
    int64_t colliding = 0, checked = 0;
    for (int trial = 0; trial < 1500; ++trial) {
      UniformConfiguration(geometry.chain, &rng, q);
      const std::vector<bool> verdicts = checker.CollidingPairs(q, checker.pairs());
      bool any = false;
      for (size_t p = 0; p < verdicts.size(); ++p) {
        const auto [a, b] = checker.pairs()[p];
        const bool truth = plain.Collide(q, a, b);
        ASSERT_EQ(verdicts[p], truth) << arm << " trial " << trial << " pair " << a << "/" << b;
        colliding += truth;
        any |= truth;
        ++checked;
      }
      ASSERT_EQ(checker.InCollision(q), any) << arm << " trial " << trial;
    }
    // Both verdicts are exercised on every arm (iiwa14 collides rarely: 0.19 % of configurations).
    EXPECT_GT(colliding, arm == "iiwa14" ? 0 : 100) << arm;
    EXPECT_LT(colliding, checked / 2) << arm;
  }
}

// Clear(q, c) answers by bounds where it can (spheres, hull trees along a separating axis): it must
// agree with Check's minimum distance, measured by FCL on every pair, for every clearance.
TEST(ExactChecker, ClearAgreesWithTheMeasuredMinimumDistance) {
  for (const std::string arm : {"panda", "ur5"}) {
    const RobotGeometry geometry = LoadRobotGeometry(ArmSpec{arm, "", ""}, {}, true);
    const CollisionMatrix matrix =
        LoadCollisionMatrix(RobotFile("collision/" + arm + ".matrix.json"), geometry);
    const Scene scene = LoadScene(RobotFile("scenes/table-boxes.json"));
    const ExactChecker self(geometry, CheckedPairs(geometry, &matrix));
    const std::unique_ptr<ExactChecker> all = self.WithScene(scene);
    std::mt19937_64 rng(13);
    Eigen::VectorXd q(geometry.chain.num_joints());
    int clear = 0, not_clear = 0;
    for (int trial = 0; trial < 150; ++trial) {
      UniformConfiguration(geometry.chain, &rng, q);
      for (const ExactChecker* checker : {&self, static_cast<const ExactChecker*>(all.get())}) {
        const CollisionReport report = checker->Check(q);
        for (double clearance : {0.0, 0.002, 0.01, 0.03, 0.1}) {
          const bool truth = clearance <= 0 ? !report.in_collision
                                            : !report.in_collision && report.min_distance >= clearance;
          ASSERT_EQ(checker->Clear(q, clearance), truth)
              << arm << " trial " << trial << " clearance " << clearance << " min distance "
              << report.min_distance;
          clear += truth;
          not_clear += !truth;
        }
      }
    }
    EXPECT_GT(clear, 100) << arm;  // both answers are exercised
    EXPECT_GT(not_clear, 100) << arm;
  }
}

TEST(CollisionMatrix, AlwaysAndNeverPairs) {
  TempDir dir;
  // Adjacent pairs never count; with a third link on b's far side, (a, c) is never in collision.
  WriteBytes(dir.Path("three.urdf"), R"(<robot name="three">
  <link name="a"><collision><geometry><sphere radius="0.1"/></geometry></collision></link>
  <link name="b"><collision><geometry><sphere radius="0.05"/></geometry></collision></link>
  <link name="c"><collision><origin xyz="0.2 0 0"/><geometry><sphere radius="0.05"/></geometry></collision></link>
  <joint name="j1" type="revolute"><parent link="a"/><child link="b"/><origin xyz="0.5 0 0"/>
    <axis xyz="0 0 1"/><limit lower="-0.5" upper="0.5" effort="1" velocity="1"/></joint>
  <joint name="j2" type="fixed"><parent link="b"/><child link="c"/></joint>
</robot>)");
  const RobotGeometry geometry = LoadRobotGeometry(ArmSpec{dir.Path("three.urdf"), "", ""}, {}, true);
  CollisionMatrixOptions options;
  options.samples = 50;
  const CollisionMatrix matrix = ComputeCollisionMatrix(geometry, options);
  ASSERT_EQ(matrix.disabled.size(), 3u);
  EXPECT_EQ(matrix.disabled[0].reason, CollisionMatrix::Reason::kAdjacent);  // a-b
  EXPECT_EQ(matrix.disabled[1].reason, CollisionMatrix::Reason::kAdjacent);  // b-c
  EXPECT_EQ(matrix.disabled[2].a + matrix.disabled[2].b, "ac");
  EXPECT_EQ(matrix.disabled[2].reason, CollisionMatrix::Reason::kNever);
  options.samples = 0;
  EXPECT_THROW((void)ComputeCollisionMatrix(geometry, options), std::invalid_argument);
}

TEST(Mesh, ShippedFormatsLoadInTheirLinkFrames) {
  // COLLADA Z_UP read as written: iiwa14's link_7 ends at z = 0.126 m, where tool0 is.
  const TriangleMesh link7 = LoadMesh(RobotFile("meshes/iiwa14/link_7.dae"));
  double top = -1;
  for (const Eigen::Vector3d& v : link7.vertices) top = std::max(top, v.z());
  EXPECT_NEAR(top, 0.126, 0.002);
  // panda's visual link1.dae and collision link1.stl share a frame: their boxes nearly agree.
  const auto box = [](const TriangleMesh& mesh) {
    Eigen::AlignedBox3d b;
    for (const Eigen::Vector3d& v : mesh.vertices) b.extend(v);
    return b;
  };
  const auto visual = box(LoadMesh(RobotFile("meshes/panda/visual/link1.dae")));
  const auto collision = box(LoadMesh(RobotFile("meshes/panda/collision/link1.stl")));
  EXPECT_LT((visual.center() - collision.center()).norm(), 0.03);
  const auto obj = LoadMesh(RobotFile("meshes/ur_description/meshes/ur5/collision/base.obj"));
  const auto gltf = LoadMesh(RobotFile("meshes/ur_description/meshes/ur5/visual/base/model.gltf"));
  EXPECT_GT(obj.triangles.size(), 10u);
  EXPECT_GT(gltf.triangles.size(), 10u);
}

TEST(Mesh, BadFilesGetClearErrors) {
  TempDir dir;
  const auto error_of = [](const std::string& path, const MeshLimits& limits = {}) {
    try {
      (void)LoadMesh(path, Eigen::Vector3d::Ones(), limits);
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(error_of(dir.Path("none.stl")).find("not found"), std::string::npos);
  std::filesystem::create_directory(dir.Path("folder.stl"));
  EXPECT_NE(error_of(dir.Path("folder.stl")).find("not found"), std::string::npos);
  WriteBytes(dir.Path("text.stl"), "this is not a mesh at all\n");
  EXPECT_NE(error_of(dir.Path("text.stl")).find("text.stl"), std::string::npos);
  WriteBytes(dir.Path("empty.obj"), "");
  EXPECT_NE(error_of(dir.Path("empty.obj")).find("empty.obj"), std::string::npos);
  WriteBytes(dir.Path("noise.dae"), std::string(5000, '\x07'));
  EXPECT_NE(error_of(dir.Path("noise.dae")).find("noise.dae"), std::string::npos);
  // Huge files are refused before they are read, huge meshes after (limits are options).
  MeshLimits small;
  small.max_file_bytes = 1000;
  EXPECT_NE(error_of(RobotFile("meshes/panda/collision/link1.stl"), small).find("larger than the limit"),
            std::string::npos);
  small = MeshLimits{};
  small.max_triangles = 10;
  EXPECT_NE(error_of(RobotFile("meshes/panda/collision/link1.stl"), small).find("triangles is larger"),
            std::string::npos);
}

TEST(SphereFit, ABoxIsCoveredAndTheTargetIsMet) {
  LinkShape box;
  box.kind = LinkShape::Kind::kBox;
  box.size = Eigen::Vector3d(0.3, 0.1, 0.1);
  const TriangleMesh surface = PrimitiveSurface(box);
  // A chain of spheres through a square section of half-side a sticks out by a (sqrt 2 - 1) = 21 mm.
  SphereFitOptions options;
  options.target_overshoot_mm = 30;
  options.spacing = 0.01;  // coarse samples keep the test fast; the gap grows the radii to match
  const SphereFit fit = FitLinkSpheres(surface, options);
  EXPECT_LE(WorstVertexExcess(surface, fit.spheres), 0.0);
  EXPECT_LE(fit.overshoot_mm, 30.0);
  EXPECT_GT(fit.overshoot_mm, 10.0);
  EXPECT_GT(fit.spheres.size(), 1u);
  // One sphere still covers every vertex, and overshoots more: at least its radius less the
  // half-thickness, and its radius reaches the farthest corner, 0.166 m from the centre.
  options.spheres = 1;
  const SphereFit one = FitLinkSpheres(surface, options);
  ASSERT_EQ(one.spheres.size(), 1u);
  EXPECT_LE(WorstVertexExcess(surface, one.spheres), 0.0);
  EXPECT_GE(one.spheres[0][3], 0.5 * std::sqrt(0.09 + 0.01 + 0.01));
  EXPECT_GT(one.overshoot_mm, fit.overshoot_mm);
  EXPECT_NEAR(one.overshoot_mm, 1e3 * (one.spheres[0][3] - 0.05), 0.1 * 1e3 * one.spheres[0][3]);
}

// Every vertex of every mesh the shipped sphere models stand for lies inside a sphere of its link.
TEST(SphereFit, ShippedSphereModelsCoverEveryVertex) {
  for (const std::string arm : {"panda", "ur5", "iiwa14"}) {
    const RobotGeometry geometry = LoadRobotGeometry(ArmSpec{arm, "", ""}, {}, true);
    const std::string path = BuiltinCollisionFile(arm, "spheres");
    ASSERT_FALSE(path.empty()) << arm;
    const SphereSet set = LoadSphereSet(path, geometry);
    int links = 0;
    for (const LinkGeometry& link : geometry.links) {
      if (link.shapes.empty()) continue;
      ++links;
      const auto found = std::find_if(set.links.begin(), set.links.end(),
                                      [&link](const LinkSpheres& s) { return s.link == link.name; });
      ASSERT_NE(found, set.links.end()) << arm << " " << link.name;
      const TriangleMesh surface = LinkSurface(link);
      EXPECT_LE(WorstVertexExcess(surface, found->spheres), 0.0) << arm << " " << link.name;
    }
    EXPECT_GT(links, 5) << arm;
  }
}

// The close fit: tight only where asked. A 0.3 x 0.1 x 0.1 m box with its +x end face (points 5 mm
// apart, as CloseSurfacePoints gives them) as the close zone, target 30 mm, 10 mm there: every
// vertex covered, and how far the spheres stick out above the end face, measured by the box's
// closed form (more directions than the fit's own measure; a point's nearest box point is its
// clamp to the box), within the close target; the plain 30 mm fit sticks out more there.
TEST(SphereFit, TheCloseTargetHoldsNearTheClosePoints) {
  LinkShape box;
  box.kind = LinkShape::Kind::kBox;
  box.size = Eigen::Vector3d(0.3, 0.1, 0.1);
  const TriangleMesh surface = PrimitiveSurface(box);
  const Eigen::Vector3d half(0.15, 0.05, 0.05);
  std::vector<Eigen::Vector3d> close;
  for (int i = 0; i <= 20; ++i)
    for (int j = 0; j <= 20; ++j) close.emplace_back(0.15, -0.05 + 0.005 * i, -0.05 + 0.005 * j);
  // The largest closed-form distance to the box of a point of the spheres' union boundary whose
  // nearest box point lies on the end face (mm).
  const auto overshoot_near = [&](const std::vector<Eigen::Vector4d>& spheres) {
    double worst = 0;
    const int directions = 400;
    for (const Eigen::Vector4d& s : spheres) {
      for (int d = 0; d < directions; ++d) {
        const double z = 1 - (2.0 * d + 1) / directions, r = std::sqrt(1 - z * z), phi = d * 2.39996322972865;
        const Eigen::Vector3d y =
            s.head<3>() + s[3] * Eigen::Vector3d(r * std::cos(phi), r * std::sin(phi), z);
        bool inside = false;
        for (const Eigen::Vector4d& o : spheres) inside = inside || (y - o.head<3>()).norm() < o[3] - 1e-9;
        const Eigen::Vector3d nearest = y.cwiseMax(-half).cwiseMin(half);
        if (inside || nearest.x() < 0.15 - 1e-12) continue;
        worst = std::max(worst, 1e3 * (y - nearest).norm());
      }
    }
    return worst;
  };
  SphereFitOptions options;
  options.target_overshoot_mm = 30;
  options.close_overshoot_mm = 10;
  options.spacing = 0.01;
  options.max_spheres = 300;
  const SphereFit fit = FitLinkSpheres(surface, options, close);
  EXPECT_LE(WorstVertexExcess(surface, fit.spheres), 0.0);
  EXPECT_LE(fit.overshoot_mm, 30.0);
  EXPECT_GT(fit.close_overshoot_mm, 0.0);
  EXPECT_LE(fit.close_overshoot_mm, 10.0);
  EXPECT_LE(overshoot_near(fit.spheres), 11.0);
  EXPECT_LE(fit.close_overshoot_mm, overshoot_near(fit.spheres) + 0.5);  // the fit's measure is no larger
  options.close_overshoot_mm = 0;
  const SphereFit plain = FitLinkSpheres(surface, options, close);
  EXPECT_GT(overshoot_near(plain.spheres), 15.0);
  EXPECT_EQ(plain.close_overshoot_mm, 0.0);
  options.close_overshoot_mm = 40;  // above the target
  EXPECT_THROW((void)FitLinkSpheres(surface, options, close), std::invalid_argument);
}

// CloseSurfacePoints against a closed form: link a, a 0.2 m cube at the origin; link b, a sphere
// of 0.05 m whose centre sits at (0.5, 0, 0) + Rz(q) (-0.3, 0, 0). With one sphere per link standing
// for it, a surface point of a is close in a configuration when it lies within 0.05 + d of b's
// centre, and a point p of b when (0.5, 0, 0) + Rz(q) p lies within a's sphere's radius + d of the
// origin. Every vertex (always among the points sampled) is returned exactly when it is close in
// at least the share of the same seeded configurations, and every point returned is close so.
TEST(CloseZone, PointsCloseInEnoughConfigurationsByClosedForm) {
  TempDir dir;
  const RobotGeometry geometry = WriteAndLoad(
      dir, TwoLinkUrdf(R"(<box size="0.2 0.2 0.2"/>)", R"(<sphere radius="0.05"/>)", "-0.3 0 0"));
  std::vector<TriangleMesh> surfaces;
  for (const LinkGeometry& link : geometry.links) surfaces.push_back(LinkSurface(link));
  const double ra = 0.1 * std::sqrt(3.0), rb = 0.05;
  SphereSet spheres;
  spheres.links = {{"a", {Eigen::Vector4d(0, 0, 0, ra)}, 0, -1},
                   {"b", {Eigen::Vector4d(-0.3, 0, 0, rb)}, 0, -1}};
  CloseZoneOptions options;
  options.samples = 400;
  options.seed = 3;
  options.distance = 0.06;
  options.share = 0.02;
  const auto close = CloseSurfacePoints(geometry, surfaces, spheres, {{0, 1}}, options);
  ASSERT_EQ(close.size(), 2u);
  std::vector<double> qs;
  std::mt19937_64 rng(options.seed);
  Eigen::VectorXd q(1);
  for (int k = 0; k < options.samples; ++k) UniformConfiguration(geometry.chain, &rng, q), qs.push_back(q[0]);
  // Configurations in which p (in its link's frame) is within reach + slack.
  const auto count = [&](int link, const Eigen::Vector3d& p, double slack) {
    int n = 0;
    for (double angle : qs) {
      const Eigen::Vector3d joint(0.5, 0, 0);
      const Eigen::Matrix3d R = Eigen::AngleAxisd(angle, Eigen::Vector3d::UnitZ()).toRotationMatrix();
      n += link == 0 ? (p - (joint + R * Eigen::Vector3d(-0.3, 0, 0))).norm() <= rb + options.distance + slack
                     : (joint + R * p).norm() <= ra + options.distance + slack;
    }
    return n;
  };
  const double least = options.share * options.samples;
  for (int link = 0; link < 2; ++link) {
    EXPECT_FALSE(close[static_cast<size_t>(link)].empty()) << link;
    for (const Eigen::Vector3d& p : close[static_cast<size_t>(link)])
      EXPECT_GE(count(link, p, 1e-9), least) << link;
    int returned = 0;
    for (const Eigen::Vector3d& v : surfaces[static_cast<size_t>(link)].vertices) {
      const bool in =
          std::any_of(close[static_cast<size_t>(link)].begin(), close[static_cast<size_t>(link)].end(),
                      [&v](const Eigen::Vector3d& p) { return (p - v).norm() < 1e-12; });
      returned += in;
      if (!in) EXPECT_LT(count(link, v, -1e-9), least) << link << " " << v.transpose();
    }
    if (link == 1) EXPECT_GT(returned, 0);  // b's vertices facing a are close; a's corners never are
    if (link == 0) EXPECT_EQ(returned, 0);
  }
  options.share = 0;
  EXPECT_THROW((void)CloseSurfacePoints(geometry, surfaces, spheres, {{0, 1}}, options),
               std::invalid_argument);
}

}  // namespace
}  // namespace deepik
