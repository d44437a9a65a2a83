// ParseSphereSet on arbitrary text (the spheres file of `deepik spheres` and `--spheres FILE`,
// include/deepik/geometry/collision_model.hpp), for the built-in panda's links; a file that loads
// is then used by the sphere check at the middle of the limits, whose answer must be finite or a
// clear "no pair".
#include <cmath>

#include "deepik/geometry/collision_model.hpp"
#include "deepik/geometry/robot_geometry.hpp"
#include "deepik/kinematics/arm_spec.hpp"
#include "fuzz_util.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // The arm's links without their meshes (the sphere file names links; no mesh is read).
  static const deepik::RobotGeometry geometry =
      deepik::LoadRobotGeometry(deepik::ArmSpec{DEEPIK_FUZZ_PANDA_URDF, "panda_link0", "panda_hand"},
                                deepik::MeshSearchOptions{}, false);
  static const auto pairs = deepik::CheckedPairs(geometry, nullptr);
  const std::string text(reinterpret_cast<const char*>(data), size);
  deepik_fuzz::ExpectOnlyInputErrors([&] {
    const deepik::SphereSet spheres = deepik::ParseSphereSet(text, "fuzz.spheres.json", geometry);
    const deepik::SphereChecker checker(geometry, spheres, pairs);
    const deepik::Chain& chain = geometry.chain;
    Eigen::VectorXd q(chain.num_joints());
    for (int j = 0; j < chain.num_joints(); ++j) q[j] = 0.5 * (chain.joint(j).lower + chain.joint(j).upper);
    const deepik::CollisionReport report = checker.Check(q);
    if (std::isnan(report.min_distance)) deepik_fuzz::Fail("sphere check: NaN minimum distance");
  });
  return 0;
}
