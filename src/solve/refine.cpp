#include "deepik/solve/refine.hpp"

#include <Eigen/Cholesky>
#include <Eigen/Geometry>
#include <cmath>
#include <random>

#include "deepik/kinematics/fk.hpp"
#include "deepik/learn/network_options.hpp"
#include "deepik/data/random.hpp"
#include "kinematics/fk_walk.hpp"

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
  Eigen::Vector3d p_reached;
};

using MatrixQ = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, 0, kMaxJoints, kMaxJoints>;
using Axes = Eigen::Matrix<double, 3, Eigen::Dynamic, 0, 3, kMaxJoints>;

// One FK pass: the tip position and every joint's axis and origin in the base frame, all that
// the Jacobian and its curvature need. Fixed-size storage: no heap.
struct ChainState {
  Eigen::Vector3d p;
  Axes axes, origins;
};

template <typename Vector>
void Evaluate(const Chain& chain, const Vector& q, ChainState* state) {
  state->axes.resize(3, chain.num_joints());
  state->origins.resize(3, chain.num_joints());
  Eigen::Matrix3d R;
  Eigen::Vector3d p;
  internal::WalkChain(
      chain, q, &R, &p,
      [&chain, state](int j, const Eigen::Matrix3d& R_BJ, const Eigen::Vector3d& p_BJ) {
        state->axes.col(j) = R_BJ * chain.joint(j).axis_J;
        state->origins.col(j) = p_BJ;
      },
      internal::IgnoreFrame{});
  state->p = p + R * chain.X_LT().translation();
}

// The position Jacobian J (3 x n) and the curvature term S = sum_i e_i d2p_i/dq_j dq_k of the
// position error e = target - p: for revolute joints j <= k, d(J_k)/dq_j = a_j x J_k.
void JacobianAndCurvature(const Chain& chain, const ChainState& state, const Eigen::Vector3d& e,
                          bool with_curvature, Jacobian3* J, MatrixQ* S) {
  const int n = chain.num_joints();
  for (int k = 0; k < n; ++k) {
    const bool revolute_k = chain.joint(k).type == JointType::kRevolute;
    const Eigen::Vector3d a_k = state.axes.col(k);
    J->col(k) = revolute_k ? Eigen::Vector3d(a_k.cross(state.p - state.origins.col(k))) : a_k;
    if (!with_curvature) continue;
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

// Solves A x = b for a small symmetric positive definite A by Cholesky, in place (A's lower
// triangle becomes L). Returns false when A is not positive definite.
bool CholeskySolve(MatrixQ* A_in, const VectorQ& b, VectorQ* x) {
  MatrixQ& A = *A_in;
  const int n = static_cast<int>(A.rows());
  for (int j = 0; j < n; ++j) {
    double d = A(j, j);
    for (int k = 0; k < j; ++k) d -= A(j, k) * A(j, k);
    if (!(d > 0)) return false;
    d = std::sqrt(d);
    A(j, j) = d;
    for (int i = j + 1; i < n; ++i) {
      double v = A(i, j);
      for (int k = 0; k < j; ++k) v -= A(i, k) * A(j, k);
      A(i, j) = v / d;
    }
  }
  *x = b;
  for (int i = 0; i < n; ++i) {  // L y = b
    for (int k = 0; k < i; ++k) (*x)[i] -= A(i, k) * (*x)[k];
    (*x)[i] /= A(i, i);
  }
  for (int i = n - 1; i >= 0; --i) {  // L^T x = y
    for (int k = i + 1; k < n; ++k) (*x)[i] -= A(k, i) * (*x)[k];
    (*x)[i] /= A(i, i);
  }
  return true;
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
  bool newton = false;  // damped least squares first; the full Hessian when that stalls
  for (; it < o.max_iterations && error > o.tolerance; ++it) {
    JacobianAndCurvature(chain, state, e, newton, &J, &S);
    g.noalias() = J.transpose() * e;  // the descent direction of 0.5 |e|^2
    if (newton) {
      H.noalias() = J.transpose() * J;
      H -= S;
    }
    // Active set: a joint at a limit whose descent direction points outward is frozen.
    for (int j = 0; j < n; ++j) {
      const Joint& joint = chain.joint(j);
      if (IsFullTurn(joint)) continue;
      if ((q[j] <= joint.lower && g[j] < 0) || (q[j] >= joint.upper && g[j] > 0)) {
        g[j] = 0;
        J.col(j).setZero();
        if (newton) {
          H.row(j).setZero();
          H.col(j).setZero();
          H(j, j) = 1;
        }
      }
    }
    const double scale = std::max(1.0, error) * std::max(1.0, chain.reach());
    if (g.norm() <= 1e-13 * scale) {
      stationary = true;
      break;
    }
    bool improved = false;
    const double previous_error = error;
    for (int attempt = 0; attempt < 30; ++attempt) {
      if (newton) {
        A = H;
        A.diagonal().array() += lambda * std::max(1.0, error);
        if (!CholeskySolve(&A, g, &dq)) {  // fails unless A is positive definite: then damp more
          lambda *= 10.0;
          continue;
        }
      } else {
        // Damped least squares, the minimal-norm step: dq = J^T (J J^T + lambda I)^-1 e.
        Eigen::Matrix3d A3 = J * J.transpose();
        A3.diagonal().array() += lambda;
        dq.noalias() = J.transpose() * A3.llt().solve(e);
      }
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
      if (!newton) {  // the least-squares step is stuck: try the curvature before giving up
        newton = true;
        lambda = o.initial_damping;
        continue;
      }
      stationary = true;  // no step along the damped direction helps: a (constrained) minimum
      break;
    }
    // Damped least squares converges quadratically only when the residual vanishes; a slow
    // decrease means a target out of reach (or a hard corner): switch to the full Hessian.
    if (!newton && error > 0.25 * previous_error) {
      newton = true;
      lambda = o.initial_damping;
    }
  }
  return {error, it, stationary, state.p};
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

SolveResult RefinePosition(const Chain& chain, const Eigen::Vector3d& p_target, Eigen::VectorXd q_start,
                           const RefineOptions& o) {
  SolveResult best;
  best.q = std::move(q_start);
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
      UniformConfiguration(chain, &rng, q);
      const Outcome trial = RefineFrom(chain, p_target, q, o);
      best.iterations += trial.iterations;
      if (trial.error < best_error) {
        best_error = trial.error;
        best.q = q;
        outcome = trial;
      }
    }
  }
  best.p_reached = outcome.p_reached;  // FK of best.q, from the refinement's last evaluation
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
