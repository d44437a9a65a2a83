// The exact self-collision check: FCL (the library MoveIt uses) on each link's collision meshes
// and URDF primitives; and the self-collision matrix computed with it. Part of deepik::geometry.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "deepik/geometry/collision_model.hpp"
#include "deepik/geometry/mesh.hpp"
#include "deepik/geometry/robot_geometry.hpp"
#include "deepik/geometry/scene.hpp"

namespace deepik {

/// FCL on the links' shapes: meshes as OBBRSS bounding-volume trees, boxes, cylinders and spheres
/// as FCL's own primitives. Distances use FCL's own GJK (GST_INDEP; FCL 0.7's libccd default gives
/// wrong box-box distances, FCL issue 508). Immutable; Check is safe from many threads.
class ExactChecker final : public CollisionChecker {
 public:
  /// Reads every link's meshes (LinkSurface) and checks the link pairs `pairs` (indices into
  /// geometry.links, e.g. CheckedPairs). With a scene, its obstacles (FCL primitives) follow the
  /// links as bodies fixed in B (link_names() ends with their names; report indices past the
  /// links are obstacles) and every link with shapes that moves with a joint (not the links fixed
  /// to the base) is also checked against each of them.
  /// @throws InputError as LinkSurface (a missing, unreadable, too large or invalid mesh).
  ExactChecker(const RobotGeometry& geometry, std::vector<std::pair<int, int>> pairs,
               const MeshLimits& limits = {}, const Scene* scene = nullptr);
  ~ExactChecker() override;
  ExactChecker(const ExactChecker&) = delete;
  /// The same links and link pairs (without this checker's obstacles, if any) among `scene`'s
  /// obstacles. Shares the links' meshes and bounding-volume trees with this checker (no mesh is
  /// read again), so a scene that changes often costs only its obstacles.
  std::unique_ptr<ExactChecker> WithScene(const Scene& scene) const;
  ExactChecker& operator=(const ExactChecker&) = delete;

  /// In collision: the first colliding pair and min_distance 0; else the closest pair and its
  /// distance (m).
  CollisionReport Check(const Eigen::Ref<const Eigen::VectorXd>& q) const override;
  bool InCollision(const Eigen::Ref<const Eigen::VectorXd>& q) const override;
  /// As CollisionChecker::Clear, by bounds first: a pair whose bounding spheres, or whose hull
  /// trees along a separating axis, are at least `clearance` apart is not measured; FCL measures
  /// the others, and the first one closer than `clearance` ends the check.
  bool Clear(const Eigen::Ref<const Eigen::VectorXd>& q, double clearance) const override;
  const std::vector<std::string>& link_names() const override;

  /// For each of `pairs` (indices into the links), whether it collides at q.
  std::vector<bool> CollidingPairs(const Eigen::Ref<const Eigen::VectorXd>& q,
                                   const std::vector<std::pair<int, int>>& pairs) const;
  /// The distance between links a and b at q (m; 0 when they collide).
  double LinkDistance(const Eigen::Ref<const Eigen::VectorXd>& q, int a, int b) const;
  /// Each link's surface in its own frame (empty for a link without shapes); none for obstacles.
  const std::vector<TriangleMesh>& surfaces() const;
  /// The checked pairs.
  const std::vector<std::pair<int, int>>& pairs() const;

 private:
  struct Impl;
  explicit ExactChecker(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// How ComputeCollisionMatrix samples.
struct CollisionMatrixOptions {
  int64_t samples = 10000;  ///< uniform configurations (MoveIt Setup Assistant's default density)
  uint64_t seed = 1;
  /// @returns false with a message naming the field when a value is out of range.
  bool IsValid(std::string* error) const;
};

/// The self-collision matrix as MoveIt's Setup Assistant builds it: adjacent links are disabled;
/// of the other pairs with shapes, those in collision in every sample are disabled as "always",
/// those in collision in none as "never" (a statistical claim: never in `samples` configurations).
/// @throws std::invalid_argument for bad options.
CollisionMatrix ComputeCollisionMatrix(const RobotGeometry& geometry, const CollisionMatrixOptions& options,
                                       const MeshLimits& limits = {});

}  // namespace deepik
