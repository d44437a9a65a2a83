// Building blocks of the ONNX export (onnx_export.cpp): a node-by-node graph builder, and the
// arm's kinematics in ONNX operators (the chain walk, the network's Newton steps, the choice of a
// multi-head network's answer). Internal to deepik::onnx.
#pragma once

#include <onnx/onnx_pb.h>

#include <Eigen/Core>
#include <cmath>
#include <string>
#include <vector>

#include "deepik/kinematics/chain.hpp"
#include "deepik/learn/network_options.hpp"

namespace deepik::internal {

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
  // A list-of-integers attribute of the node made last.
  void Attribute(const std::string& name, const std::vector<int64_t>& values) {
    onnx::AttributeProto* attribute = last_->add_attribute();
    attribute->set_name(name);
    attribute->set_type(onnx::AttributeProto::INTS);
    for (int64_t v : values) attribute->add_ints(v);
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
  // (toward y's sign) when x < 0, and +-pi/2 or 0 when x = 0, as std::atan2 (float32).
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
  // atan2(y, x) in float64 (onnxruntime has no float64 Atan): the float32 angle t, then one
  // correction t + (y cos t - x sin t) / (x cos t + y sin t), the tangent of the small rest
  // (~1e-7 rad, so its cube is far below float64's rounding). (x, y) must not both be 0.
  std::string Atan2Double(const std::string& y, const std::string& x) {
    const std::string t = Cast(Atan2(Cast(y, onnx::TensorProto::FLOAT), Cast(x, onnx::TensorProto::FLOAT)),
                               onnx::TensorProto::DOUBLE);
    const std::string c = Node("Cos", {t}), s = Node("Sin", {t});
    return Node("Add", {t, Node("Div", {Node("Sub", {Node("Mul", {y, c}), Node("Mul", {x, s})}),
                                        Node("Add", {Node("Mul", {x, c}), Node("Mul", {y, s})})})});
  }

  std::string Clamp(const std::string& value, const std::string& lower, const std::string& upper) {
    return Node("Min", {Node("Max", {value, lower}), upper});
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
  std::string Double(double value) { return Doubles({value}, {}); }
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
  // The values concatenated along `axis`.
  std::string Concat(const std::vector<std::string>& values, int64_t axis) {
    const std::string out = Node("Concat", values);
    Attribute("axis", axis);
    return out;
  }
  // |v| over axis 1 of [batch, 3, 1] values: [batch, 1, 1].
  std::string Norm(const std::string& v) { return Node("Sqrt", {Sum(Node("Mul", {v, v}), 1)}); }
  // a x b for 3-vectors [3, 1] or batches of them [batch, 3, 1] (broadcast; [batch, 3, k] for b too).
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

// A target as the network reads it (float64 values from the float32 input): the position p*
// [batch, 3, 1] and, for a pose target, R* [batch, 3, 3] (empty for a position target).
struct GraphTarget {
  std::string p;
  std::string R;
};

// The target of the graph's input `input` ([batch, InputCount(kind)] float32), as IkModel reads it
// (NetworkTarget): the position, and for a pose R* = Gram-Schmidt of the two columns given.
GraphTarget ReadTarget(GraphBuilder& g, const std::string& input, TargetKind kind);

// One of the network's Newton steps (IkModel's) on joint values q [batch, dof] (float64) toward
// the target: on the position (NetworkOptions::newton_steps) or, with target.R, on the weighted
// 6-D pose error. Returns the stepped joint values [batch, dof], within the limits.
std::string NewtonStep(GraphBuilder& g, const Chain& chain, const std::string& q, const GraphTarget& target);

// Each target `heads` times in a row ([batch * heads, ...]), to meet the rows of every head.
GraphTarget RepeatPerHead(GraphBuilder& g, const GraphTarget& target, int heads);

// The answer of a multi-head network: `joints` [batch * heads, dof] (float32, or float64 after
// Newton steps) holds each target's heads in turn; returns [batch, dof] of the same type, the head
// with the lowest HeadSelectionError (the lowest index on a tie; a NaN error never wins).
std::string SelectHead(GraphBuilder& g, const Chain& chain, const std::string& joints, int heads,
                       const GraphTarget& target);

}  // namespace deepik::internal
