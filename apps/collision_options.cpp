#include "collision_options.hpp"

#include <ostream>

#include "cli.hpp"
#include "deepik/errors.hpp"
#include "deepik/geometry/robot_geometry.hpp"
#include "geometry/geometry_commands.hpp"

namespace deepik::cli {
namespace {

bool HasSphereModel(const CollisionCommandOptions& options, const ArmSpec& arm) {
  return !options.spheres_path.empty() || !BuiltinCollisionFile(arm.arm, "spheres").empty();
}

}  // namespace

void AddCollisionModeOptions(CLI::App* command, std::string* collisions, double* clearance,
                             const std::string& defaults) {
  command
      ->add_option("--collisions", *collisions,
                   "off, self (the arm with itself) or all (also the --scene obstacles): lm and refined keep "
                   "the arm clear on its sphere model and verify every converged answer on the meshes (FCL); "
                   "default: " +
                       defaults)
      ->check(CLI::IsMember({"off", "self", "all"}));
  command->add_option("--clearance", *clearance, "distance kept between checked links and from obstacles (m)")
      ->check(NumberIn(SolveRequest::kClearance.min, SolveRequest::kClearance.max))
      ->capture_default_str();
}

void AddCollisionOptions(CLI::App* command, CollisionCommandOptions* options) {
  AddCollisionModeOptions(command, &options->collisions, &options->clearance,
                          "self when the arm has collision geometry and a sphere model (panda, ur5, iiwa14), "
                          "else off");
  AddCollisionFileOptions(command, options, "obstacles (JSON, docs/SCENES.md), with --collisions all");
}

void AddCollisionFileOptions(CLI::App* command, CollisionCommandOptions* options,
                             const std::string& scene_help) {
  command->add_option("--scene", options->scene_path, scene_help);
  command->add_option("--matrix", options->matrix_path,
                      "self-collision matrix (JSON); default: the shipped one of a built-in arm");
  command->add_option("--spheres", options->spheres_path,
                      "sphere model (JSON); default: the shipped one of a built-in arm");
  command->add_option("--package-path", options->package_paths,
                      "a folder holding ROS packages, for the meshes' package:// references (repeatable)");
}

CollisionSetupOptions CollisionSetup(const CollisionCommandOptions& options, const ArmSpec& arm,
                                     CollisionMode mode) {
  CollisionSetupOptions setup;
  setup.geometry.arm = arm;
  setup.geometry.search.package_paths = options.package_paths;
  setup.geometry.matrix_path = options.matrix_path;
  setup.geometry.spheres_path = options.spheres_path;
  setup.mode = mode;
  setup.scene_path = options.scene_path;
  return setup;
}

ArmSpec GeometryArm(const ArmSpec& arm, const Chain& chain) {
  if (!arm.arm.empty()) return arm;
  ArmSpec named;
  if (!BuiltinArmUrdf(chain.name()).empty()) named.arm = chain.name();
  return named;
}

void ApplyCollisionOptions(const CollisionCommandOptions& options, SolveRequest* request) {
  if (!options.collisions.empty()) request->collisions = ParseCollisionMode(options.collisions);
  request->clearance = options.clearance;
  if (!options.scene_path.empty() && request->collisions != CollisionMode::kAll)
    throw InputError("--scene: expected --collisions all with a scene");
}

CollisionMode ResolveCollisionMode(const SolveRequest& request, const CollisionCommandOptions& options,
                                   const ArmSpec& arm) {
  if (request.collisions) return *request.collisions;
  const bool geometry = !arm.arm.empty() && !ArmUrdfPath(arm).empty();
  return geometry && HasSphereModel(options, arm) ? CollisionMode::kSelf : CollisionMode::kOff;
}

std::unique_ptr<Solver> MakeCollisionAware(std::unique_ptr<Solver> solver, const SolveRequest& request,
                                           const CollisionCommandOptions& options, const ArmSpec& arm,
                                           std::ostream& log) {
  const CollisionMode mode = ResolveCollisionMode(request, options, arm);
  if (mode == CollisionMode::kOff) return solver;
  const bool iterative = solver->name() == "lm" || solver->name() == "refined";
  if (!iterative) {
    if (!request.collisions) return solver;  // the default applies to the solvers that can keep it
    throw InputError("--collisions " + std::string(ToString(mode)) +
                     ": expected solver lm or refined (they avoid collisions), got " + solver->name());
  }
  if (arm.arm.empty() || ArmUrdfPath(arm).empty()) {
    throw InputError("--collisions " + std::string(ToString(mode)) +
                     ": the arm has no collision geometry (a URDF arm has it: panda, ur5, iiwa14 or a .urdf "
                     "file); use --collisions off");
  }
  if (!HasSphereModel(options, arm)) {
    throw InputError("--collisions " + std::string(ToString(mode)) + ": no sphere model for arm '" + arm.arm +
                     "': give --spheres FILE (made by `deepik spheres`)");
  }
  CollisionWorld world = LoadGeometryCommands().make_world(CollisionSetup(options, arm, mode), log);
  CollisionSolveOptions clear;
  clear.clearance = request.clearance;
  log << "collisions: " << ToString(mode) << ", clearance " << request.clearance << " m\n";
  return std::make_unique<ClearSolver>(std::move(solver), std::move(world), request.solver_settings().pose,
                                       clear);
}

}  // namespace deepik::cli
