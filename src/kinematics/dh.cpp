#include "deepik/kinematics/dh.hpp"

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <utility>

#include "deepik/errors.hpp"

namespace deepik {
namespace {

Eigen::Isometry3d Rz(double angle) {
  Eigen::Isometry3d X = Eigen::Isometry3d::Identity();
  X.linear() = Eigen::AngleAxisd(angle, Eigen::Vector3d::UnitZ()).toRotationMatrix();
  return X;
}

Eigen::Isometry3d Rx(double angle) {
  Eigen::Isometry3d X = Eigen::Isometry3d::Identity();
  X.linear() = Eigen::AngleAxisd(angle, Eigen::Vector3d::UnitX()).toRotationMatrix();
  return X;
}

Eigen::Isometry3d Tz(double d) { return Eigen::Isometry3d(Eigen::Translation3d(0, 0, d)); }
Eigen::Isometry3d Tx(double a) { return Eigen::Isometry3d(Eigen::Translation3d(a, 0, 0)); }

double NumberField(const nlohmann::json& object, const char* key, bool required, const std::string& where) {
  if (!object.contains(key)) {
    if (required) throw InputError(where + ": missing field '" + key + "'");
    return 0.0;
  }
  const nlohmann::json& value = object.at(key);
  if (!value.is_number())
    throw InputError(where + ": field '" + key + "': expected a number, got " + value.dump());
  const double number = value.get<double>();
  if (!std::isfinite(number)) throw InputError(where + ": field '" + key + "' is not finite");
  return number;
}

// A text field, `fallback` when absent; any other type is refused (json::value() would throw a
// type_error, which is no InputError).
std::string StringField(const nlohmann::json& object, const char* key, const std::string& fallback,
                        const std::string& where) {
  if (!object.contains(key)) return fallback;
  const nlohmann::json& value = object.at(key);
  if (!value.is_string()) {
    throw InputError(where + ": field '" + key + "': expected a string, got " + value.dump());
  }
  return value.get<std::string>();
}

Eigen::Vector3d Vector3Field(const nlohmann::json& object, const char* key, const std::string& where) {
  if (!object.contains(key)) return Eigen::Vector3d::Zero();
  const nlohmann::json& value = object.at(key);
  if (!value.is_array() || value.size() != 3 || !value[0].is_number() || !value[1].is_number() ||
      !value[2].is_number()) {
    throw InputError(where + ": field '" + key + "': expected 3 numbers, got " + value.dump());
  }
  return Eigen::Vector3d(value[0].get<double>(), value[1].get<double>(), value[2].get<double>());
}

// A misspelt field ("aplha") would otherwise be ignored and silently read as 0.
void CheckKnownFields(const nlohmann::json& object, std::initializer_list<const char*> known,
                      const std::string& where) {
  for (auto it = object.begin(); it != object.end(); ++it) {
    bool found = false;
    for (const char* name : known) found = found || it.key() == name;
    if (!found) {
      std::string list;
      for (const char* name : known) list += (list.empty() ? "" : ", ") + std::string(name);
      throw InputError(where + ": unknown field '" + it.key() + "' (expected one of " + list + ")");
    }
  }
}

}  // namespace

Chain ChainFromDh(const std::string& name, DhConvention convention, const std::vector<DhRow>& rows,
                  const Eigen::Isometry3d& X_LT) {
  if (rows.empty())
    throw std::invalid_argument("DH table '" + name + "': expected at least one row, got none");
  // Each joint's origin takes everything up to its motion; what follows the motion carries over
  // into the next joint's origin (or the tip).
  std::vector<Joint> joints;
  Eigen::Isometry3d carry = Eigen::Isometry3d::Identity();
  for (const DhRow& row : rows) {
    for (const auto& [field, value] : {std::pair<const char*, double>{"a", row.a}, {"d", row.d}}) {
      if (!(std::abs(value) <= kMaxLinkOffset)) {
        std::ostringstream message;
        message << "DH table '" << name << "', row '" << row.name << "': expected " << field << " within +-"
                << kMaxLinkOffset << " m, got " << value;
        throw std::invalid_argument(message.str());
      }
    }
    Joint joint;
    joint.name = row.name;
    joint.type = row.type;
    joint.axis_J = Eigen::Vector3d::UnitZ();
    joint.lower = row.lower;
    joint.upper = row.upper;
    const bool revolute = row.type == JointType::kRevolute;
    const Eigen::Isometry3d before =
        convention == DhConvention::kModified ? Rx(row.alpha) * Tx(row.a) : Eigen::Isometry3d::Identity();
    if (revolute) {
      joint.X_PJ = carry * before * Rz(row.theta);
      carry = convention == DhConvention::kModified ? Tz(row.d) : Tz(row.d) * Tx(row.a) * Rx(row.alpha);
    } else {
      joint.X_PJ = carry * before * Rz(row.theta) * Tz(row.d);
      carry =
          convention == DhConvention::kModified ? Eigen::Isometry3d::Identity() : Tx(row.a) * Rx(row.alpha);
    }
    joints.push_back(joint);
  }
  return Chain(name, std::move(joints), carry * X_LT);
}

Chain LoadDhFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw InputError(path + ": cannot open the DH file");
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {  // parse_error, or out_of_range for 1e999
    throw InputError(path + ": malformed JSON: " + e.what());
  }
  if (!doc.is_object()) throw InputError(path + ": expected a JSON object at the top level");
  CheckKnownFields(doc, {"name", "convention", "joints", "tool"}, path);
  const std::string name = StringField(doc, "name", "dh", path);
  const std::string convention_name = StringField(doc, "convention", "", path);
  DhConvention convention;
  if (convention_name == "standard") {
    convention = DhConvention::kStandard;
  } else if (convention_name == "modified") {
    convention = DhConvention::kModified;
  } else {
    throw InputError(path + ": field 'convention': expected \"standard\" or \"modified\", got \"" +
                     convention_name + "\"");
  }
  if (!doc.contains("joints") || !doc["joints"].is_array() || doc["joints"].empty()) {
    throw InputError(path + ": expected a non-empty array 'joints'");
  }
  std::vector<DhRow> rows;
  for (size_t i = 0; i < doc["joints"].size(); ++i) {
    const nlohmann::json& entry = doc["joints"][i];
    const std::string where = path + ": joints[" + std::to_string(i) + "]";
    if (!entry.is_object()) throw InputError(where + ": expected an object");
    CheckKnownFields(entry, {"name", "type", "a", "alpha", "d", "theta", "lower", "upper"}, where);
    DhRow row;
    row.name = StringField(entry, "name", "joint" + std::to_string(i + 1), where);
    const std::string type = StringField(entry, "type", "revolute", where);
    if (type == "revolute") {
      row.type = JointType::kRevolute;
    } else if (type == "prismatic") {
      row.type = JointType::kPrismatic;
    } else {
      throw InputError(where + ": field 'type': expected \"revolute\" or \"prismatic\", got \"" + type +
                       "\"");
    }
    row.a = NumberField(entry, "a", false, where);
    row.alpha = NumberField(entry, "alpha", false, where);
    row.d = NumberField(entry, "d", false, where);
    row.theta = NumberField(entry, "theta", false, where);
    row.lower = NumberField(entry, "lower", true, where);
    row.upper = NumberField(entry, "upper", true, where);
    if (row.lower > row.upper) {
      std::ostringstream message;
      message << where << " ('" << row.name << "'): expected lower <= upper, got lower " << row.lower
              << " > upper " << row.upper;
      throw InputError(message.str());
    }
    rows.push_back(row);
  }
  Eigen::Isometry3d X_LT = Eigen::Isometry3d::Identity();
  if (doc.contains("tool")) {
    const std::string where = path + ": tool";
    if (!doc["tool"].is_object()) throw InputError(where + ": expected an object with 'xyz' and 'rpy'");
    CheckKnownFields(doc["tool"], {"xyz", "rpy"}, where);
    X_LT =
        TransformFromXyzRpy(Vector3Field(doc["tool"], "xyz", where), Vector3Field(doc["tool"], "rpy", where));
  }
  try {
    return ChainFromDh(name, convention, rows, X_LT);
  } catch (const std::invalid_argument& e) {
    throw InputError(path + ": " + e.what());
  }
}

}  // namespace deepik
