#include "deepik/learn/onnx_export.hpp"

#include <onnx/onnx_pb.h>

#include <Eigen/Core>
#include <array>
#include <cmath>
#include <stdexcept>
#include <vector>

#include "deepik/data/csv.hpp"
#include "deepik/errors.hpp"
#include "learn/onnx_graph.hpp"

namespace deepik {
namespace {

using internal::GraphBuilder;
using internal::GraphTarget;

void AddTensorType(onnx::ValueInfoProto* value, const std::string& name, int64_t columns) {
  value->set_name(name);
  onnx::TypeProto_Tensor* tensor = value->mutable_type()->mutable_tensor_type();
  tensor->set_elem_type(onnx::TensorProto::FLOAT);
  tensor->mutable_shape()->add_dim()->set_dim_param("batch");
  tensor->mutable_shape()->add_dim()->set_dim_value(columns);
}

std::vector<float> Floats(const IkModel& model, const std::string& name) {
  return model.file().tensors.at(name).ToFloats();
}

void AddMetadata(onnx::ModelProto* proto, const std::string& key, const std::string& value) {
  onnx::StringStringEntryProto* entry = proto->add_metadata_props();
  entry->set_key(key);
  entry->set_value(value);
}

// The model proto without its graph's nodes: versions, the description of the input and the
// output, the metadata (arm, network, joint names), the graph's input and output.
void DescribeModel(const IkModel& model, const OnnxExportOptions& options, onnx::ModelProto* proto) {
  const Chain& chain = model.chain();
  proto->set_ir_version(8);  // ONNX 1.12 (Debian 12); read by every runtime that runs opset 13+
  proto->set_producer_name("deepik");
  proto->set_producer_version("0.1.0");
  proto->set_doc_string("deepik IK network for arm " + chain.name() + ": " + options.input_name + " " +
                        OnnxInputDescription(model.target()) + " -> " + options.output_name +
                        " [batch, dof] joint values (rad or m, chain order)");
  onnx::OperatorSetIdProto* opset = proto->add_opset_import();
  opset->set_domain("");
  opset->set_version(options.opset);
  AddMetadata(proto, "deepik.arm", model.file().metadata.at("arm"));
  AddMetadata(proto, "deepik.network", NetworkOptionsToJson(model.network()));
  std::string names;
  for (const Joint& joint : chain.joints()) names += (names.empty() ? "" : ",") + joint.name;
  AddMetadata(proto, "deepik.joints", names);

  onnx::GraphProto* graph = proto->mutable_graph();
  graph->set_name("deepik_ik_" + chain.name());
  AddTensorType(graph->add_input(), options.input_name, InputCount(model.target()));
  AddTensorType(graph->add_output(), options.output_name, chain.num_joints());
}

// The normalised input and the layers in float64 on the float32 weights, as IkModel::Predict
// (ForwardPrecision::kFloat64): its sums are then exact to ~1e-16, whatever order this runtime
// adds them in. Returns the raw outputs rounded to float32, [batch, heads * RawOutputCount].
std::string AddLayers(GraphBuilder& g, const IkModel& model, const std::string& input) {
  const NetworkOptions& network = model.network();
  const int64_t inputs = InputCount(network.target);
  std::string x =
      g.Node("Div", {g.Node("Sub", {g.Cast(input, onnx::TensorProto::DOUBLE),
                                    g.Widened("input_mean", Floats(model, "input_mean"), {inputs})}),
                     g.Widened("input_std", Floats(model, "input_std"), {inputs})});
  int64_t in = inputs;
  for (int k = 0; k <= network.depth; ++k) {
    const bool last = k == network.depth;
    const std::string prefix = last ? "out" : "hidden." + std::to_string(k);
    const int64_t out =
        last ? int64_t{network.heads} * RawOutputCount(model.chain(), network) : network.width;
    const std::string W = g.Widened(prefix + ".weight", Floats(model, prefix + ".weight"), {out, in});
    const std::string b = g.Widened(prefix + ".bias", Floats(model, prefix + ".bias"), {out});
    x = g.Node("Gemm", {x, W, b});
    g.Attribute("transB", 1);
    in = out;
    if (last) break;
    switch (network.activation) {
      case Activation::kRelu:
        x = g.Node("Relu", {x});
        break;
      case Activation::kTanh:
        x = g.Node("Tanh", {x});
        break;
      case Activation::kSilu:  // x / (1 + exp(-x)) as Predict; x * Sigmoid(x) would be fused by
                               // onnxruntime into QuickGelu, which has no float64 kernel
        x = g.Node("Div", {x, g.Node("Add", {g.Widened("one_" + std::to_string(k), {1.0f}, {}),
                                             g.Node("Exp", {g.Node("Neg", {x})})})});
        break;
    }
  }
  // The head in float32 from the raw outputs rounded to float32, as Predict.
  return g.Cast(x, onnx::TensorProto::FLOAT);
}

// The head, as IkModel::HeadJoints, on raw outputs x [rows, RawOutputCount] (float32): joints in
// three groups (full-turn (sin, cos) pairs, bounded, free), each computed at once, then put back
// in chain order. Returns [rows, dof] float32, or float64 for a network with Newton steps (the
// head then in float64 on the float32 outputs, as IkModel::HeadJoints).
std::string AddHead(GraphBuilder& g, const Chain& chain, const NetworkOptions& network,
                    const std::string& raw) {
  const bool wide = network.newton_steps > 0;
  const std::string x = wide ? g.Cast(raw, onnx::TensorProto::DOUBLE) : raw;
  std::vector<float> lower, upper;
  InwardFloatLimits(chain, &lower, &upper);
  std::vector<int64_t> sin_columns, cos_columns, bounded_columns, free_columns;
  std::vector<int> periodic_joints, bounded_joints, free_joints;
  int64_t column = 0;
  for (int j = 0; j < chain.num_joints(); ++j) {
    if (network.periodic_sincos && IsFullTurn(chain.joint(j))) {
      periodic_joints.push_back(j);
      sin_columns.push_back(column);
      cos_columns.push_back(column + 1);
      column += 2;
    } else if (network.head == OutputHead::kBounded) {
      bounded_joints.push_back(j);
      bounded_columns.push_back(column++);
    } else {
      free_joints.push_back(j);
      free_columns.push_back(column++);
    }
  }
  // The limits of `joints` as initializers: lower, upper and, when asked, upper - lower (in
  // float32, as Predict computes it).
  auto limits = [&](const std::vector<int>& joints, const std::string& name, bool with_range) {
    std::vector<float> lo, hi, range;
    std::vector<double> lo64, hi64, range64;
    for (int j : joints) {
      lo.push_back(lower[static_cast<size_t>(j)]);
      hi.push_back(upper[static_cast<size_t>(j)]);
      range.push_back(hi.back() - lo.back());
      lo64.push_back(lo.back());
      hi64.push_back(hi.back());
      range64.push_back(hi64.back() - lo64.back());
    }
    const int64_t n = static_cast<int64_t>(joints.size());
    if (wide) {
      return std::array<std::string, 3>{g.Doubles(lo64, {n}), g.Doubles(hi64, {n}),
                                        with_range ? g.Doubles(range64, {n}) : std::string()};
    }
    return std::array<std::string, 3>{g.Floats(name + "_lower", lo, {n}), g.Floats(name + "_upper", hi, {n}),
                                      with_range ? g.Floats(name + "_range", range, {n}) : std::string()};
  };
  std::vector<std::string> parts;
  std::vector<int> order;  // chain index of each column of the concatenation
  if (!periodic_joints.empty()) {
    const auto bounds = limits(periodic_joints, "periodic", false);
    const std::string sin = g.Columns(x, sin_columns, "sin_columns"),
                      cos = g.Columns(x, cos_columns, "cos_columns");
    const std::string angle = wide ? g.Atan2Double(sin, cos) : g.Atan2(sin, cos);
    parts.push_back(g.Clamp(angle, bounds[0], bounds[1]));
    order.insert(order.end(), periodic_joints.begin(), periodic_joints.end());
  }
  if (!bounded_joints.empty()) {
    const auto [lo, hi, range] = limits(bounded_joints, "bounded", true);
    const std::string z = g.Columns(x, bounded_columns, "bounded_columns");
    // 1 / (1 + exp(-z)) spelled out in float64, as IkModel computes it (onnxruntime's float64
    // Sigmoid need not round alike).
    const std::string s =
        wide ? g.Node("Div",
                      {g.Double(1.0), g.Node("Add", {g.Double(1.0), g.Node("Exp", {g.Node("Neg", {z})})})})
             : g.Node("Sigmoid", {z});
    parts.push_back(g.Clamp(g.Node("Add", {lo, g.Node("Mul", {range, s})}), lo, hi));
    order.insert(order.end(), bounded_joints.begin(), bounded_joints.end());
  }
  if (!free_joints.empty()) {
    parts.push_back(g.Columns(x, free_columns, "free_columns"));
    order.insert(order.end(), free_joints.begin(), free_joints.end());
  }
  std::string joints = parts.size() > 1 ? g.Concat(parts, 1) : parts.front();
  std::vector<int64_t> position(order.size());  // where each chain joint sits in the concatenation
  for (size_t i = 0; i < order.size(); ++i) position[static_cast<size_t>(order[i])] = static_cast<int64_t>(i);
  bool identity = true;
  for (size_t j = 0; j < position.size(); ++j) identity = identity && position[j] == static_cast<int64_t>(j);
  return identity ? joints : g.Columns(joints, position, "chain_order");
}

// The network's answer from its raw outputs: the head (each head's, and the one closest to the
// target for a multi-head model), then the Newton steps (or the steps on every head, then the
// choice: NetworkOptions::newton_every_head). Returns [batch, dof] float32.
std::string AddAnswer(GraphBuilder& g, const IkModel& model, const std::string& raw,
                      const std::string& input) {
  const Chain& chain = model.chain();
  const NetworkOptions& network = model.network();
  GraphTarget target;
  std::string joints;
  if (network.heads > 1 && network.newton_every_head && network.newton_steps > 0) {
    // Every head takes the steps, one row per head, then the choice (IkModel::StepEveryHead).
    std::string q = g.Cast(AddHead(g, chain, network, g.Reshape(raw, {-1, RawOutputCount(chain, network)})),
                           onnx::TensorProto::DOUBLE);
    target = internal::ReadTarget(g, input, network.target);
    const GraphTarget per_head = internal::RepeatPerHead(g, target, network.heads);
    for (int k = 0; k < network.newton_steps; ++k) q = internal::NewtonStep(g, chain, q, per_head);
    return g.Cast(internal::SelectHead(g, chain, q, network.heads, target), onnx::TensorProto::FLOAT);
  }
  if (network.heads == 1) {
    joints = AddHead(g, chain, network, raw);
  } else {
    // One row per head: [batch, heads * k] -> [batch * heads, k].
    joints = AddHead(g, chain, network, g.Reshape(raw, {-1, RawOutputCount(chain, network)}));
    target = internal::ReadTarget(g, input, network.target);
    joints = internal::SelectHead(g, chain, joints, network.heads, target);
  }
  if (network.newton_steps == 0) return joints;
  std::string q = g.Cast(joints, onnx::TensorProto::DOUBLE);
  if (target.p.empty()) target = internal::ReadTarget(g, input, network.target);
  for (int k = 0; k < network.newton_steps; ++k) q = internal::NewtonStep(g, chain, q, target);
  return g.Cast(q, onnx::TensorProto::FLOAT);
}

}  // namespace

std::string OnnxInputDescription(TargetKind target) {
  return target == TargetKind::kPose
             ? "[batch, 9] tip poses (x, y, z in m, then the first two columns of the tip's rotation matrix "
               "R_BT: r11, r21, r31, r12, r22, r32; base frame)"
             : "[batch, 3] tip positions (m, base frame)";
}

bool OnnxExportOptions::IsValid(std::string* error) const {
  if (input_name.empty() || output_name.empty() || input_name == output_name) {
    *error = "input_name, output_name: expected two distinct non-empty names, got '" + input_name +
             "' and '" + output_name + "'";
    return false;
  }
  if (opset < 13 || opset > 17) {
    *error = "opset: expected 13..17, got " + std::to_string(opset);
    return false;
  }
  return true;
}

std::string OnnxModelBytes(const IkModel& model, const OnnxExportOptions& options) {
  std::string error;
  if (!options.IsValid(&error)) throw std::invalid_argument("ONNX export: " + error);
  onnx::ModelProto proto;
  DescribeModel(model, options, &proto);
  onnx::GraphProto* graph = proto.mutable_graph();
  GraphBuilder g(graph);
  const std::string raw = AddLayers(g, model, options.input_name);
  g.Node("Identity", {AddAnswer(g, model, raw, options.input_name)});
  graph->mutable_node(graph->node_size() - 1)->set_output(0, options.output_name);

  std::string bytes;
  if (!proto.SerializeToString(&bytes)) throw std::runtime_error("ONNX export: serialisation failed");
  return bytes;
}

void ExportOnnx(const IkModel& model, const std::string& path, const OnnxExportOptions& options) {
  const std::string bytes = OnnxModelBytes(model, options);
  AtomicFileWriter writer(path);
  writer.stream().write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  writer.Commit();
}

}  // namespace deepik
