// `deepik collide`, `spheres`, `collision-matrix` and `collision-bench`: their command lines, run
// by the geometry plugin (apps/geometry/); and `arm info`'s collision section (core only).
#include "geometry/geometry_commands.hpp"

#include <iostream>
#include <memory>
#include <ostream>

#include "cli.hpp"
#include "deepik/errors.hpp"
#include "learn_plugin.hpp"

namespace deepik::cli {
namespace {

void AddGeometryInputOptions(CLI::App* command, GeometryInputOptions* options, bool spheres) {
  AddArmOptions(command, &options->arm);
  command->add_option("--package-path", options->search.package_paths,
                      "a folder holding ROS packages, for package://NAME/... mesh references (repeatable; "
                      "searched before ROS_PACKAGE_PATH)");
  command->add_option(
      "--matrix", options->matrix_path,
      "self-collision matrix (JSON, from `deepik collision-matrix`); default: the shipped one "
      "of a built-in arm, else every pair of links not joined by a joint");
  if (spheres) {
    command->add_option(
        "--spheres", options->spheres_path,
        "sphere model (JSON, from `deepik spheres`); default: the shipped one of a built-in arm");
  }
}

}  // namespace

const GeometryCommands& LoadGeometryCommands() {
  using Entry = const GeometryCommands* (*)();
  static const GeometryCommands* commands =
      reinterpret_cast<Entry>(LoadPluginEntry("deepik_geometry_commands.so", "DEEPIK_GEOMETRY_PLUGIN",
                                              "deepik_geometry_commands", "geometry (assimp, FCL)"))();
  return *commands;
}

std::unique_ptr<CollisionChecker> MakeExactChecker(const RobotGeometry& geometry,
                                                   std::vector<std::pair<int, int>> pairs) {
  return LoadGeometryCommands().make_exact_checker(geometry, std::move(pairs));
}

std::unique_ptr<CollisionChecker> MakeExactWithScene(const CollisionChecker& exact, const Scene& scene) {
  return LoadGeometryCommands().exact_with_scene(exact, scene);
}

void ReportCollisionGeometry(const ArmSpec& arm, std::ostream& out) {
  if (ArmUrdfPath(arm).empty()) {
    out << "collision geometry: none (a URDF arm has it: panda, ur5, iiwa14 or a .urdf file)\n";
    return;
  }
  const RobotGeometry geometry = LoadRobotGeometry(arm, MeshSearchOptions{}, false);
  int meshes = 0, primitives = 0, from_visual = 0;
  for (const LinkGeometry& link : geometry.links) {
    from_visual += link.from_visual;
    for (const LinkShape& shape : link.shapes) (shape.kind == LinkShape::Kind::kMesh ? meshes : primitives)++;
  }
  const std::vector<std::string> missing = geometry.MissingMeshes();
  out << "collision geometry (" << geometry.source << "): " << geometry.CountLinksWithShapes() << " of "
      << geometry.links.size() << " links, " << meshes << " meshes (" << meshes - missing.size()
      << " found), " << primitives << " primitives\n";
  if (from_visual > 0) {
    out << "  " << from_visual << " links have no <collision> element: their visual geometry stands in\n";
  }
  for (const std::string& line : missing) out << "  missing: " << line << "\n";
  for (const char* kind : {"matrix", "spheres"}) {
    const std::string file = BuiltinCollisionFile(arm.arm, kind);
    if (!file.empty()) out << "  " << kind << ": " << file << "\n";
  }
}

// `deepik spheres`.
void AddSpheresCommand(CLI::App& app, CommandSet* set) {
  auto spheres = std::make_shared<SpheresCommandOptions>();
  CLI::App* command = app.add_subcommand("spheres", "fit spheres to every link's collision geometry (JSON)");
  AddGeometryInputOptions(command, &spheres->geometry, true);
  command->add_option("--output,-o", spheres->output_path, "the sphere model (JSON)")->required();
  command->add_option("--link", spheres->links,
                      "refit only this link (repeatable); every other link keeps its spheres from --spheres "
                      "(default: the shipped model of a built-in arm)");
  command
      ->add_option("--overshoot", spheres->target_overshoot_mm,
                   "target largest overshoot beyond the surface per link (mm)")
      ->check(NumberIn(0.1, 1000))
      ->capture_default_str();
  command->add_option("--max-spheres", spheres->max_spheres, "most spheres per link")
      ->check(WholeNumberIn(1, 5000))
      ->capture_default_str();
  command->add_option("--count", spheres->spheres, "exactly this many spheres per link (0: by --overshoot)")
      ->check(WholeNumberIn(0, 1000))
      ->capture_default_str();
  command
      ->add_option("--spacing", spheres->spacing,
                   "surface sample spacing covered (m; capped at half of --overshoot)")
      ->check(NumberIn(1e-4, 0.1))
      ->capture_default_str();
  command
      ->add_option(
          "--close-overshoot", spheres->close_overshoot_mm,
          "a tighter target overshoot (mm, at most --overshoot) on the parts of a link that come within "
          "--close-distance of the spheres of a link it is checked against (the model of --spheres, or "
          "the shipped one), in at least --close-share of --close-samples uniform configurations; 0: off")
      ->check(NumberIn(0, 1000))
      ->capture_default_str();
  command->add_option("--close-distance", spheres->close_distance_mm, "see --close-overshoot (mm)")
      ->check(NumberIn(0, 1000))
      ->capture_default_str();
  command->add_option("--close-samples", spheres->close_samples, "see --close-overshoot (seed 1)")
      ->check(WholeNumberIn(1, 10000000))
      ->capture_default_str();
  command
      ->add_option(
          "--close-share", spheres->close_share,
          "see --close-overshoot: the least share of the configurations in which a point comes close")
      ->check(NumberIn(1e-6, 1))
      ->capture_default_str();
  set->commands.push_back({command, [spheres] {
                             LoadGeometryCommands().run_spheres(*spheres, std::cout, std::cerr);
                             return 0;
                           }});
}

void AddGeometryCommands(CLI::App& app, CommandSet* set) {
  auto collide = std::make_shared<CollideCommandOptions>();
  CLI::App* command = app.add_subcommand(
      "collide", "self-collision of joint configurations (CSV): in collision, minimum distance, the pair");
  AddGeometryInputOptions(command, &collide->geometry, true);
  command
      ->add_option("--input,-i", collide->input_path, "CSV: a header, then one row of joint values per line")
      ->required();
  command
      ->add_option("--output,-o", collide->output_path,
                   "CSV: in_collision (0/1), min_distance (m; exact: 0 in collision; spheres: signed), "
                   "link_a, link_b (the colliding or closest pair)")
      ->required();
  command->add_option("--model", collide->model, "exact (FCL on the meshes and primitives) or spheres (fast)")
      ->check(CLI::IsMember({"exact", "spheres"}))
      ->capture_default_str();
  set->commands.push_back({command, [collide] {
                             LoadGeometryCommands().run_collide(*collide, std::cerr);
                             return 0;
                           }});

  AddSpheresCommand(app, set);

  auto matrix = std::make_shared<MatrixCommandOptions>();
  command = app.add_subcommand(
      "collision-matrix",
      "the self-collision matrix: link pairs never, always or adjacent (JSON), as MoveIt's Setup Assistant");
  AddArmOptions(command, &matrix->geometry.arm);
  command->add_option("--package-path", matrix->geometry.search.package_paths,
                      "a folder holding ROS packages (repeatable)");
  command->add_option("--output,-o", matrix->output_path, "the matrix (JSON)")->required();
  command->add_option("--samples", matrix->samples, "uniform configurations sampled (N)")
      ->check(WholeNumberIn(1, 100000000))
      ->capture_default_str();
  command->add_option("--seed", matrix->seed, "seed of the configurations")->capture_default_str();
  set->commands.push_back({command, [matrix] {
                             LoadGeometryCommands().run_matrix(*matrix, std::cout, std::cerr);
                             return 0;
                           }});

  auto bench = std::make_shared<CollisionBenchOptions>();
  command = app.add_subcommand(
      "collision-bench",
      "sphere model against the exact check on uniform configurations: misses, false alarms, time");
  AddGeometryInputOptions(command, &bench->geometry, true);
  command->add_option("--count", bench->count, "uniform configurations")
      ->check(WholeNumberIn(1, 100000000))
      ->capture_default_str();
  command->add_option("--timing-count", bench->timing_count, "configurations timed one by one")
      ->check(WholeNumberIn(1, 10000000))
      ->capture_default_str();
  command->add_option("--seed", bench->seed, "seed of the configurations")->capture_default_str();
  set->commands.push_back({command, [bench] {
                             LoadGeometryCommands().run_bench(*bench, std::cout, std::cerr);
                             return 0;
                           }});
}

}  // namespace deepik::cli
