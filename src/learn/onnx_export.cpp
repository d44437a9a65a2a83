#include "deepik/learn/onnx_export.hpp"

#include <onnx/onnx_pb.h>

#include <Eigen/Core>
#include <array>
#include <cmath>
#include <stdexcept>
#include <vector>

#include "deepik/data/csv.hpp"
#include "deepik/errors.hpp"

namespace deepik {
namespace {

constexpr float kPi = static_cast<float>(M_PI);

// Builds the graph node by node; every value gets a fresh name ("v7").
class GraphBuilder {
 public:
  explicit GraphBuilder(onnx::GraphProto* graph) : graph_(graph) {}

  std::string Node(const std::string& op, const std::vector<std::string>& inputs) {
    onnx::NodeProto* node = graph_->add_node();
    node->set_op_type(op);
    for (const std::string& input : inputs) node->add_input(input);
    const std::string output = "v" + std::to_string(next_++);
    node->add_output(output);
    node->set_name(op + "_" + output);
    last_ = node;
    return output;
  }
  // An integer attribute of the node made last.
  void Attribute(const std::string& name, int64_t value) {
    onnx::AttributeProto* attribute = last_->add_attribute();
    attribute->set_name(name);
    attribute->set_type(onnx::AttributeProto::INT);
    attribute->set_i(value);
  }

  std::string Floats(const std::string& name, const std::vector<float>& values,
                     const std::vector<int64_t>& dims) {
    onnx::TensorProto* tensor = graph_->add_initializer();
    tensor->set_name(name);
    tensor->set_data_type(onnx::TensorProto::FLOAT);
    for (int64_t d : dims) tensor->add_dims(d);
    tensor->set_raw_data(
        std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float)));
    return name;
  }
  // A float32 initializer widened to float64 (exactly) by a Cast node.
  std::string Widened(const std::string& name, const std::vector<float>& values,
                      const std::vector<int64_t>& dims) {
    return Cast(Floats(name, values, dims), onnx::TensorProto::DOUBLE);
  }
  std::string Cast(const std::string& value, onnx::TensorProto::DataType to) {
    const std::string out = Node("Cast", {value});
    Attribute("to", to);
    return out;
  }
  std::string Scalar(float value) { return Floats("c" + std::to_string(next_++), {value}, {}); }
  std::string Indices(const std::string& name, const std::vector<int64_t>& values) {
    onnx::TensorProto* tensor = graph_->add_initializer();
    tensor->set_name(name);
    tensor->set_data_type(onnx::TensorProto::INT64);
    tensor->add_dims(static_cast<int64_t>(values.size()));
    for (int64_t v : values) tensor->add_int64_data(v);
    return name;
  }
  // Columns `columns` of the [batch, k] value `z`.
  std::string Columns(const std::string& z, const std::vector<int64_t>& columns, const std::string& name) {
    const std::string out = Node("Gather", {z, Indices(name, columns)});
    Attribute("axis", 1);
    return out;
  }

  // atan2(y, x) elementwise from Atan and Where (ONNX has no Atan2): atan(y / x), plus pi
  // (toward y's sign) when x < 0, and +-pi/2 or 0 when x = 0, as std::atan2.
  std::string Atan2(const std::string& y, const std::string& x) {
    const std::string zero = Scalar(0.0f);
    const std::string x_zero = Node("Equal", {x, zero});
    const std::string x_safe = Node("Where", {x_zero, Scalar(1.0f), x});
    const std::string angle = Node("Atan", {Node("Div", {y, x_safe})});
    const std::string y_negative = Node("Less", {y, zero});
    const std::string half_turn = Node("Where", {y_negative, Scalar(-kPi), Scalar(kPi)});
    const std::string x_negative = Node("Less", {x, zero});
    const std::string off_axis = Node("Add", {angle, Node("Where", {x_negative, half_turn, zero})});
    const std::string on_axis = Node(
        "Where",
        {y_negative, Scalar(-kPi / 2), Node("Where", {Node("Greater", {y, zero}), Scalar(kPi / 2), zero})});
    return Node("Where", {x_zero, on_axis, off_axis});
  }

  std::string Clamp(const std::string& value, const std::string& lower, const std::string& upper) {
    return Node("Min", {Node("Max", {value, lower}), upper});
  }

  // A list-of-integers attribute of the node made last.
  void Attribute(const std::string& name, const std::vector<int64_t>& values) {
    onnx::AttributeProto* attribute = last_->add_attribute();
    attribute->set_name(name);
    attribute->set_type(onnx::AttributeProto::INTS);
    for (int64_t v : values) attribute->add_ints(v);
  }
  // A float64 initializer (exact: the arm's numbers as the library has them).
  std::string Doubles(const std::vector<double>& values, const std::vector<int64_t>& dims) {
    onnx::TensorProto* tensor = graph_->add_initializer();
    const std::string name = "d" + std::to_string(next_++);
    tensor->set_name(name);
    tensor->set_data_type(onnx::TensorProto::DOUBLE);
    for (int64_t d : dims) tensor->add_dims(d);
    tensor->set_raw_data(
        std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(double)));
    return name;
  }
  std::string Matrix(const Eigen::Matrix3d& M) {
    return Doubles({M(0, 0), M(0, 1), M(0, 2), M(1, 0), M(1, 1), M(1, 2), M(2, 0), M(2, 1), M(2, 2)}, {3, 3});
  }
  std::string Column(const Eigen::Vector3d& v) { return Doubles({v.x(), v.y(), v.z()}, {3, 1}); }
  std::string Reshape(const std::string& value, const std::vector<int64_t>& shape) {
    return Node("Reshape", {value, Indices("shape" + std::to_string(next_++), shape)});
  }
  std::string Gather(const std::string& value, const std::vector<int64_t>& indices, int64_t axis) {
    const std::string out = Node("Gather", {value, Indices("i" + std::to_string(next_++), indices)});
    Attribute("axis", axis);
    return out;
  }
  std::string Sum(const std::string& value, int64_t axis) {
    const std::string out = Node("ReduceSum", {value, Indices("axes" + std::to_string(next_++), {axis})});
    Attribute("keepdims", 1);
    return out;
  }
  // a x b for 3-vectors [3, 1] or batches of them [batch, 3, 1] (broadcast).
  std::string Cross(const std::string& a, const std::string& b) {
    auto turned = [&](const std::string& v, int k) {
      return Gather(v, {k % 3, (k + 1) % 3, (k + 2) % 3}, -2);
    };
    return Node("Sub",
                {Node("Mul", {turned(a, 1), turned(b, 2)}), Node("Mul", {turned(a, 2), turned(b, 1)})});
  }
  std::string Transposed(const std::string& value) {
    const std::string out = Node("Transpose", {value});
    Attribute("perm", std::vector<int64_t>{0, 2, 1});
    return out;
  }

 private:
  onnx::GraphProto* graph_;
  onnx::NodeProto* last_ = nullptr;
  int next_ = 0;
};

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

// One of the network's Newton steps (IkModel::NewtonStep) on joint values q [batch, dof] (float64)
// toward `target` [batch, 3, 1]: the chain walked as internal::WalkChain, the position Jacobian's
// columns, J J^T + (lambda^2 + |e|^2) I inverted by the cross products of its columns (M^-1's rows are
// c1 x c2, c2 x c0, c0 x c1 over det M), then the wrap of full-turn joints and the clamp.
std::string NewtonStep(GraphBuilder& g, const Chain& chain, const std::string& q, const std::string& target) {
  std::vector<float> lower_f, upper_f;  // the clamp's limits: the head's, rounded inwards to float32
  InwardFloatLimits(chain, &lower_f, &upper_f);
  const int n = chain.num_joints();
  std::string R, p;  // the walk's frame [batch, 3, 3] and [batch, 3, 1]; empty: the identity
  std::vector<std::string> axes, origins;
  for (int j = 0; j < n; ++j) {
    const Joint& joint = chain.joint(j);
    const std::string offset = g.Column(joint.X_PJ.translation());
    p = p.empty() ? offset : g.Node("Add", {p, R.empty() ? offset : g.Node("MatMul", {R, offset})});
    const std::string turn = g.Matrix(joint.X_PJ.linear());
    R = R.empty() ? turn : g.Node("MatMul", {R, turn});
    const std::string axis_B = g.Node("MatMul", {R, g.Column(joint.axis_J)});
    axes.push_back(axis_B);
    origins.push_back(p);
    const std::string q_j = g.Reshape(g.Gather(q, {j}, 1), {-1, 1, 1});
    if (joint.type == JointType::kRevolute) {
      const Eigen::Vector3d& a = joint.axis_J;
      Eigen::Matrix3d K;
      K << 0, -a.z(), a.y(), a.z(), 0, -a.x(), -a.y(), a.x(), 0;
      const std::string s = g.Node("Sin", {q_j}), c = g.Node("Cos", {q_j});
      const std::string rotation = g.Node(
          "Add",
          {g.Matrix(Eigen::Matrix3d::Identity()),
           g.Node("Add", {g.Node("Mul", {s, g.Matrix(K)}),
                          g.Node("Mul", {g.Node("Sub", {g.Doubles({1.0}, {}), c}), g.Matrix(K * K)})})});
      R = g.Node("MatMul", {R, rotation});
    } else {
      p = g.Node("Add", {p, g.Node("Mul", {axis_B, q_j})});
    }
  }
  const std::string tip = g.Node("Add", {p, g.Node("MatMul", {R, g.Column(chain.X_LT().translation())})});
  std::vector<std::string> columns;
  for (int j = 0; j < n; ++j) {
    const std::string& axis = axes[static_cast<size_t>(j)];
    // A prismatic joint's column is its axis, which may be a constant [3, 1]: batched by adding 0 x tip.
    columns.push_back(chain.joint(j).type == JointType::kRevolute
                          ? g.Cross(axis, g.Node("Sub", {tip, origins[static_cast<size_t>(j)]}))
                          : g.Node("Add", {axis, g.Node("Mul", {tip, g.Doubles({0.0}, {})})}));
  }
  std::string J = columns.front();
  if (n > 1) {
    J = g.Node("Concat", columns);
    g.Attribute("axis", 2);
  }
  const std::string e = g.Node("Sub", {target, tip});
  const std::string damping =
      g.Node("Add", {g.Doubles({kNewtonDamping * kNewtonDamping}, {}), g.Sum(g.Node("Mul", {e, e}), 1)});
  const std::string M = g.Node("Add", {g.Node("MatMul", {J, g.Transposed(J)}),
                                       g.Node("Mul", {damping, g.Matrix(Eigen::Matrix3d::Identity())})});
  const std::string c0 = g.Gather(M, {0}, 2), c1 = g.Gather(M, {1}, 2), c2 = g.Gather(M, {2}, 2);
  const std::string r0 = g.Cross(c1, c2), r1 = g.Cross(c2, c0), r2 = g.Cross(c0, c1);
  const std::string det = g.Sum(g.Node("Mul", {c0, r0}), 1);
  std::string y = g.Node("Concat", {g.Sum(g.Node("Mul", {r0, e}), 1), g.Sum(g.Node("Mul", {r1, e}), 1),
                                    g.Sum(g.Node("Mul", {r2, e}), 1)});
  g.Attribute("axis", 1);
  y = g.Node("Div", {y, det});
  std::string stepped = g.Node("Add", {q, g.Reshape(g.Node("MatMul", {g.Transposed(J), y}), {-1, n})});
  std::vector<double> lower, upper, turn;
  for (const Joint& joint : chain.joints()) {
    lower.push_back(joint.lower);
    upper.push_back(joint.upper);
    turn.push_back(IsFullTurn(joint) ? 2 * M_PI : 0.0);
  }
  const std::string lo = g.Doubles(lower, {n}), hi = g.Doubles(upper, {n}), full = g.Doubles(turn, {n});
  // internal::ProjectIntoLimits: a full-turn joint out of its range to lower + (q - lower) mod 2 pi.
  const std::string turn_c = g.Doubles({2 * M_PI}, {});
  auto fmod = [&](const std::string& a) {
    const std::string out = g.Node("Mod", {a, turn_c});
    g.Attribute("fmod", 1);
    return out;
  };
  const std::string wrapped =
      g.Node("Add", {lo, fmod(g.Node("Add", {fmod(g.Node("Sub", {stepped, lo})), turn_c}))});
  const std::string outside = g.Node("Or", {g.Node("Less", {stepped, lo}), g.Node("Greater", {stepped, hi})});
  const std::string full_turn = g.Node("Greater", {full, g.Doubles({0.0}, {})});
  stepped = g.Node("Where", {g.Node("And", {outside, full_turn}), wrapped, stepped});
  return g.Clamp(stepped, g.Doubles(std::vector<double>(lower_f.begin(), lower_f.end()), {n}),
                 g.Doubles(std::vector<double>(upper_f.begin(), upper_f.end()), {n}));
}

}  // namespace

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
  const Chain& chain = model.chain();
  const NetworkOptions& network = model.network();
  if (network.heads > 1) {
    // A graph of the layers alone would answer with some head, not the network solver's.
    throw InputError("ONNX export: the model has " + std::to_string(network.heads) +
                     " heads, and its answer is the head whose FK is closest to the target, which the graph "
                     "cannot compute without the arm's kinematics; export a model with one head");
  }

  onnx::ModelProto proto;
  proto.set_ir_version(8);  // ONNX 1.12 (Debian 12); read by every runtime that runs opset 13+
  proto.set_producer_name("deepik");
  proto.set_producer_version("0.1.0");
  proto.set_doc_string("deepik IK network for arm " + chain.name() + ": " + options.input_name +
                       " [batch, 3] tip positions (m, base frame) -> " + options.output_name +
                       " [batch, dof] joint values (rad or m, chain order)");
  onnx::OperatorSetIdProto* opset = proto.add_opset_import();
  opset->set_domain("");
  opset->set_version(options.opset);
  AddMetadata(&proto, "deepik.arm", model.file().metadata.at("arm"));
  AddMetadata(&proto, "deepik.network", NetworkOptionsToJson(network));
  std::string names;
  for (const Joint& joint : chain.joints()) names += (names.empty() ? "" : ",") + joint.name;
  AddMetadata(&proto, "deepik.joints", names);

  onnx::GraphProto* graph = proto.mutable_graph();
  graph->set_name("deepik_ik_" + chain.name());
  AddTensorType(graph->add_input(), options.input_name, 3);
  AddTensorType(graph->add_output(), options.output_name, chain.num_joints());
  GraphBuilder g(graph);

  // The layers in float64 on the float32 weights, as IkModel::Predict (ForwardPrecision::kFloat64):
  // its sums are then exact to ~1e-16, whatever order this runtime adds them in.
  std::string x = g.Node("Div", {g.Node("Sub", {g.Cast(options.input_name, onnx::TensorProto::DOUBLE),
                                                g.Widened("input_mean", Floats(model, "input_mean"), {3})}),
                                 g.Widened("input_std", Floats(model, "input_std"), {3})});
  int64_t in = 3;
  for (int k = 0; k <= network.depth; ++k) {
    const bool last = k == network.depth;
    const std::string prefix = last ? "out" : "hidden." + std::to_string(k);
    const int64_t out = last ? RawOutputCount(chain, network) : network.width;
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
  x = g.Cast(x, onnx::TensorProto::FLOAT);

  // The head, as IkModel::Predict: joints in three groups (full-turn (sin, cos) pairs, bounded,
  // free), each computed at once, then put back in chain order.
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
    for (int j : joints) {
      lo.push_back(lower[static_cast<size_t>(j)]);
      hi.push_back(upper[static_cast<size_t>(j)]);
      range.push_back(hi.back() - lo.back());
    }
    const int64_t n = static_cast<int64_t>(joints.size());
    return std::array<std::string, 3>{g.Floats(name + "_lower", lo, {n}), g.Floats(name + "_upper", hi, {n}),
                                      with_range ? g.Floats(name + "_range", range, {n}) : std::string()};
  };
  std::vector<std::string> parts;
  std::vector<int> order;  // chain index of each column of the concatenation
  if (!periodic_joints.empty()) {
    const auto bounds = limits(periodic_joints, "periodic", false);
    const std::string angle =
        g.Atan2(g.Columns(x, sin_columns, "sin_columns"), g.Columns(x, cos_columns, "cos_columns"));
    parts.push_back(g.Clamp(angle, bounds[0], bounds[1]));
    order.insert(order.end(), periodic_joints.begin(), periodic_joints.end());
  }
  if (!bounded_joints.empty()) {
    const auto [lo, hi, range] = limits(bounded_joints, "bounded", true);
    const std::string s = g.Node("Sigmoid", {g.Columns(x, bounded_columns, "bounded_columns")});
    parts.push_back(g.Clamp(g.Node("Add", {lo, g.Node("Mul", {range, s})}), lo, hi));
    order.insert(order.end(), bounded_joints.begin(), bounded_joints.end());
  }
  if (!free_joints.empty()) {
    parts.push_back(g.Columns(x, free_columns, "free_columns"));
    order.insert(order.end(), free_joints.begin(), free_joints.end());
  }
  std::string joints = parts.front();
  if (parts.size() > 1) {
    joints = g.Node("Concat", parts);
    g.Attribute("axis", 1);
  }
  std::vector<int64_t> position(order.size());  // where each chain joint sits in the concatenation
  for (size_t i = 0; i < order.size(); ++i) position[static_cast<size_t>(order[i])] = static_cast<int64_t>(i);
  bool identity = true;
  for (size_t j = 0; j < position.size(); ++j) identity = identity && position[j] == static_cast<int64_t>(j);
  if (!identity) joints = g.Columns(joints, position, "chain_order");
  if (network.newton_steps > 0) {
    std::string q = g.Cast(joints, onnx::TensorProto::DOUBLE);
    const std::string target = g.Reshape(g.Cast(options.input_name, onnx::TensorProto::DOUBLE), {-1, 3, 1});
    for (int k = 0; k < network.newton_steps; ++k) q = NewtonStep(g, chain, q, target);
    joints = g.Cast(q, onnx::TensorProto::FLOAT);
  }
  g.Node("Identity", {joints});
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
