// A scene of obstacles around the arm: boxes, spheres, cylinders and capsules fixed in the base
// frame B, read from a JSON scene file (docs/SCENES.md), and their signed distance fields. Pure
// Eigen, part of deepik::core; the exact check of the arm's meshes against them (FCL) is in
// deepik::geometry (deepik/geometry/exact_scene.hpp).
#pragma once

#include <Eigen/Core>
#include <Eigen/Geometry>
#include <cstdint>
#include <string>
#include <vector>

namespace deepik {

/// One obstacle, in the base frame B.
struct Obstacle {
  enum class Shape { kBox, kSphere, kCylinder, kCapsule };
  std::string name;  ///< free text, for messages ("obstacles[2]" when the file gives none)
  Shape shape = Shape::kBox;
  /// The obstacle's frame O in B: its centre; a cylinder's or capsule's axis is O's z axis.
  Eigen::Isometry3d X_BO = Eigen::Isometry3d::Identity();
  /// Box: full extents along O's x, y, z (m); sphere: radius, 0, 0; cylinder and capsule: radius,
  /// length (m, along z; a capsule's length is that of its axis segment, without the caps), 0.
  Eigen::Vector3d size = Eigen::Vector3d::Zero();
};

/// "box", "sphere", "cylinder", "capsule".
const char* ToString(Obstacle::Shape shape);

/// The obstacles around the arm.
struct Scene {
  std::vector<Obstacle> obstacles;
  bool empty() const { return obstacles.empty(); }
};

/// The most obstacles a scene may hold (more is refused, never slowly solved).
constexpr int64_t kMaxObstacles = 10000;
/// The largest size, position coordinate or radius accepted in a scene (m).
constexpr double kMaxSceneValue = 1000.0;

/// Reads a scene file (JSON, docs/SCENES.md).
/// @throws InputError naming the file and the field for a missing, unreadable or malformed file,
///         an unknown shape or field, a size <= 0, a value that is not finite or beyond
///         kMaxSceneValue, or more than kMaxObstacles obstacles.
Scene LoadScene(const std::string& path);
/// As LoadScene, from JSON text; `source` names it in messages.
Scene ParseScene(const std::string& text, const std::string& source);

/// The signed distance (m) from the point p_B to the obstacle's surface: negative inside. When
/// `gradient_B` is given, it receives the distance's gradient (a unit vector in B, the direction
/// that leaves the obstacle fastest; at a point with no unique direction, one of them).
double SignedDistance(const Obstacle& obstacle, const Eigen::Vector3d& p_B, Eigen::Vector3d* gradient_B);

}  // namespace deepik
