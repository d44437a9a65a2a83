// ParseScene on arbitrary text (the scene file of `--scene FILE`, include/deepik/geometry/scene.hpp);
// a scene that loads is then measured by its signed distance fields at a few points, whose values
// and gradients must be finite.
#include <Eigen/Core>
#include <cmath>

#include "deepik/geometry/scene.hpp"
#include "fuzz_util.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  deepik_fuzz::ExpectOnlyInputErrors([&] {
    const deepik::Scene scene = deepik::ParseScene(text, "fuzz.scene.json");
    if (scene.obstacles.size() > static_cast<size_t>(deepik::kMaxObstacles))
      deepik_fuzz::Fail("more obstacles than kMaxObstacles accepted");
    for (const deepik::Obstacle& obstacle : scene.obstacles) {
      for (const Eigen::Vector3d& p : {Eigen::Vector3d(0, 0, 0), Eigen::Vector3d(0.3, -0.2, 0.5)}) {
        Eigen::Vector3d gradient;
        const double d = deepik::SignedDistance(obstacle, p, &gradient);
        if (!std::isfinite(d) || !gradient.allFinite()) deepik_fuzz::Fail("non-finite signed distance");
      }
    }
  });
  return 0;
}
