#include "deepik/kinematics/chain_json.hpp"

#include <Eigen/Dense>
#include <algorithm>
#include <cstring>
#include <iterator>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <utility>
#include <vector>

#include "deepik/errors.hpp"

namespace deepik {
namespace {

using Json = nlohmann::json;

// nlohmann::json prints doubles with the shortest text that reads back to the same value, so the
// transforms survive the trip bit for bit.
Json TransformToJson(const Eigen::Isometry3d& X) {
  const Eigen::Vector3d p = X.translation();
  const Eigen::Matrix3d R = X.linear();
  Json rotation = Json::array();
  for (int r = 0; r < 3; ++r) {
    for (int c = 0; c < 3; ++c) rotation.push_back(R(r, c));
  }
  return {{"xyz", {p.x(), p.y(), p.z()}}, {"R", std::move(rotation)}};
}

[[noreturn]] void Fail(const std::string& field, const std::string& message) {
  throw InputError("chain JSON: " + field + ": " + message);
}

const Json& Field(const Json& object, const std::string& key, const std::string& where) {
  const std::string field = where.empty() ? key : where + "." + key;
  if (!object.is_object()) Fail(where.empty() ? "(top level)" : where, "expected an object");
  const auto it = object.find(key);
  if (it == object.end()) Fail(field, "missing");
  return *it;
}

double NumberField(const Json& object, const std::string& key, const std::string& where) {
  const Json& value = Field(object, key, where);
  if (!value.is_number()) Fail(where + "." + key, "expected a number, got " + value.dump());
  return value.get<double>();
}

std::string StringField(const Json& object, const std::string& key, const std::string& where) {
  const Json& value = Field(object, key, where);
  if (!value.is_string())
    Fail(where.empty() ? key : where + "." + key, "expected a string, got " + value.dump());
  return value.get<std::string>();
}

std::vector<double> NumberArray(const Json& object, const std::string& key, const std::string& where,
                                size_t size) {
  const Json& value = Field(object, key, where);
  const std::string field = where + "." + key;
  if (!value.is_array() || value.size() != size) {
    Fail(field, "expected an array of " + std::to_string(size) + " numbers, got " + value.dump());
  }
  std::vector<double> numbers;
  for (const Json& number : value) {
    if (!number.is_number()) Fail(field, "expected an array of numbers, got " + value.dump());
    numbers.push_back(number.get<double>());
  }
  return numbers;
}

// How far a rotation matrix read from a file may be from orthonormal (max |R^T R - I|): the
// rounding of a few printed digits, not a scale or a shear.
constexpr double kRotationTolerance = 1e-6;

Eigen::Isometry3d TransformFromJson(const Json& object, const std::string& where) {
  const std::vector<double> xyz = NumberArray(object, "xyz", where, 3);
  const std::vector<double> rotation = NumberArray(object, "R", where, 9);
  Eigen::Isometry3d X = Eigen::Isometry3d::Identity();
  X.translation() = Eigen::Vector3d(xyz[0], xyz[1], xyz[2]);
  for (int r = 0; r < 3; ++r) {
    for (int c = 0; c < 3; ++c) X.linear()(r, c) = rotation[static_cast<size_t>(3 * r + c)];
  }
  // A matrix that is not a rotation would scale or shear the chain, and FK would be wrong.
  const Eigen::Matrix3d R = X.linear();
  const double off = (R.transpose() * R - Eigen::Matrix3d::Identity()).cwiseAbs().maxCoeff();
  if (!(off <= kRotationTolerance) || !(R.determinant() > 0)) {
    Fail(where + ".R", "expected a rotation matrix (orthonormal within " +
                           std::to_string(kRotationTolerance) + ", determinant +1), got " +
                           Field(object, "R", where).dump() + " (max |R^T R - I| " + std::to_string(off) +
                           ", determinant " + std::to_string(R.determinant()) + ")");
  }
  return X;
}

// Bit for bit: 0.0 and -0.0 differ, as they can in FK's results.
bool SameBits(const double* a, const double* b, size_t count) {
  return std::memcmp(a, b, count * sizeof(double)) == 0;
}
bool SameBits(double a, double b) { return SameBits(&a, &b, 1); }
bool SameBits(const Eigen::Vector3d& a, const Eigen::Vector3d& b) { return SameBits(a.data(), b.data(), 3); }
bool SameBits(const Eigen::Isometry3d& a, const Eigen::Isometry3d& b) {
  return SameBits(a.data(), b.data(), 16);
}

}  // namespace

std::string ChainToJson(const Chain& chain) {
  Json joints = Json::array();
  for (const Joint& joint : chain.joints()) {
    joints.push_back({{"name", joint.name},
                      {"type", ToString(joint.type)},
                      {"origin", TransformToJson(joint.X_PJ)},
                      {"axis", {joint.axis_J.x(), joint.axis_J.y(), joint.axis_J.z()}},
                      {"lower", joint.lower},
                      {"upper", joint.upper},
                      {"continuous", joint.continuous}});
  }
  const Json json = {
      {"name", chain.name()}, {"joints", std::move(joints)}, {"tip", TransformToJson(chain.X_LT())}};
  return json.dump();
}

Chain ChainFromJson(const std::string& text) {
  const Json json = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) throw InputError("chain JSON: not valid JSON");
  const std::string name = StringField(json, "name", "");
  const Json& joints_json = Field(json, "joints", "");
  if (!joints_json.is_array())
    Fail("joints", "expected an array, got " + std::string(joints_json.type_name()));
  std::vector<Joint> joints;
  for (size_t i = 0; i < joints_json.size(); ++i) {
    const Json& joint_json = joints_json[i];
    const std::string where = "joints[" + std::to_string(i) + "]";
    if (!joint_json.is_object()) Fail(where, "expected an object, got " + joint_json.dump());
    Joint joint;
    joint.name = StringField(joint_json, "name", where);
    const std::string type = StringField(joint_json, "type", where);
    if (type == ToString(JointType::kRevolute)) {
      joint.type = JointType::kRevolute;
    } else if (type == ToString(JointType::kPrismatic)) {
      joint.type = JointType::kPrismatic;
    } else {
      Fail(where + ".type", "expected \"revolute\" or \"prismatic\", got \"" + type + "\"");
    }
    joint.X_PJ = TransformFromJson(Field(joint_json, "origin", where), where + ".origin");
    const std::vector<double> axis = NumberArray(joint_json, "axis", where, 3);
    joint.axis_J = Eigen::Vector3d(axis[0], axis[1], axis[2]);
    joint.lower = NumberField(joint_json, "lower", where);
    joint.upper = NumberField(joint_json, "upper", where);
    const Json& continuous = Field(joint_json, "continuous", where);
    if (!continuous.is_boolean())
      Fail(where + ".continuous", "expected true or false, got " + continuous.dump());
    joint.continuous = continuous.get<bool>();
    joints.push_back(std::move(joint));
  }
  const Eigen::Isometry3d X_LT = TransformFromJson(Field(json, "tip", ""), "tip");
  try {
    return Chain(name, std::move(joints), X_LT);
  } catch (const std::invalid_argument& error) {
    throw InputError(std::string("chain JSON: ") + error.what());
  }
}

bool SameChain(const Chain& a, const Chain& b) {
  if (a.name() != b.name() || a.num_joints() != b.num_joints() || !SameBits(a.X_LT(), b.X_LT())) return false;
  for (int i = 0; i < a.num_joints(); ++i) {
    const Joint& ja = a.joint(i);
    const Joint& jb = b.joint(i);
    if (ja.name != jb.name || ja.type != jb.type || !SameBits(ja.X_PJ, jb.X_PJ) ||
        !SameBits(ja.axis_J, jb.axis_J) || !SameBits(ja.lower, jb.lower) || !SameBits(ja.upper, jb.upper) ||
        ja.continuous != jb.continuous) {
      return false;
    }
  }
  return true;
}

namespace {

constexpr const char* kShapeKinds[] = {"box", "cylinder", "sphere"};

[[noreturn]] void FailVisuals(const std::string& field, const std::string& message) {
  throw InputError("visuals JSON: " + field + ": " + message);
}

VisualShape ShapeFromJson(const Json& shape_json, const std::string& where) {
  VisualShape shape;
  const std::string kind = StringField(shape_json, "kind", where);
  const auto* found = std::find(std::begin(kShapeKinds), std::end(kShapeKinds), kind);
  if (found == std::end(kShapeKinds)) {
    FailVisuals(where + ".kind", "expected \"box\", \"cylinder\" or \"sphere\", got \"" + kind + "\"");
  }
  shape.kind = static_cast<VisualShape::Kind>(found - std::begin(kShapeKinds));
  shape.link = StringField(shape_json, "link", where);
  const Json& frame = Field(shape_json, "frame", where);
  if (!frame.is_number_integer() || frame.get<int64_t>() < -1 || frame.get<int64_t>() > 100000) {
    FailVisuals(where + ".frame", "expected -1 (the base) or a joint index, got " + frame.dump());
  }
  shape.frame = frame.get<int>();
  shape.X_FS = TransformFromJson(Field(shape_json, "origin", where), where + ".origin");
  const std::vector<double> size = NumberArray(shape_json, "size", where, 3);
  shape.size = Eigen::Vector3d(size[0], size[1], size[2]);
  if (!Field(shape_json, "rgba", where).is_null()) {
    const std::vector<double> rgba = NumberArray(shape_json, "rgba", where, 4);
    shape.rgba = Eigen::Vector4d(rgba[0], rgba[1], rgba[2], rgba[3]);
  }
  return shape;
}

}  // namespace

std::string VisualsToJson(const UrdfVisuals& visuals) {
  Json shapes = Json::array();
  for (const VisualShape& shape : visuals.shapes) {
    shapes.push_back({{"kind", kShapeKinds[static_cast<int>(shape.kind)]},
                      {"link", shape.link},
                      {"frame", shape.frame},
                      {"origin", TransformToJson(shape.X_FS)},
                      {"size", {shape.size.x(), shape.size.y(), shape.size.z()}},
                      {"rgba", shape.rgba.allFinite()
                                   ? Json::array({shape.rgba[0], shape.rgba[1], shape.rgba[2], shape.rgba[3]})
                                   : Json(nullptr)}});
  }
  return Json{{"shapes", std::move(shapes)}, {"meshes", visuals.meshes}}.dump();
}

UrdfVisuals VisualsFromJson(const std::string& text) {
  const Json json = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) throw InputError("visuals JSON: not valid JSON");
  const Json& shapes = Field(json, "shapes", "");
  if (!shapes.is_array()) FailVisuals("shapes", "expected an array, got " + std::string(shapes.type_name()));
  UrdfVisuals visuals;
  for (size_t i = 0; i < shapes.size(); ++i) {
    visuals.shapes.push_back(ShapeFromJson(shapes[i], "shapes[" + std::to_string(i) + "]"));
  }
  const Json& meshes = Field(json, "meshes", "");
  if (!meshes.is_number_integer() || meshes.get<int64_t>() < 0 || meshes.get<int64_t>() > 1000000) {
    FailVisuals("meshes", "expected a count, got " + meshes.dump());
  }
  visuals.meshes = meshes.get<int>();
  return visuals;
}

}  // namespace deepik
