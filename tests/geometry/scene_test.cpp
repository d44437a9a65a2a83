// Scenes of obstacles: the JSON scene file (the shipped example, and bad files refused with the
// field named) and the signed distance fields against hand-computed cases and finite differences.
#include "deepik/geometry/scene.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>

#include "deepik/errors.hpp"
#include "test_util.hpp"

namespace deepik {
namespace {

std::string One(const std::string& obstacle) { return R"({"obstacles": [)" + obstacle + "]}"; }

// The message of the InputError that parsing `text` throws (empty when it parses).
std::string Refusal(const std::string& text) {
  try {
    (void)ParseScene(text, "s.json");
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

TEST(Scene, ShippedExampleLoads) {
  const Scene scene = LoadScene(std::string(DEEPIK_ROBOTS_DIR) + "/scenes/table-boxes.json");
  ASSERT_EQ(scene.obstacles.size(), 4u);
  EXPECT_EQ(scene.obstacles[0].name, "table");
  EXPECT_EQ(scene.obstacles[0].shape, Obstacle::Shape::kBox);
  // The table's top lies 1 cm under the base origin.
  EXPECT_NEAR(SignedDistance(scene.obstacles[0], Eigen::Vector3d::Zero(), nullptr), 0.01, 1e-12);
}

TEST(Scene, ParsesEveryShapeWithPose) {
  const Scene scene = ParseScene(R"({"format": "deepik-scene", "version": 1, "obstacles": [
    {"shape": "sphere", "radius": 0.1, "position": [1, 2, 3]},
    {"shape": "cylinder", "radius": 0.05, "length": 0.4, "position": [0, 0, 0], "rpy": [1.5707963267948966, 0, 0]},
    {"name": "c", "shape": "capsule", "radius": 0.05, "length": 0.4, "position": [0, 0, 1]}]})",
                                 "s.json");
  ASSERT_EQ(scene.obstacles.size(), 3u);
  EXPECT_EQ(scene.obstacles[0].name, "obstacles[0]");
  EXPECT_EQ(scene.obstacles[2].name, "c");
  EXPECT_NEAR(scene.obstacles[0].X_BO.translation().y(), 2.0, 0);
  // The cylinder turned about x: its axis lies along -y of B, so a point at y = 0.3 is 0.1 beyond its cap.
  EXPECT_NEAR(SignedDistance(scene.obstacles[1], Eigen::Vector3d(0, 0.3, 0), nullptr), 0.1, 1e-12);
  EXPECT_NEAR(SignedDistance(scene.obstacles[2], Eigen::Vector3d(0, 0, 1.5), nullptr), 0.25, 1e-12);
}

TEST(Scene, BadFilesNameTheField) {
  EXPECT_NE(Refusal("{").find("not a valid JSON"), std::string::npos);
  EXPECT_NE(Refusal("[]").find("obstacles"), std::string::npos);
  EXPECT_NE(Refusal(One(R"({"shape": "box", "size": [1, -1, 1], "position": [0, 0, 0]})"))
                .find("obstacles[0].size[1]: expected a size > 0"),
            std::string::npos);
  EXPECT_NE(Refusal(One(R"({"shape": "sphere", "radius": 0, "position": [0, 0, 0]})")).find(".radius"),
            std::string::npos);
  // JSON has no NaN: a NaN pose arrives as null or a string, or overflows to infinity.
  EXPECT_NE(Refusal(One(R"({"shape": "sphere", "radius": 1, "position": [0, null, 0]})"))
                .find("obstacles[0].position[1]: expected a number"),
            std::string::npos);
  EXPECT_FALSE(Refusal(One(R"({"shape": "sphere", "radius": 1, "position": [0, 0, 1e999]})")).empty());
  EXPECT_NE(Refusal(One(R"({"shape": "sphere", "radius": 1, "position": [0, 0, 0], "rpy": [0, "nan", 0]})"))
                .find("obstacles[0].rpy[1]"),
            std::string::npos);
  EXPECT_NE(
      Refusal(One(R"({"shape": "cone", "radius": 1, "position": [0, 0, 0]})")).find("unknown shape \"cone\""),
      std::string::npos);
  EXPECT_NE(Refusal(One(R"({"shape": "sphere", "radius": 1, "size": [1, 1, 1], "position": [0, 0, 0]})"))
                .find("unknown field \"size\""),
            std::string::npos);
  EXPECT_NE(Refusal(One(R"({"shape": "box", "position": [0, 0, 0]})")).find(".size: missing"),
            std::string::npos);
  EXPECT_NE(
      Refusal(One(R"({"shape": "box", "size": [1, 1, 1], "position": [0, 0, 2000]})")).find("within +-1000"),
      std::string::npos);
  // A missing second value of a cylinder once aborted inside Eigen's comma initialiser (fuzz_scene).
  EXPECT_NE(
      Refusal(One(R"({"shape": "cylinder", "radius": 1, "position": [0, 0, 1]})")).find(".length: missing"),
      std::string::npos);
  EXPECT_NE(Refusal(One(R"({"shape": "capsule", "radius": "a", "length": 1, "position": [0, 0, 1]})"))
                .find(".radius: expected a number"),
            std::string::npos);
  EXPECT_NE(Refusal(R"({"obstacle": []})").find("unknown field \"obstacle\""), std::string::npos);
  EXPECT_NE(Refusal(R"({"format": "x", "obstacles": []})").find("format"), std::string::npos);
}

TEST(Scene, TooManyObstaclesRefused) {
  std::string many = R"({"obstacles": [)";
  for (int i = 0; i < 100000; ++i)
    many += std::string(i ? "," : "") + R"({"shape":"sphere","radius":1,"position":[0,0,0]})";
  many += "]}";
  EXPECT_NE(Refusal(many).find("obstacles: expected at most 10000, got 100000"), std::string::npos);
  testing::TempDir dir;
  testing::WriteBytes(dir.Path("many.json"), many);
  EXPECT_THROW((void)LoadScene(dir.Path("many.json")), InputError);
  EXPECT_THROW((void)LoadScene(dir.Path("missing.json")), InputError);
}

TEST(Scene, SignedDistanceByHand) {
  Obstacle box;
  box.size = Eigen::Vector3d(0.2, 0.4, 0.6);  // half extents 0.1, 0.2, 0.3
  Eigen::Vector3d g;
  EXPECT_NEAR(SignedDistance(box, Eigen::Vector3d(0.5, 0, 0), &g), 0.4, 1e-15);  // a face
  EXPECT_TRUE(g.isApprox(Eigen::Vector3d::UnitX()));
  EXPECT_NEAR(SignedDistance(box, Eigen::Vector3d(0.4, 0.6, 0), &g), 0.5, 1e-15);  // an edge: (0.3, 0.4)
  EXPECT_TRUE(g.isApprox(Eigen::Vector3d(0.6, 0.8, 0)));
  EXPECT_NEAR(SignedDistance(box, Eigen::Vector3d(0, 0, -0.25), &g), -0.05, 1e-15);  // inside, near -z
  EXPECT_TRUE(g.isApprox(-Eigen::Vector3d::UnitZ()));
  Obstacle cylinder;
  cylinder.shape = Obstacle::Shape::kCylinder;
  cylinder.size = Eigen::Vector3d(0.1, 0.4, 0);
  EXPECT_NEAR(SignedDistance(cylinder, Eigen::Vector3d(0.4, 0, 0.6), nullptr), 0.5,
              1e-15);  // rim: (0.3, 0.4)
  EXPECT_NEAR(SignedDistance(cylinder, Eigen::Vector3d(0, 0.05, 0), nullptr), -0.05, 1e-15);
}

// The gradient against central differences of the distance, for every shape, in a turned pose.
TEST(Scene, GradientMatchesFiniteDifferences) {
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  for (const Obstacle::Shape shape : {Obstacle::Shape::kBox, Obstacle::Shape::kSphere,
                                      Obstacle::Shape::kCylinder, Obstacle::Shape::kCapsule}) {
    Obstacle o;
    o.shape = shape;
    o.size = shape == Obstacle::Shape::kBox ? Eigen::Vector3d(0.3, 0.5, 0.7) : Eigen::Vector3d(0.2, 0.6, 0);
    o.X_BO = TransformFromXyzRpy(Eigen::Vector3d(0.1, -0.2, 0.3), Eigen::Vector3d(0.3, -0.5, 1.1));
    for (int i = 0; i < 200; ++i) {
      const Eigen::Vector3d p(u(rng), u(rng), u(rng));
      Eigen::Vector3d g;
      (void)SignedDistance(o, p, &g);
      Eigen::Vector3d fd;
      const double h = 1e-7;
      for (int k = 0; k < 3; ++k) {
        const Eigen::Vector3d e = Eigen::Vector3d::Unit(k) * h;
        fd[k] = (SignedDistance(o, p + e, nullptr) - SignedDistance(o, p - e, nullptr)) / (2 * h);
      }
      EXPECT_NEAR(g.norm(), 1.0, 1e-12);
      // Where two faces tie inside a box, the field has a kink; skip those rare points.
      if (std::abs(fd.norm() - 1.0) > 1e-5) continue;
      EXPECT_LT((g - fd).norm(), 1e-6) << ToString(shape) << " at " << p.transpose();
    }
  }
}

}  // namespace
}  // namespace deepik
