#include "serve/served_clear.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "deepik/errors.hpp"
#include "deepik/geometry/robot_geometry.hpp"
#include "deepik/solve/collision_solver.hpp"

namespace deepik::serve {
namespace {

bool AvoidsCollisions(const Solver& solver) { return solver.name() == "lm" || solver.name() == "refined"; }

std::optional<CollisionMode> ModeField(const Json& body) {
  if (!body.contains("collisions")) return std::nullopt;
  const Json& value = body["collisions"];
  if (!value.is_string() || (value != "off" && value != "self" && value != "all"))
    throw ApiError{400, "collisions: expected \"off\", \"self\" or \"all\", got " + JsonText(value)};
  return ParseCollisionMode(value.get<std::string>());
}

// Why `collision` cannot avoid collisions ("" when it can).
std::string Unable(const ServedCollision* collision) {
  if (collision == nullptr)
    return "the arm has no collision geometry (serve a URDF arm with --arm: panda, ur5, iiwa14 or a .urdf "
           "file)";
  if (collision->spheres() == nullptr)
    return "the arm has no sphere model (start deepik serve with --spheres FILE, made by `deepik spheres`)";
  return "";
}

}  // namespace

// Checked as a scene file is (ParseScene), after its size.
std::shared_ptr<const Scene> RequestScene(const Json& value) {
  if (!value.is_object()) {
    throw ApiError{400, "scene: expected a scene object {\"obstacles\": [...]} (docs/SCENES.md), got " +
                            TypeName(value)};
  }
  if (value.contains("obstacles") && value["obstacles"].is_array() &&
      value["obstacles"].size() > kMaxRequestObstacles) {
    throw ApiError{400, "scene.obstacles: expected at most " + std::to_string(kMaxRequestObstacles) +
                            " obstacles in a request, got " + std::to_string(value["obstacles"].size())};
  }
  try {
    return std::make_shared<const Scene>(ParseScene(JsonText(value), "scene"));
  } catch (const InputError& e) {
    throw ApiError{400, e.what()};
  }
}

std::map<std::string, std::string> LoadExampleScenes() {
  namespace fs = std::filesystem;
  std::map<std::string, std::string> scenes;
  // robots/scenes/ beside the built-in arms' URDF files (robots/panda.urdf).
  const fs::path folder = fs::path(BuiltinArmUrdf("panda")).parent_path() / "scenes";
  std::error_code ec;
  for (fs::directory_iterator it(folder, ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
    const fs::path& path = it->path();
    if (path.extension() != ".json" || !it->is_regular_file(ec)) continue;
    std::ifstream file(path, std::ios::binary);
    std::ostringstream text;
    text << file.rdbuf();
    try {
      ParseScene(text.str(), path.string());
      scenes[path.stem().string()] = text.str();
    } catch (const InputError&) {
      // Not served: the page offers only scenes the solvers take.
    }
  }
  return scenes;
}

CollisionDefaults CollisionDefaults::FromOptions(const ServeOptions& options) {
  CollisionDefaults defaults;
  if (!options.collisions.empty()) defaults.mode = ParseCollisionMode(options.collisions);
  defaults.clearance = options.clearance;
  if (!options.scene_path.empty()) {
    if (defaults.mode != CollisionMode::kAll)
      throw InputError("--scene: expected --collisions all with a scene");
    defaults.scene = std::make_shared<const Scene>(LoadScene(options.scene_path));
  }
  return defaults;
}

CollisionChoice ParseCollisionChoice(const Json& body, const CollisionDefaults& defaults,
                                     const ServedCollision* collision, const Solver& solver) {
  const std::optional<CollisionMode> asked = ModeField(body);
  CollisionChoice choice;
  choice.clearance = NumberField(body, "clearance", defaults.clearance, CollisionSolveOptions::kClearance.min,
                                 CollisionSolveOptions::kClearance.max);
  if (body.contains("scene")) {
    if (asked && *asked != CollisionMode::kAll) {
      throw ApiError{400, std::string("scene: expected \"collisions\": \"all\" with a scene, got \"") +
                              ToString(*asked) + "\""};
    }
    choice.scene = RequestScene(body["scene"]);
    choice.scene_key = JsonText(body["scene"]);
  } else {
    choice.scene = defaults.scene;
    choice.scene_key = "served";
  }
  const bool explicit_choice = asked || body.contains("scene");
  const std::string unable = Unable(collision);
  if (explicit_choice) {
    choice.mode = asked ? *asked : CollisionMode::kAll;
  } else {
    // The server's default applies where it can be kept.
    choice.mode = defaults.mode.value_or(CollisionMode::kSelf);
    if (!unable.empty() || !AvoidsCollisions(solver)) choice.mode = CollisionMode::kOff;
  }
  if (choice.mode == CollisionMode::kOff) return choice;
  const std::string field = body.contains("scene") && !asked ? "scene" : "collisions";
  if (!unable.empty()) throw ApiError{400, field + ": " + unable + "; use \"collisions\": \"off\""};
  if (!AvoidsCollisions(solver)) {
    throw ApiError{400,
                   field + ": expected solver lm or refined (they avoid collisions), got " + solver.name()};
  }
  if (choice.mode == CollisionMode::kSelf) {
    choice.scene = std::make_shared<const Scene>();
    choice.scene_key.clear();
  }
  return choice;
}

ClearSolverCache::ClearSolverCache(const ServedCollision& collision, const SolverSettings& settings,
                                   const Chain& chain, std::shared_ptr<const IkModel> model)
    : collision_(collision), settings_(settings), chain_(chain), model_(std::move(model)) {}

std::shared_ptr<const Solver> ClearSolverCache::Get(const Solver& solver,
                                                    const CollisionChoice& choice) const {
  char clearance[32];
  std::snprintf(clearance, sizeof clearance, "%.17g", choice.clearance);
  const std::string key =
      solver.name() + "|" + ToString(choice.mode) + "|" + clearance + "|" + choice.scene_key;
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
      if (it->first != key) continue;
      entries_.splice(entries_.begin(), entries_, it);
      return entries_.front().second;
    }
  }
  // Made outside the lock (the first one reads the meshes); two requests may both make one.
  std::shared_ptr<const Solver> made = Make(solver, choice);
  const std::lock_guard<std::mutex> lock(mutex_);
  entries_.emplace_front(key, made);
  if (entries_.size() > kCapacity) entries_.pop_back();
  return made;
}

std::shared_ptr<const Solver> ClearSolverCache::Make(const Solver& solver,
                                                     const CollisionChoice& choice) const {
  const Scene& scene = *choice.scene;
  CollisionWorld world;
  world.spheres = std::make_unique<SphereWorld>(collision_.geometry(), *collision_.spheres(),
                                                collision_.pairs(), scene, choice.mode);
  world.exact = collision_.ExactWithScene(scene);
  CollisionSolveOptions options;
  options.clearance = choice.clearance;
  return std::make_shared<const ClearSolver>(MakeSolver(solver.name(), chain_, model_, settings_),
                                             std::move(world), settings_.pose, options);
}

}  // namespace deepik::serve
