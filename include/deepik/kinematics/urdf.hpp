// Chains from URDF files, through urdfdom.
#pragma once

#include <limits>
#include <string>
#include <vector>

#include "deepik/kinematics/chain.hpp"

namespace deepik {

/// Which joint limits a URDF chain takes.
enum class UrdfLimits {
  /// The <limit lower upper> of each joint (the default: the joint's full mechanical range).
  kHard,
  /// Where a joint has a <safety_controller> with soft limits, the range they leave inside the hard
  /// one: [max(lower, soft_lower_limit), min(upper, soft_upper_limit)], as TRAC-IK's loader takes it.
  /// A <safety_controller> whose soft limits are both 0 (urdfdom's value for absent attributes)
  /// leaves the hard limits. Continuous joints keep their full turn.
  kSoft,
};

/// Which part of a URDF tree becomes the chain, and with which limits.
struct UrdfOptions {
  /// Base link; empty = the root link of the tree.
  std::string base_link;
  /// Tip link; empty = the end of the longest actuated chain below the base: the link reached
  /// through the most revolute/continuous/prismatic joints that are not mimic joints (ties: the
  /// one with more joints in all, then the first in document order).
  std::string tip_link;
  UrdfLimits limits = UrdfLimits::kHard;
};

/// Reads a URDF file and extracts the serial chain base -> tip. Fixed joints are folded into
/// their neighbours; continuous joints become revolute joints with range [-pi, pi] and
/// `continuous = true`; meshes, inertias and unknown tags are ignored.
/// The file must be UTF-8 text (as XML without an encoding declaration is): every name that a
/// chain, `arm info` or the JSON API passes on is then valid text.
/// @throws InputError when the file is missing, not UTF-8 (naming the line) or malformed, a link
///         is missing, base and tip are not connected (tip not below base), or the path holds a
///         floating, planar or mimic joint or a joint with lower > upper (hard or, with kSoft, soft);
///         the message names the file and the link or joint.
Chain LoadUrdfChain(const std::string& path, const UrdfOptions& options = {});

/// As LoadUrdfChain, from the XML text; `source` names it in error messages.
Chain ParseUrdfChain(const std::string& xml, const UrdfOptions& options, const std::string& source);

/// What LoadUrdfChain chose: the links at the chain's two ends, and how many joints on the path
/// have soft limits (a <safety_controller>, see UrdfLimits::kSoft).
struct UrdfChainEnds {
  std::string base_link;
  std::string tip_link;
  int joints_with_soft_limits = 0;
};

/// The ends of the chain LoadUrdfChain(path, options) builds (the defaults resolved).
/// @throws InputError as LoadUrdfChain.
UrdfChainEnds LoadUrdfChainEnds(const std::string& path, const UrdfOptions& options = {});

/// One primitive shape of a link's <visual> geometry, placed in a frame of the chain.
struct VisualShape {
  enum class Kind { kBox, kCylinder, kSphere };
  Kind kind = Kind::kBox;
  std::string link;  ///< the URDF link it belongs to
  /// The chain frame F it moves with: -1 for the base frame B, i for joint i's moving frame (the
  /// i-th frame of JointFrames).
  int frame = -1;
  /// The shape's pose in F; a cylinder's axis is its local z, as in URDF.
  Eigen::Isometry3d X_FS = Eigen::Isometry3d::Identity();
  /// Metres. Box: the x, y, z extents; cylinder: radius, length, 0; sphere: radius, 0, 0.
  Eigen::Vector3d size = Eigen::Vector3d::Zero();
  /// The material's colour (r, g, b, a in 0..1) when the URDF gives one; NaN otherwise.
  Eigen::Vector4d rgba = Eigen::Vector4d::Constant(std::numeric_limits<double>::quiet_NaN());
};

/// The visual geometry of the links LoadUrdfChain's chain moves: the base link, every link on the
/// path to the tip, and the links hanging from those by fixed joints only (a gripper's housing).
struct UrdfVisuals {
  std::vector<VisualShape> shapes;  ///< boxes, cylinders and spheres
  int meshes = 0;                   ///< <mesh> elements, not loaded (their files are rarely at hand)
};

/// The visuals of the chain LoadUrdfChain(path, options) builds, frame by frame.
/// @throws InputError as LoadUrdfChain.
UrdfVisuals LoadUrdfVisuals(const std::string& path, const UrdfOptions& options = {});

/// As LoadUrdfVisuals, from the XML text; `source` names it in error messages.
UrdfVisuals ParseUrdfVisuals(const std::string& xml, const UrdfOptions& options, const std::string& source);

}  // namespace deepik
