// The trained network as one ONNX graph, so that any ONNX runtime (onnxruntime, a browser) can run
// it without deepik. Built in the library deepik::onnx (core + Debian's libonnx protobuf classes);
// neither libtorch nor the core library's users need it.
#pragma once

#include <string>

#include "deepik/learn/model.hpp"

namespace deepik {

/// Names and metadata of the exported graph.
struct OnnxExportOptions {
  std::string input_name = "targets";  ///< float32 [batch, 3] or [batch, 9]: OnnxInputDescription
  std::string output_name = "joints";  ///< float32 [batch, dof]: joint values (rad or m), chain order
  int opset = 13;                      ///< ONNX operator set (13..17)

  /// True when valid; otherwise false with `error` naming the offending field.
  bool IsValid(std::string* error) const;
};

/// What the graph's input holds for a model of this target kind: "[batch, 3] tip positions (m,
/// base frame)" for a position model; for a pose model [batch, 9], the network's own input
/// (PoseInput): x, y, z (m), then the first two columns of the tip's rotation matrix R_BT.
std::string OnnxInputDescription(TargetKind target);

/// The whole network of `model` as a serialised ONNX ModelProto, with a dynamic batch dimension
/// ("batch"): exactly IkModel::Predict's computation (kFloat64) from the input of
/// OnnxInputDescription to the joint values (float32 [batch, dof], chain order): input
/// normalisation, the layers, the head (atan2 of the (sin, cos) pair for full-turn joints, the
/// bounded sigmoid, the clamp to the float32 limits); for a multi-head model every head, then the
/// one whose FK is closest to the target (HeadSelectionError); then the Newton steps
/// (NetworkOptions::newton_steps), on the arm's FK and Jacobian in float64. Metadata: the arm
/// (chain JSON), the network options, the joint names.
/// @throws std::invalid_argument for invalid options.
std::string OnnxModelBytes(const IkModel& model, const OnnxExportOptions& options = {});

/// Writes OnnxModelBytes to `path` (whole or not at all).
/// @throws InputError when the file cannot be written; std::invalid_argument for invalid options.
void ExportOnnx(const IkModel& model, const std::string& path, const OnnxExportOptions& options = {});

}  // namespace deepik
