// Naming an arm on the command line: a built-in name, a DH file or a URDF file.
#pragma once

#include <string>

#include "deepik/kinematics/chain.hpp"
#include "deepik/kinematics/urdf.hpp"

namespace deepik {

/// How a user names an arm.
struct ArmSpec {
  /// A built-in name (seed, planar2, panda, ur5, iiwa14), a DH table (*.json) or a URDF (*.urdf).
  std::string arm;
  std::string base_link;                  ///< URDF only; empty = the root link
  std::string tip_link;                   ///< URDF only; empty = the end of the longest actuated chain
  UrdfLimits limits = UrdfLimits::kHard;  ///< URDF only: hard (<limit>) or soft (<safety_controller>)
};

/// True when `spec` names a URDF file (*.urdf or *.xml).
bool NamesUrdf(const ArmSpec& spec);

/// Builds the chain an ArmSpec names.
/// @throws InputError for an unknown name, a missing or malformed file, or --base/--tip or soft
///         limits asked for an arm that is not a URDF.
Chain LoadArm(const ArmSpec& spec);

/// The visual geometry of the arm LoadArm(spec) builds: a URDF's boxes, cylinders and spheres
/// (LoadUrdfVisuals); none for built-in arms and DH tables.
/// @throws InputError as LoadUrdfChain, for a URDF.
UrdfVisuals LoadArmVisuals(const ArmSpec& spec);

}  // namespace deepik
