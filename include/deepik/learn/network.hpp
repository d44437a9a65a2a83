// The IK network as a libtorch module (training and batched inference).
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include <map>
#include <string>

#include "deepik/kinematics/chain.hpp"
#include "deepik/kinematics/torch_fk.hpp"
#include "deepik/learn/model.hpp"
#include "deepik/learn/network_options.hpp"

namespace deepik {

/// Target -> joint values in chain order. The target is (x, y, z) in metres for a position model
/// and PoseInput's 9 numbers for a pose model (NetworkOptions::target). Input normalisation and the
/// joint limits are buffers of the module, saved with it.
struct IkNetImpl : torch::nn::Module {
  /// `input_mean`/`input_std`: per-input statistics of the training targets ([InputCount] each).
  IkNetImpl(const Chain& chain, const NetworkOptions& options, const torch::Tensor& input_mean,
            const torch::Tensor& input_std);

  /// targets: [B, InputCount] float32 -> [B, n] joint values: the only head, or for a
  /// multi-head network the head whose FK is closest to each target (HeadSelectionError, in
  /// float32; the lowest index on a tie), as IkModel::Predict. No side effects.
  torch::Tensor forward(const torch::Tensor& targets);
  /// Every head's joint values: [B, InputCount] -> [B, heads, n]. No side effects.
  torch::Tensor forward_heads(const torch::Tensor& targets);
  /// Per target and head, HeadSelectionError of `q_heads` [B, heads, n] against `targets` [B,
  /// InputCount]: [B, heads] (m).
  torch::Tensor head_errors(const torch::Tensor& q_heads, const torch::Tensor& targets) const;

  NetworkOptions options;
  torch::nn::ModuleList hidden;
  torch::nn::Linear out{nullptr};
  torch::Tensor input_mean, input_std, lower, upper;
  /// Per joint: the column of its first raw output, and whether it uses (sin, cos).
  std::vector<int64_t> output_column;
  std::vector<bool> sincos;
  TorchFk fk;  ///< chooses among the heads
};
TORCH_MODULE(IkNet);

/// The libtorch form of a loaded model, for batched inference; same weights, in eval mode.
IkNet MakeIkNet(const IkModel& model);

/// The module's weights and input normalisation as a model file's float32 tensors (the names
/// MakeModelFile expects).
std::map<std::string, RawTensor> ModelTensors(IkNet& net);

/// Batched inference: targets [B, InputCount] -> joint values [B, n] (double), no gradients.
torch::Tensor PredictBatch(IkNet& net, const torch::Tensor& targets);

}  // namespace deepik
