// ReadSafetensors on arbitrary file content; what it accepts must write and read back equal, and
// IkModel::FromSafetensors must accept it as a model or refuse it with InputError.
#include <Eigen/Geometry>
#include <cmath>

#include "deepik/data/safetensors.hpp"
#include "deepik/learn/model.hpp"
#include "fuzz_util.hpp"

namespace {

bool SameFile(const deepik::SafetensorsFile& a, const deepik::SafetensorsFile& b) {
  if (a.metadata != b.metadata || a.tensors.size() != b.tensors.size()) return false;
  for (const auto& [name, t] : a.tensors) {
    const auto it = b.tensors.find(name);
    if (it == b.tensors.end() || it->second.dtype != t.dtype || it->second.shape != t.shape ||
        it->second.bytes != t.bytes) {
      return false;
    }
  }
  return true;
}

void CheckModel(const deepik::IkModel& model) {
  const deepik::Chain& chain = model.chain();
  deepik_fuzz::CheckChain(chain);
  Eigen::VectorXd q(chain.num_joints());
  deepik::IkModel::Scratch scratch;
  if (model.target() == deepik::TargetKind::kPose) {
    // A pose model (its Newton steps and heads included) on a pose target.
    const Eigen::Matrix3d R = Eigen::AngleAxisd(0.7, Eigen::Vector3d(0.6, 0.0, 0.8)).toRotationMatrix();
    model.Predict(Eigen::Vector3d(0.5, -0.25, 0.75), R, q, &scratch);
  } else {
    model.Predict(Eigen::Vector3d(0.5, -0.25, 0.75), q, &scratch);
  }
  // Bounded heads and (sin, cos) joints stay within the limits (free heads may leave them).
  if (model.network().head == deepik::OutputHead::kBounded) {
    for (int j = 0; j < chain.num_joints(); ++j) {
      if (q[j] < chain.joint(j).lower - 1e-6 || q[j] > chain.joint(j).upper + 1e-6) {
        deepik_fuzz::Fail("joint " + std::to_string(j) + " predicted outside its limits");
      }
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string& path = deepik_fuzz::ScratchPath(".safetensors");
  deepik_fuzz::WriteFile(path, data, size);
  deepik_fuzz::ExpectOnlyInputErrors([&] {
    const deepik::SafetensorsFile file = deepik::ReadSafetensors(path);
    for (const auto& [name, tensor] : file.tensors) {
      if (tensor.NumElements() < 0) deepik_fuzz::Fail("tensor " + name + " with a negative size");
    }
    deepik::WriteSafetensors(path, file);
    if (!SameFile(deepik::ReadSafetensors(path), file)) deepik_fuzz::Fail("write and read back differ");
    CheckModel(deepik::IkModel::FromSafetensors(file, "fuzz.safetensors"));
  });
  return 0;
}
