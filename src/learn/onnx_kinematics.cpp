// The arm's kinematics in ONNX operators, for the graph of onnx_export.cpp: the chain walk, the
// network's Newton steps (IkModel::PositionNewtonStep and PoseNewtonStep) and the choice of a
// multi-head network's answer (IkModel::SelectHead), each as the library computes it in float64.
#include <Eigen/Core>
#include <limits>
#include <string>
#include <vector>

#include "learn/onnx_graph.hpp"

namespace deepik::internal {
namespace {

// The chain walked as internal::WalkChain on q [batch, dof] (float64): the last link's frame R
// [batch, 3, 3], the tip position [batch, 3, 1], and each joint's axis and origin in the base
// frame (the first joint's are constants [3, 1]).
struct ChainWalk {
  std::string R, tip;
  std::vector<std::string> axes, origins;
};

ChainWalk WalkChain(GraphBuilder& g, const Chain& chain, const std::string& q) {
  ChainWalk walk;
  std::string& R = walk.R;
  std::string p;  // empty: the identity and the origin
  for (int j = 0; j < chain.num_joints(); ++j) {
    const Joint& joint = chain.joint(j);
    const std::string offset = g.Column(joint.X_PJ.translation());
    p = p.empty() ? offset : g.Node("Add", {p, R.empty() ? offset : g.Node("MatMul", {R, offset})});
    const std::string turn = g.Matrix(joint.X_PJ.linear());
    R = R.empty() ? turn : g.Node("MatMul", {R, turn});
    const std::string axis_B = g.Node("MatMul", {R, g.Column(joint.axis_J)});
    walk.axes.push_back(axis_B);
    walk.origins.push_back(p);
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
  walk.tip = g.Node("Add", {p, g.Node("MatMul", {R, g.Column(chain.X_LT().translation())})});
  return walk;
}

// The linear-velocity columns of the tip's Jacobian, batched [batch, 3, dof].
std::string LinearJacobian(GraphBuilder& g, const Chain& chain, const ChainWalk& walk) {
  std::vector<std::string> columns;
  for (int j = 0; j < chain.num_joints(); ++j) {
    const std::string& axis = walk.axes[static_cast<size_t>(j)];
    // A prismatic joint's column is its axis, which may be a constant [3, 1]: batched by adding 0 x tip.
    columns.push_back(chain.joint(j).type == JointType::kRevolute
                          ? g.Cross(axis, g.Node("Sub", {walk.tip, walk.origins[static_cast<size_t>(j)]}))
                          : g.Node("Add", {axis, g.Node("Mul", {walk.tip, g.Doubles({0.0}, {})})}));
  }
  return columns.size() == 1 ? columns.front() : g.Concat(columns, 2);
}

// The angular-velocity columns, batched [batch, 3, dof]: a revolute joint's axis, 0 for a prismatic one.
std::string AngularJacobian(GraphBuilder& g, const Chain& chain, const ChainWalk& walk) {
  const std::string zero = g.Node("Mul", {walk.tip, g.Double(0.0)});
  std::vector<std::string> columns;
  for (int j = 0; j < chain.num_joints(); ++j) {
    columns.push_back(chain.joint(j).type == JointType::kRevolute
                          ? g.Node("Add", {walk.axes[static_cast<size_t>(j)], zero})
                          : zero);
  }
  return columns.size() == 1 ? columns.front() : g.Concat(columns, 2);
}

// q + J^T y: the step, then ProjectIntoLimits (a full-turn joint out of its range to
// lower + (q - lower) mod 2 pi) and the clamp to the head's limits (rounded inwards to float32).
std::string StepIntoLimits(GraphBuilder& g, const Chain& chain, const std::string& q, const std::string& J,
                           const std::string& y) {
  const int n = chain.num_joints();
  std::vector<float> lower_f, upper_f;
  InwardFloatLimits(chain, &lower_f, &upper_f);
  std::string stepped = g.Node("Add", {q, g.Reshape(g.Node("MatMul", {g.Transposed(J), y}), {-1, n})});
  std::vector<double> lower, upper, turn;
  for (const Joint& joint : chain.joints()) {
    lower.push_back(joint.lower);
    upper.push_back(joint.upper);
    turn.push_back(IsFullTurn(joint) ? 2 * M_PI : 0.0);
  }
  const std::string lo = g.Doubles(lower, {n}), hi = g.Doubles(upper, {n}), full = g.Doubles(turn, {n});
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

// The position step: J J^T + (lambda^2 + |e|^2) I inverted by the cross products of its columns
// (M^-1's rows are c1 x c2, c2 x c0, c0 x c1 over det M).
std::string PositionStep(GraphBuilder& g, const Chain& chain, const std::string& q,
                         const std::string& target) {
  const ChainWalk walk = WalkChain(g, chain, q);
  const std::string J = LinearJacobian(g, chain, walk);
  const std::string e = g.Node("Sub", {target, walk.tip});
  const std::string damping =
      g.Node("Add", {g.Doubles({kNewtonDamping * kNewtonDamping}, {}), g.Sum(g.Node("Mul", {e, e}), 1)});
  const std::string M = g.Node("Add", {g.Node("MatMul", {J, g.Transposed(J)}),
                                       g.Node("Mul", {damping, g.Matrix(Eigen::Matrix3d::Identity())})});
  const std::string c0 = g.Gather(M, {0}, 2), c1 = g.Gather(M, {1}, 2), c2 = g.Gather(M, {2}, 2);
  const std::string r0 = g.Cross(c1, c2), r1 = g.Cross(c2, c0), r2 = g.Cross(c0, c1);
  const std::string det = g.Sum(g.Node("Mul", {c0, r0}), 1);
  std::string y = g.Concat(
      {g.Sum(g.Node("Mul", {r0, e}), 1), g.Sum(g.Node("Mul", {r1, e}), 1), g.Sum(g.Node("Mul", {r2, e}), 1)},
      1);
  y = g.Node("Div", {y, det});
  return StepIntoLimits(g, chain, q, J, y);
}

// The rotation vector [batch, 3, 1] of M [batch, 3, 3] (log of a rotation), and its angle
// [batch, 1, 1]: v = vee(M - M^T) / 2 = sin(angle) axis, angle = atan2(|v|, (tr M - 1) / 2).
struct RotationLog {
  std::string phi, angle;
};

RotationLog Log(GraphBuilder& g, const std::string& M) {
  const std::string flat = g.Reshape(M, {-1, 9});
  const std::string v = g.Reshape(
      g.Node("Mul",
             {g.Node("Sub", {g.Gather(flat, {7, 2, 3}, 1), g.Gather(flat, {5, 6, 1}, 1)}), g.Double(0.5)}),
      {-1, 3, 1});
  const std::string cosine = g.Reshape(
      g.Node("Mul", {g.Node("Sub", {g.Sum(g.Gather(flat, {0, 4, 8}, 1), 1), g.Double(1.0)}), g.Double(0.5)}),
      {-1, 1, 1});
  const std::string sine = g.Norm(v);
  RotationLog log;
  log.angle = g.Atan2Double(sine, cosine);
  const std::string positive = g.Node("Greater", {sine, g.Double(0.0)});
  const std::string scale =
      g.Node("Where", {positive, g.Node("Div", {log.angle, g.Node("Where", {positive, sine, g.Double(1.0)})}),
                       g.Double(1.0)});
  log.phi = g.Node("Mul", {v, scale});
  return log;
}

// y = A^-1 b for A [batch, m, m] symmetric positive definite and b [batch, m, 1]: Gauss-Jordan
// elimination on [A | b], unrolled (no pivoting is needed for a positive definite A).
std::string Solve(GraphBuilder& g, const std::string& A, const std::string& b, int m) {
  std::string G = g.Concat({A, b}, 2);
  for (int k = 0; k < m; ++k) {
    const std::string row = g.Node("Div", {g.Gather(G, {k}, 1), g.Gather(g.Gather(G, {k}, 1), {k}, 2)});
    std::vector<double> unit(static_cast<size_t>(m), 0.0);
    unit[static_cast<size_t>(k)] = 1.0;
    const std::string factor = g.Node("Sub", {g.Gather(G, {k}, 2), g.Doubles(unit, {m, 1})});
    G = g.Node("Sub", {G, g.Node("Mul", {factor, row})});
  }
  return g.Gather(G, {m}, 2);
}

// The pose step on r = (p* - p, -a phi), phi = log(R R*^T) (base frame), a = kNewtonAngleWeight,
// with the weighted Jacobian (J_v; a Jl^-1(phi) J_w), Jl^-1 the inverse left Jacobian of SO(3):
// dq = J^T (J J^T + (lambda^2 + |r|^2) I)^-1 r.
std::string PoseStep(GraphBuilder& g, const Chain& chain, const std::string& q, const GraphTarget& target) {
  const ChainWalk walk = WalkChain(g, chain, q);
  const std::string R_tip = g.Node("MatMul", {walk.R, g.Matrix(chain.X_LT().linear())});
  const RotationLog log = Log(g, g.Node("MatMul", {R_tip, g.Transposed(target.R)}));
  // Jl^-1(phi) w = w - phi x w / 2 + c phi x (phi x w), c = 1 / t^2 - cot(t / 2) / (2 t) (1/12 + t^2/720 near
  // 0).
  const std::string t = log.angle;
  const std::string small = g.Node("Less", {t, g.Double(kSmallRotationAngle)});
  const std::string t_safe = g.Node("Where", {small, g.Double(1.0), t});
  const std::string half = g.Node("Mul", {t_safe, g.Double(0.5)});
  const std::string large_c = g.Node(
      "Sub", {g.Node("Div", {g.Double(1.0), g.Node("Mul", {t_safe, t_safe})}),
              g.Node("Div", {g.Node("Cos", {half}), g.Node("Mul", {g.Node("Mul", {g.Double(2.0), t_safe}),
                                                                   g.Node("Sin", {half})})})});
  const std::string small_c =
      g.Node("Add", {g.Double(1.0 / 12.0), g.Node("Div", {g.Node("Mul", {t, t}), g.Double(720.0)})});
  const std::string c = g.Node("Where", {small, small_c, large_c});
  const std::string J_w = AngularJacobian(g, chain, walk);
  const std::string phi_w = g.Cross(log.phi, J_w);
  const std::string J_r = g.Node("Add", {g.Node("Sub", {J_w, g.Node("Mul", {phi_w, g.Double(0.5)})}),
                                         g.Node("Mul", {c, g.Cross(log.phi, phi_w)})});
  const std::string weight = g.Double(kNewtonAngleWeight);
  const std::string J = g.Concat({LinearJacobian(g, chain, walk), g.Node("Mul", {J_r, weight})}, 1);
  const std::string r = g.Concat(
      {g.Node("Sub", {target.p, walk.tip}), g.Node("Mul", {log.phi, g.Double(-kNewtonAngleWeight)})}, 1);
  const std::string damping =
      g.Node("Add", {g.Double(kNewtonDamping * kNewtonDamping), g.Sum(g.Node("Mul", {r, r}), 1)});
  std::vector<double> identity(36, 0.0);
  for (int i = 0; i < 6; ++i) identity[static_cast<size_t>(7 * i)] = 1.0;
  const std::string A = g.Node(
      "Add", {g.Node("MatMul", {J, g.Transposed(J)}), g.Node("Mul", {damping, g.Doubles(identity, {6, 6})})});
  return StepIntoLimits(g, chain, q, J, Solve(g, A, r, 6));
}

}  // namespace

GraphTarget ReadTarget(GraphBuilder& g, const std::string& input, TargetKind kind) {
  const std::string x = g.Cast(input, onnx::TensorProto::DOUBLE);
  GraphTarget target;
  if (kind == TargetKind::kPosition) {
    target.p = g.Reshape(x, {-1, 3, 1});
    return target;
  }
  target.p = g.Reshape(g.Gather(x, {0, 1, 2}, 1), {-1, 3, 1});
  const std::string a = g.Reshape(g.Gather(x, {3, 4, 5}, 1), {-1, 3, 1});
  const std::string b = g.Reshape(g.Gather(x, {6, 7, 8}, 1), {-1, 3, 1});
  const std::string c0 = g.Node("Div", {a, g.Norm(a)});
  const std::string u = g.Node("Sub", {b, g.Node("Mul", {g.Sum(g.Node("Mul", {c0, b}), 1), c0})});
  const std::string c1 = g.Node("Div", {u, g.Norm(u)});
  target.R = g.Concat({c0, c1, g.Cross(c0, c1)}, 2);
  return target;
}

std::string NewtonStep(GraphBuilder& g, const Chain& chain, const std::string& q, const GraphTarget& target) {
  return target.R.empty() ? PositionStep(g, chain, q, target.p) : PoseStep(g, chain, q, target);
}

GraphTarget RepeatPerHead(GraphBuilder& g, const GraphTarget& target, int heads) {
  // [batch, rows, columns] -> [batch * heads, rows, columns], each target `heads` times in a row.
  auto repeated = [&](const std::string& value, int64_t rows, int64_t columns) {
    const std::string spread =
        g.Node("Add", {g.Reshape(value, {-1, 1, rows, columns}),
                       g.Doubles(std::vector<double>(static_cast<size_t>(heads * rows * columns), 0.0),
                                 {1, heads, rows, columns})});
    return g.Reshape(spread, {-1, rows, columns});
  };
  GraphTarget per_head;
  per_head.p = repeated(target.p, 3, 1);
  if (!target.R.empty()) per_head.R = repeated(target.R, 3, 3);
  return per_head;
}

std::string SelectHead(GraphBuilder& g, const Chain& chain, const std::string& joints, int heads,
                       const GraphTarget& target) {
  const int n = chain.num_joints();
  // Each target repeated once per head: [batch * heads, ...], in the order of `joints`.
  const GraphTarget per_head = RepeatPerHead(g, target, heads);
  const ChainWalk walk = WalkChain(g, chain, g.Cast(joints, onnx::TensorProto::DOUBLE));
  std::string error = g.Norm(g.Node("Sub", {walk.tip, per_head.p}));
  if (!target.R.empty()) {
    const std::string R_tip = g.Node("MatMul", {walk.R, g.Matrix(chain.X_LT().linear())});
    const RotationLog log = Log(g, g.Node("MatMul", {R_tip, g.Transposed(per_head.R)}));
    error = g.Node("Add", {error, g.Node("Mul", {log.angle, g.Double(kHeadAngleWeight)})});
  }
  error = g.Reshape(error, {-1, heads});
  error =
      g.Node("Where", {g.Node("IsNaN", {error}), g.Double(std::numeric_limits<double>::infinity()), error});
  // The first head within kHeadTie of the least error: each near head scores heads - index, so
  // that the maximum is unique (onnxruntime's ArgMax need not answer the first of equal values).
  const std::string least = g.Node("ReduceMin", {error});
  g.Attribute("axes", std::vector<int64_t>{1});
  g.Attribute("keepdims", 1);
  const std::string near = g.Cast(g.Node("LessOrEqual", {error, g.Node("Add", {least, g.Double(kHeadTie)})}),
                                  onnx::TensorProto::DOUBLE);
  std::vector<double> rank;
  for (int h = 0; h < heads; ++h) rank.push_back(heads - h);
  const std::string best = g.Node("ArgMax", {g.Node("Mul", {near, g.Doubles(rank, {heads})})});
  g.Attribute("axis", 1);
  g.Attribute("keepdims", 1);
  // best [batch, 1] as indices [batch, 1, dof] into the heads [batch, heads, dof].
  const std::string index =
      g.Node("Expand", {g.Reshape(best, {-1, 1, 1}), g.Indices("head_index_shape", {1, 1, n})});
  const std::string chosen = g.Node("GatherElements", {g.Reshape(joints, {-1, heads, n}), index});
  g.Attribute("axis", 1);
  return g.Reshape(chosen, {-1, n});
}

}  // namespace deepik::internal
