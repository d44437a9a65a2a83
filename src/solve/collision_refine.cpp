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
// s: the budget RefineClear gets after a base solver spent all of it.
constexpr double kLeastBudget = 1e-6;
// A repair (the collision-aware run from a pose-only answer in collision) follows every start
// that ends in collision after the first kRepairAfter such, and may take as long as kRepairStarts
// starts have taken on average (docs/BENCHMARKS.md "Collision-free IK" measured the choice).
constexpr int kRepairAfter = 8;
constexpr int kRepairStarts = 8;
// Ends in collision kept for the status `in collision` (the least penetrating of them: measuring
// one on panda's or ur5's 1,000-1,400 spheres takes 0.1-0.2 ms).
constexpr size_t kMostReached = 4;
// The level of RunClearStart that counts no distance: Levenberg-Marquardt on the pose alone.
constexpr double kPoseOnly = -std::numeric_limits<double>::infinity();

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

// Distances below `level` count; level -infinity: the pose alone (no sphere is placed).
void EvaluateClear(Context& c, const Eigen::VectorXd& q, double level, ClearState* s) {
  internal::Evaluate(c.chain, c.problem, q, &s->pose);
  if (level == kPoseOnly) {
    s->distances.resize(0);
    s->rc.resize(0);
    s->Jc.resize(0, q.size());
    s->cost = s->pose.cost;
    s->clear = true;
    return;
  }
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
  Eigen::MatrixXd A(n, n), damped(n, n);
  Eigen::LLT<Eigen::MatrixXd> llt(n);  // allocated once per start, not per trial step
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
      damped = A;
      damped.diagonal().array() += mu;
      step = llt.compute(damped).solve(-g);
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
  return RunClearStart(c, kPoseOnly, q, state);
}

// True when the exact check (if any) agrees that q keeps the clearance.
bool VerifiedClear(const CollisionChecker* exact, const Eigen::VectorXd& q, double clearance) {
  return exact == nullptr || exact->Clear(q, clearance);
}

// One start on the pose alone: RefinePose with one start (allocation-free, and it follows an end
// that is not yet a minimum on), then `state` at its end.
End RunPoseStart(Context& c, const IkTarget& target, Clock::time_point deadline, Eigen::VectorXd& q,
                 ClearState* state) {
  PoseRefineOptions one = c.pose;
  one.max_starts = 1;
  one.timeout_seconds =
      std::max(std::chrono::duration<double>(deadline - Clock::now()).count(), kLeastBudget);
  const SolveResult r = RefinePose(c.chain, target, q, one);
  c.iterations += r.iterations;
  q = r.q;
  EvaluateClear(c, q, kPoseOnly, state);
  if (internal::Converged(c.problem, state->pose, c.pose)) return End::kConverged;
  return Clock::now() >= deadline ? End::kTimeout : End::kStationary;
}

// Whether an answer of the pose alone keeps the clearance: at clearance 0 by the exact check when
// there is one (the sphere model's false alarms would turn clear answers away); above it by the
// sphere model first, then the exact check (ExactChecker::Clear: bounds first, FCL distances only
// for pairs nearer than the bounds can tell); else by the sphere model alone.
bool JudgedClear(const SphereWorld& spheres, const CollisionChecker* exact, double clearance,
                 const Eigen::VectorXd& q, SphereWorld::Workspace* workspace) {
  if (exact != nullptr && clearance <= 0) return !exact->InCollision(q);
  return spheres.MinDistance(q, workspace) >= clearance && VerifiedClear(exact, q, clearance);
}

// Of `candidates`, the one with the largest sphere-model distance, and that distance.
Eigen::VectorXd LeastPenetrating(const SphereWorld& spheres, const std::vector<Eigen::VectorXd>& candidates,
                                 SphereWorld::Workspace* workspace, double* most) {
  *most = -std::numeric_limits<double>::infinity();
  Eigen::VectorXd best = candidates.front();
  for (const Eigen::VectorXd& candidate : candidates) {
    const double distance = spheres.MinDistance(candidate, workspace);
    if (distance > *most) {
      *most = distance;
      best = candidate;
    }
  }
  return best;
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
  Eigen::VectorXd q = q_start, best_q = q_start;
  double best_cost = std::numeric_limits<double>::infinity();
  // Ends that reach the target in collision; measured (the sphere model's distance) only when no
  // start converges clear.
  std::vector<Eigen::VectorXd> reached;
  ClearState state;
  SolveResult result;
  bool converged = false;
  // An end that is not converged and clear: one that reaches the target, or the closest one.
  const auto note = [&](const Eigen::VectorXd& q_end, const ClearState& s) {
    if (internal::Converged(problem, s.pose, pose)) {  // reached, but not clear
      if (reached.size() < kMostReached) reached.push_back(q_end);
    } else if (s.pose.cost < best_cost) {
      best_cost = s.pose.cost;
      best_q = q_end;
    }
  };
  // A repair can move the answer along the self-motion only when the task leaves one.
  const bool redundant = n > (target.has_orientation() || target.has_bounds() ? 6 : 3);
  const Clock::time_point begin = Clock::now();
  const Clock::time_point deadline = c.deadline;
  int colliding = 0;
  for (int start = 0;; ++start) {
    if (start > 0) {
      if ((pose.max_starts > 0 && start >= pose.max_starts) || Clock::now() >= deadline) break;
      UniformConfiguration(chain, &rng, q);
    }
    ProjectIntoLimits(chain, q);
    // The pose alone first: no sphere is placed, and most answers are clear already.
    End end = RunPoseStart(c, target, deadline, q, &state);
    if (end == End::kConverged) {
      if (JudgedClear(spheres, exact, options.clearance, q, &c.workspace)) {
        converged = true;
        best_q = q;
        break;
      }
      note(q, state);
      const bool last = pose.max_starts > 0 && start + 1 >= pose.max_starts;
      if (redundant && (++colliding > kRepairAfter || last)) {
        // The collision-aware run from the answer in collision, once kRepairAfter starts have
        // ended in collision (until then new starts are cheaper: most land clear, and with hundreds
        // of spheres close together one iteration on the spheres costs about as much as a whole
        // start) or on the last start allowed, for at most as long as kRepairStarts starts have
        // taken on average (the last start: what is left of the budget).
        const Clock::time_point now = Clock::now();
        if (!last) c.deadline = std::min(deadline, now + kRepairStarts * (now - begin) / (start + 1));
        end = RunWithPolish(c, q, &state);
        c.deadline = deadline;
        if (end == End::kConverged && VerifiedClear(exact, q, options.clearance)) {
          converged = true;
          best_q = q;
          break;
        }
        note(q, state);
      }
    } else {
      note(q, state);
    }
    if (Clock::now() >= deadline) break;
  }
  if (converged) {
    result.q = best_q;
    result.status = SolveStatus::kConverged;
  } else if (!reached.empty()) {
    result.q = LeastPenetrating(spheres, reached, &c.workspace, &result.collision_distance);
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
  // The sphere model's signed distance measures penetration (the exact check's distance costs
  // milliseconds and is 0 for any collision); the exact check gave the status. A converged answer
  // at clearance 0 is not measured: that would cost more than the solve.
  if (std::isnan(result.collision_distance) && (!converged || options.clearance > 0))
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
  const Clock::time_point begin = Clock::now();
  Eigen::VectorXd q0 = q_start != nullptr ? *q_start : chain.mid_configuration();
  PoseRefineOptions pose = pose_;
  if (q_start == nullptr && base_->needs_model()) {
    SolveResult answer = base_->Solve(target);
    if (answer.status == SolveStatus::kConverged) {
      SphereWorld::Workspace workspace;
      if (JudgedClear(*world_.spheres, world_.exact.get(), options_.clearance, answer.q, &workspace)) {
        if (options_.clearance > 0)
          answer.collision_distance = world_.spheres->MinDistance(answer.q, &workspace);
        return answer;
      }
    }
    q0 = answer.q;
    // What is left of the one budget (RefineClear's first start runs in any case).
    const double spent = std::chrono::duration<double>(Clock::now() - begin).count();
    pose.timeout_seconds = std::max(pose_.timeout_seconds - spent, kLeastBudget);
  }
  return RefineClear(chain, target, q0, pose, options_, *world_.spheres, world_.exact.get());
}

bool ClearSolver::KeepsClearance(const Eigen::VectorXd& q) const {
  SphereWorld::Workspace workspace;
  return JudgedClear(*world_.spheres, world_.exact.get(), options_.clearance, q, &workspace);
}

SolveResult ClearSolver::SolveFrom(const IkTarget& target, const Eigen::VectorXd& q,
                                   const PoseRefineOptions& pose) const {
  PoseRefineOptions one = pose;
  one.max_starts = 1;
  return RefineClear(base_->chain(), target, q, one, options_, *world_.spheres, world_.exact.get());
}

}  // namespace deepik
