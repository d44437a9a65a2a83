#include "deepik/learn/network.hpp"

#include <torch/nn/functional/activation.h>
#include <torch/torch.h>

#include <cmath>
#include <limits>
#include <stdexcept>

#include "deepik/learn/losses.hpp"

namespace deepik {

IkNetImpl::IkNetImpl(const Chain& chain, const NetworkOptions& opts, const torch::Tensor& mean,
                     const torch::Tensor& std_dev)
    : options(opts), fk(chain) {
  std::string error;
  if (!options.IsValid(&error)) throw std::invalid_argument("network options: " + error);
  hidden = register_module("hidden", torch::nn::ModuleList());
  const int64_t inputs = InputCount(options.target);
  int64_t in = inputs;
  for (int i = 0; i < options.depth; ++i) {
    hidden->push_back(torch::nn::Linear(in, options.width));
    in = options.width;
  }
  out = register_module("out", torch::nn::Linear(in, options.heads * RawOutputCount(chain, options)));
  input_mean = register_buffer("input_mean", mean.to(torch::kFloat32).reshape({inputs}).clone());
  input_std = register_buffer("input_std", std_dev.to(torch::kFloat32).reshape({inputs}).clone());
  std::vector<float> lo_f, hi_f;
  InwardFloatLimits(chain, &lo_f, &hi_f);
  lower = register_buffer("lower", torch::tensor(lo_f, torch::kFloat32));
  upper = register_buffer("upper", torch::tensor(hi_f, torch::kFloat32));
  int64_t column = 0;
  for (const Joint& joint : chain.joints()) {
    const bool periodic = options.periodic_sincos && IsFullTurn(joint);
    output_column.push_back(column);
    sincos.push_back(periodic);
    column += periodic ? 2 : 1;
  }
}

torch::Tensor IkNetImpl::forward_heads(const torch::Tensor& targets) {
  torch::Tensor h = (targets - input_mean) / input_std;
  for (const auto& layer : *hidden) {
    h = layer->as<torch::nn::Linear>()->forward(h);
    switch (options.activation) {
      case Activation::kRelu:
        h = torch::relu(h);
        break;
      case Activation::kTanh:
        h = torch::tanh(h);
        break;
      case Activation::kSilu:
        h = torch::silu(h);
        break;
    }
  }
  // [B, heads * raw] -> [B * heads, raw]: one head per row.
  const int64_t batch = targets.size(0);
  const torch::Tensor z = out->forward(h).reshape({batch * options.heads, -1});
  std::vector<torch::Tensor> joints;
  joints.reserve(sincos.size());
  for (size_t j = 0; j < sincos.size(); ++j) {
    const int64_t c = output_column[j];
    const auto jj = static_cast<int64_t>(j);
    // The clamps only remove float32 rounding (an ulp past a limit); they never bind otherwise.
    if (sincos[j]) {
      joints.push_back(torch::clamp(torch::atan2(z.select(1, c), z.select(1, c + 1)), lower[jj], upper[jj]));
    } else if (options.head == OutputHead::kBounded) {
      joints.push_back(torch::clamp(lower[jj] + (upper[jj] - lower[jj]) * torch::sigmoid(z.select(1, c)),
                                    lower[jj], upper[jj]));
    } else {
      joints.push_back(z.select(1, c));
    }
  }
  return torch::stack(joints, 1).reshape({batch, options.heads, -1});
}

torch::Tensor IkNetImpl::head_errors(const torch::Tensor& q_heads, const torch::Tensor& targets) const {
  const int64_t batch = q_heads.size(0), heads = q_heads.size(1);
  const torch::Tensor q = q_heads.reshape({batch * heads, -1});
  const torch::Tensor t = targets.repeat_interleave(heads, 0);
  if (options.target == TargetKind::kPosition) {
    return (fk.TipPositions(q) - t).norm(2, 1).reshape({batch, heads});
  }
  const TorchPoses poses = fk.TipPoses(q);
  const torch::Tensor distance = (poses.p_BT - t.slice(1, 0, 3)).norm(2, 1);
  const torch::Tensor angle = GeodesicAngle(RotationFromTwoColumns(t.slice(1, 3, 9)), poses.R_BT);
  return (distance + kHeadAngleWeight * angle).reshape({batch, heads});
}

torch::Tensor IkNetImpl::forward(const torch::Tensor& targets) {
  const torch::Tensor q_heads = forward_heads(targets);
  if (options.heads == 1) return q_heads.select(1, 0);
  torch::Tensor errors;
  {
    torch::NoGradGuard no_grad;  // the choice is not differentiated
    // NaN never wins (as IkModel::SelectHead): a NaN error counts as +infinity.
    errors = torch::nan_to_num(head_errors(q_heads, targets), std::numeric_limits<double>::infinity());
  }
  // argmin takes the first of equal minima: the lowest head index on a tie.
  const torch::Tensor best = torch::argmin(errors, 1);
  return q_heads.index({torch::arange(targets.size(0)), best});
}

IkNet MakeIkNet(const IkModel& model) {
  const auto& tensors = model.file().tensors;
  auto load = [&tensors](const std::string& name) {
    const RawTensor& raw = tensors.at(name);  // presence and shapes were checked by IkModel
    const std::vector<float> values = raw.ToFloats();
    return torch::tensor(values, torch::kFloat32).reshape(raw.shape);
  };
  IkNet net(model.chain(), model.network(), load("input_mean"), load("input_std"));
  torch::NoGradGuard no_grad;
  for (auto& p : net->named_parameters()) p.value().copy_(load(p.key()));
  net->eval();
  return net;
}

std::map<std::string, RawTensor> ModelTensors(IkNet& net) {
  std::map<std::string, RawTensor> tensors;
  auto add = [&tensors](const std::string& name, const torch::Tensor& t) {
    const torch::Tensor c = t.detach().to(torch::kFloat32).contiguous();
    std::vector<float> values(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
    tensors[name] = RawTensor::FromFloats(values, std::vector<int64_t>(c.sizes().begin(), c.sizes().end()));
  };
  for (const auto& p : net->named_parameters()) add(p.key(), p.value());
  add("input_mean", net->input_mean);
  add("input_std", net->input_std);
  return tensors;
}

torch::Tensor PredictBatch(IkNet& net, const torch::Tensor& targets) {
  torch::NoGradGuard no_grad;
  return net->forward(targets.to(torch::kFloat32)).to(torch::kFloat64);
}

}  // namespace deepik
