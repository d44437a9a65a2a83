#include "deepik/solve/pose_refine.hpp"

#include <Eigen/Cholesky>
#include <Eigen/Geometry>
#include <chrono>
#include <cmath>
#include <limits>
#include <random>
#include <sstream>
#include <stdexcept>

#include "deepik/kinematics/fk.hpp"
#include "deepik/kinematics/joint_configuration.hpp"
#include "solve/joint_storage.hpp"
#include "solve/pose_residual.hpp"

namespace deepik {
namespace {

using internal::Converged;
using internal::Evaluate;
using internal::kFixedJoints;
using internal::MatrixQ;
using internal::Problem;
using internal::State;
using internal::VectorQ;

// Ends of one start that agree on the minimum before it is called the closest pose.
constexpr int kAgreeingMinima = 3;
constexpr double kSameCost = 1e-6;  // relative
// Stationarity: the gradient below this times |J| |r| (at 1e-10 the end point is within about
// 1e-10 x the residual of the minimum), or a step that gains less than this share of the cost.
constexpr double kStationaryGradient = 1e-10;
constexpr double kNegligibleDecrease = 1e-13;

enum class StartEnd { kConverged, kStationary, kIterations, kTimeout, kStalled };

// A start whose cost fell by less than kStallDecrease over the last kStallWindow iterations is
// heading for a local minimum (or crawling through a singular neighbourhood): a fresh start is
// cheaper than following it.
constexpr int kStallWindow = 6;
constexpr double kStallDecrease = 0.1;

struct Search {
  using Clock = std::chrono::steady_clock;
  Clock::time_point deadline;
  int iterations = 0;
  bool OutOfTime() const { return Clock::now() >= deadline; }
};

// One Levenberg-Marquardt run from q (in place).
template <int Capacity>
StartEnd RunStart(const Chain& chain, const Problem& problem, const PoseRefineOptions& options,
                  VectorQ<Capacity>& q, State<Capacity>* state, Search* search) {
  const int n = chain.num_joints();
  State<Capacity> trial;
  VectorQ<Capacity> q_trial(n), g(n), step(n);
  MatrixQ<Capacity> A(n, n);
  Eigen::LLT<MatrixQ<Capacity>> llt(n);
  Evaluate(chain, problem, q, state);
  double mu = -1.0, nu = 2.0;
  double window_cost[kStallWindow];
  for (int it = 0; it < options.max_iterations; ++it) {
    if (Converged(problem, *state, options)) return StartEnd::kConverged;
    if (search->OutOfTime()) return StartEnd::kTimeout;
    if (it >= kStallWindow && state->cost > (1.0 - kStallDecrease) * window_cost[it % kStallWindow]) {
      return StartEnd::kStalled;
    }
    window_cost[it % kStallWindow] = state->cost;
    ++search->iterations;
    g.noalias() = state->J.transpose() * state->r;
    A.noalias() = state->J.transpose().lazyProduct(state->J);
    // Active set: a joint at a limit that the descent direction -g pushes further out is frozen.
    for (int j = 0; j < n; ++j) {
      const Joint& joint = chain.joint(j);
      if (IsFullTurn(joint)) continue;
      if ((q[j] <= joint.lower && g[j] > 0) || (q[j] >= joint.upper && g[j] < 0)) {
        g[j] = 0.0;
        A.row(j).setZero();
        A.col(j).setZero();
      }
    }
    const double scale = state->J.cwiseAbs().maxCoeff() * state->r.norm();
    // A minimum (perhaps local): the gradient vanishes against |J| |r|, which it does not while
    // the residual lies in J's range (a reachable target).
    if (!(g.cwiseAbs().maxCoeff() > kStationaryGradient * scale)) return StartEnd::kStationary;
    if (mu < 0) mu = 1e-3 * std::max(A.diagonal().maxCoeff(), 1e-12);
    bool accepted = false;
    while (!accepted) {
      MatrixQ<Capacity> damped = A;
      damped.diagonal().array() += mu;
      llt.compute(damped);
      step = llt.solve(-g);
      for (int j = 0; j < n; ++j) {
        if (g[j] == 0.0 && A(j, j) == 0.0) step[j] = 0.0;  // frozen
      }
      q_trial = q + step;
      ProjectIntoLimits(chain, q_trial);
      if (q_trial == q) return StartEnd::kStationary;  // the step vanished in rounding
      Evaluate(chain, problem, q_trial, &trial);
      if (trial.cost < state->cost) {
        const double predicted = 0.5 * (mu * step.squaredNorm() - g.dot(step));
        const double rho = predicted > 0 ? (state->cost - trial.cost) / predicted : 1.0;
        const double t = 2.0 * rho - 1.0;
        mu *= std::max(1.0 / 3.0, 1.0 - t * t * t);
        nu = 2.0;
        const bool negligible = state->cost - trial.cost <= kNegligibleDecrease * state->cost;
        q = q_trial;
        *state = trial;
        if (negligible) return StartEnd::kStationary;
        accepted = true;
      } else {
        mu *= nu;
        nu *= 2.0;
        if (!(mu < 1e30)) return StartEnd::kStationary;  // no step reduces the cost
      }
    }
  }
  return Converged(problem, *state, options) ? StartEnd::kConverged : StartEnd::kIterations;
}

// What the starts of RefinePose found: the best end point, and the agreement of the minima.
struct Starts {
  Eigen::VectorXd best_q;
  double best_cost = std::numeric_limits<double>::infinity();
  bool best_stationary = false;
  bool converged = false;
  double min_stationary = std::numeric_limits<double>::infinity();
  int agreeing = 0;
};

// q_start, then seeded uniform starts, until one converges, the starts or the time run out.
template <int Capacity>
Starts RunStarts(const Chain& chain, const Problem& problem, const Eigen::VectorXd& q_start,
                 const PoseRefineOptions& options, Search* search) {
  std::mt19937_64 rng(options.seed);
  const int n = chain.num_joints();
  VectorQ<Capacity> q = q_start, best_q = q;
  State<Capacity> state, best_state;
  best_state.cost = std::numeric_limits<double>::infinity();
  Starts out;
  Eigen::VectorXd draw(n);
  for (int start = 0;; ++start) {
    if (start > 0) {
      if ((options.max_starts > 0 && start >= options.max_starts) || search->OutOfTime()) break;
      UniformConfiguration(chain, &rng, draw);
      q = draw;
    }
    ProjectIntoLimits(chain, q);
    const StartEnd end = RunStart(chain, problem, options, q, &state, search);
    const bool stationary = end == StartEnd::kStationary;
    if (state.cost < best_state.cost ||
        (stationary && !out.best_stationary && state.cost <= best_state.cost)) {
      best_q = q;
      best_state = state;
      out.best_stationary = stationary;
    }
    if (end == StartEnd::kConverged) {
      out.converged = true;
      break;
    }
    if (stationary) {
      if (state.cost < out.min_stationary * (1 - kSameCost)) {
        out.min_stationary = state.cost;
        out.agreeing = 1;
      } else if (state.cost <= out.min_stationary * (1 + kSameCost)) {
        ++out.agreeing;
      }
    }
    if (end == StartEnd::kTimeout) break;
  }
  out.best_q = best_q;
  out.best_cost = best_state.cost;
  return out;
}

}  // namespace

bool PoseRefineOptions::IsValid(std::string* error) const {
  auto fail = [error](const std::string& message) {
    if (error != nullptr) *error = message;
    return false;
  };
  if (!(position_tolerance > 0.0) || !std::isfinite(position_tolerance))
    return fail("position_tolerance: expected a finite value > 0");
  if (!(angle_tolerance > 0.0) || !std::isfinite(angle_tolerance))
    return fail("angle_tolerance: expected a finite value > 0");
  if (!(angle_weight > 0.0) || !std::isfinite(angle_weight))
    return fail("angle_weight: expected a finite value > 0");
  if (!(timeout_seconds > 0.0) || !std::isfinite(timeout_seconds))
    return fail("timeout_seconds: expected a finite value > 0");
  if (max_iterations < 1) return fail("max_iterations: expected >= 1");
  if (max_starts < 0) return fail("max_starts: expected >= 0");
  return true;
}

SolveResult RefinePose(const Chain& chain, const IkTarget& target, const Eigen::VectorXd& q_start,
                       const PoseRefineOptions& options) {
  std::string message;
  if (!options.IsValid(&message)) throw std::invalid_argument("PoseRefineOptions::" + message);
  ThrowUnlessValidTarget(target);
  const int n = chain.num_joints();
  if (q_start.size() != n || !q_start.allFinite()) {
    throw std::invalid_argument("RefinePose: expected a finite q_start of size " + std::to_string(n) +
                                ", got size " + std::to_string(q_start.size()));
  }
  Search search;
  search.deadline = Search::Clock::now() + std::chrono::duration_cast<Search::Clock::duration>(
                                               std::chrono::duration<double>(options.timeout_seconds));
  const Problem problem = internal::MakeProblem(target, options.angle_weight);

  const Starts starts = chain.num_joints() <= kFixedJoints
                            ? RunStarts<kFixedJoints>(chain, problem, q_start, options, &search)
                            : RunStarts<Eigen::Dynamic>(chain, problem, q_start, options, &search);
  SolveResult result;
  result.q = starts.best_q;
  result.iterations = search.iterations;
  MeasureResult(chain, target, &result);
  // Provably out of reach: the position lies beyond the chain's reach (an upper bound of the
  // tip's distance from the base origin) by more than the position bounds allow.
  const double slack = target.bounds.head<3>().norm();
  const bool beyond_reach = target.p_BT.norm() > chain.reach() + slack;
  if (starts.converged) {
    result.status = SolveStatus::kConverged;
  } else if (beyond_reach || (starts.best_stationary && starts.agreeing >= kAgreeingMinima &&
                              starts.best_cost <= starts.min_stationary * (1 + kSameCost))) {
    result.status = SolveStatus::kOutOfReach;
  } else {
    result.status = SolveStatus::kFailed;
  }
  return result;
}

LmSolver::LmSolver(Chain chain, const PoseRefineOptions& pose, const RefineOptions& position)
    : chain_(std::move(chain)), pose_(pose), position_(position) {
  std::string error;
  if (!pose_.IsValid(&error)) throw std::invalid_argument("PoseRefineOptions::" + error);
  if (!position_.IsValid(&error)) throw std::invalid_argument("RefineOptions::" + error);
}

SolveResult LmSolver::Solve(const IkTarget& target, const Eigen::VectorXd* q_start) const {
  const Eigen::VectorXd q0 = q_start != nullptr ? *q_start : chain_.mid_configuration();
  if (target.has_orientation() || target.has_bounds()) return RefinePose(chain_, target, q0, pose_);
  ThrowUnlessValidTarget(target);
  SolveResult result = RefinePosition(chain_, target.p_BT, q0, position_);
  MeasureOrientation(chain_, target, &result);
  return result;
}

}  // namespace deepik
