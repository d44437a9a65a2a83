#include "deepik/geometry/robot_geometry.hpp"

#include <console_bridge/console.h>
#include <urdf_parser/urdf_parser.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

#include "deepik/errors.hpp"
#include "deepik/kinematics/urdf.hpp"

namespace deepik {
namespace {

namespace fs = std::filesystem;

bool IsRegularFile(const fs::path& path) {
  std::error_code error;
  return fs::is_regular_file(path, error);
}

std::vector<std::string> SplitColons(const char* text) {
  std::vector<std::string> parts;
  if (!text) return parts;
  std::stringstream stream(text);
  std::string part;
  while (std::getline(stream, part, ':'))
    if (!part.empty()) parts.push_back(part);
  return parts;
}

std::string JoinTried(const std::vector<std::string>& tried) {
  std::string text;
  for (const std::string& t : tried) text += (text.empty() ? "" : ", ") + t;
  return text.empty() ? "(nothing)" : text;
}

MeshLookup ResolvePackage(const std::string& reference, const MeshSearchOptions& options) {
  MeshLookup lookup;
  const std::string rest = reference.substr(10);  // after "package://"
  const size_t slash = rest.find('/');
  const std::string package = rest.substr(0, slash);
  const std::string inside = slash == std::string::npos ? "" : rest.substr(slash + 1);
  std::vector<std::string> folders = options.package_paths;
  if (options.use_ros_package_path) {
    for (const std::string& folder : SplitColons(std::getenv("ROS_PACKAGE_PATH"))) folders.push_back(folder);
  }
  if (package.empty() || inside.empty()) {
    lookup.error = "mesh '" + reference + "': expected package://NAME/PATH";
    return lookup;
  }
  if (folders.empty()) {
    lookup.error = "mesh '" + reference + "': no package search path to find package '" + package +
                   "' in; add one with --package-path DIR (a folder holding " + package +
                   "/) or the ROS_PACKAGE_PATH variable";
    return lookup;
  }
  for (const std::string& folder : folders) {
    std::vector<fs::path> candidates = {fs::path(folder) / package / inside};
    if (fs::path(folder).lexically_normal().filename() == package ||
        fs::path(folder).lexically_normal().parent_path().filename() == package) {
      candidates.push_back(fs::path(folder) / inside);
    }
    for (const fs::path& candidate : candidates) {
      lookup.tried.push_back(candidate.string());
      if (IsRegularFile(candidate)) {
        lookup.path = candidate.string();
        return lookup;
      }
    }
  }
  lookup.error = "mesh '" + reference + "' not found; searched " + JoinTried(lookup.tried) +
                 "; add the folder holding " + package + "/ with --package-path DIR or ROS_PACKAGE_PATH";
  return lookup;
}

}  // namespace

MeshLookup ResolveMeshReference(const std::string& reference, const std::string& urdf_path,
                                const MeshSearchOptions& options) {
  if (reference.rfind("package://", 0) == 0) return ResolvePackage(reference, options);
  MeshLookup lookup;
  if (reference.empty()) {
    lookup.error = "a <mesh> element with an empty filename";
    return lookup;
  }
  const bool is_file_url = reference.rfind("file://", 0) == 0;
  const std::string path_text = is_file_url ? reference.substr(7) : reference;
  if (!is_file_url && reference.find("://") != std::string::npos) {
    lookup.error = "mesh '" + reference + "': only package://, file:// and file paths are supported";
    return lookup;
  }
  const fs::path path(path_text);
  std::vector<fs::path> candidates;
  if (path.is_absolute() || is_file_url) {
    candidates.push_back(path);
  } else {
    // The URDF's folder, then each parent: a path relative to a package root resolves from there.
    std::error_code error;
    fs::path folder = fs::absolute(fs::path(urdf_path), error).parent_path();
    for (int depth = 0; depth < 64 && !folder.empty(); ++depth) {
      candidates.push_back(folder / path);
      if (folder == folder.root_path()) break;
      folder = folder.parent_path();
    }
  }
  for (const fs::path& candidate : candidates) {
    lookup.tried.push_back(candidate.lexically_normal().string());
    if (IsRegularFile(candidate)) {
      lookup.path = candidate.lexically_normal().string();
      return lookup;
    }
  }
  lookup.error = "mesh '" + reference + "' not found; searched " + JoinTried(lookup.tried) +
                 (path.is_absolute() || is_file_url
                      ? ""
                      : " (the URDF's folder and its parents); copy the mesh there, or name it as "
                        "package://NAME/... and give --package-path DIR");
  return lookup;
}

int RobotGeometry::CountLinksWithShapes() const {
  return static_cast<int>(std::count_if(links.begin(), links.end(),
                                        [](const LinkGeometry& link) { return !link.shapes.empty(); }));
}

std::vector<std::string> RobotGeometry::MissingMeshes() const {
  std::vector<std::string> missing;
  for (const LinkGeometry& link : links)
    for (const LinkShape& shape : link.shapes)
      if (shape.kind == LinkShape::Kind::kMesh && shape.mesh_path.empty())
        missing.push_back("link '" + link.name + "': " + shape.mesh_error);
  return missing;
}

std::vector<std::pair<int, int>> RobotGeometry::AdjacentPairs() const {
  // Two links with shapes are adjacent when the tree path between them passes only through links
  // without shapes (panda_link8 between link7 and the hand; ur5's base_link between its base
  // housing and the shoulder): they touch through joints.
  const int n = static_cast<int>(links.size());
  std::vector<std::vector<int>> up(static_cast<size_t>(n));  // each link, then its ancestors
  for (int i = 0; i < n; ++i) {
    for (int at = i, depth = 0; at >= 0 && depth <= n;
         at = FindLink(links[static_cast<size_t>(at)].parent), ++depth)
      up[static_cast<size_t>(i)].push_back(at);
  }
  const auto shaped = [this](int i) { return !links[static_cast<size_t>(i)].shapes.empty(); };
  std::vector<std::pair<int, int>> pairs;
  for (int a = 0; a < n; ++a) {
    for (int b = a + 1; b < n; ++b) {
      if (!shaped(a) || !shaped(b)) continue;
      const std::vector<int>&ua = up[static_cast<size_t>(a)], &ub = up[static_cast<size_t>(b)];
      const auto common = std::find_first_of(ua.begin(), ua.end(), ub.begin(), ub.end());
      if (common == ua.end()) continue;
      const int lca = *common;
      bool clear = lca == a || lca == b || !shaped(lca);
      for (const std::vector<int>* chain : {&ua, &ub})
        for (size_t k = 1; clear && k < chain->size() && (*chain)[k - 1] != lca; ++k)
          clear = (*chain)[k] == lca || !shaped((*chain)[k]);
      if (clear) pairs.emplace_back(a, b);
    }
  }
  return pairs;
}

int RobotGeometry::FindLink(const std::string& name) const {
  for (size_t i = 0; i < links.size(); ++i)
    if (links[i].name == name) return static_cast<int>(i);
  return -1;
}

namespace {

Eigen::Isometry3d ToIsometry(const urdf::Pose& pose) {
  Eigen::Isometry3d X = Eigen::Isometry3d::Identity();
  X.linear() = Eigen::Quaterniond(pose.rotation.w, pose.rotation.x, pose.rotation.y, pose.rotation.z)
                   .normalized()
                   .toRotationMatrix();
  X.translation() = Eigen::Vector3d(pose.position.x, pose.position.y, pose.position.z);
  return X;
}

bool IsActuated(const urdf::Joint& joint) {
  return joint.type == urdf::Joint::REVOLUTE || joint.type == urdf::Joint::CONTINUOUS ||
         joint.type == urdf::Joint::PRISMATIC;
}

// The motion of a joint held at `value` (rad or m).
Eigen::Isometry3d JointMotion(const urdf::Joint& joint, double value) {
  const Eigen::Vector3d axis = Eigen::Vector3d(joint.axis.x, joint.axis.y, joint.axis.z).normalized();
  Eigen::Isometry3d X = Eigen::Isometry3d::Identity();
  if (!axis.allFinite() || value == 0.0) return X;
  if (joint.type == urdf::Joint::PRISMATIC) {
    X.translation() = value * axis;
  } else {
    X.linear() = Eigen::AngleAxisd(value, axis).toRotationMatrix();
  }
  return X;
}

LinkShape MakeShape(const urdf::Geometry& geometry, const urdf::Pose& origin, const std::string& urdf_path,
                    const MeshSearchOptions& search) {
  LinkShape shape;
  shape.X_LS = ToIsometry(origin);
  if (geometry.type == urdf::Geometry::BOX) {
    const auto& box = static_cast<const urdf::Box&>(geometry);
    shape.kind = LinkShape::Kind::kBox;
    shape.size = Eigen::Vector3d(box.dim.x, box.dim.y, box.dim.z);
  } else if (geometry.type == urdf::Geometry::CYLINDER) {
    const auto& cylinder = static_cast<const urdf::Cylinder&>(geometry);
    shape.kind = LinkShape::Kind::kCylinder;
    shape.size = Eigen::Vector3d(cylinder.radius, cylinder.length, 0);
  } else if (geometry.type == urdf::Geometry::SPHERE) {
    shape.kind = LinkShape::Kind::kSphere;
    shape.size = Eigen::Vector3d(static_cast<const urdf::Sphere&>(geometry).radius, 0, 0);
  } else {
    const auto& mesh = static_cast<const urdf::Mesh&>(geometry);
    shape.kind = LinkShape::Kind::kMesh;
    shape.size = Eigen::Vector3d(mesh.scale.x, mesh.scale.y, mesh.scale.z);
    shape.mesh_reference = mesh.filename;
    const MeshLookup lookup = ResolveMeshReference(mesh.filename, urdf_path, search);
    shape.mesh_path = lookup.path;
    shape.mesh_error = lookup.error;
  }
  return shape;
}

template <typename Element>
void AddShapes(const std::vector<std::shared_ptr<Element>>& elements, const std::string& urdf_path,
               const MeshSearchOptions& search, LinkGeometry* link) {
  for (const auto& element : elements) {
    if (!element || !element->geometry) continue;
    LinkShape shape = MakeShape(*element->geometry, element->origin, urdf_path, search);
    if (!shape.size.allFinite() || !shape.X_LS.matrix().allFinite()) {
      throw InputError(urdf_path + ": link '" + link->name + "': a shape with a non-finite size or origin");
    }
    link->shapes.push_back(std::move(shape));
  }
}

struct Walk {
  const urdf::ModelInterface* model;
  std::map<std::string, int> chain_index;  // chain joint name -> index
  int last_frame;
  std::string urdf_path;
  MeshSearchOptions search;
  std::vector<LinkGeometry>* out;
  bool visual;  // the <visual> elements, not the <collision> ones
};

// Adds `link` and, depth first, the links that move with it (see RobotGeometry::links).
void VisitLink(const Walk& walk, const urdf::Link& link, const std::string& parent, int frame,
               const Eigen::Isometry3d& X_FL) {
  LinkGeometry geometry;
  geometry.name = link.name;
  geometry.parent = parent;
  geometry.frame = frame;
  geometry.X_FL = X_FL;
  if (walk.visual) {
    AddShapes(link.visual_array, walk.urdf_path, walk.search, &geometry);
  } else {
    AddShapes(link.collision_array, walk.urdf_path, walk.search, &geometry);
  }
  if (!walk.visual && geometry.shapes.empty() && !link.visual_array.empty()) {
    AddShapes(link.visual_array, walk.urdf_path, walk.search, &geometry);
    geometry.from_visual = !geometry.shapes.empty();
  }
  walk.out->push_back(std::move(geometry));
  int actuated_children = 0;
  for (const urdf::JointSharedPtr& joint : link.child_joints) actuated_children += IsActuated(*joint);
  for (const urdf::JointSharedPtr& joint : link.child_joints) {
    const urdf::LinkConstSharedPtr child = walk.model->getLink(joint->child_link_name);
    if (!child) continue;
    const Eigen::Isometry3d X_origin = ToIsometry(joint->parent_to_joint_origin_transform);
    const auto in_chain = walk.chain_index.find(joint->name);
    if (in_chain != walk.chain_index.end()) {
      VisitLink(walk, *child, link.name, in_chain->second, Eigen::Isometry3d::Identity());
    } else if (joint->type == urdf::Joint::FIXED) {
      VisitLink(walk, *child, link.name, frame, X_FL * X_origin);
    } else if (IsActuated(*joint) && actuated_children >= 2 && frame == walk.last_frame) {
      double value = 0.0;  // a gripper's finger, held at 0 within its limits
      if (joint->limits && joint->type != urdf::Joint::CONTINUOUS)
        value = std::clamp(0.0, joint->limits->lower, std::max(joint->limits->lower, joint->limits->upper));
      VisitLink(walk, *child, link.name, frame, X_FL * X_origin * JointMotion(*joint, value));
    }
  }
}

std::string RobotsDir() {
#ifdef DEEPIK_ROBOTS_DIR
  if (fs::is_directory(DEEPIK_ROBOTS_DIR)) return DEEPIK_ROBOTS_DIR;
#endif
#ifdef DEEPIK_INSTALLED_ROBOTS_DIR
  if (fs::is_directory(DEEPIK_INSTALLED_ROBOTS_DIR)) return DEEPIK_INSTALLED_ROBOTS_DIR;
#endif
  return "robots";
}

std::string ReadText(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

}  // namespace

std::string BuiltinArmUrdf(const std::string& name) {
  if (name != "panda" && name != "ur5" && name != "iiwa14") return "";
  return (fs::path(RobotsDir()) / (name + ".urdf")).string();
}

std::string BuiltinCollisionFile(const std::string& name, const std::string& kind) {
  if (BuiltinArmUrdf(name).empty()) return "";
  const fs::path path = fs::path(RobotsDir()) / "collision" / (name + "." + kind + ".json");
  return IsRegularFile(path) ? path.string() : "";
}

std::string ArmUrdfPath(const ArmSpec& spec) {
  const std::string builtin = BuiltinArmUrdf(spec.arm);
  if (!builtin.empty()) return builtin;
  const fs::path path(spec.arm);
  if (path.extension() == ".urdf" || path.extension() == ".xml") return spec.arm;
  return "";
}

namespace {

RobotGeometry LoadGeometry(const ArmSpec& spec, const MeshSearchOptions& search, bool require_meshes,
                           bool visual) {
  const std::string urdf_path = ArmUrdfPath(spec);
  if (urdf_path.empty()) {
    throw InputError("arm '" + spec.arm +
                     "' has no collision geometry: give a URDF file (or panda, ur5, iiwa14, whose URDFs "
                     "ship in robots/)");
  }
  MeshSearchOptions options = search;
  if (!BuiltinArmUrdf(spec.arm).empty()) options.package_paths.push_back(RobotsDir() + "/meshes");
  RobotGeometry geometry{urdf_path, LoadUrdfChain(urdf_path, UrdfOptions{spec.base_link, spec.tip_link}), {}};
  // The chain loaded, so the file parses: read the tree again for the links' geometry.
  urdf::ModelInterfaceSharedPtr model;
  {
    static std::mutex handler_mutex;
    std::lock_guard<std::mutex> lock(handler_mutex);
    console_bridge::noOutputHandler();
    model = urdf::parseURDF(ReadText(urdf_path));
    console_bridge::restorePreviousOutputHandler();
  }
  if (!model || !model->getRoot()) throw InputError(urdf_path + ": malformed URDF");
  const urdf::LinkConstSharedPtr base =
      spec.base_link.empty() ? model->getRoot() : model->getLink(spec.base_link);
  Walk walk{model.get(), {}, geometry.chain.num_joints() - 1, urdf_path, options, &geometry.links, visual};
  for (int i = 0; i < geometry.chain.num_joints(); ++i) walk.chain_index[geometry.chain.joint(i).name] = i;
  VisitLink(walk, *base, "", -1, Eigen::Isometry3d::Identity());
  if (require_meshes) {
    const std::vector<std::string> missing = geometry.MissingMeshes();
    if (!missing.empty()) {
      throw InputError(urdf_path + ": " + std::to_string(missing.size()) +
                       " mesh file(s) missing; first: " + missing.front());
    }
  }
  return geometry;
}

}  // namespace

RobotGeometry LoadRobotGeometry(const ArmSpec& spec, const MeshSearchOptions& search, bool require_meshes) {
  return LoadGeometry(spec, search, require_meshes, false);
}

RobotGeometry LoadRobotVisualGeometry(const ArmSpec& spec, const MeshSearchOptions& search) {
  return LoadGeometry(spec, search, false, true);
}

}  // namespace deepik
