// A Chain as JSON text, exactly: every double round-trips bit for bit.
#pragma once

#include <string>

#include "deepik/kinematics/chain.hpp"
#include "deepik/kinematics/urdf.hpp"

namespace deepik {

/// {"name":..., "joints":[{"name","type","origin":{"xyz":[3],"R":[9 row-major]},"axis":[3],
///  "lower","upper","continuous"}...], "tip":{"xyz":[3],"R":[9]}}
std::string ChainToJson(const Chain& chain);

/// @throws InputError when the text is not a chain written by ChainToJson (names the field).
Chain ChainFromJson(const std::string& json);

/// True when both chains have the same joints, limits and transforms (bit for bit).
bool SameChain(const Chain& a, const Chain& b);

/// A URDF arm's visual shapes as JSON text, exactly (a model file keeps them as its "visuals"
/// metadata, so a model trained from a URDF draws the URDF's shapes):
/// {"shapes":[{"kind":"box"|"cylinder"|"sphere","link","frame","origin":{"xyz","R"},"size":[3],
///  "rgba":[4] or null}...], "meshes": count}
std::string VisualsToJson(const UrdfVisuals& visuals);

/// @throws InputError when the text is not visuals written by VisualsToJson (names the field).
UrdfVisuals VisualsFromJson(const std::string& json);

}  // namespace deepik
