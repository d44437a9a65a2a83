// The geometry plugin's entry point (see geometry_commands.hpp): the commands that read meshes.
#include <stdexcept>

#include "deepik/geometry/exact_checker.hpp"
#include "geometry_commands.hpp"

namespace deepik::cli {
void RunCollide(const CollideCommandOptions& options, std::ostream& log);
void RunSpheres(const SpheresCommandOptions& options, std::ostream& out, std::ostream& log);
void RunCollisionMatrix(const MatrixCommandOptions& options, std::ostream& out, std::ostream& log);
void RunCollisionBench(const CollisionBenchOptions& options, std::ostream& out, std::ostream& log);
CollisionWorld MakeCollisionWorld(const CollisionSetupOptions& options, std::ostream& log);
void RunClearBench(const ClearBenchCommandOptions& options, std::ostream& out, std::ostream& log);
}  // namespace deepik::cli

namespace {
std::unique_ptr<deepik::CollisionChecker> MakeExact(const deepik::RobotGeometry& geometry,
                                                    std::vector<std::pair<int, int>> pairs) {
  return std::make_unique<deepik::ExactChecker>(geometry, std::move(pairs));
}

std::unique_ptr<deepik::CollisionChecker> WithScene(const deepik::CollisionChecker& exact,
                                                    const deepik::Scene& scene) {
  const auto* checker = dynamic_cast<const deepik::ExactChecker*>(&exact);
  if (checker == nullptr) throw std::invalid_argument("exact_with_scene: expected an ExactChecker");
  return checker->WithScene(scene);
}

const deepik::cli::GeometryCommands kCommands{deepik::cli::RunCollide,
                                              deepik::cli::RunSpheres,
                                              deepik::cli::RunCollisionMatrix,
                                              deepik::cli::RunCollisionBench,
                                              MakeExact,
                                              deepik::cli::MakeCollisionWorld,
                                              WithScene,
                                              deepik::cli::RunClearBench};
}  // namespace

extern "C" const deepik::cli::GeometryCommands* deepik_geometry_commands() { return &kCommands; }
