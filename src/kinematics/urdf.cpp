#include "deepik/kinematics/urdf.hpp"

#include <console_bridge/console.h>
#include <urdf_parser/urdf_parser.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "deepik/errors.hpp"

namespace deepik {
namespace {

// Collects console_bridge's messages (urdfdom's parse errors) instead of printing them.
class CapturingHandler : public console_bridge::OutputHandler {
 public:
  void log(const std::string& text, console_bridge::LogLevel level, const char*, int) override {
    if (level >= console_bridge::CONSOLE_BRIDGE_LOG_WARN) messages.push_back(text);
  }
  std::vector<std::string> messages;
};

constexpr double kPi = 3.14159265358979323846;

using LinkPtr = urdf::LinkConstSharedPtr;
using JointPtr = urdf::JointConstSharedPtr;

bool IsActuated(const urdf::Joint& joint) {
  return joint.type == urdf::Joint::REVOLUTE || joint.type == urdf::Joint::CONTINUOUS ||
         joint.type == urdf::Joint::PRISMATIC;
}

std::string Quote(const std::string& name) { return "'" + name + "'"; }

std::string FormatDouble(double value) {
  std::ostringstream out;
  out.precision(17);
  out << value;
  return out.str();
}

// The pose of a joint frame in its parent link's frame.
Eigen::Isometry3d ToIsometry(const urdf::Pose& pose) {
  Eigen::Isometry3d X = Eigen::Isometry3d::Identity();
  const Eigen::Quaterniond rotation(pose.rotation.w, pose.rotation.x, pose.rotation.y, pose.rotation.z);
  X.linear() = rotation.normalized().toRotationMatrix();
  X.translation() = Eigen::Vector3d(pose.position.x, pose.position.y, pose.position.z);
  return X;
}

// urdfdom keeps links and joints in maps sorted by name, so the order of the XML text is lost. The
// default tip rule breaks ties by document order, so recover it with a light scan of the text that
// skips comments. A plain linear scan, not std::regex: libstdc++'s regex recurses per character and
// overflows the stack on a large comment. A link the scan misses sorts after all the others.
std::map<std::string, int> LinkDocumentOrder(const std::string& xml) {
  std::map<std::string, int> order;
  int index = 0;
  size_t at = 0;
  while ((at = xml.find('<', at)) != std::string::npos) {
    if (xml.compare(at, 4, "<!--") == 0) {
      const size_t end = xml.find("-->", at + 4);
      if (end == std::string::npos) break;
      at = end + 3;
      continue;
    }
    const size_t tag_end = xml.find('>', at);
    if (tag_end == std::string::npos) break;
    const bool is_link = xml.compare(at, 5, "<link") == 0 && at + 5 < xml.size() &&
                         std::isspace(static_cast<unsigned char>(xml[at + 5]));
    if (is_link) {
      // The name attribute: name = "..." or '...', possibly with spaces around '='.
      size_t name_at = at + 5;
      while ((name_at = xml.find("name", name_at)) != std::string::npos && name_at < tag_end) {
        const bool word_start = std::isspace(static_cast<unsigned char>(xml[name_at - 1]));
        size_t q = name_at + 4;
        while (q < tag_end && std::isspace(static_cast<unsigned char>(xml[q]))) ++q;
        if (word_start && q < tag_end && xml[q] == '=') {
          ++q;
          while (q < tag_end && std::isspace(static_cast<unsigned char>(xml[q]))) ++q;
          if (q < tag_end && (xml[q] == '"' || xml[q] == '\'')) {
            const size_t close = xml.find(xml[q], q + 1);
            if (close != std::string::npos && close < tag_end)
              order.emplace(xml.substr(q + 1, close - q - 1), index++);
          }
          break;
        }
        name_at += 4;
      }
    }
    at = tag_end + 1;
  }
  return order;
}

// The deepest element nesting of an XML text (comments, CDATA, declarations and processing
// instructions skipped; self-closing tags do not nest). A linear scan, so that a hostile file with
// 100,000 nested elements is refused here instead of overflowing the XML parser's recursion.
int XmlNestingDepth(const std::string& xml) {
  int depth = 0, deepest = 0;
  size_t at = 0;
  while ((at = xml.find('<', at)) != std::string::npos) {
    const auto skip_to = [&](const char* end) {
      const size_t found = xml.find(end, at);
      at = found == std::string::npos ? xml.size() : found + std::strlen(end);
    };
    if (xml.compare(at, 4, "<!--") == 0) {
      skip_to("-->");
    } else if (xml.compare(at, 9, "<![CDATA[") == 0) {
      skip_to("]]>");
    } else if (xml.compare(at, 2, "<?") == 0 || xml.compare(at, 2, "<!") == 0) {
      skip_to(">");
    } else {
      const size_t end = xml.find('>', at);
      if (end == std::string::npos) break;
      if (xml.compare(at, 2, "</") == 0) {
        depth = std::max(0, depth - 1);
      } else if (xml[end - 1] != '/') {
        deepest = std::max(deepest, ++depth);
      }
      at = end + 1;
    }
  }
  return deepest;
}

constexpr int kMaxXmlDepth = 1000;

// Where `text` stops being UTF-8 (overlong forms, surrogates and code points past U+10FFFF are
// refused too); npos when it is UTF-8 throughout.
size_t FirstInvalidUtf8(const std::string& text) {
  size_t i = 0;
  while (i < text.size()) {
    const auto byte = static_cast<unsigned char>(text[i]);
    int length = 0;
    uint32_t code = 0, least = 0;
    if (byte < 0x80) {
      ++i;
      continue;
    } else if ((byte & 0xE0) == 0xC0) {
      length = 2, code = byte & 0x1F, least = 0x80;
    } else if ((byte & 0xF0) == 0xE0) {
      length = 3, code = byte & 0x0F, least = 0x800;
    } else if ((byte & 0xF8) == 0xF0) {
      length = 4, code = byte & 0x07, least = 0x10000;
    } else {
      return i;
    }
    if (i + length > text.size()) return i;
    for (int k = 1; k < length; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xC0) != 0x80) return i;
      code = (code << 6) | (next & 0x3F);
    }
    if (code < least || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return i;
    i += length;
  }
  return std::string::npos;
}

// Refuses a file that is not UTF-8, naming the line and the byte: names read from it go into
// chains, terminals and JSON answers, which all need text.
void CheckUtf8(const std::string& xml, const std::string& source) {
  const size_t at = FirstInvalidUtf8(xml);
  if (at == std::string::npos) return;
  const int64_t line = 1 + std::count(xml.begin(), xml.begin() + static_cast<std::ptrdiff_t>(at), '\n');
  char byte[8];
  std::snprintf(byte, sizeof byte, "0x%02x", static_cast<unsigned char>(xml[at]));
  throw InputError(source + ":" + std::to_string(line) +
                   ": expected UTF-8 text (names such as the robot's and the joints' must be text), got "
                   "the byte " +
                   byte + "; save the file as UTF-8");
}

// Why the chain cannot hold `joint` (it is floating, planar or a mimic joint); empty when it can.
std::string UnsupportedReason(const urdf::Joint& joint) {
  if (joint.type == urdf::Joint::FLOATING) return "a floating joint";
  if (joint.type == urdf::Joint::PLANAR) return "a planar joint";
  if (joint.mimic && IsActuated(joint))
    return "a mimic joint (it copies " + Quote(joint.mimic->joint_name) + ")";
  return "";
}

// The default tip: the end of the longest actuated chain below `base`. The search does not pass
// through joints the chain cannot hold (floating, planar, mimic), so the link it returns is always
// one that LoadUrdfChain can reach. Score: (actuated joints, all joints, earlier in the document).
LinkPtr DefaultTip(const urdf::ModelInterface& model, const LinkPtr& base, const std::string& xml) {
  const std::map<std::string, int> order = LinkDocumentOrder(xml);
  auto order_of = [&order](const std::string& name) {
    const auto it = order.find(name);
    return it == order.end() ? std::numeric_limits<int>::max() : it->second;
  };
  struct Visit {
    LinkPtr link;
    int actuated;
    int total;
  };
  LinkPtr best = base;
  auto best_key = std::make_tuple(0, 0, -order_of(base->name));
  std::vector<Visit> stack = {{base, 0, 0}};
  while (!stack.empty()) {
    const Visit visit = stack.back();
    stack.pop_back();
    const auto key = std::make_tuple(visit.actuated, visit.total, -order_of(visit.link->name));
    if (key > best_key) {
      best = visit.link;
      best_key = key;
    }
    // A link where two or more actuated joints branch off holds an end effector's fingers (a
    // gripper): the arm a user means ends there, so the search does not descend into them.
    int actuated_children = 0;
    for (const urdf::JointSharedPtr& joint : visit.link->child_joints)
      actuated_children += IsActuated(*joint);
    if (actuated_children >= 2 && visit.link != base) continue;
    for (const urdf::JointSharedPtr& joint : visit.link->child_joints) {
      if (!UnsupportedReason(*joint).empty()) continue;
      LinkPtr child = model.getLink(joint->child_link_name);
      if (!child) continue;
      stack.push_back({child, visit.actuated + (IsActuated(*joint) ? 1 : 0), visit.total + 1});
    }
  }
  return best;
}

LinkPtr FindLink(const urdf::ModelInterface& model, const std::string& name, const char* role,
                 const std::string& source) {
  LinkPtr link = model.getLink(name);
  if (!link) {
    std::vector<urdf::LinkSharedPtr> links;
    model.getLinks(links);
    std::vector<std::string> names;
    for (const urdf::LinkSharedPtr& l : links) names.push_back(l->name);
    std::sort(names.begin(), names.end());
    std::string known;
    for (const std::string& n : names) known += (known.empty() ? "" : ", ") + n;
    throw InputError(std::string(role) + " link " + Quote(name) + " not found in " + source +
                     "; its links are: " + known);
  }
  return link;
}

// The joints from base down to tip, in that order.
std::vector<JointPtr> PathFromBase(const LinkPtr& base, const LinkPtr& tip, const std::string& source) {
  std::vector<JointPtr> path;
  LinkPtr link = tip;
  while (link != base) {
    if (!link->parent_joint) {
      throw InputError("link " + Quote(tip->name) + " is not below " + Quote(base->name) + " in " + source +
                       ": walking up from " + Quote(tip->name) + " reaches the root " + Quote(link->name) +
                       " without passing " + Quote(base->name));
    }
    path.push_back(link->parent_joint);
    link = link->getParent();
    if (!link) {
      throw InputError(source + ": joint " + Quote(path.back()->name) + " has no parent link " +
                       Quote(path.back()->parent_link_name));
    }
  }
  return {path.rbegin(), path.rend()};
}

// Soft limits of `joint` when it has a <safety_controller> that gives any (urdfdom reads absent
// soft limits as 0).
bool HasSoftLimits(const urdf::Joint& joint) {
  return joint.type != urdf::Joint::CONTINUOUS && joint.safety &&
         (joint.safety->soft_lower_limit != 0 || joint.safety->soft_upper_limit != 0);
}

// One actuated URDF joint as a chain joint; X_PJ is the joint's origin preceded by `X_fixed`, the
// fixed offsets folded in from above it.
Joint MakeChainJoint(const urdf::Joint& source_joint, const Eigen::Isometry3d& X_fixed, UrdfLimits limits,
                     const std::string& source) {
  const std::string where = source + ": joint " + Quote(source_joint.name);
  Joint joint;
  joint.name = source_joint.name;
  joint.type = source_joint.type == urdf::Joint::PRISMATIC ? JointType::kPrismatic : JointType::kRevolute;
  joint.X_PJ = X_fixed * ToIsometry(source_joint.parent_to_joint_origin_transform);

  const Eigen::Vector3d axis(source_joint.axis.x, source_joint.axis.y, source_joint.axis.z);
  if (!axis.allFinite() || !(axis.norm() > 1e-12)) {
    throw InputError(where + ": expected a non-zero finite <axis>, got (" + FormatDouble(axis.x()) + ", " +
                     FormatDouble(axis.y()) + ", " + FormatDouble(axis.z()) + ")");
  }
  joint.axis_J = axis.normalized();

  if (source_joint.type == urdf::Joint::CONTINUOUS) {
    joint.lower = -kPi;
    joint.upper = kPi;
    joint.continuous = true;
  } else {
    if (!source_joint.limits) throw InputError(where + ": expected a <limit> element, got none");
    joint.lower = source_joint.limits->lower;
    joint.upper = source_joint.limits->upper;
    const bool soft = limits == UrdfLimits::kSoft && HasSoftLimits(source_joint);
    if (soft) {
      joint.lower = std::max(joint.lower, source_joint.safety->soft_lower_limit);
      joint.upper = std::min(joint.upper, source_joint.safety->soft_upper_limit);
    }
    const std::string kind = soft ? "soft limits (the <safety_controller>'s within the <limit>'s)" : "limits";
    if (!std::isfinite(joint.lower) || !std::isfinite(joint.upper)) {
      throw InputError(where + ": expected finite " + kind + ", got lower " + FormatDouble(joint.lower) +
                       ", upper " + FormatDouble(joint.upper));
    }
    if (joint.lower > joint.upper) {
      throw InputError(where + ": expected " + kind + " with lower <= upper, got lower " +
                       FormatDouble(joint.lower) + " > upper " + FormatDouble(joint.upper));
    }
  }
  return joint;
}

// The parsed model and the path base -> tip the options choose.
struct ParsedPath {
  urdf::ModelInterfaceSharedPtr model;
  LinkPtr base, tip;
  std::vector<JointPtr> path;
};

ParsedPath ParseUrdfPath(const std::string& xml, const UrdfOptions& options, const std::string& source) {
  CheckUtf8(xml, source);
  urdf::ModelInterfaceSharedPtr model;
  std::string reason;
  {
    // urdfdom reports why it failed through console_bridge's process-wide handler: capture it
    // for the error message instead of letting it print.
    static std::mutex handler_mutex;
    std::lock_guard<std::mutex> lock(handler_mutex);
    CapturingHandler capture;
    console_bridge::useOutputHandler(&capture);
    try {
      if (XmlNestingDepth(xml) > kMaxXmlDepth) {
        throw std::runtime_error("elements nest deeper than " + std::to_string(kMaxXmlDepth) +
                                 " levels (no robot description does)");
      }
      model = urdf::parseURDF(xml);
    } catch (const std::exception& e) {
      capture.messages.push_back(e.what());
    }
    console_bridge::restorePreviousOutputHandler();
    for (const std::string& message : capture.messages) reason += (reason.empty() ? "" : "; ") + message;
  }
  if (!model) {
    throw InputError(source + ": malformed URDF (" +
                     (reason.empty() ? "urdfdom could not parse it" : reason) + ")");
  }
  const LinkPtr root = model->getRoot();
  if (!root) throw InputError(source + ": malformed URDF (no root link)");

  const LinkPtr base = options.base_link.empty() ? root : FindLink(*model, options.base_link, "base", source);
  const LinkPtr tip = options.tip_link.empty() ? DefaultTip(*model, base, xml)
                                               : FindLink(*model, options.tip_link, "tip", source);
  return ParsedPath{model, base, tip, PathFromBase(base, tip, source)};
}

std::string ReadUrdfFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    throw InputError(path + ": cannot open the URDF file (" + std::strerror(errno) + ")");
  }
  std::ostringstream text;
  text << file.rdbuf();
  if (file.bad()) throw InputError(path + ": cannot read the URDF file");
  return text.str();
}

// The primitive shapes of `link`'s visual elements, placed by X_FL (the link's frame in chain
// frame `frame`); meshes are counted in `meshes`.
void AddLinkVisuals(const urdf::ModelInterface& model, const urdf::Link& link, int frame,
                    const Eigen::Isometry3d& X_FL, UrdfVisuals* out) {
  for (const urdf::VisualSharedPtr& visual : link.visual_array) {
    if (!visual || !visual->geometry) continue;
    VisualShape shape;
    shape.link = link.name;
    shape.frame = frame;
    shape.X_FS = X_FL * ToIsometry(visual->origin);
    const urdf::Geometry& geometry = *visual->geometry;
    if (geometry.type == urdf::Geometry::BOX) {
      const auto& box = static_cast<const urdf::Box&>(geometry);
      shape.kind = VisualShape::Kind::kBox;
      shape.size = Eigen::Vector3d(box.dim.x, box.dim.y, box.dim.z);
    } else if (geometry.type == urdf::Geometry::CYLINDER) {
      const auto& cylinder = static_cast<const urdf::Cylinder&>(geometry);
      shape.kind = VisualShape::Kind::kCylinder;
      shape.size = Eigen::Vector3d(cylinder.radius, cylinder.length, 0);
    } else if (geometry.type == urdf::Geometry::SPHERE) {
      shape.kind = VisualShape::Kind::kSphere;
      shape.size = Eigen::Vector3d(static_cast<const urdf::Sphere&>(geometry).radius, 0, 0);
    } else {
      ++out->meshes;
      continue;
    }
    if (!shape.size.allFinite() || shape.X_FS.matrix().hasNaN()) continue;
    // A material given by name only is the robot's top-level one of that name.
    urdf::MaterialSharedPtr material = visual->material;
    if (!visual->material_name.empty() && model.getMaterial(visual->material_name)) {
      material = model.getMaterial(visual->material_name);
    }
    if (material && material->texture_filename.empty()) {
      const urdf::Color& c = material->color;
      shape.rgba = Eigen::Vector4d(c.r, c.g, c.b, c.a);
    }
    out->shapes.push_back(shape);
  }
}

// `link`'s visuals and those of the links hanging from it by fixed joints only (a gripper's
// housing, a sensor mount), except the links in `skip` (the chain's own path).
void AddRigidVisuals(const urdf::ModelInterface& model, const urdf::Link& link, int frame,
                     const Eigen::Isometry3d& X_FL, const std::set<std::string>& skip, UrdfVisuals* out) {
  AddLinkVisuals(model, link, frame, X_FL, out);
  for (const urdf::JointSharedPtr& joint : link.child_joints) {
    if (joint->type != urdf::Joint::FIXED || skip.count(joint->child_link_name) > 0) continue;
    const LinkPtr child = model.getLink(joint->child_link_name);
    if (child) {
      AddRigidVisuals(model, *child, frame, X_FL * ToIsometry(joint->parent_to_joint_origin_transform), skip,
                      out);
    }
  }
}

}  // namespace

Chain LoadUrdfChain(const std::string& path, const UrdfOptions& options) {
  return ParseUrdfChain(ReadUrdfFile(path), options, path);
}

UrdfChainEnds LoadUrdfChainEnds(const std::string& path, const UrdfOptions& options) {
  const ParsedPath parsed = ParseUrdfPath(ReadUrdfFile(path), options, path);
  UrdfChainEnds ends{parsed.base->name, parsed.tip->name, 0};
  for (const JointPtr& joint : parsed.path)
    ends.joints_with_soft_limits += IsActuated(*joint) && HasSoftLimits(*joint);
  return ends;
}

UrdfVisuals LoadUrdfVisuals(const std::string& path, const UrdfOptions& options) {
  return ParseUrdfVisuals(ReadUrdfFile(path), options, path);
}

UrdfVisuals ParseUrdfVisuals(const std::string& xml, const UrdfOptions& options, const std::string& source) {
  const ParsedPath parsed = ParseUrdfPath(xml, options, source);
  std::set<std::string> on_path = {parsed.base->name};
  for (const JointPtr& joint : parsed.path) on_path.insert(joint->child_link_name);
  UrdfVisuals visuals;
  int frame = -1;  // the base frame, until the first actuated joint
  Eigen::Isometry3d X_FL = Eigen::Isometry3d::Identity();
  AddRigidVisuals(*parsed.model, *parsed.base, frame, X_FL, on_path, &visuals);
  for (const JointPtr& joint : parsed.path) {
    if (IsActuated(*joint)) {
      ++frame;  // the child link's frame is the joint's moving frame
      X_FL = Eigen::Isometry3d::Identity();
    } else {
      X_FL = X_FL * ToIsometry(joint->parent_to_joint_origin_transform);
    }
    const LinkPtr child = parsed.model->getLink(joint->child_link_name);
    if (child) AddRigidVisuals(*parsed.model, *child, frame, X_FL, on_path, &visuals);
  }
  return visuals;
}

Chain ParseUrdfChain(const std::string& xml, const UrdfOptions& options, const std::string& source) {
  const ParsedPath parsed = ParseUrdfPath(xml, options, source);
  const urdf::ModelInterfaceSharedPtr& model = parsed.model;
  const LinkPtr &base = parsed.base, &tip = parsed.tip;
  const std::vector<JointPtr>& path = parsed.path;
  std::vector<Joint> joints;
  Eigen::Isometry3d X_fixed = Eigen::Isometry3d::Identity();  // fixed offsets since the last actuated joint
  for (const JointPtr& joint : path) {
    const std::string reason = UnsupportedReason(*joint);
    if (!reason.empty()) {
      std::string message = source + ": joint " + Quote(joint->name) + " between " + Quote(base->name) +
                            " and " + Quote(tip->name) + " is " + reason +
                            ", which a serial chain cannot hold";
      if (joint->mimic)
        message += "; choose a tip above it with --tip (e.g. " + Quote(joint->parent_link_name) + ")";
      throw InputError(message);
    }
    if (IsActuated(*joint)) {
      joints.push_back(MakeChainJoint(*joint, X_fixed, options.limits, source));
      X_fixed = Eigen::Isometry3d::Identity();
    } else {
      X_fixed = X_fixed * ToIsometry(joint->parent_to_joint_origin_transform);
    }
  }
  if (joints.empty()) {
    throw InputError(source + ": no actuated joint between " + Quote(base->name) + " and " +
                     Quote(tip->name) +
                     " (only revolute, continuous and prismatic joints that are not mimic joints count)");
  }
  try {
    return Chain(model->getName(), std::move(joints), X_fixed);
  } catch (const std::invalid_argument& e) {
    throw InputError(source + ": " + e.what());
  }
}

}  // namespace deepik
