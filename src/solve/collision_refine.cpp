#include <Eigen/Cholesky>
#include <chrono>
#include <cmath>
#include <limits>
#include <random>
#include <stdexcept>

#include "deepik/kinematics/joint_configuration.hpp"
#include "deepik/solve/collision_solver.hpp"
#include "solve/pose_residual.hpp"

namespace deepik {
namespace {

using internal::DampingAfterAcceptedStep;
using internal::Problem;
using Clock = std::chrono::steady_clock;

// Stationarity and stall rules as RefinePose's (pose_refine.cpp).
constexpr double kStationaryGradient = 1e-10;
constexpr double kNegligibleDecrease = 1e-13;
constexpr int kStallWindow = 6;
constexpr double kStallDecrease = 0.1;
// The plain RefinePose that looks for a reaching (colliding) answer when no start reached the
// target: its starts, and its share of the budget.
constexpr int kFallbackStarts = 3;
constexpr double kFallbackShare = 0.2;

// The stacked residual at one q.
struct ClearState {
  internal::State<Eigen::Dynamic> pose;
  Eigen::VectorXd distances, rc;  // distances below the level, and their residuals
  Eigen::MatrixXd Jc;             // d rc / d q
  double cost = 0;
  bool clear = true;  // every sphere distance >= clearance
};

struct Context {
  const Chain& chain;
  const Problem& problem;
  const PoseRefineOptions& pose;
  const CollisionSolveOptions& options;
  const SphereWorld& spheres;
  mutable SphereWorld::Workspace workspace;
  Clock::time_point deadline;
  int iterations = 0;
  bool exact_judges = false;  // an exact check verifies every converged answer
};

void EvaluateClear(Context& c, const Eigen::VectorXd& q, double level, ClearState* s) {
  internal::Evaluate(c.chain, c.problem, q, &s->pose);
  c.spheres.Proximities(q, level, &c.workspace, &s->distances, &s->Jc);
  s->rc = c.options.weight * (s->distances.array() - level).matrix();
  s->Jc *= c.options.weight;
  s->cost = s->pose.cost + 0.5 * s->rc.squaredNorm();
  s->clear = s->distances.size() == 0 || s->distances.minCoeff() >= c.options.clearance;
}

bool ConvergedClear(const Context& c, const ClearState& s) {
  return s.clear && internal::Converged(c.problem, s.pose, c.pose);
}

enum class End { kConverged, kStationary, kIterations, kTimeout };

// One Levenberg-Marquardt run from q (in place) on the stacked residual; distances below `level`
// count.
End RunClearStart(Context& c, double level, Eigen::VectorXd& q, ClearState* state) {
  const int n = c.chain.num_joints();
  ClearState trial;
  Eigen::VectorXd g(n), step(n), q_trial(n);
  Eigen::MatrixXd A(n, n);
  EvaluateClear(c, q, level, state);
  double mu = -1.0, nu = 2.0;
  double window_cost[kStallWindow];
  for (int it = 0; it < c.pose.max_iterations; ++it) {
    if (ConvergedClear(c, *state)) return End::kConverged;
    if (Clock::now() >= c.deadline) return End::kTimeout;
    if (it >= kStallWindow && state->cost > (1.0 - kStallDecrease) * window_cost[it % kStallWindow])
      return End::kStationary;
    window_cost[it % kStallWindow] = state->cost;
    ++c.iterations;
    g.noalias() = state->pose.J.transpose() * state->pose.r;
    g.noalias() += state->Jc.transpose() * state->rc;
    A.noalias() = state->pose.J.transpose() * state->pose.J;
    A.noalias() += state->Jc.transpose() * state->Jc;
    for (int j = 0; j < n; ++j) {  // active set, as RefinePose
      const Joint& joint = c.chain.joint(j);
      if (IsFullTurn(joint)) continue;
      if ((q[j] <= joint.lower && g[j] > 0) || (q[j] >= joint.upper && g[j] < 0)) {
        g[j] = 0.0;
        A.row(j).setZero();
        A.col(j).setZero();
      }
    }
    const double scale = std::max(state->pose.J.cwiseAbs().maxCoeff(),
                                  state->Jc.size() ? state->Jc.cwiseAbs().maxCoeff() : 0.0) *
                         std::sqrt(2.0 * state->cost);
    if (!(g.cwiseAbs().maxCoeff() > kStationaryGradient * scale)) return End::kStationary;
    if (mu < 0) mu = 1e-3 * std::max(A.diagonal().maxCoeff(), 1e-12);
    for (bool accepted = false; !accepted;) {
      Eigen::MatrixXd damped = A;
      damped.diagonal().array() += mu;
      step = damped.llt().solve(-g);
      for (int j = 0; j < n; ++j)
        if (g[j] == 0.0 && A(j, j) == 0.0) step[j] = 0.0;
      q_trial = q + step;
      ProjectIntoLimits(c.chain, q_trial);
      if (q_trial == q) return End::kStationary;
      EvaluateClear(c, q_trial, level, &trial);
      if (trial.cost < state->cost) {
        DampingAfterAcceptedStep(state->cost, trial.cost, step, g, &mu, &nu);
        const bool negligible = state->cost - trial.cost <= kNegligibleDecrease * state->cost;
        q = q_trial;
        std::swap(*state, trial);
        if (negligible) return ConvergedClear(c, *state) ? End::kConverged : End::kStationary;
        accepted = true;
      } else {
        mu *= nu;
        nu *= 2.0;
        if (!(mu < 1e30)) return End::kStationary;
      }
    }
  }
  return ConvergedClear(c, *state) ? End::kConverged : End::kIterations;
}

// A start with the cushion, then polished: at the clearance when it ended clear but short; when
// it ended in collision on the spheres and an exact check will judge, on the pose alone (a pair
// the spheres cannot part, because they overshoot the meshes, may still be clear on the meshes).
End RunWithPolish(Context& c, Eigen::VectorXd& q, ClearState* state) {
  const End end = RunClearStart(c, c.options.clearance + c.options.activation, q, state);
  if (end == End::kConverged || end == End::kTimeout) return end;
  if (state->clear) return c.options.activation == 0 ? end : RunClearStart(c, c.options.clearance, q, state);
  if (!c.exact_judges) return end;
  return RunClearStart(c, -std::numeric_limits<double>::infinity(), q, state);
}

// True when the exact check (if any) agrees that q keeps the clearance.
bool VerifiedClear(const CollisionChecker* exact, const Eigen::VectorXd& q, double clearance) {
  if (exact == nullptr) return true;
  if (clearance <= 0) return !exact->InCollision(q);
  const CollisionReport report = exact->Check(q);
  return !report.in_collision && report.min_distance >= clearance;
}

}  // namespace

bool CollisionSolveOptions::IsValid(std::string* error) const {
  std::string message;
  if (!kClearance.Contains(clearance)) {
    message = kClearance.Refusal("clearance", clearance);
  } else if (!(activation >= 0 && activation <= 1)) {
    message = "activation: expected a value in [0, 1] m";
  } else if (!(weight > 0 && weight <= 1e6)) {
    message = "weight: expected a value in (0, 1e6]";
  }
  if (error != nullptr) *error = message;
  return message.empty();
}

SolveResult RefineClear(const Chain& chain, const IkTarget& target, const Eigen::VectorXd& q_start,
                        const PoseRefineOptions& pose, const CollisionSolveOptions& options,
                        const SphereWorld& spheres, const CollisionChecker* exact) {
  std::string message;
  if (!pose.IsValid(&message)) throw std::invalid_argument("PoseRefineOptions::" + message);
  if (!options.IsValid(&message)) throw std::invalid_argument("CollisionSolveOptions::" + message);
  ThrowUnlessValidTarget(target);
  const int n = chain.num_joints();
  if (q_start.size() != n || !q_start.allFinite())
    throw std::invalid_argument("RefineClear: expected a finite q_start of size " + std::to_string(n));
  if (spheres.chain().num_joints() != n)
    throw std::invalid_argument("RefineClear: the collision model is for another arm");
  const Problem problem = internal::MakeProblem(target, pose.angle_weight);
  Context c{chain, problem, pose, options, spheres, {}, {}, 0, exact != nullptr};
  c.deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                  std::chrono::duration<double>(pose.timeout_seconds));
  std::mt19937_64 rng(pose.seed);
  Eigen::VectorXd q = q_start, best_q = q_start, reached_q;
  double best_cost = std::numeric_limits<double>::infinity();
  double reached_distance = -std::numeric_limits<double>::infinity();
  ClearState state;
  SolveResult result;
  bool converged = false;
  for (int start = 0;; ++start) {
    if (start > 0) {
      if ((pose.max_starts > 0 && start >= pose.max_starts) || Clock::now() >= c.deadline) break;
      UniformConfiguration(chain, &rng, q);
    }
    ProjectIntoLimits(chain, q);
    const End end = RunWithPolish(c, q, &state);
    if (end == End::kConverged && VerifiedClear(exact, q, options.clearance)) {
      converged = true;
      best_q = q;
      break;
    }
    if (internal::Converged(problem, state.pose, pose)) {  // reached, but not clear
      const double distance = spheres.MinDistance(q, &c.workspace);
      if (distance > reached_distance) {
        reached_distance = distance;
        reached_q = q;
      }
    } else if (state.pose.cost < best_cost) {
      best_cost = state.pose.cost;
      best_q = q;
    }
    if (end == End::kTimeout) break;
  }
  if (converged) {
    result.q = best_q;
    result.status = SolveStatus::kConverged;
  } else if (reached_q.size() == n) {
    result.q = reached_q;
    result.status = SolveStatus::kInCollision;
  } else {
    // No start reached the target: is it reachable at all, ignoring collisions?
    PoseRefineOptions plain = pose;
    plain.max_starts = kFallbackStarts;
    plain.timeout_seconds = std::max(kFallbackShare * pose.timeout_seconds, 1e-6);
    result = RefinePose(chain, target, best_q, plain);
    c.iterations += result.iterations;
    if (result.status == SolveStatus::kConverged) result.status = SolveStatus::kInCollision;
  }
  result.iterations = c.iterations;
  MeasureResult(chain, target, &result);
  // The sphere model's signed distance: cheap, and it measures penetration (the exact check's
  // distance costs milliseconds and is 0 for any collision); the exact check gave the status.
  result.collision_distance = spheres.MinDistance(result.q, &c.workspace);
  return result;
}

ClearSolver::ClearSolver(std::unique_ptr<Solver> base, CollisionWorld world, const PoseRefineOptions& pose,
                         const CollisionSolveOptions& options)
    : base_(std::move(base)), world_(std::move(world)), pose_(pose), options_(options) {
  std::string error;
  if (!base_) throw std::invalid_argument("ClearSolver: expected a base solver");
  if (!world_.spheres) throw std::invalid_argument("ClearSolver: expected a sphere model");
  if (world_.spheres->chain().num_joints() != base_->chain().num_joints())
    throw std::invalid_argument("ClearSolver: the collision model is for another arm");
  if (!pose_.IsValid(&error)) throw std::invalid_argument("PoseRefineOptions::" + error);
  if (!options_.IsValid(&error)) throw std::invalid_argument("CollisionSolveOptions::" + error);
}

SolveResult ClearSolver::Solve(const IkTarget& target, const Eigen::VectorXd* q_start) const {
  const Chain& chain = base_->chain();
  Eigen::VectorXd q0 = q_start != nullptr ? *q_start : chain.mid_configuration();
  if (q_start == nullptr && base_->needs_model()) {
    SolveResult answer = base_->Solve(target);
    if (answer.status == SolveStatus::kConverged) {
      // The exact check judges when there is one; else the sphere model.
      SphereWorld::Workspace workspace;
      const bool clear = world_.exact
                             ? VerifiedClear(world_.exact.get(), answer.q, options_.clearance)
                             : world_.spheres->MinDistance(answer.q, &workspace) >= options_.clearance;
      if (clear) {
        answer.collision_distance = world_.spheres->MinDistance(answer.q, &workspace);
        return answer;
      }
    }
    q0 = answer.q;
  }
  return RefineClear(chain, target, q0, pose_, options_, *world_.spheres, world_.exact.get());
}

SolveResult ClearSolver::SolveFrom(const IkTarget& target, const Eigen::VectorXd& q,
                                   const PoseRefineOptions& pose) const {
  PoseRefineOptions one = pose;
  one.max_starts = 1;
  return RefineClear(base_->chain(), target, q, one, options_, *world_.spheres, world_.exact.get());
}

}  // namespace deepik
