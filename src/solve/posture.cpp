#include "deepik/solve/posture.hpp"

#include <Eigen/SVD>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "deepik/kinematics/fk.hpp"
#include "deepik/kinematics/joint_configuration.hpp"
#include "deepik/solve/many_solutions.hpp"
#include "deepik/solve/pose_refine.hpp"

namespace deepik {
namespace {

constexpr double kInitialStep = 0.2;  // rad: the first null-space step's length
constexpr double kMinStep = 1e-4;     // rad: below it, the search ends

bool NonNegativeFinite(double w) { return w >= 0.0 && std::isfinite(w); }

// dh/dq (PostureOptions).
Eigen::VectorXd PostureGradient(const Chain& chain, const Eigen::VectorXd& q, const PostureOptions& options,
                                const Eigen::VectorXd* q_start) {
  const int n = chain.num_joints();
  Eigen::VectorXd g = Eigen::VectorXd::Zero(n);
  if (options.avoid_limits > 0) {
    for (int j = 0; j < n; ++j) {
      const Joint& joint = chain.joint(j);
      if (IsFullTurn(joint)) continue;
      const double mid = 0.5 * (joint.lower + joint.upper), half = 0.5 * (joint.upper - joint.lower);
      g[j] += 2.0 * options.avoid_limits * (q[j] - mid) / (half * half);
    }
  }
  if (options.posture_weight > 0)
    g += 2.0 * options.posture_weight * JointDifference(chain, q, options.posture);
  if (options.start_weight > 0) g += 2.0 * options.start_weight * JointDifference(chain, q, *q_start);
  return g;
}

}  // namespace

bool PostureOptions::IsValid(const Chain& chain, std::string* error) const {
  auto fail = [error](const std::string& message) {
    if (error != nullptr) *error = message;
    return false;
  };
  if (!NonNegativeFinite(avoid_limits)) return fail("avoid_limits: expected a finite weight >= 0");
  if (!NonNegativeFinite(posture_weight)) return fail("posture_weight: expected a finite weight >= 0");
  if (!NonNegativeFinite(start_weight)) return fail("start_weight: expected a finite weight >= 0");
  if (posture_weight > 0 && (posture.size() != chain.num_joints() || !posture.allFinite())) {
    return fail("posture: expected " + std::to_string(chain.num_joints()) + " finite joint values, got " +
                std::to_string(posture.size()));
  }
  if (max_iterations < 0) return fail("max_iterations: expected >= 0");
  return true;
}

double PostureCost(const Chain& chain, const Eigen::VectorXd& q, const PostureOptions& options,
                   const Eigen::VectorXd* q_start) {
  double h = 0.0;
  if (options.avoid_limits > 0) {
    for (int j = 0; j < chain.num_joints(); ++j) {
      const Joint& joint = chain.joint(j);
      if (IsFullTurn(joint)) continue;
      const double mid = 0.5 * (joint.lower + joint.upper), half = 0.5 * (joint.upper - joint.lower);
      h += options.avoid_limits * (q[j] - mid) * (q[j] - mid) / (half * half);
    }
  }
  if (options.posture_weight > 0)
    h += options.posture_weight * JointDifference(chain, q, options.posture).squaredNorm();
  if (options.start_weight > 0) {
    if (q_start == nullptr) throw std::invalid_argument("PostureCost: start_weight > 0 needs a q_start");
    h += options.start_weight * JointDifference(chain, q, *q_start).squaredNorm();
  }
  return h;
}

double DistanceToNearestLimit(const Chain& chain, const Eigen::VectorXd& q) {
  double nearest = std::numeric_limits<double>::infinity();
  for (int j = 0; j < chain.num_joints(); ++j) {
    const Joint& joint = chain.joint(j);
    if (IsFullTurn(joint)) continue;
    nearest = std::min(nearest, std::min(q[j] - joint.lower, joint.upper - q[j]));
  }
  return nearest;
}

SolveResult ImprovePosture(const Chain& chain, const IkTarget& target, const SolveResult& solution,
                           const PostureOptions& options, const SolverSettings& settings,
                           const Eigen::VectorXd* q_start) {
  std::string message;
  if (!options.IsValid(chain, &message)) throw std::invalid_argument("PostureOptions::" + message);
  if (options.start_weight > 0 && (q_start == nullptr || q_start->size() != chain.num_joints())) {
    throw std::invalid_argument("ImprovePosture: start_weight > 0 needs a q_start of " +
                                std::to_string(chain.num_joints()) + " values");
  }
  if (!options.active() || solution.status != SolveStatus::kConverged) return solution;
  SolverSettings single = settings;  // a correction is one start from a nearby configuration
  single.refine.restarts = 0;
  single.pose.max_starts = 1;
  const LmSolver correct(chain, single.pose, single.refine);
  const int rows = target.has_orientation() ? 6 : 3;
  SolveResult best = solution;
  double h = PostureCost(chain, best.q, options, q_start);
  double step = kInitialStep;
  for (int it = 0; it < options.max_iterations && step >= kMinStep; ++it) {
    const Matrix6Xd J_full = TipJacobian(chain, best.q);
    const Eigen::MatrixXd J = J_full.topRows(rows);
    // The gradient without its component in the row space of J: N g = g - J^+ (J g).
    const Eigen::VectorXd g = PostureGradient(chain, best.q, options, q_start);
    const Eigen::VectorXd Ng = g - J.completeOrthogonalDecomposition().solve(J * g);
    const double norm = Ng.norm();
    if (!(norm > 1e-12)) break;  // no self-motion lowers h
    Eigen::VectorXd q_try = best.q - (step / norm) * Ng;
    for (int j = 0; j < chain.num_joints(); ++j) {
      q_try[j] = std::min(std::max(q_try[j], chain.joint(j).lower), chain.joint(j).upper);
    }
    SolveResult trial = correct.Solve(target, &q_try);
    const double h_trial = PostureCost(chain, trial.q, options, q_start);
    if (trial.status == SolveStatus::kConverged && chain.WithinLimits(trial.q) && h_trial < h) {
      best = std::move(trial);
      h = h_trial;
      step *= 2.0;
    } else {
      step *= 0.5;
    }
  }
  best.iterations = solution.iterations;
  return best;
}

}  // namespace deepik
