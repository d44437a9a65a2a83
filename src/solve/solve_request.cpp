#include "deepik/solve/solve_request.hpp"

#include <stdexcept>

#include "solve/parallel.hpp"

namespace deepik {
namespace {

// The checks that need no solver: every range, one start per target.
std::string RangeProblem(const SolveRequest& r) {
  using R = SolveRequest;
  if (!R::kThreads.Contains(r.threads)) return R::kThreads.Refusal("threads", r.threads);
  if (!R::kTimeoutSeconds.Contains(r.timeout_seconds))
    return R::kTimeoutSeconds.Refusal("timeout_seconds", r.timeout_seconds);
  if (!R::kTolerance.Contains(r.position_tolerance))
    return R::kTolerance.Refusal("position_tolerance", r.position_tolerance);
  if (!R::kTolerance.Contains(r.angle_tolerance))
    return R::kTolerance.Refusal("angle_tolerance", r.angle_tolerance);
  if (r.solutions != 0 && !R::kSolutions.Contains(r.solutions))
    return "solutions: expected 0 (one answer) or a whole number in " + R::kSolutions.Text() + ", got " +
           std::to_string(r.solutions);
  if (r.candidates != 0 && !R::kSolutions.Contains(r.candidates))
    return "candidates: expected 0 (the default) or a whole number in " + R::kSolutions.Text() + ", got " +
           std::to_string(r.candidates);
  if (!R::kMinDistance.Contains(r.min_distance))
    return R::kMinDistance.Refusal("min_distance", r.min_distance);
  if (!R::kClearance.Contains(r.clearance)) return R::kClearance.Refusal("clearance", r.clearance);
  const PostureOptions& p = r.posture;
  if (!R::kWeight.Contains(p.avoid_limits)) return R::kWeight.Refusal("avoid_limits", p.avoid_limits);
  if (!R::kWeight.Contains(p.posture_weight)) return R::kWeight.Refusal("posture_weight", p.posture_weight);
  if (!R::kWeight.Contains(p.start_weight)) return R::kWeight.Refusal("start_weight", p.start_weight);
  for (Eigen::Index j = 0; j < p.posture.size(); ++j) {
    if (!R::kJointValue.Contains(p.posture[j]))
      return R::kJointValue.Refusal("posture[" + std::to_string(j) + "]", p.posture[j]);
  }
  if (!r.starts.empty() && r.starts.size() != r.targets.size())
    return "starts: expected none or one per target (" + std::to_string(r.targets.size()) + "), got " +
           std::to_string(r.starts.size());
  if ((p.start_weight > 0 || r.closest_to_start) && r.starts.size() != r.targets.size())
    return std::string(r.closest_to_start ? "closest_to_start" : "start_weight") +
           ": expected a start for every target";
  for (size_t t = 0; t < r.targets.size(); ++t) {
    try {
      ThrowUnlessValidTarget(r.targets[t]);
    } catch (const std::invalid_argument& e) {
      return "targets[" + std::to_string(t) + "]: " + e.what();
    }
  }
  return "";
}

// The checks against the solver's arm and traits.
std::string SolverProblem(const SolveRequest& r, const Solver& solver) {
  const Chain& chain = solver.chain();
  const std::string dof = std::to_string(chain.num_joints());
  if (r.many() && !solver.exact()) {
    return "solutions, closest_to_start, posture: expected an exact solver (refined, lm, kdl-*), got "
           "solver " +
           solver.name();
  }
  const Eigen::Index posture_size = r.posture.posture.size();
  if ((r.posture.posture_weight > 0 || posture_size > 0) && posture_size != chain.num_joints())
    return "posture: expected " + dof + " joint values, got " + std::to_string(posture_size);
  for (size_t t = 0; t < r.starts.size(); ++t) {
    const Eigen::VectorXd& q = r.starts[t];
    const std::string field = "starts[" + std::to_string(t) + "]";
    if (q.size() != chain.num_joints())
      return field + ": expected " + dof + " joint values, got " + std::to_string(q.size());
    if (!q.allFinite() || !chain.WithinLimits(q)) return field + ": expected joint values within the limits";
  }
  if (solver.position_only()) {
    for (size_t t = 0; t < r.targets.size(); ++t) {
      if (r.targets[t].has_orientation() || r.targets[t].has_bounds())
        return "targets[" + std::to_string(t) + "]: solver " + solver.name() +
               " solves position-only targets, got one with an orientation or bounds";
    }
  }
  return "";
}

}  // namespace

SolverSettings SolveRequest::solver_settings() const {
  SolverSettings settings;
  settings.pose.timeout_seconds = timeout_seconds;
  settings.pose.position_tolerance = position_tolerance;
  settings.pose.angle_tolerance = angle_tolerance;
  settings.refine.tolerance = position_tolerance;
  return settings;
}

ManySolutionsOptions SolveRequest::many_options() const {
  ManySolutionsOptions many;
  many.solutions = solutions > 0 ? solutions : 1;
  many.min_distance = min_distance;
  many.order = closest_to_start ? SolutionOrder::kClosestToStart : SolutionOrder::kFound;
  many.posture = posture;
  many.candidates = candidates > 0 ? candidates : (ranked() ? kDefaultRankedCandidates : 0);
  return many;
}

bool SolveRequest::IsValid(std::string* error, const Solver* solver) const {
  std::string message = RangeProblem(*this);
  if (message.empty() && solver != nullptr) message = SolverProblem(*this, *solver);
  if (error != nullptr) *error = message;
  return message.empty();
}

std::vector<ManySolutions> RunSolveRequest(const Solver& solver, const SolveRequest& request) {
  std::string error;
  if (!request.IsValid(&error, &solver)) throw std::invalid_argument(error);
  const SolverSettings settings = request.solver_settings();
  if (request.many()) {
    return SolveManyBatch(solver, request.targets, request.many_options(), settings, request.threads,
                          request.starts);
  }
  std::vector<ManySolutions> answers(request.targets.size());
  const auto answer = [&answers](size_t i, SolveResult result) {
    answers[i].solutions.assign(1, std::move(result));
    answers[i].starts = 1;
  };
  if (request.starts.empty()) {
    // The solver's own batch path (a network may batch its forward passes).
    std::vector<SolveResult> results = solver.SolveBatch(request.targets, request.threads);
    for (size_t i = 0; i < results.size(); ++i) answer(i, std::move(results[i]));
    return answers;
  }
  internal::ParallelFor(request.targets.size(), request.threads,
                        [&](size_t i) { answer(i, solver.Solve(request.targets[i], &request.starts[i])); });
  return answers;
}

}  // namespace deepik
