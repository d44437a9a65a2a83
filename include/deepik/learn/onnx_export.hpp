// The trained network as one ONNX graph, so that any ONNX runtime (onnxruntime, a browser) can run
// it without deepik. Built in the library deepik::onnx (core + Debian's libonnx protobuf classes);
// neither libtorch nor the core library's users need it.
#pragma once

#include <string>

#include "deepik/learn/model.hpp"

namespace deepik {

/// Names and metadata of the exported graph.
struct OnnxExportOptions {
  std::string input_name = "targets";  ///< float32 [batch, 3]: tip positions (m, base frame)
  std::string output_name = "joints";  ///< float32 [batch, dof]: joint values (rad or m), chain order
  int opset = 13;                      ///< ONNX operator set (13..17)

  /// True when valid; otherwise false with `error` naming the offending field.
  bool IsValid(std::string* error) const;
};

/// The whole network of `model` as a serialised ONNX ModelProto: input normalisation, the layers,
/// the head (atan2 of the (sin, cos) pair for full-turn joints, the bounded sigmoid, the clamp to
/// the float32 limits), exactly IkModel::Predict's computation in float32, with a dynamic batch
/// dimension ("batch"). Metadata: the arm (chain JSON), the network options, the joint names.
/// @throws std::invalid_argument for invalid options; InputError for a multi-head model (its
///         answer is chosen by FK, which the graph does not hold).
std::string OnnxModelBytes(const IkModel& model, const OnnxExportOptions& options = {});

/// Writes OnnxModelBytes to `path` (whole or not at all).
/// @throws InputError when the file cannot be written or the model has several heads;
///         std::invalid_argument for invalid options.
void ExportOnnx(const IkModel& model, const std::string& path, const OnnxExportOptions& options = {});

}  // namespace deepik
