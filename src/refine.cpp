#include "deepik/refine.hpp"

#include <Eigen/Cholesky>
#include <Eigen/Geometry>
#include <cmath>
#include <random>

#include "deepik/kinematics.hpp"
#include "deepik/network_options.hpp"

namespace deepik {
namespace {

constexpr int kMaxJoints = 16;
using VectorQ = Eigen::Matrix<double, Eigen::Dynamic, 1, 0, kMaxJoints, 1>;
using Jacobian3 = Eigen::Matrix<double, 3, Eigen::Dynamic, 0, 3, kMaxJoints>;

// Brings q into the limits: full-turn joints wrap around, the others are clamped.
template <typename Vector>
void ProjectIntoLimits(const Chain& chain, Vector& q) {
  for (int j = 0; j < chain.num_joints(); ++j) {
    const Joint& joint = chain.joint(j);
    if (IsFullTurn(joint) && (q[j] < joint.lower || q[j] > joint.upper)) {
      const double turn = 2 * M_PI;
      q[j] = joint.lower + std::fmod(std::fmod(q[j] - joint.lower, turn) + turn, turn);
    }
    q[j] = std::min(std::max(q[j], joint.lower), joint.upper);
  }
}

struct Outcome {
  double error;
  int iterations;
  bool stationary;  // no feasible direction reduces the error
};

using MatrixQ = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, 0, kMaxJoints, kMaxJoints>;
using Axes = Eigen::Matrix<double, 3, Eigen::Dynamic, 0, 3, kMaxJoints>;

// One FK pass: the tip position and every joint's axis and origin in the base frame, all that
// the Jacobian and its curvature need. Fixed-size storage: no heap.
struct ChainState {
  Eigen::Vector3d p;
  Axes axes, origins;
};

void Evaluate(const Chain& chain, const Eigen::Ref<const Eigen::VectorXd>& q, ChainState* state) {
  const int n = chain.num_joints();
  state->axes.resize(3, n);
  state->origins.resize(3, n);
  Eigen::Matrix3d R = Eigen::Matrix3d::Identity();
  Eigen::Vector3d p = Eigen::Vector3d::Zero();
  for (int j = 0; j < n; ++j) {
    const Joint& joint = chain.joint(j);
    p += R * joint.X_PJ.translation();
    R = R * joint.X_PJ.linear();
    const Eigen::Vector3d a = R * joint.axis_J;
    state->axes.col(j) = a;
    state->origins.col(j) = p;
    if (joint.type == JointType::kRevolute) {
      // Rodrigues in the base frame: R <- Rot(a, q) R.
      const double s = std::sin(q[j]), c = std::cos(q[j]), t = 1.0 - c;
      Eigen::Matrix3d rotation;
      rotation << t * a.x() * a.x() + c, t * a.x() * a.y() - s * a.z(), t * a.x() * a.z() + s * a.y(),
          t * a.x() * a.y() + s * a.z(), t * a.y() * a.y() + c, t * a.y() * a.z() - s * a.x(),
          t * a.x() * a.z() - s * a.y(), t * a.y() * a.z() + s * a.x(), t * a.z() * a.z() + c;
      R = rotation * R;
    } else {
      p += q[j] * a;
    }
  }
  state->p = p + R * chain.X_LT().translation();
}

// The position Jacobian J (3 x n) and the curvature term S = sum_i e_i d2p_i/dq_j dq_k of the
// position error e = target - p: for revolute joints j <= k, d(J_k)/dq_j = a_j x J_k.
void JacobianAndCurvature(const Chain& chain, const ChainState& state, const Eigen::Vector3d& e, Jacobian3* J,
                          MatrixQ* S) {
  const int n = chain.num_joints();
  for (int k = 0; k < n; ++k) {
    const bool revolute_k = chain.joint(k).type == JointType::kRevolute;
    const Eigen::Vector3d a_k = state.axes.col(k);
    J->col(k) = revolute_k ? Eigen::Vector3d(a_k.cross(state.p - state.origins.col(k))) : a_k;
    for (int j = 0; j <= k; ++j) {
      if (chain.joint(j).type != JointType::kRevolute) {
        (*S)(j, k) = (*S)(k, j) = 0.0;
        continue;
      }
      const Eigen::Vector3d a_j = state.axes.col(j);
      const Eigen::Vector3d d2p = revolute_k ? a_j.cross(J->col(k)) : a_j.cross(a_k);
      (*S)(j, k) = (*S)(k, j) = e.dot(d2p);
    }
  }
}

// Levenberg-Marquardt with the full Hessian of 0.5 |e|^2 (J^T J - S), so that it converges
// quadratically also where the residual stays large (out-of-reach targets), with an active set
// for joints pressed against a limit. Accepts only steps that reduce the error.
Outcome RefineFrom(const Chain& chain, const Eigen::Vector3d& target, Eigen::Ref<Eigen::VectorXd> q,
                   const RefineOptions& o) {
  const int n = chain.num_joints();
  ChainState state, trial;
  Evaluate(chain, q, &state);
  Eigen::Vector3d e = target - state.p;
  double error = e.norm();
  double lambda = o.initial_damping;
  Jacobian3 J(3, n);
  MatrixQ S(n, n), H(n, n), A(n, n);
  VectorQ dq(n), g(n);
  Eigen::Matrix<double, Eigen::Dynamic, 1, 0, kMaxJoints, 1> q_trial(n);
  int it = 0;
  bool stationary = false;
  for (; it < o.max_iterations && error > o.tolerance; ++it) {
    JacobianAndCurvature(chain, state, e, &J, &S);
    g.noalias() = J.transpose() * e;  // the descent direction of 0.5 |e|^2
    H.noalias() = J.transpose() * J;
    H -= S;
    // Active set: a joint at a limit whose descent direction points outward is frozen.
    for (int j = 0; j < n; ++j) {
      const Joint& joint = chain.joint(j);
      if (IsFullTurn(joint)) continue;
      if ((q[j] <= joint.lower && g[j] < 0) || (q[j] >= joint.upper && g[j] > 0)) {
        g[j] = 0;
        H.row(j).setZero();
        H.col(j).setZero();
        H(j, j) = 1;
      }
    }
    const double scale = std::max(1.0, error) * std::max(1.0, chain.reach());
    if (g.norm() <= 1e-13 * scale) {
      stationary = true;
      break;
    }
    bool improved = false;
    for (int attempt = 0; attempt < 30; ++attempt) {
      A = H;
      A.diagonal().array() += lambda * std::max(1.0, error);
      const Eigen::LLT<MatrixQ> llt(A);  // fails unless A is positive definite: then damp more
      if (llt.info() != Eigen::Success) {
        lambda *= 10.0;
        continue;
      }
      dq = llt.solve(g);
      q_trial = q + dq;
      ProjectIntoLimits(chain, q_trial);
      Evaluate(chain, q_trial, &trial);
      const Eigen::Vector3d e_trial = target - trial.p;
      const double error_trial = e_trial.norm();
      if (error_trial < error) {
        q = q_trial;
        state = trial;
        e = e_trial;
        error = error_trial;
        lambda = std::max(lambda * 0.1, 1e-15);
        improved = true;
        break;
      }
      lambda *= 10.0;
    }
    if (!improved) {
      stationary = true;  // no step along the damped direction helps: a (constrained) minimum
      break;
    }
  }
  return {error, it, stationary};
}

}  // namespace

bool RefineOptions::IsValid(std::string* error) const {
  auto fail = [error](const std::string& message) {
    if (error) *error = message;
    return false;
  };
  if (max_iterations < 1) return fail("max_iterations: expected >= 1");
  if (!(tolerance > 0)) return fail("tolerance: expected > 0");
  if (!(initial_damping > 0)) return fail("initial_damping: expected > 0");
  if (restarts < 0) return fail("restarts: expected >= 0");
  return true;
}

SolveResult RefinePosition(const Chain& chain, const Eigen::Vector3d& p_target,
                           const Eigen::VectorXd& q_start, const RefineOptions& o) {
  SolveResult best;
  best.q = q_start;
  for (int j = 0; j < chain.num_joints(); ++j) {
    if (!std::isfinite(best.q[j])) best.q[j] = 0.5 * (chain.joint(j).lower + chain.joint(j).upper);
  }
  ProjectIntoLimits(chain, best.q);
  Outcome outcome = RefineFrom(chain, p_target, best.q, o);
  best.iterations = outcome.iterations;
  double best_error = outcome.error;
  // A start that stalls short of the target may sit in the wrong basin: try seeded restarts.
  if (best_error > o.tolerance && o.restarts > 0) {
    std::mt19937_64 rng(o.seed);
    Eigen::VectorXd q(chain.num_joints());
    for (int r = 0; r < o.restarts && best_error > o.tolerance; ++r) {
      for (int j = 0; j < chain.num_joints(); ++j) {
        const double u = static_cast<double>(rng() >> 11) * 0x1.0p-53;
        q[j] = chain.joint(j).lower + u * (chain.joint(j).upper - chain.joint(j).lower);
      }
      const Outcome trial = RefineFrom(chain, p_target, q, o);
      best.iterations += trial.iterations;
      if (trial.error < best_error) {
        best_error = trial.error;
        best.q = q;
        outcome = trial;
      }
    }
  }
  best.p_reached = TipPosition(chain, best.q);
  best.error = (best.p_reached - p_target).norm();
  if (best.error <= o.tolerance) {
    best.status = SolveStatus::kConverged;
  } else if (outcome.stationary) {
    best.status = SolveStatus::kOutOfReach;
  } else {
    best.status = SolveStatus::kFailed;
  }
  return best;
}

}  // namespace deepik
