// LoadDhFile on arbitrary file content (JSON DH tables, include/deepik/kinematics/dh.hpp).
#include "deepik/kinematics/dh.hpp"
#include "fuzz_util.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string& path = deepik_fuzz::ScratchPath(".json");
  deepik_fuzz::WriteFile(path, data, size);
  deepik_fuzz::ExpectOnlyInputErrors([&] { deepik_fuzz::CheckChain(deepik::LoadDhFile(path)); });
  return 0;
}
