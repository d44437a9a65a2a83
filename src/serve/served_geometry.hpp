// A served URDF arm's body: the visual mesh files the page draws (the only files GET /api/meshes/
// serves), the collision geometry and checkers of POST /api/collide, and the sphere model the
// page can show. Pure core (deepik/geometry/collision_model.hpp); the exact check comes from
// ServeOptions::exact_checker (the geometry plugin), built on the first request that needs it.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "deepik/geometry/collision_model.hpp"
#include "deepik/geometry/scene.hpp"
#include "deepik/serve/server.hpp"
#include "serve/request_parsing.hpp"

namespace deepik::serve {

/// The largest mesh file served (bytes): as the geometry layer's MeshLimits.
constexpr long long kMaxServedMeshBytes = 64LL << 20;

/// The visual meshes of a served arm: what /api/arm lists and the files behind their addresses.
struct ServedMeshes {
  /// Per mesh {"link", "frame", "origin" (pose in the frame), "scale", "url", "format"}.
  Json list = Json::array();
  /// Mesh references not found ("link 'x': ..."), shown by the page.
  std::vector<std::string> missing;
  /// Request path (%-decoded) -> file: each mesh and the files a glTF names (buffers, images).
  std::map<std::string, std::string> files;
};

/// The visual meshes of `spec` (a URDF arm; none for the others) under /api/meshes/<arm_index>/.
/// Never throws for a missing mesh (it is listed); a URDF that cannot be read gives none.
ServedMeshes LoadServedMeshes(const ArmSpec& spec, const MeshSearchOptions& search, int arm_index);

/// Reads a served mesh file (at most kMaxServedMeshBytes); false with `error` naming it.
bool ReadServedFile(const std::string& path, std::string* bytes, std::string* error);

/// The Content-Type of a mesh or glTF resource file, by its extension.
const char* MeshMimeType(const std::string& path);

/// The collision side of a served URDF arm.
class ServedCollision {
 public:
  /// Reads the arm's collision geometry, its matrix and sphere model (options' paths, else the
  /// shipped ones); meshes are only found here, read by the first exact check.
  /// @throws InputError for a bad matrix or spheres file.
  ServedCollision(const ArmSpec& spec, const ServeOptions& options);

  /// The checker of "collision_model" ("exact" or "spheres").
  /// @throws ApiError 400 when that model is not available (naming why: no sphere file, no
  ///         plugin, a missing mesh).
  const CollisionChecker& Checker(const std::string& kind) const;

  /// For /api/arm: {"links", "pairs", "exact" (available: the plugin is there and no mesh is
  /// missing), "spheres": [{"link", "frame", "origin" (of the
  /// link in its frame), "spheres": [[x, y, z, r], ...]}, ...] or null}.
  Json Description() const;

  const RobotGeometry& geometry() const { return geometry_; }
  /// The link pairs checked for self-collision (the matrix's).
  const std::vector<std::pair<int, int>>& pairs() const { return pairs_; }
  /// The sphere model; null when the arm has none.
  const SphereSet* spheres() const { return spheres_ ? &*spheres_ : nullptr; }
  /// The exact check of the self pairs and `scene`'s obstacles (sharing the meshes of
  /// Checker("exact"), built on first use); null when it cannot run (no plugin, a missing mesh).
  std::unique_ptr<CollisionChecker> ExactWithScene(const Scene& scene) const;

 private:
  RobotGeometry geometry_;
  std::vector<std::pair<int, int>> pairs_;
  std::optional<SphereSet> spheres_;
  std::unique_ptr<SphereChecker> sphere_checker_;
  ExactCheckerFactory make_exact_;
  ExactSceneFactory make_with_scene_;
  mutable std::once_flag exact_once_;
  mutable std::unique_ptr<CollisionChecker> exact_;
  mutable std::string exact_error_;
};

/// POST /api/collide for `collision` (null: the arm has no collision geometry) and `chain`: "q"
/// (one configuration) or "qs" (1..max_rows of them), "collision_model" ("exact", the default,
/// or "spheres"), "scene" (an inline scene, docs/SCENES.md, exact only: the links that move are also
/// checked against its obstacles, whose names then appear as link_a / link_b). Answers {"in_collision",
/// "min_distance", "link_a", "link_b"} per row ({"results":
/// [...]} for "qs"), as `deepik collide`'s CSV.
/// @throws ApiError for a bad request (400), too many rows (413).
Json Collide(const Json& body, const ServedCollision* collision, const Chain& chain, int max_rows,
             double max_work_seconds);

}  // namespace deepik::serve
