// A Chain as JSON text, exactly: every double round-trips bit for bit.
#pragma once

#include <string>

#include "deepik/kinematics/chain.hpp"

namespace deepik {

/// {"name":..., "joints":[{"name","type","origin":{"xyz":[3],"R":[9 row-major]},"axis":[3],
///  "lower","upper","continuous"}...], "tip":{"xyz":[3],"R":[9]}}
std::string ChainToJson(const Chain& chain);

/// @throws InputError when the text is not a chain written by ChainToJson (names the field).
Chain ChainFromJson(const std::string& json);

/// True when both chains have the same joints, limits and transforms (bit for bit).
bool SameChain(const Chain& a, const Chain& b);

}  // namespace deepik
