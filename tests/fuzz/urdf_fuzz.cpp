// ParseUrdfChain on arbitrary XML text, with the default base and tip.
#include "deepik/kinematics/urdf.hpp"
#include "fuzz_util.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string xml(reinterpret_cast<const char*>(data), size);
  deepik_fuzz::ExpectOnlyInputErrors([&] {
    const deepik::Chain chain = deepik::ParseUrdfChain(xml, deepik::UrdfOptions{}, "fuzz.urdf");
    deepik_fuzz::CheckChain(chain);
  });
  return 0;
}
