#include "serve/served_arm.hpp"

#include <algorithm>
#include <filesystem>

#include "deepik/errors.hpp"
#include "deepik/geometry/robot_geometry.hpp"
#include "deepik/kinematics/arm_spec.hpp"
#include "deepik/kinematics/chain_json.hpp"
#include "deepik/kinematics/fk.hpp"
#include "deepik/learn/network_options.hpp"
#include "deepik/solve/solvers.hpp"
#include "serve/request_parsing.hpp"

namespace deepik::serve {
namespace {

namespace fs = std::filesystem;

Json ParseJsonText(const std::string& text) {
  if (text.empty()) return nullptr;
  Json value = Json::parse(text, nullptr, false);
  return value.is_discarded() ? Json(text) : value;
}

Json VisualsJson(const UrdfVisuals& visuals) {
  Json shapes = Json::array();
  for (const VisualShape& shape : visuals.shapes) {
    const char* kind = shape.kind == VisualShape::Kind::kBox        ? "box"
                       : shape.kind == VisualShape::Kind::kCylinder ? "cylinder"
                                                                    : "sphere";
    shapes.push_back({{"shape", kind},
                      {"link", shape.link},
                      {"frame", shape.frame},
                      {"origin", PoseJson(shape.X_FS)},
                      {"size", Vec3(shape.size)},
                      {"rgba", shape.rgba.allFinite()
                                   ? Json::array({shape.rgba[0], shape.rgba[1], shape.rgba[2], shape.rgba[3]})
                                   : Json(nullptr)}});
  }
  return shapes;
}

std::string ArmJson(const ServedArm& served) {
  const Chain& c = served.chain;
  const UrdfVisuals& visuals = served.visuals;
  const int n = c.num_joints();
  Json joints = Json::array();
  for (const Joint& joint : c.joints()) {
    joints.push_back({{"name", joint.name},
                      {"type", ToString(joint.type)},
                      {"axis", Vec3(joint.axis_J)},
                      {"lower", joint.lower},
                      {"upper", joint.upper},
                      {"continuous", joint.continuous},
                      {"origin", PoseJson(joint.X_PJ)}});
  }
  Eigen::VectorXd home = Eigen::VectorXd::Zero(n);
  home = home.cwiseMax(c.lower_limits()).cwiseMin(c.upper_limits());
  std::vector<Eigen::Isometry3d> X_BF;
  JointFrames(c, Eigen::VectorXd::Zero(n), &X_BF);
  Json frames = Json::array(), lengths = Json::array();
  Eigen::Vector3d previous = Eigen::Vector3d::Zero();
  for (const Eigen::Isometry3d& X : X_BF) {
    frames.push_back(PoseJson(X));
    lengths.push_back((X.translation() - previous).norm());
    previous = X.translation();
  }
  Json arm{
      {"name", c.name()},
      {"dof", n},
      {"reach", c.reach()},
      {"joints", joints},
      {"tip", PoseJson(c.X_LT())},
      {"frames_at_zero", frames},
      {"link_lengths", lengths},
      {"home", std::vector<double>(home.data(), home.data() + n)},
      {"visuals", VisualsJson(visuals)},
      {"meshes_not_drawn", std::max<int>(0, visuals.meshes - static_cast<int>(served.meshes.list.size()))},
      {"meshes", served.meshes.list},
      {"meshes_missing", served.meshes.missing},
      {"collision", served.collision ? served.collision->Description() : Json(nullptr)},
      {"units", {{"length", "m"}, {"angle", "rad"}, {"frame", "base, z up"}}}};
  return JsonText(arm);
}

// Without a model: the arm and the solvers, and null for what only a model has.
std::string ModelJson(const ServedArm& arm) {
  Json info{{"name", arm.name},
            {"path", nullptr},
            {"arm", arm.chain.name()},
            {"dof", arm.chain.num_joints()},
            {"network", nullptr},
            {"training", nullptr},
            {"metrics", nullptr},
            {"history", Json::array()},
            {"solvers", arm.solver_names},
            {"default_solver", arm.default_solver}};
  if (arm.model) {
    const IkModel& model = *arm.model;
    info["path"] = arm.name + ".safetensors";
    info["network"] = ParseJsonText(NetworkOptionsToJson(model.network()));
    info["training"] = ParseJsonText(model.Metadata("training"));
    info["metrics"] = ParseJsonText(model.Metadata("metrics"));
    info["history"] = Json::parse(HistoryToJson(model.History()));
  }
  return JsonText(info);
}

void BuildSolvers(ServedArm& arm, const SolverSettings& settings) {
  for (const std::string& name : SolverNames()) {
    try {
      arm.solvers[name] = MakeSolver(name, arm.chain, arm.model, settings);
      arm.solver_names.push_back(name);
    } catch (const InputError&) {
      // Not applicable: the closed form exists for the seed arm only; network and refined need a
      // model.
    }
  }
  arm.default_solver = DefaultSolverName(arm.model != nullptr);
}

// A name shown in JSON answers and chosen by requests: it must be text.
std::string ArmName(const fs::path& path, const std::string& what) {
  const std::string name = path.stem().string();
  const size_t bad = BadTextAt(name);
  if (bad != std::string::npos) {
    throw InputError(what + ": the file name '" + JsonText(Json(path.filename().string())) +
                     "' is not UTF-8 text without control characters (byte " + std::to_string(bad) +
                     "); arms are named after their files, so rename it");
  }
  return name;
}

// The model files of a --models folder, sorted by name; a dangling link or an unreadable entry is
// named.
std::vector<fs::path> ModelFiles(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw InputError("--models: expected a folder of model files, got '" + dir + "'");
  std::vector<fs::path> files;
  fs::directory_iterator it(dir, ec);
  for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
    const fs::path& path = it->path();
    if (path.extension() != ".safetensors") continue;
    std::error_code entry_ec;
    const fs::file_status status = fs::status(path, entry_ec);
    if (status.type() == fs::file_type::not_found && fs::is_symlink(fs::symlink_status(path, entry_ec))) {
      throw InputError("--models: '" + JsonText(Json(path.string())) + "' is a symbolic link to '" +
                       JsonText(Json(fs::read_symlink(path, entry_ec).string())) +
                       "', which does not exist; remove it or fix its target");
    }
    if (fs::is_regular_file(status)) files.push_back(path);
  }
  if (ec) throw InputError("--models: cannot read the folder '" + dir + "': " + ec.message());
  if (files.empty())
    throw InputError("--models: expected at least one .safetensors file in '" + dir + "', found none");
  std::sort(files.begin(), files.end());
  return files;
}

// The URDF shapes a model trained from a URDF keeps (its "visuals" metadata); none otherwise.
UrdfVisuals ModelVisuals(const IkModel& model, const Chain& chain, const std::string& path) {
  const auto& metadata = model.file().metadata;
  const auto found = metadata.find("visuals");
  if (found == metadata.end()) return {};
  UrdfVisuals visuals;
  try {
    visuals = VisualsFromJson(found->second);
  } catch (const InputError& e) {
    throw InputError(path + ": metadata 'visuals': " + e.what());
  }
  for (const VisualShape& shape : visuals.shapes) {
    if (shape.frame >= chain.num_joints()) {
      throw InputError(path + ": metadata 'visuals': the shape of link '" + shape.link + "' is on frame " +
                       std::to_string(shape.frame) + ", beyond the arm's " +
                       std::to_string(chain.num_joints()) + " joints");
    }
  }
  return visuals;
}

bool SameFile(const fs::path& a, const fs::path& b) {
  std::error_code ec;
  return fs::equivalent(a, b, ec);
}

class ArmLoader {
 public:
  explicit ArmLoader(const ServeOptions& options)
      : options_(options), settings_(ServeSolverSettings(options)) {}

  void AddModel(const fs::path& path, const std::string& what) {
    auto model = std::make_shared<const IkModel>(IkModel::Load(path.string()));
    Chain chain = model->chain();
    UrdfVisuals visuals = ModelVisuals(*model, chain, path.string());
    auto arm = std::make_unique<ServedArm>(ArmName(path, what), std::move(model), std::move(chain));
    arm->visuals = std::move(visuals);
    Add(std::move(arm));
  }

  void Add(std::unique_ptr<ServedArm> arm) {
    for (const auto& other : arms_) {
      if (other->name == arm->name) {
        throw InputError("serve: two arms or models named '" + arm->name +
                         "' (names are file names without their extension); rename one");
      }
    }
    BuildSolvers(*arm, settings_);
    if (arm->spec && !ArmUrdfPath(*arm->spec).empty()) {
      arm->meshes = LoadServedMeshes(*arm->spec, options_.mesh_search, static_cast<int>(arms_.size()));
      arm->collision = std::make_unique<ServedCollision>(*arm->spec, options_);
      arm->clear = std::make_unique<ClearSolverCache>(*arm->collision, settings_, arm->chain, arm->model);
    }
    arm->arm_json = ArmJson(*arm);
    arm->model_json = ModelJson(*arm);
    arms_.push_back(std::move(arm));
  }

  std::vector<std::unique_ptr<ServedArm>> Take() { return std::move(arms_); }

 private:
  const ServeOptions& options_;
  SolverSettings settings_;
  std::vector<std::unique_ptr<ServedArm>> arms_;
};

}  // namespace

SolverSettings ServeSolverSettings(const ServeOptions& options) {
  SolverSettings settings;
  settings.pose.timeout_seconds = options.solve_timeout_seconds;
  return settings;
}

std::vector<std::unique_ptr<ServedArm>> LoadServedArms(const ServeOptions& options) {
  ArmLoader loader(options);
  std::vector<fs::path> folder;
  if (!options.models_dir.empty()) folder = ModelFiles(options.models_dir);
  // The default first: --model (a file, or the name of one in --models), else the folder's
  // seed-default model when it has one, else the folder's first.
  fs::path first = options.model_path;
  if (!first.empty() && !folder.empty() && !fs::exists(first)) {
    for (const fs::path& file : folder) {
      if (file.stem() == first || file.filename() == first) first = file;
    }
  }
  if (first.empty() && options.arm.arm.empty()) {
    for (const fs::path& file : folder) {
      if (file.filename() == kDefaultServedModel) first = file;
    }
  }
  if (!first.empty()) loader.AddModel(first, "--model");
  if (!options.arm.arm.empty()) {
    auto arm = std::make_unique<ServedArm>(ArmName(options.arm.arm, "--arm"), nullptr, LoadArm(options.arm));
    arm->visuals = LoadArmVisuals(options.arm);
    arm->spec = options.arm;
    loader.Add(std::move(arm));
  }
  for (const fs::path& file : folder) {
    if (first.empty() || !SameFile(file, first)) loader.AddModel(file, "--models");
  }
  return loader.Take();
}

std::string ModelsJson(const std::vector<std::unique_ptr<ServedArm>>& arms) {
  Json list = Json::array();
  for (const auto& arm : arms) {
    list.push_back({{"name", arm->name},
                    {"arm", arm->chain.name()},
                    {"dof", arm->chain.num_joints()},
                    {"has_model", arm->model != nullptr},
                    {"solvers", arm->solver_names},
                    {"default_solver", arm->default_solver}});
  }
  return JsonText(Json{{"models", list}, {"default", arms.front()->name}});
}

}  // namespace deepik::serve
