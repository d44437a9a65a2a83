// The collision commands (`collide`, `spheres`, `collision-matrix`, `collision-bench`): their
// options, and the plugin (deepik_geometry_commands.so, linking assimp and FCL) that runs them, so
// that the other commands start without loading either library.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "deepik/geometry/collision_model.hpp"
#include "deepik/geometry/robot_geometry.hpp"
#include "deepik/geometry/sphere_world.hpp"
#include "deepik/kinematics/arm_spec.hpp"
#include "deepik/solve/collision_solver.hpp"
#include "deepik/solve/solvers.hpp"

namespace deepik::cli {

struct CommandSet;

/// What every collision command needs to find the arm's geometry.
struct GeometryInputOptions {
  ArmSpec arm;
  MeshSearchOptions search;  ///< --package-path (repeatable); ROS_PACKAGE_PATH
  /// The self-collision matrix (JSON); empty: robots/collision/NAME.matrix.json for a built-in
  /// arm, else every non-adjacent pair is checked.
  std::string matrix_path;
  /// The sphere model (JSON); empty: robots/collision/NAME.spheres.json for a built-in arm.
  std::string spheres_path;
};

/// `deepik collide`.
struct CollideCommandOptions {
  GeometryInputOptions geometry;
  std::string model = "exact";  ///< exact (FCL on meshes) or spheres
  std::string input_path;       ///< CSV of joint values, one row per configuration
  std::string output_path;      ///< CSV: in_collision,min_distance,link_a,link_b
};

/// The check `deepik collide` runs, with what it needs to read rows.
struct CollideChecker {
  std::unique_ptr<CollisionChecker> checker;
  int num_joints = 0;  ///< the columns of a row
  size_t pairs = 0;    ///< link pairs checked
};

/// The checker of `deepik collide --model MODEL` (exact: FCL on the meshes; spheres) for these
/// options: the arm's geometry, its matrix (the shipped one of a built-in arm by default) and, for
/// spheres, its sphere model; notes go to `log`. Runs in the geometry plugin (and deepik._geometry).
/// @throws InputError for a bad arm, matrix, spheres file or mesh, or an unknown model.
CollideChecker MakeCollideChecker(const GeometryInputOptions& options, const std::string& model,
                                  std::ostream& log);

/// `deepik spheres`.
struct SpheresCommandOptions {
  GeometryInputOptions geometry;
  double target_overshoot_mm = 10.0;
  int max_spheres = 32;
  int spheres = 0;
  double spacing = 0.004;
  /// > 0: SphereFitOptions::close_overshoot_mm, near CloseSurfacePoints (distance, samples).
  double close_overshoot_mm = 0;
  double close_distance_mm = 10;
  int64_t close_samples = 2000;
  double close_share = 0.01;
  std::string output_path;
  /// Refit only these links; the others are copied from geometry.spheres_path (default: the
  /// shipped model). Empty: every link with shapes.
  std::vector<std::string> links;
};

/// `deepik collision-matrix`.
struct MatrixCommandOptions {
  GeometryInputOptions geometry;
  int64_t samples = 10000;
  uint64_t seed = 1;
  std::string output_path;
};

/// `deepik collision-bench`.
struct CollisionBenchOptions {
  GeometryInputOptions geometry;
  int64_t count = 100000;
  uint64_t seed = 7;
  int64_t timing_count = 2000;  ///< configurations timed one by one for the medians
};

/// What a collision-aware solve loads (`solve`, `track`, `bench` with --collisions self or all).
struct CollisionSetupOptions {
  GeometryInputOptions geometry;  ///< the arm, --package-path, --matrix, --spheres
  CollisionMode mode = CollisionMode::kSelf;
  std::string scene_path;  ///< --scene FILE (mode all); empty: no obstacles
  /// The obstacles themselves (mode all), instead of scene_path (Python's scene= as a dict).
  std::optional<Scene> scene;
};

/// `deepik bench --collision-free`: the collision-free IK benchmark (ClearBenchOptions).
struct ClearBenchCommandOptions {
  CollisionSetupOptions setup;  ///< the arm, --matrix, --spheres, --scene (mode all with a scene)
  std::string model_path;       ///< adds collision-aware `refined` (empty: lm and the baselines only)
  SolverSettings settings;      ///< the budget and tolerances of every solver (`--timeout`)
  int64_t count = 2000;
  uint64_t seed = 42;
};

/// The plugin's entry points.
struct GeometryCommands {
  void (*run_collide)(const CollideCommandOptions& options, std::ostream& log);
  void (*run_spheres)(const SpheresCommandOptions& options, std::ostream& out, std::ostream& log);
  void (*run_matrix)(const MatrixCommandOptions& options, std::ostream& out, std::ostream& log);
  void (*run_bench)(const CollisionBenchOptions& options, std::ostream& out, std::ostream& log);
  /// The exact check (ExactChecker) of `pairs` of `geometry`, for `deepik serve`'s /api/collide.
  std::unique_ptr<CollisionChecker> (*make_exact_checker)(const RobotGeometry& geometry,
                                                          std::vector<std::pair<int, int>> pairs);
  /// The sphere model (with the matrix's pairs and the scene) and the exact check (FCL on the
  /// meshes, self pairs and the scene) of a collision-aware solve.
  CollisionWorld (*make_world)(const CollisionSetupOptions& options, std::ostream& log);
  /// `exact` (an ExactChecker the plugin made) among `scene`'s obstacles, sharing its meshes
  /// (ExactChecker::WithScene), for `deepik serve`'s collision-aware solving.
  std::unique_ptr<CollisionChecker> (*exact_with_scene)(const CollisionChecker& exact, const Scene& scene);
  void (*run_clear_bench)(const ClearBenchCommandOptions& options, std::ostream& out, std::ostream& log);
};

/// Loads the plugin on first use ($DEEPIK_GEOMETRY_PLUGIN, or deepik_geometry_commands.so beside
/// the command; see LoadPluginEntry).
/// @throws std::runtime_error naming the paths tried.
const GeometryCommands& LoadGeometryCommands();

/// The plugin's make_exact_checker, loading the plugin on first use (a ServeOptions::exact_checker).
/// @throws std::runtime_error when the plugin cannot be loaded; InputError as ExactChecker.
std::unique_ptr<CollisionChecker> MakeExactChecker(const RobotGeometry& geometry,
                                                   std::vector<std::pair<int, int>> pairs);

/// The plugin's exact_with_scene, loading the plugin on first use (a ServeOptions::exact_with_scene).
/// @throws std::runtime_error when the plugin cannot be loaded; std::invalid_argument when `exact`
///         is not an ExactChecker.
std::unique_ptr<CollisionChecker> MakeExactWithScene(const CollisionChecker& exact, const Scene& scene);

/// Adds collide, spheres, collision-matrix and collision-bench.
void AddGeometryCommands(CLI::App& app, CommandSet* set);

/// `deepik arm info`'s collision section: the links with geometry, where it comes from (collision
/// or visual elements), the meshes found and missing, and the shipped matrix and sphere files.
/// Reads no mesh (no assimp, no FCL). Never throws for a missing mesh.
void ReportCollisionGeometry(const ArmSpec& arm, std::ostream& out);

}  // namespace deepik::cli

/// Exported by the plugin; returns its table of entry points.
extern "C" const deepik::cli::GeometryCommands* deepik_geometry_commands();
