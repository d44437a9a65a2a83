#include "deepik/geometry/scene.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "deepik/data/csv.hpp"
#include "deepik/errors.hpp"
#include "deepik/kinematics/chain.hpp"

namespace deepik {
namespace {

using nlohmann::json;

constexpr int64_t kMaxSceneBytes = 64LL << 20;  // 10,000 obstacles take about 1 MB
constexpr size_t kMaxNameLength = 256;

// A number in (0, kMaxSceneValue] (sizes, radii) or [-kMaxSceneValue, kMaxSceneValue].
double NumberValue(const json& value, const std::string& field, bool positive) {
  if (!value.is_number()) throw InputError(field + ": expected a number, got " + value.dump().substr(0, 80));
  const double v = value.get<double>();
  if (!std::isfinite(v)) throw InputError(field + ": expected a finite number, got " + FormatDouble(v));
  if (positive && !(v > 0)) throw InputError(field + ": expected a size > 0, got " + FormatDouble(v));
  if (std::abs(v) > kMaxSceneValue) {
    throw InputError(field + ": expected a value within +-" + FormatDouble(kMaxSceneValue) + " m, got " +
                     FormatDouble(v));
  }
  return v;
}

double Number(const json& object, const char* key, const std::string& where, bool positive) {
  const std::string field = where + "." + key;
  if (!object.contains(key)) throw InputError(field + ": missing (expected a number, m)");
  return NumberValue(object[key], field, positive);
}

Eigen::Vector3d Triple(const json& object, const char* key, const std::string& where, bool positive) {
  const std::string field = where + "." + key;
  if (!object.contains(key)) throw InputError(field + ": missing (expected [x, y, z])");
  const json& value = object[key];
  if (!value.is_array() || value.size() != 3)
    throw InputError(field + ": expected an array of 3 numbers, got " + value.dump().substr(0, 80));
  Eigen::Vector3d v;
  for (size_t i = 0; i < 3; ++i)
    v[static_cast<Eigen::Index>(i)] = NumberValue(value[i], field + "[" + std::to_string(i) + "]", positive);
  return v;
}

// Every key of `object` must be one of `allowed` (a typo is an error, never a silent default).
void OnlyKeys(const json& object, const std::set<std::string>& allowed, const std::string& where) {
  for (auto it = object.begin(); it != object.end(); ++it) {
    if (allowed.count(it.key()) != 0) continue;
    std::string list;
    for (const std::string& key : allowed) list += (list.empty() ? "" : ", ") + key;
    throw InputError(where + ": unknown field \"" + it.key() + "\" (expected: " + list + ")");
  }
}

Obstacle ParseObstacle(const json& item, const std::string& where) {
  if (!item.is_object()) throw InputError(where + ": expected an object");
  if (!item.contains("shape") || !item["shape"].is_string())
    throw InputError(where + ".shape: expected one of \"box\", \"sphere\", \"cylinder\", \"capsule\"");
  const std::string shape = item["shape"].get<std::string>();
  Obstacle obstacle;
  std::set<std::string> allowed = {"name", "shape", "position", "rpy"};
  if (shape == "box") {
    obstacle.shape = Obstacle::Shape::kBox;
    allowed.insert("size");
  } else if (shape == "sphere") {
    obstacle.shape = Obstacle::Shape::kSphere;
    allowed.insert("radius");
  } else if (shape == "cylinder" || shape == "capsule") {
    obstacle.shape = shape == "cylinder" ? Obstacle::Shape::kCylinder : Obstacle::Shape::kCapsule;
    allowed.insert({"radius", "length"});
  } else {
    throw InputError(where + ".shape: unknown shape \"" + shape.substr(0, 40) +
                     "\" (expected box, sphere, cylinder or capsule)");
  }
  OnlyKeys(item, allowed, where + " (a " + shape + ")");
  if (item.contains("name")) {
    if (!item["name"].is_string() || item["name"].get<std::string>().size() > kMaxNameLength)
      throw InputError(where + ".name: expected a string of at most 256 characters");
    obstacle.name = item["name"].get<std::string>();
  }
  const Eigen::Vector3d position = Triple(item, "position", where, false);
  const Eigen::Vector3d rpy =
      item.contains("rpy") ? Triple(item, "rpy", where, false) : Eigen::Vector3d::Zero();
  obstacle.X_BO = TransformFromXyzRpy(position, rpy);
  switch (obstacle.shape) {
    case Obstacle::Shape::kBox:
      obstacle.size = Triple(item, "size", where, true);
      break;
    case Obstacle::Shape::kSphere:
      // Each value is read before the comma initialiser: a throw inside one would abort in its destructor.
      obstacle.size = Eigen::Vector3d(Number(item, "radius", where, true), 0, 0);
      break;
    case Obstacle::Shape::kCylinder:
    case Obstacle::Shape::kCapsule: {
      const double radius = Number(item, "radius", where, true);
      obstacle.size = Eigen::Vector3d(radius, Number(item, "length", where, true), 0);
      break;
    }
  }
  if (obstacle.name.empty()) obstacle.name = where.substr(where.rfind(' ') + 1);
  return obstacle;
}

// The signed distance of a 2-D or 3-D box-like excess q (|p| - half extents): outside the norm of
// its positive part, inside its largest component. `axis` receives the index of that component.
template <int N>
double BoxField(const Eigen::Matrix<double, N, 1>& q, int* axis) {
  const double inside = q.maxCoeff(axis);
  const Eigen::Matrix<double, N, 1> outside = q.cwiseMax(0.0);
  return inside > 0 ? outside.norm() : inside;
}

}  // namespace

const char* ToString(Obstacle::Shape shape) {
  switch (shape) {
    case Obstacle::Shape::kBox:
      return "box";
    case Obstacle::Shape::kSphere:
      return "sphere";
    case Obstacle::Shape::kCylinder:
      return "cylinder";
    case Obstacle::Shape::kCapsule:
      return "capsule";
  }
  return "?";
}

Scene ParseScene(const std::string& text, const std::string& source) {
  json document;
  try {
    document = json::parse(text);
  } catch (const json::exception& e) {
    throw InputError(source + ": not a valid JSON scene file (" + e.what() + ")");
  }
  if (!document.is_object()) throw InputError(source + ": expected an object with an \"obstacles\" array");
  OnlyKeys(document, {"format", "version", "note", "obstacles"}, source);
  if (document.contains("format") && document["format"] != "deepik-scene")
    throw InputError(source + ": format: expected \"deepik-scene\", got " + document["format"].dump());
  if (document.contains("version") && document["version"] != 1)
    throw InputError(source + ": version: expected 1, got " + document["version"].dump());
  if (!document.contains("obstacles") || !document["obstacles"].is_array())
    throw InputError(source + ": obstacles: expected an array of obstacles");
  const json& items = document["obstacles"];
  if (items.size() > static_cast<size_t>(kMaxObstacles)) {
    throw InputError(source + ": obstacles: expected at most " + std::to_string(kMaxObstacles) + ", got " +
                     std::to_string(items.size()));
  }
  Scene scene;
  scene.obstacles.reserve(items.size());
  for (size_t i = 0; i < items.size(); ++i)
    scene.obstacles.push_back(ParseObstacle(items[i], source + ": obstacles[" + std::to_string(i) + "]"));
  return scene;
}

Scene LoadScene(const std::string& path) {
  std::ifstream file(path, std::ios::binary | std::ios::ate);
  if (!file) throw InputError(path + ": cannot open the scene file");
  const std::streamoff size = file.tellg();
  if (size < 0 || size > kMaxSceneBytes) {
    throw InputError(path + ": the scene file is larger than " + std::to_string(kMaxSceneBytes >> 20) +
                     " MB or unreadable");
  }
  file.seekg(0);
  std::ostringstream text;
  text << file.rdbuf();
  return ParseScene(text.str(), path);
}

double SignedDistance(const Obstacle& obstacle, const Eigen::Vector3d& p_B, Eigen::Vector3d* gradient_B) {
  const Eigen::Matrix3d& R_BO = obstacle.X_BO.linear();
  const Eigen::Vector3d p = R_BO.transpose() * (p_B - obstacle.X_BO.translation());  // in O
  Eigen::Vector3d g = Eigen::Vector3d::UnitZ();                                      // in O
  double d = 0;
  const auto unit = [](const Eigen::Vector3d& v, const Eigen::Vector3d& fallback) {
    const double n = v.norm();
    return n > 0 ? Eigen::Vector3d(v / n) : fallback;
  };
  const auto sign = [](double v) { return v < 0 ? -1.0 : 1.0; };
  switch (obstacle.shape) {
    case Obstacle::Shape::kSphere:
      d = p.norm() - obstacle.size[0];
      g = unit(p, Eigen::Vector3d::UnitZ());
      break;
    case Obstacle::Shape::kCapsule: {
      const double half = 0.5 * obstacle.size[1];
      const Eigen::Vector3d v(p.x(), p.y(), p.z() - std::clamp(p.z(), -half, half));
      d = v.norm() - obstacle.size[0];
      g = unit(v, Eigen::Vector3d::UnitX());
      break;
    }
    case Obstacle::Shape::kBox: {
      const Eigen::Vector3d q = p.cwiseAbs() - 0.5 * obstacle.size;
      int axis = 0;
      d = BoxField<3>(q, &axis);
      if (d > 0) {
        g = q.cwiseMax(0.0).cwiseProduct(p.unaryExpr(sign)) / d;
      } else {
        g = Eigen::Vector3d::Unit(axis) * sign(p[axis]);
      }
      break;
    }
    case Obstacle::Shape::kCylinder: {
      const double radial = std::hypot(p.x(), p.y());
      const Eigen::Vector2d q(radial - obstacle.size[0], std::abs(p.z()) - 0.5 * obstacle.size[1]);
      int axis = 0;
      d = BoxField<2>(q, &axis);
      const Eigen::Vector3d out_radial =
          radial > 0 ? Eigen::Vector3d(p.x() / radial, p.y() / radial, 0) : Eigen::Vector3d::UnitX();
      const Eigen::Vector3d out_axial(0, 0, sign(p.z()));
      if (d > 0) {
        g = (std::max(q[0], 0.0) * out_radial + std::max(q[1], 0.0) * out_axial) / d;
      } else {
        g = axis == 0 ? out_radial : out_axial;
      }
      break;
    }
  }
  if (gradient_B != nullptr) *gradient_B = R_BO * g;
  return d;
}

}  // namespace deepik
