#include "deepik/kinematics/arm_spec.hpp"

#include <stdexcept>

#include "deepik/errors.hpp"
#include "deepik/kinematics/builtin_arms.hpp"
#include "deepik/kinematics/dh.hpp"
#include "deepik/kinematics/urdf.hpp"

namespace deepik {
namespace {

bool EndsWith(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

bool NamesUrdf(const ArmSpec& spec) { return EndsWith(spec.arm, ".urdf") || EndsWith(spec.arm, ".xml"); }

Chain LoadArm(const ArmSpec& spec) {
  if (NamesUrdf(spec)) {
    return LoadUrdfChain(spec.arm, UrdfOptions{spec.base_link, spec.tip_link, spec.limits});
  }
  if (!spec.base_link.empty() || !spec.tip_link.empty()) {
    throw InputError("--base and --tip apply to URDF files only, got arm '" + spec.arm + "'");
  }
  if (spec.limits != UrdfLimits::kHard) {
    throw InputError("--limits soft applies to URDF files only, got arm '" + spec.arm + "'");
  }
  if (EndsWith(spec.arm, ".json")) return LoadDhFile(spec.arm);
  try {
    return MakeBuiltinArm(spec.arm);
  } catch (const std::invalid_argument& e) {
    throw InputError(e.what());
  }
}

UrdfVisuals LoadArmVisuals(const ArmSpec& spec) {
  if (!NamesUrdf(spec)) return {};
  return LoadUrdfVisuals(spec.arm, UrdfOptions{spec.base_link, spec.tip_link, spec.limits});
}

}  // namespace deepik
