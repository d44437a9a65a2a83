// The collision options of the solving commands (--collisions, --clearance, --scene, --matrix,
// --spheres, --package-path) and the collision-aware solver they make (the geometry plugin loads
// the meshes, FCL and the sphere model only when collisions are checked).
#pragma once

#include <CLI/CLI.hpp>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "commands.hpp"
#include "deepik/kinematics/arm_spec.hpp"
#include "deepik/solve/solve_request.hpp"
#include "deepik/solve/solver.hpp"
#include "geometry/geometry_commands.hpp"

namespace deepik::cli {

/// Adds --collisions and --clearance (the solving commands' and `serve`'s); `defaults` ends the
/// help of --collisions ("default: ...").
void AddCollisionModeOptions(CLI::App* command, std::string* collisions, double* clearance,
                             const std::string& defaults);

/// Adds --collisions, --clearance, --scene, --matrix, --spheres and --package-path.
void AddCollisionOptions(CLI::App* command, CollisionCommandOptions* options);

/// Adds --scene (with `scene_help`), --matrix, --spheres and --package-path.
void AddCollisionFileOptions(CLI::App* command, CollisionCommandOptions* options,
                             const std::string& scene_help);

/// What the geometry plugin loads for a collision-aware solve on `arm` in `mode`: the files of
/// `options` (--scene, --matrix, --spheres, --package-path).
CollisionSetupOptions CollisionSetup(const CollisionCommandOptions& options, const ArmSpec& arm,
                                     CollisionMode mode);

/// The arm whose geometry a solve on `chain` uses: `arm` when given, else the built-in arm the
/// chain is named after (a model of panda, ur5 or iiwa14); empty `arm` field when there is none.
ArmSpec GeometryArm(const ArmSpec& arm, const Chain& chain);

/// Copies --collisions (parsed) and --clearance into the request.
/// @throws InputError for an unknown --collisions value, or --scene without --collisions all.
void ApplyCollisionOptions(const CollisionCommandOptions& options, SolveRequest* request);

/// The mode a request resolves to: request.collisions when given, else self when `arm` has
/// collision geometry (a URDF) and a sphere model (shipped, or --spheres), else off.
CollisionMode ResolveCollisionMode(const SolveRequest& request, const CollisionCommandOptions& options,
                                   const ArmSpec& arm);

/// `solver` made collision-aware (ClearSolver) when the mode is not off: lm and refined only.
/// The default mode (no --collisions) leaves other solvers as they are.
/// @throws InputError when collisions are asked for explicitly for a solver that cannot avoid
///         them, or for an arm without collision geometry or sphere model; as the geometry
///         plugin's loaders for bad files.
std::unique_ptr<Solver> MakeCollisionAware(std::unique_ptr<Solver> solver, const SolveRequest& request,
                                           const CollisionCommandOptions& options, const ArmSpec& arm,
                                           std::ostream& log);

}  // namespace deepik::cli
