// What the server offers: arms with their solvers, and a model where there is one, loaded once at
// start-up from ServeOptions; the answers that never change (/api/arm, /api/model, /api/models) are
// built then too. Request threads only read them.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "deepik/kinematics/urdf.hpp"
#include "deepik/learn/model.hpp"
#include "deepik/serve/server.hpp"
#include "deepik/solve/solver.hpp"
#include "deepik/solve/solvers.hpp"
#include "serve/served_clear.hpp"
#include "serve/served_geometry.hpp"

namespace deepik::serve {

/// One arm the server offers: chosen by a request's "model": name.
struct ServedArm {
  std::string name;  ///< how requests choose it ("model": name)
  /// Null: the solvers that need no model only. Shared with the network and refined solvers,
  /// which read it from any request thread (it never changes).
  std::shared_ptr<const IkModel> model;
  Chain chain;
  UrdfVisuals visuals;  ///< a URDF's boxes, cylinders and spheres (the page draws capsules for the rest)
  std::map<std::string, std::unique_ptr<Solver>> solvers;
  std::vector<std::string> solver_names;  ///< in SolverNames() order
  std::string default_solver;
  std::string arm_json, model_json;            ///< the answers of /api/arm and /api/model
  std::optional<ArmSpec> spec;                 ///< the arm as --arm names it (none for a model file)
  ServedMeshes meshes;                         ///< a URDF arm's visual meshes (served with --arm)
  std::unique_ptr<ServedCollision> collision;  ///< a URDF arm's collision side (with --arm); null: none
  std::unique_ptr<ClearSolverCache> clear;     ///< its collision-aware solvers (with `collision`)

  ServedArm(std::string n, std::shared_ptr<const IkModel> m, Chain c)
      : name(std::move(n)), model(std::move(m)), chain(std::move(c)) {}
};

/// The model a --models folder serves first when --model names none.
constexpr const char* kDefaultServedModel = "seed-default.safetensors";

/// The solver settings every request gets: `solve --timeout` as options.solve_timeout_seconds.
SolverSettings ServeSolverSettings(const ServeOptions& options);

/// --model (a file, or the name of a file in --models), then --arm, then every other model file in
/// --models (sorted by name); the first is the default, and without --model and --arm it is the
/// folder's kDefaultServedModel when it has one. Each with its solvers and prebuilt answers.
/// @throws InputError for a bad file or folder (a file name that is not UTF-8 text, a dangling
///         link), or two arms of the same name.
std::vector<std::unique_ptr<ServedArm>> LoadServedArms(const ServeOptions& options);

/// The answer of GET /api/models for `arms` (the first is the default).
std::string ModelsJson(const std::vector<std::unique_ptr<ServedArm>>& arms);

}  // namespace deepik::serve
