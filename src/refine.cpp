#include "deepik/refine.hpp"

#include <Eigen/Cholesky>
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
void ProjectIntoLimits(const Chain& chain, Eigen::Ref<Eigen::VectorXd> q) {
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

// Levenberg-Marquardt from q (in place) on the position error, with an active set for joints
// pressed against a limit. Accepts only steps that reduce the error, so it never gets worse.
Outcome RefineFrom(const Chain& chain, const Eigen::Vector3d& target, Eigen::Ref<Eigen::VectorXd> q,
                   const RefineOptions& o) {
  const int n = chain.num_joints();
  Eigen::Vector3d e = target - TipPosition(chain, q);
  double error = e.norm();
  double lambda = o.initial_damping;
  Matrix6Xd J_full(6, n);
  Jacobian3 J(3, n);
  VectorQ dq(n);
  Eigen::VectorXd q_trial(n);
  int it = 0;
  bool stationary = false;
  for (; it < o.max_iterations && error > o.tolerance; ++it) {
    TipJacobian(chain, q, J_full);
    J = J_full.topRows<3>();
    // Active set: a joint at a limit whose gradient pushes it outward is frozen.
    const VectorQ gradient = J.transpose() * e;
    for (int j = 0; j < n; ++j) {
      const Joint& joint = chain.joint(j);
      if (IsFullTurn(joint)) continue;
      if ((q[j] <= joint.lower && gradient[j] < 0) || (q[j] >= joint.upper && gradient[j] > 0)) J.col(j).setZero();
    }
    const VectorQ g = J.transpose() * e;
    if (g.norm() <= 1e-14 * std::max(1.0, error)) {
      stationary = true;
      break;
    }
    bool improved = false;
    for (int attempt = 0; attempt < 12; ++attempt) {
      // dq = J^T (J J^T + lambda I)^-1 e: a 3x3 solve whatever the number of joints.
      Eigen::Matrix3d A = J * J.transpose();
      A.diagonal().array() += lambda;
      dq.noalias() = J.transpose() * A.ldlt().solve(e);
      q_trial = q + dq;
      ProjectIntoLimits(chain, q_trial);
      const Eigen::Vector3d e_trial = target - TipPosition(chain, q_trial);
      const double error_trial = e_trial.norm();
      if (error_trial < error) {
        q = q_trial;
        e = e_trial;
        error = error_trial;
        lambda = std::max(lambda * 0.1, 1e-12);
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

SolveResult RefinePosition(const Chain& chain, const Eigen::Vector3d& p_target, const Eigen::VectorXd& q_start,
                           const RefineOptions& o) {
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
