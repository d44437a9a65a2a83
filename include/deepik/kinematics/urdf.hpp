// Chains from URDF files, through urdfdom.
#pragma once

#include <string>

#include "deepik/kinematics/chain.hpp"

namespace deepik {

/// Which part of a URDF tree becomes the chain.
struct UrdfOptions {
  /// Base link; empty = the root link of the tree.
  std::string base_link;
  /// Tip link; empty = the end of the longest actuated chain below the base: the link reached
  /// through the most revolute/continuous/prismatic joints that are not mimic joints (ties: the
  /// one with more joints in all, then the first in document order).
  std::string tip_link;
};

/// Reads a URDF file and extracts the serial chain base -> tip. Fixed joints are folded into
/// their neighbours; continuous joints become revolute joints with range [-pi, pi] and
/// `continuous = true`; meshes, inertias and unknown tags are ignored.
/// @throws InputError when the file is missing or malformed, a link is missing, base and tip are
///         not connected (tip not below base), or the path holds a floating, planar or mimic joint
///         or a joint with lower > upper; the message names the file and the link or joint.
Chain LoadUrdfChain(const std::string& path, const UrdfOptions& options = {});

/// As LoadUrdfChain, from the XML text; `source` names it in error messages.
Chain ParseUrdfChain(const std::string& xml, const UrdfOptions& options, const std::string& source);

}  // namespace deepik
