#include "deepik/solve/refine.hpp"

#include <Eigen/Cholesky>
#include <Eigen/Geometry>
#include <cmath>
#include <limits>
#include <random>

#include "deepik/kinematics/fk.hpp"
#include "deepik/kinematics/joint_configuration.hpp"
#include "kinematics/fk_walk.hpp"
#include "solve/joint_storage.hpp"

namespace deepik {
namespace {

using internal::kFixedJoints;
using internal::MatrixQ;
using internal::VectorQ;
template <int M>
using Jacobian3 = internal::RowsByJoints<3, M>;

struct Outcome {
  double start_error;
  double error;
  int iterations;
  bool stationary;  // no feasible direction reduces the error
  Eigen::Vector3d p_reached;
};

// One FK pass: the tip position and every joint's axis and origin in the base frame, all that
// the Jacobian and its curvature need.
template <int M>
struct ChainState {
  Eigen::Vector3d p;
  Jacobian3<M> axes, origins;
};

template <int M, typename Vector>
void Evaluate(const Chain& chain, const Vector& q, ChainState<M>* state) {
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
template <int M>
void JacobianAndCurvature(const Chain& chain, const ChainState<M>& state, const Eigen::Vector3d& e,
                          bool with_curvature, Jacobian3<M>* J, MatrixQ<M>* S) {
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

// Solves A x = b for a symmetric positive definite A by Cholesky, in place (A's lower triangle
// becomes L). Returns false when A is not positive definite. Small A (the fixed-size path): plain
// loops; large A: Eigen's blocked factorisation.
template <int M>
bool CholeskySolve(MatrixQ<M>* A_in, const VectorQ<M>& b, VectorQ<M>* x) {
  if constexpr (M == Eigen::Dynamic) {
    Eigen::LLT<Eigen::Ref<Eigen::MatrixXd>> llt(*A_in);
    if (llt.info() != Eigen::Success) return false;
    *x = llt.solve(b);
    return true;
  }
  MatrixQ<M>& A = *A_in;
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

// A trial configuration and where it puts the tip.
template <int M>
struct Trial {
  VectorQ<M> q;
  ChainState<M> state;
  Eigen::Vector3d e;
  double error = std::numeric_limits<double>::infinity();
};

// Evaluates q + dq, brought into the limits, into *trial. False (and nothing evaluated) when
// that leaves q unchanged.
template <int M, typename Vector>
bool TryStep(const Chain& chain, const Eigen::Vector3d& target, const Vector& q, const VectorQ<M>& dq,
             Trial<M>* trial) {
  trial->q = q + dq;
  ProjectIntoLimits(chain, trial->q);
  if (trial->q == q) return false;
  Evaluate(chain, trial->q, &trial->state);
  trial->e = target - trial->state.p;
  trial->error = trial->e.norm();
  return true;
}

// How far the first start may run past max_iterations while it makes progress: near a singular
// pose the way to a reachable target can be a long curved valley (near the yaw axis the two yaw
// joints are nearly redundant) that every start must cross, so restarting would not help;
// restarts are for a start that stalls in the wrong basin and get max_iterations only.
constexpr int kExtension = 20;

// Past max_iterations a start goes on while it makes progress (the error fell by more than
// rounding over the last kWindow iterations), up to max_extended iterations.
constexpr int kWindow = 10;
// Step attempts per iteration, each with more damping than the last.
constexpr int kAttempts = 30;

// One start of the refinement: damped least squares (Gauss-Newton) and Levenberg-Marquardt with
// the full Hessian of 0.5 |e|^2 (J^T J - S), with an active set for joints pressed against a
// limit. Accepts only steps that reduce the error.
//
// Gauss-Newton converges quadratically when the target is reachable, the full Hessian also where
// the residual stays large (out-of-reach targets). Near a singular pose (the arm almost
// stretched, a target near the yaw axis) neither wins everywhere: the curvature term misleads
// while the residual is still large compared with the small singular values, and Gauss-Newton
// crawls toward a closest point it cannot see. So once Gauss-Newton slows down ("hybrid"), every
// iteration tries both steps and keeps the better one.
template <int M>
class PositionRefinement {
 public:
  PositionRefinement(const Chain& chain, const Eigen::Vector3d& target, Eigen::Ref<Eigen::VectorXd> q,
                     const RefineOptions& o)
      : chain_(chain),
        target_(target),
        o_(o),
        q_(q),
        n_(chain.num_joints()),
        floor_(1e-15 * std::max(1.0, chain.reach())),
        lambda_gn_(o.initial_damping),
        lambda_newton_(o.initial_damping),
        J_(3, n_),
        S_(n_, n_),
        H_(n_, n_),
        A_(n_, n_),
        dq_(n_),
        g_(n_) {
    Evaluate(chain_, q_, &state_);
    e_ = target_ - state_.p;
    error_ = e_.norm();
  }

  // Iterates from q (in place) until the tolerance, a minimum or the budget.
  Outcome Run(int max_extended) {
    const double start_error = error_;
    double window_start_error = error_;
    int it = 0;
    bool stationary = false;
    for (; error_ > o_.tolerance; ++it) {
      if (BudgetSpent(it, max_extended, &window_start_error)) break;
      Linearise();
      FreezeActiveSet();
      if (GradientVanishes()) {
        stationary = true;
        break;
      }
      if (!Improve()) {
        if (!hybrid_) {  // the least-squares step is stuck: try the curvature before giving up
          hybrid_ = true;
          lambda_gn_ = lambda_newton_ = o_.initial_damping;
          continue;
        }
        stationary = true;  // no step along either damped direction helps: a minimum
        break;
      }
      // Steps that gain no more than rounding polish q but prove nothing: two in a row mean a
      // minimum (the next gradient usually shows it first).
      if (negligible_steps_ >= 2) {
        stationary = true;
        break;
      }
    }
    return {start_error, error_, it, stationary, state_.p};
  }

 private:
  // What one attempt of a step found.
  struct Attempt {
    bool solved = false;  // the damped system had a solution (the full-Hessian step may not)
    bool moved = false;   // the step changed q (within the limits)
    bool better = false;  // and reduced the error
  };

  // From max_iterations - kWindow on, every kWindow iterations: past max_iterations, stop at
  // max_extended or when the last window gained no more than rounding.
  bool BudgetSpent(int it, int max_extended, double* window_start_error) const {
    if (it >= o_.max_iterations - kWindow && (it - o_.max_iterations) % kWindow == 0) {
      if (it >= o_.max_iterations && (it >= max_extended || *window_start_error - error_ <= kWindow * floor_))
        return true;
      *window_start_error = error_;
    }
    return false;
  }

  // J, the gradient g = J^T e (the descent direction of 0.5 |e|^2) and, once hybrid, the full
  // Hessian H = J^T J - S.
  void Linearise() {
    JacobianAndCurvature(chain_, state_, e_, hybrid_, &J_, &S_);
    g_.noalias() = J_.transpose() * e_;
    if (hybrid_) {
      H_.noalias() = J_.transpose() * J_;
      H_ -= S_;
    }
  }

  // Active set: a joint at a limit whose descent direction points outward is frozen.
  void FreezeActiveSet() {
    for (int j = 0; j < n_; ++j) {
      const Joint& joint = chain_.joint(j);
      if (IsFullTurn(joint)) continue;
      if ((q_[j] <= joint.lower && g_[j] < 0) || (q_[j] >= joint.upper && g_[j] > 0)) {
        g_[j] = 0;
        J_.col(j).setZero();
        if (hybrid_) {
          H_.row(j).setZero();
          H_.col(j).setZero();
          H_(j, j) = 1;
        }
      }
    }
  }

  // First-order stationarity: e is orthogonal to every feasible motion of the tip, up to
  // rounding. Mostly relative to the error, with a small absolute floor: near a singular pose
  // the gradient is tiny well before the minimum (the stretched arm moves the tip radially only
  // to second order: a reachable target 1e-9 inside the sphere leaves g ~ 1e-13, an unreachable
  // one 1e-9 outside g ~ 5e-15 at 1e-11 from its closest point). A stricter test only costs
  // the step attempts, which end in a minimum too.
  bool GradientVanishes() const {
    const double j_norm = J_.norm();
    return g_.norm() <= j_norm * (1e-12 * error_ + 0.1 * floor_);
  }

  // Up to kAttempts damped steps until one reduces the error; false when none does.
  bool Improve() {
    for (int attempt = 0; attempt < kAttempts; ++attempt) {
      // The full-Hessian step first; when its quadratic model predicts the decrease well it is
      // taken alone (one FK pass), else the least-squares step is tried too.
      bool newton_trusted = false;
      const Attempt newton = hybrid_ ? TryFullHessianStep(&newton_trusted) : Attempt{};
      const Attempt gn = newton_trusted ? Attempt{} : TryLeastSquaresStep();
      if (!gn.better && !newton.better) {
        // More damping only shortens the steps: once neither moves q at all, stop trying.
        if (!gn.moved && (!hybrid_ || (newton.solved && !newton.moved))) return false;
        continue;
      }
      Accept(newton.better && (!gn.better || newton_trial_.error < gn_trial_.error) ? newton_trial_
                                                                                    : gn_trial_);
      return true;
    }
    return false;
  }

  // Levenberg-Marquardt on the full Hessian, damped relative to the error; `trusted` when its
  // quadratic model predicted at least half the decrease.
  Attempt TryFullHessianStep(bool* trusted) {
    Attempt a;
    A_ = H_;
    A_.diagonal().array() += lambda_newton_ * std::max(1.0, error_);
    // Fails unless A is positive definite: then damp more.
    a.solved = CholeskySolve(&A_, g_, &dq_);
    if (a.solved) {
      a.moved = TryStep(chain_, target_, q_, dq_, &newton_trial_);
      a.better = a.moved && newton_trial_.error < error_;
      const double predicted = g_.dot(dq_) - 0.5 * dq_.dot(H_ * dq_);  // decrease of 0.5 |e|^2
      const double actual = 0.5 * (error_ - newton_trial_.error) * (error_ + newton_trial_.error);
      *trusted = a.better && actual >= 0.5 * predicted;
    }
    lambda_newton_ = a.better ? std::max(lambda_newton_ * 0.1, 1e-15) : lambda_newton_ * 10.0;
    return a;
  }

  // Damped least squares, the minimal-norm step: dq = J^T (J J^T + lambda I)^-1 e.
  Attempt TryLeastSquaresStep() {
    Attempt a;
    Eigen::Matrix3d A3 = J_ * J_.transpose();
    A3.diagonal().array() += lambda_gn_;
    dq_.noalias() = J_.transpose() * A3.llt().solve(e_);
    a.solved = true;
    a.moved = TryStep(chain_, target_, q_, dq_, &gn_trial_);
    a.better = a.moved && gn_trial_.error < error_;
    lambda_gn_ = a.better ? std::max(lambda_gn_ * 0.1, 1e-15) : lambda_gn_ * 10.0;
    return a;
  }

  // Moves to the trial; counts steps that gained no more than rounding, and turns hybrid when
  // Gauss-Newton slows down.
  void Accept(const Trial<M>& best) {
    const double previous_error = error_;
    q_ = best.q;
    state_ = best.state;
    e_ = best.e;
    error_ = best.error;
    negligible_steps_ = previous_error - error_ <= floor_ ? negligible_steps_ + 1 : 0;
    // Gauss-Newton converges quadratically only when the residual vanishes; a slow decrease
    // means a target out of reach or a singular neighbourhood: bring in the full Hessian.
    if (!hybrid_ && error_ > 0.25 * previous_error) {
      hybrid_ = true;
      lambda_newton_ = o_.initial_damping;
    }
  }

  const Chain& chain_;
  const Eigen::Vector3d target_;
  const RefineOptions& o_;
  Eigen::Ref<Eigen::VectorXd> q_;  // the iterate, the caller's vector
  const int n_;
  // The rounding floor of e (m): it is known to about an ulp of the tip's coordinates, so a
  // step that reduces the error by no more than that gains nothing.
  const double floor_;
  double lambda_gn_, lambda_newton_;
  bool hybrid_ = false;       // Gauss-Newton alone first; both steps once it slows down
  int negligible_steps_ = 0;  // accepted steps in a row that reduced the error by no more than rounding
  ChainState<M> state_;       // FK of q
  Eigen::Vector3d e_;         // target - p
  double error_;              // |e|
  Jacobian3<M> J_;
  MatrixQ<M> S_, H_, A_;
  VectorQ<M> dq_, g_;
  Trial<M> gn_trial_, newton_trial_;
};

// One start with the storage that fits the chain.
Outcome RefineFrom(const Chain& chain, const Eigen::Vector3d& target, Eigen::Ref<Eigen::VectorXd> q,
                   const RefineOptions& o, int max_extended) {
  if (chain.num_joints() <= kFixedJoints)
    return PositionRefinement<kFixedJoints>(chain, target, q, o).Run(max_extended);
  return PositionRefinement<Eigen::Dynamic>(chain, target, q, o).Run(max_extended);
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
  Outcome outcome = RefineFrom(chain, p_target, best.q, o, kExtension * o.max_iterations);
  best.iterations = outcome.iterations;
  double best_error = outcome.error;
  const double start_error = outcome.start_error;
  bool best_from_restart = false;
  // A start that stalls short of the target may sit in the wrong basin: try seeded restarts.
  if (best_error > o.tolerance && o.restarts > 0) {
    const double tie_width = 1e-14 * std::max(1.0, chain.reach());  // m
    std::mt19937_64 rng(o.seed);
    Eigen::VectorXd q(chain.num_joints());
    for (int r = 0; r < o.restarts && best_error > o.tolerance; ++r) {
      UniformConfiguration(chain, &rng, q);
      const Outcome trial = RefineFrom(chain, p_target, q, o, o.max_iterations);
      best.iterations += trial.iterations;
      // Out of reach, several starts end at the same closest point, a few ulps apart: within
      // that tie a start that proved stationarity beats one that merely ran out of iterations.
      // (never past the first start's own error: refinement never ends worse than its start).
      const bool tie = std::abs(trial.error - best_error) <= tie_width && trial.error <= start_error;
      if ((trial.error < best_error && !tie) || (tie && trial.stationary && !outcome.stationary)) {
        best_error = trial.error;
        best.q = q;
        outcome = trial;
        best_from_restart = true;
      }
    }
  }
  // The best end point neither reached the target nor proved a minimum (a restart that ran out of
  // iterations near the closest point): go on from there until it does either.
  if (best_error > o.tolerance && !outcome.stationary && best_from_restart) {
    const Outcome more = RefineFrom(chain, p_target, best.q, o, kExtension * o.max_iterations);
    best.iterations += more.iterations;
    outcome = more;
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
