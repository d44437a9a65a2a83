// Built-in arms, by name.
#pragma once

#include <string>
#include <vector>

#include "deepik/kinematics/chain.hpp"

namespace deepik {

/// The seed arm of DESIGN.md: two links, each joint with two degrees of freedom (yaw about z,
/// then pitch about y), z up, all zeros = pointing straight up.
struct SeedArmOptions {
  double link1_length = 1.0;               ///< m, shoulder to elbow
  double link2_length = 1.0;               ///< m, elbow to tip
  double shoulder_yaw_limit_deg = 180.0;   ///< symmetric range [-v, v]
  double shoulder_pitch_limit_deg = 90.0;  ///< symmetric range [-v, v]
  double elbow_yaw_limit_deg = 180.0;      ///< symmetric range [-v, v]
  double elbow_pitch_limit_deg = 135.0;    ///< symmetric range [-v, v]

  /// Empty when valid; otherwise names the offending field.
  bool IsValid(std::string* error) const;
};

/// @throws std::invalid_argument when the options are not valid.
Chain MakeSeedArm(const SeedArmOptions& options = {});

/// The classic planar 2R arm in the xy plane: both axes along z, links along x.
/// @throws std::invalid_argument for non-positive lengths.
Chain MakePlanar2(double link1_length = 1.0, double link2_length = 1.0);

/// Franka Emika Panda, panda_link0 -> panda_link8 (7 revolute joints).
Chain MakePanda();
/// Universal Robots UR5 (CB3), base_link -> tool0 (6 revolute joints).
Chain MakeUr5();
/// KUKA LBR iiwa 14 R820, base_link -> tool0 (7 revolute joints).
Chain MakeIiwa14();

/// The names MakeBuiltinArm knows: seed, planar2, panda, ur5, iiwa14.
std::vector<std::string> BuiltinArmNames();

/// A built-in arm with its default options.
/// @throws std::invalid_argument for an unknown name (the message lists the known ones).
Chain MakeBuiltinArm(const std::string& name);

}  // namespace deepik
