// The geometry plugin's entry point (see geometry_commands.hpp): the commands that read meshes.
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

const deepik::cli::GeometryCommands kCommands{deepik::cli::RunCollide,
                                              deepik::cli::RunSpheres,
                                              deepik::cli::RunCollisionMatrix,
                                              deepik::cli::RunCollisionBench,
                                              MakeExact,
                                              deepik::cli::MakeCollisionWorld,
                                              deepik::cli::RunClearBench};
}  // namespace

extern "C" const deepik::cli::GeometryCommands* deepik_geometry_commands() { return &kCommands; }
