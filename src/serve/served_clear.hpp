// Collision-aware solving in the server: which collisions a request avoids ("collisions",
// "clearance", "scene"; the server's --collisions, --clearance and --scene are the defaults), and
// the ClearSolvers that avoid them, kept per scene so that a page dragging obstacles builds each
// scene's checkers once and never reads a mesh again (the exact check of a scene shares the arm's
// meshes: ServeOptions::exact_with_scene).
#pragma once

#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

#include "deepik/geometry/scene.hpp"
#include "deepik/geometry/sphere_world.hpp"
#include "deepik/learn/model.hpp"
#include "deepik/serve/server.hpp"
#include "deepik/solve/solver.hpp"
#include "deepik/solve/solvers.hpp"
#include "serve/request_parsing.hpp"
#include "serve/served_geometry.hpp"

namespace deepik::serve {

/// The most obstacles one request's "scene" may hold (a scene file may hold kMaxObstacles): each
/// costs every solver step a distance per sphere, so a request stays within its time budget.
constexpr size_t kMaxRequestObstacles = 256;

/// A request's inline "scene" (docs/SCENES.md), at most kMaxRequestObstacles obstacles.
/// @throws ApiError 400 naming the field.
std::shared_ptr<const Scene> RequestScene(const Json& value);

/// The example scenes shipped in robots/scenes/ (GET /api/scenes/NAME): name (the file name
/// without .json) -> the file's text; each is checked by ParseScene when the server starts, and a
/// file it refuses is left out. Empty when the folder is not there.
std::map<std::string, std::string> LoadExampleScenes();

/// The server's defaults for requests (ServeOptions' collisions, clearance and scene file).
struct CollisionDefaults {
  std::optional<CollisionMode> mode;  ///< --collisions; none: self where the arm can, else off
  double clearance = 0.0;             ///< m
  std::shared_ptr<const Scene> scene = std::make_shared<const Scene>();  ///< --scene (may be empty)

  /// @throws InputError for a bad --collisions value or scene file, or --scene without
  ///         --collisions all.
  static CollisionDefaults FromOptions(const ServeOptions& options);
};

/// What one request avoids.
struct CollisionChoice {
  CollisionMode mode = CollisionMode::kOff;
  double clearance = 0.0;              ///< m
  std::shared_ptr<const Scene> scene;  ///< mode all: the request's scene or the served one
  std::string scene_key;               ///< identifies `scene` among a cache's entries
};

/// A request's "collisions" ("off", "self", "all"), "clearance" (m, 0..1) and "scene" (an inline
/// scene object, docs/SCENES.md, at most kMaxRequestObstacles obstacles; implies "all" and
/// replaces the served scene) for `solver` on an arm whose collision side is `collision` (null:
/// none). Without "collisions" and "scene", the server's mode applies where the arm and the solver
/// can keep it (lm, refined; collision geometry and a sphere model), else off.
/// @throws ApiError 400 naming the field: a bad value or scene, a scene with "collisions" other
///         than "all", collisions asked for an arm without collision geometry or sphere model or
///         for a solver that cannot avoid them.
CollisionChoice ParseCollisionChoice(const Json& body, const CollisionDefaults& defaults,
                                     const ServedCollision* collision, const Solver& solver);

/// The collision-aware solvers (ClearSolver) of one served arm, made on first use and kept per
/// solver, mode, clearance and scene (the most recently used kCapacity). Thread-safe.
class ClearSolverCache {
 public:
  /// `collision`, `chain` and `model` must outlive the cache (they are the served arm's).
  ClearSolverCache(const ServedCollision& collision, const SolverSettings& settings, const Chain& chain,
                   std::shared_ptr<const IkModel> model);

  /// `solver` (lm or refined) made collision-aware for `choice` (mode not off): the sphere model
  /// with the matrix's pairs and the scene, verified by the exact check of the meshes when the
  /// server has one (else the sphere model judges).
  std::shared_ptr<const Solver> Get(const Solver& solver, const CollisionChoice& choice) const;

  static constexpr size_t kCapacity = 32;

 private:
  std::shared_ptr<const Solver> Make(const Solver& solver, const CollisionChoice& choice) const;

  const ServedCollision& collision_;
  SolverSettings settings_;
  const Chain& chain_;
  std::shared_ptr<const IkModel> model_;
  mutable std::mutex mutex_;
  mutable std::list<std::pair<std::string, std::shared_ptr<const Solver>>> entries_;  // most recent first
};

}  // namespace deepik::serve
