// Chains from Denavit-Hartenberg tables.
#pragma once

#include <string>
#include <vector>

#include "deepik/kinematics/chain.hpp"

namespace deepik {

/// Which DH convention a table uses.
enum class DhConvention {
  /// Standard (distal) DH: X_{i-1,i} = Rz(theta_i) Tz(d_i) Tx(a_i) Rx(alpha_i).
  kStandard,
  /// Modified (proximal, Craig) DH: X_{i-1,i} = Rx(alpha_{i-1}) Tx(a_{i-1}) Rz(theta_i) Tz(d_i),
  /// where row i holds alpha_{i-1} and a_{i-1}.
  kModified,
};

/// One row of a DH table. Lengths in metres, angles in radians. For a revolute joint the joint
/// value is added to `theta`; for a prismatic joint it is added to `d`.
struct DhRow {
  std::string name;
  JointType type = JointType::kRevolute;
  double a = 0.0, alpha = 0.0, d = 0.0, theta = 0.0;
  double lower = 0.0, upper = 0.0;
};

/// Builds a chain from a DH table (and a fixed tool transform after the last row).
/// @throws std::invalid_argument for an empty table or invalid limits (names the joint).
Chain ChainFromDh(const std::string& name, DhConvention convention, const std::vector<DhRow>& rows,
                  const Eigen::Isometry3d& X_LT = Eigen::Isometry3d::Identity());

/// Reads a DH table from a JSON file:
/// ```
/// {"name": "panda", "convention": "modified",            // or "standard"
///  "joints": [{"name": "j1", "type": "revolute",          // or "prismatic"; default revolute
///              "a": 0, "alpha": 0, "d": 0.333, "theta": 0, // m and rad; missing = 0
///              "lower": -2.8973, "upper": 2.8973}, ...],   // rad or m, required
///  "tool": {"xyz": [0, 0, 0.107], "rpy": [0, 0, 0]}}      // optional fixed tip offset
/// ```
/// @throws InputError naming the file and the field for a missing file, malformed JSON, a missing
///         or non-numeric field, an unknown convention or type, or lower > upper.
Chain LoadDhFile(const std::string& path);

}  // namespace deepik
