#include "serve/served_geometry.hpp"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "deepik/errors.hpp"
#include "serve/served_clear.hpp"

namespace deepik::serve {
namespace {

namespace fs = std::filesystem;

// The formats the page's loaders read (three.js's STL, Collada, glTF and OBJ loaders).
const char* const kMeshFormats[] = {"stl", "dae", "gltf", "glb", "obj"};

// A path segment or relative path an address can carry as it is: letters, digits, . _ - (and /
// between segments when `slashes`), no empty, "." or ".." segment.
bool PlainRelativePath(const std::string& text, bool slashes) {
  if (text.empty() || text.size() > 200) return false;
  for (const unsigned char c : text) {
    if (!std::isalnum(c) && c != '.' && c != '_' && c != '-' && !(slashes && c == '/')) return false;
  }
  std::stringstream stream(text);
  std::string segment;
  while (std::getline(stream, segment, '/')) {
    if (segment.empty() || segment == "." || segment == "..") return false;
  }
  return text.back() != '/';
}

bool IsRegularFile(const fs::path& path) {
  std::error_code ec;
  return fs::is_regular_file(path, ec);
}

// The files a glTF file names beside it (buffers, images): relative plain paths only; data: URIs
// need no file, and anything else (absolute, "..", a scheme) is not served, so the loader fails
// on that mesh alone.
std::vector<std::string> GltfResources(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  const Json gltf = Json::parse(file, nullptr, false);
  std::vector<std::string> uris;
  if (!gltf.is_object()) return uris;
  for (const char* kind : {"buffers", "images"}) {
    if (!gltf.contains(kind) || !gltf[kind].is_array()) continue;
    for (const Json& entry : gltf[kind]) {
      if (!entry.is_object() || !entry.contains("uri") || !entry["uri"].is_string()) continue;
      const std::string uri = PercentDecoded(entry["uri"].get<std::string>());
      if (PlainRelativePath(uri, true)) uris.push_back(uri);
    }
  }
  return uris;
}

}  // namespace

ServedMeshes LoadServedMeshes(const ArmSpec& spec, const MeshSearchOptions& search, int arm_index) {
  ServedMeshes meshes;
  if (ArmUrdfPath(spec).empty()) return meshes;
  std::vector<LinkGeometry> links;
  try {
    links = LoadRobotVisualGeometry(spec, search).links;
  } catch (const InputError&) {
    return meshes;  // the chain loaded, so this is rare; the page then draws capsules
  }
  int k = 0;
  for (const LinkGeometry& link : links) {
    for (const LinkShape& shape : link.shapes) {
      if (shape.kind != LinkShape::Kind::kMesh) continue;
      if (shape.mesh_path.empty()) {
        meshes.missing.push_back("link '" + link.name + "': " + shape.mesh_error);
        continue;
      }
      const fs::path file(shape.mesh_path);
      const std::string format =
          Lowercase(file.extension().string().substr(std::min<size_t>(1, file.extension().string().size())));
      if (std::find(std::begin(kMeshFormats), std::end(kMeshFormats), format) == std::end(kMeshFormats)) {
        meshes.missing.push_back("link '" + link.name + "': mesh '" + shape.mesh_reference +
                                 "': the page reads STL, COLLADA, glTF and OBJ, not '" + format + "'");
        continue;
      }
      const std::string name =
          PlainRelativePath(file.filename().string(), false) ? file.filename().string() : "mesh." + format;
      const std::string folder = "/api/meshes/" + std::to_string(arm_index) + "/" + std::to_string(k++) + "/";
      meshes.files[folder + name] = shape.mesh_path;
      if (format == "gltf") {
        for (const std::string& uri : GltfResources(shape.mesh_path)) {
          const fs::path resource = file.parent_path() / uri;
          if (IsRegularFile(resource)) meshes.files[folder + uri] = resource.string();
        }
      }
      meshes.list.push_back({{"link", link.name},
                             {"frame", link.frame},
                             {"origin", PoseJson(link.X_FL * shape.X_LS)},
                             {"scale", Vec3(shape.size)},
                             {"url", folder + name},
                             {"format", format}});
    }
  }
  return meshes;
}

bool ReadServedFile(const std::string& path, std::string* bytes, std::string* error) {
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  if (ec || size > static_cast<uintmax_t>(kMaxServedMeshBytes)) {
    *error = "mesh file '" + path + "': " + (ec ? ec.message() : "larger than 64 MiB");
    return false;
  }
  std::ifstream file(path, std::ios::binary);
  std::ostringstream text;
  text << file.rdbuf();
  if (!file) {
    *error = "mesh file '" + path + "': cannot be read";
    return false;
  }
  *bytes = text.str();
  return true;
}

const char* MeshMimeType(const std::string& path) {
  const std::string ext = Lowercase(fs::path(path).extension().string());
  if (ext == ".stl") return "model/stl";
  if (ext == ".dae") return "model/vnd.collada+xml";
  if (ext == ".gltf") return "model/gltf+json";
  if (ext == ".glb") return "model/gltf-binary";
  if (ext == ".obj") return "model/obj";
  if (ext == ".png") return "image/png";
  if (ext == ".jpg" || ext == ".jpeg") return "image/jpeg";
  return "application/octet-stream";
}

ServedCollision::ServedCollision(const ArmSpec& spec, const ServeOptions& options)
    : geometry_(LoadRobotGeometry(spec, options.mesh_search, false)),
      make_exact_(options.exact_checker),
      make_with_scene_(options.exact_with_scene) {
  const std::string matrix_path =
      options.matrix_path.empty() ? BuiltinCollisionFile(spec.arm, "matrix") : options.matrix_path;
  std::optional<CollisionMatrix> matrix;
  if (!matrix_path.empty()) matrix = LoadCollisionMatrix(matrix_path, geometry_);
  pairs_ = CheckedPairs(geometry_, matrix ? &*matrix : nullptr);
  const std::string spheres_path =
      options.spheres_path.empty() ? BuiltinCollisionFile(spec.arm, "spheres") : options.spheres_path;
  if (!spheres_path.empty()) {
    spheres_ = LoadSphereSet(spheres_path, geometry_);
    sphere_checker_ = std::make_unique<SphereChecker>(geometry_, *spheres_, pairs_);
  }
}

const CollisionChecker& ServedCollision::Checker(const std::string& kind) const {
  if (kind == "spheres") {
    if (!sphere_checker_) {
      throw ApiError{400,
                     "collision_model: 'spheres' needs a sphere model; start deepik serve with --spheres "
                     "FILE (made by `deepik spheres`)"};
    }
    return *sphere_checker_;
  }
  if (make_exact_ == nullptr) {
    throw ApiError{400,
                   "collision_model: 'exact' is not available in this server (no geometry plugin); use "
                   "\"spheres\""};
  }
  std::call_once(exact_once_, [this] {
    const std::vector<std::string> missing = geometry_.MissingMeshes();
    try {
      if (!missing.empty()) {
        throw InputError(geometry_.source + ": " + std::to_string(missing.size()) +
                         " mesh file(s) missing; first: " + missing.front());
      }
      exact_ = make_exact_(geometry_, pairs_);
    } catch (const std::exception& e) {
      exact_error_ = e.what();
    }
  });
  if (!exact_) throw ApiError{400, "collision_model: the exact check cannot run: " + exact_error_};
  return *exact_;
}

std::unique_ptr<CollisionChecker> ServedCollision::ExactWithScene(const Scene& scene) const {
  if (make_exact_ == nullptr || make_with_scene_ == nullptr) return nullptr;
  try {
    return make_with_scene_(Checker("exact"), scene);
  } catch (const ApiError&) {
    return nullptr;
  }
}

Json ServedCollision::Description() const {
  Json links = Json::array();
  for (const LinkGeometry& link : geometry_.links) links.push_back(link.name);
  Json spheres = nullptr;
  if (spheres_) {
    spheres = Json::array();
    for (const LinkSpheres& set : spheres_->links) {
      const LinkGeometry& link = geometry_.links[static_cast<size_t>(geometry_.FindLink(set.link))];
      Json list = Json::array();
      for (const Eigen::Vector4d& s : set.spheres) list.push_back({s[0], s[1], s[2], s[3]});
      spheres.push_back(
          {{"link", set.link}, {"frame", link.frame}, {"origin", PoseJson(link.X_FL)}, {"spheres", list}});
    }
  }
  return Json{{"links", links},
              {"pairs", pairs_.size()},
              {"exact", make_exact_ != nullptr && geometry_.MissingMeshes().empty()},
              {"spheres", spheres}};
}

namespace {

// A row's share of the work budget (s): a generous bound of one check with its distance (the
// medians in docs/BENCHMARKS.md: FCL distance 3.9-5.8 ms, the sphere model's 2-11 us).
constexpr double kExactCheckSeconds = 1e-2;
constexpr double kSphereCheckSeconds = 1e-4;

Json RowAnswer(const CollisionChecker& checker, const Eigen::VectorXd& q) {
  const CollisionReport report = checker.Check(q);
  const auto name = [&](int index) {
    return index < 0 ? Json(nullptr) : Json(checker.link_names()[static_cast<size_t>(index)]);
  };
  return Json{{"in_collision", report.in_collision},
              {"min_distance", report.min_distance},
              {"link_a", name(report.link_a)},
              {"link_b", name(report.link_b)}};
}

}  // namespace

Json Collide(const Json& body, const ServedCollision* collision, const Chain& chain, int max_rows,
             double max_work_seconds) {
  CheckKeys(body, {"q", "qs", "model", "collision_model", "scene"});
  if (collision == nullptr) {
    throw ApiError{400, "arm '" + chain.name() +
                            "' has no collision geometry: serve a URDF arm (panda, ur5, iiwa14 or a .urdf "
                            "file) with --arm"};
  }
  std::string kind = "exact";
  if (body.contains("collision_model")) {
    const Json& value = body["collision_model"];
    if (!value.is_string() || (value != "exact" && value != "spheres")) {
      throw ApiError{400, "collision_model: expected \"exact\" or \"spheres\", got " + JsonText(value)};
    }
    kind = value.get<std::string>();
  }
  if (body.contains("q") == body.contains("qs")) {
    throw ApiError{400, "expected a field 'q' (joint values, rad or m) or 'qs' (a list of them), not " +
                            std::string(body.contains("q") ? "both" : "neither")};
  }
  const size_t n = static_cast<size_t>(chain.num_joints());
  std::unique_ptr<CollisionChecker> with_scene;
  if (body.contains("scene")) {
    if (kind != "exact")
      throw ApiError{400, "scene: checked by the exact model only; drop \"collision_model\""};
    const std::shared_ptr<const Scene> scene = RequestScene(body["scene"]);
    collision->Checker(kind);  // names why the exact check cannot run
    with_scene = collision->ExactWithScene(*scene);
    if (!with_scene)
      throw ApiError{400, "scene: the exact check with obstacles is not available in this server"};
  }
  const CollisionChecker& checker = with_scene ? *with_scene : collision->Checker(kind);
  if (body.contains("q")) {
    Json answer = RowAnswer(checker, ParseVector(body["q"], n, kMaxJointValue, "q"));
    answer["collision_model"] = kind;
    return answer;
  }
  const Json& rows = body["qs"];
  if (!rows.is_array() || rows.empty())
    throw ApiError{400, "qs: expected a non-empty array of joint vectors, got " + TypeName(rows)};
  const double row_seconds = kind == "exact" ? kExactCheckSeconds : kSphereCheckSeconds;
  const long most = std::min<long>(max_rows, static_cast<long>(max_work_seconds / row_seconds));
  if (static_cast<long>(rows.size()) > most) {
    throw ApiError{413, "qs: expected at most " + std::to_string(most) +
                            " configurations (the server's work budget), got " + std::to_string(rows.size()) +
                            "; split them into smaller requests"};
  }
  std::vector<Eigen::VectorXd> qs;
  for (size_t r = 0; r < rows.size(); ++r)
    qs.push_back(ParseVector(rows[r], n, kMaxJointValue, "qs[" + std::to_string(r) + "]"));
  Json results = Json::array();
  for (const Eigen::VectorXd& q : qs) results.push_back(RowAnswer(checker, q));
  return Json{{"results", results}, {"collision_model", kind}};
}

}  // namespace deepik::serve
