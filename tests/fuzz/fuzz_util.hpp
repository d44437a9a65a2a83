// Shared by the fuzz targets: a scratch file per process for the readers that take a path, the
// rule that a parser refuses bad input only with deepik::InputError, and checks of a loaded chain.
#pragma once

#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <string>
#include <typeinfo>

#include "deepik/errors.hpp"
#include "deepik/kinematics/chain.hpp"
#include "deepik/kinematics/fk.hpp"

namespace deepik_fuzz {

/// Stops the run (libFuzzer keeps the input as a crash) with a message on stderr.
[[noreturn]] inline void Fail(const std::string& message) {
  std::fprintf(stderr, "fuzz check failed: %s\n", message.c_str());
  std::abort();
}

/// A file in $TMPDIR (or /tmp) with `suffix`, made once per process, that every input overwrites;
/// removed at exit(), which libFuzzer's own end (_Exit) skips: fuzz.cmake sets TMPDIR to the build.
inline const std::string& ScratchPath(const std::string& suffix) {
  static const std::string path = [&] {
    const char* dir = std::getenv("TMPDIR");
    std::string p =
        std::string(dir && *dir ? dir : "/tmp") + "/deepik_fuzz_" + std::to_string(::getpid()) + suffix;
    std::atexit([] { std::remove(ScratchPath("").c_str()); });
    return p;
  }();
  return path;
}

inline void WriteFile(const std::string& path, const uint8_t* data, size_t size) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  if (!out) Fail("cannot write " + path);
}

/// Runs `parse`. Bad input must be refused with InputError (the documented contract, exit code 3
/// in the command); any other exception escaping is a bug (the command would call it internal).
template <typename F>
void ExpectOnlyInputErrors(F&& parse) {
  try {
    parse();
  } catch (const deepik::InputError&) {
  } catch (const std::exception& e) {
    Fail(std::string("unexpected exception ") + typeid(e).name() + ": " + e.what());
  }
}

/// What every loaded chain promises: finite geometry, unit axes, finite limits lower <= upper, and
/// so a finite tip pose at the middle of the limits.
inline void CheckChain(const deepik::Chain& chain) {
  for (const deepik::Joint& joint : chain.joints()) {
    if (!joint.X_PJ.matrix().allFinite()) Fail("joint " + joint.name + ": origin not finite");
    if (!joint.axis_J.allFinite() || std::abs(joint.axis_J.norm() - 1.0) > 1e-9) {
      Fail("joint " + joint.name + ": axis not a unit vector");
    }
    if (!std::isfinite(joint.lower) || !std::isfinite(joint.upper) || joint.lower > joint.upper) {
      Fail("joint " + joint.name + ": limits not finite with lower <= upper");
    }
  }
  if (!chain.X_LT().matrix().allFinite()) Fail("tip offset not finite");
  // Finite values can still overflow to inf (links of 1e300 m); NaN from sane sizes is a bug.
  if (chain.num_joints() > 0 && chain.reach() < 1e100 &&
      deepik::TipPose(chain, chain.mid_configuration()).matrix().hasNaN()) {
    Fail("tip pose at the middle of the limits is NaN");
  }
}

}  // namespace deepik_fuzz
