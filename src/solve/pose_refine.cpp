#include "deepik/solve/pose_refine.hpp"

#include <Eigen/Cholesky>
#include <Eigen/Geometry>
#include <array>
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
using internal::DampingAfterAcceptedStep;
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
// Stalled ends are not minima yet. They are followed on (polished) without the stall rule, for up
// to kPolishIterations x max_iterations: at once when a second end comes within kNearCost
// (relative) of the lowest, and the lowest kPolished of the rest in the last kPolishShare of the
// time budget (or once max_starts starts have run), until kAgreeingMinima minima agree.
constexpr int kPolished = 2 * kAgreeingMinima;
constexpr int kPolishIterations = 20;
constexpr double kNearCost = 1e-3;
constexpr double kPolishShare = 0.1;

struct Search {
  using Clock = std::chrono::steady_clock;
  Clock::time_point deadline;
  int iterations = 0;
  bool OutOfTime() const { return Clock::now() >= deadline; }
};

// One Levenberg-Marquardt run from q (in place); a polishing run ignores the stall rule.
template <int Capacity>
StartEnd RunStart(const Chain& chain, const Problem& problem, const PoseRefineOptions& options, bool polish,
                  VectorQ<Capacity>& q, State<Capacity>* state, Search* search) {
  const int n = chain.num_joints();
  State<Capacity> trial;
  VectorQ<Capacity> q_trial(n), g(n), step(n);
  MatrixQ<Capacity> A(n, n);
  Eigen::LLT<MatrixQ<Capacity>> llt(n);
  Evaluate(chain, problem, q, state);
  double mu = -1.0, nu = 2.0;
  double window_cost[kStallWindow];
  const int max_iterations = polish ? kPolishIterations * options.max_iterations : options.max_iterations;
  for (int it = 0; it < max_iterations; ++it) {
    if (Converged(problem, *state, options)) return StartEnd::kConverged;
    if (search->OutOfTime()) return StartEnd::kTimeout;
    if (!polish && it >= kStallWindow &&
        state->cost > (1.0 - kStallDecrease) * window_cost[it % kStallWindow]) {
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
        DampingAfterAcceptedStep(state->cost, trial.cost, step, g, &mu, &nu);
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

// The ends of a search: the best, the agreement of the minima, and the lowest ends that are not
// minima yet (stalled, out of iterations or cut off by the time), lowest first, to polish.
template <int Capacity>
struct Ends {
  struct Pending {
    VectorQ<Capacity> q;
    double cost;
    bool polished;  // followed on already (it ran out of iterations or time): not again
  };
  VectorQ<Capacity> best_q;
  double best_cost = std::numeric_limits<double>::infinity();
  bool best_stationary = false;
  bool converged = false;
  double min_stationary = std::numeric_limits<double>::infinity();
  int agreeing = 0;
  std::array<Pending, kPolished> pending;
  int num_pending = 0;

  // The best end is a minimum that kAgreeingMinima starts reached with the same cost.
  bool Agree() const {
    return best_stationary && agreeing >= kAgreeingMinima && best_cost <= min_stationary * (1 + kSameCost);
  }

  void Record(StartEnd end, const VectorQ<Capacity>& q, double cost, bool polished) {
    const bool stationary = end == StartEnd::kStationary;
    if (cost < best_cost || (stationary && !best_stationary && cost <= best_cost)) {
      best_q = q;
      best_cost = cost;
      best_stationary = stationary;
    }
    if (end == StartEnd::kConverged) {
      converged = true;
    } else if (stationary) {
      if (cost < min_stationary * (1 - kSameCost)) {
        min_stationary = cost;
        agreeing = 1;
      } else if (cost <= min_stationary * (1 + kSameCost)) {
        ++agreeing;
      }
    } else {
      int i = num_pending < kPolished ? num_pending++ : kPolished;  // sorted insertion
      if (i == kPolished && !(cost < pending[--i].cost)) return;
      for (; i > 0 && pending[i - 1].cost > cost; --i) pending[i] = pending[i - 1];
      pending[i] = Pending{q, cost, polished};
    }
  }

  // Takes pending end i out (to polish it: its end is recorded anew).
  VectorQ<Capacity> Take(int i) {
    VectorQ<Capacity> q = pending[i].q;
    for (--num_pending; i < num_pending; ++i) pending[i] = pending[i + 1];
    return q;
  }

  // The first pending end to polish with a cost of at most `most`, or -1.
  int NextToPolish(double most) const {
    for (int i = 0; i < num_pending; ++i) {
      if (!pending[i].polished && pending[i].cost <= most) return i;
    }
    return -1;
  }

  // Ends near the lowest cost: the start of an agreement.
  int Near(double most) const {
    int count = min_stationary <= most ? agreeing : 0;
    for (int i = 0; i < num_pending; ++i) count += pending[i].cost <= most;
    return count;
  }
};

// The search of RefinePose: the starts, and the polishing of their ends.
template <int Capacity>
class PoseSearch {
 public:
  PoseSearch(const Chain& chain, const Problem& problem, const PoseRefineOptions& options, Search* search)
      : chain_(chain), problem_(problem), options_(options), search_(search) {}

  const Ends<Capacity>& ends() const { return ends_; }
  bool Settled() const { return ends_.converged || ends_.Agree(); }

  // q_start, then seeded uniform starts, until one converges, the starts or the time run out. A
  // stalled end near the lowest one (a second start in the lowest basin) is polished at once.
  void RunStarts(const Eigen::VectorXd& q_start) {
    std::mt19937_64 rng(options_.seed);
    VectorQ<Capacity> q = q_start;
    Eigen::VectorXd draw(chain_.num_joints());
    for (int start = 0;; ++start) {
      if (start > 0) {
        if ((options_.max_starts > 0 && start >= options_.max_starts) || search_->OutOfTime()) return;
        UniformConfiguration(chain_, &rng, draw);
        q = draw;
      }
      ProjectIntoLimits(chain_, q);
      const StartEnd end = RunStart(chain_, problem_, options_, false, q, &state_, search_);
      ends_.Record(end, q, state_.cost, false);
      if (ends_.converged || end == StartEnd::kTimeout) return;
      const double near = ends_.best_cost * (1 + kNearCost);
      if (ends_.Near(near) < 2) continue;
      for (int i; !Settled() && (i = ends_.NextToPolish(near)) >= 0;) {
        if (!PolishOne(i)) return;
      }
    }
  }

  // Polishes the pending ends, lowest first, until the search is settled, `enough` says so, or
  // the time runs out.
  template <typename Enough>
  void PolishPending(const Enough& enough) {
    for (int i; !Settled() && !enough() && (i = ends_.NextToPolish(kInfinity)) >= 0;) {
      if (!PolishOne(i)) return;
    }
  }

 private:
  static constexpr double kInfinity = std::numeric_limits<double>::infinity();

  // False when the time ran out.
  bool PolishOne(int i) {
    if (search_->OutOfTime()) return false;
    VectorQ<Capacity> q = ends_.Take(i);
    const StartEnd end = RunStart(chain_, problem_, options_, true, q, &state_, search_);
    ends_.Record(end, q, state_.cost, true);
    return end != StartEnd::kTimeout;
  }

  const Chain& chain_;
  const Problem& problem_;
  const PoseRefineOptions& options_;
  Search* search_;
  Ends<Capacity> ends_;
  State<Capacity> state_;
};

// True when position refinement from q (position_tolerance, seed), the certificate of positions,
// finds the target's position out of reach by more than its position bounds.
bool PositionOutOfReach(const Chain& chain, const IkTarget& target, const Eigen::VectorXd& q,
                        const PoseRefineOptions& options) {
  RefineOptions position;
  position.tolerance = options.position_tolerance;
  position.seed = options.seed;
  const SolveResult p = RefinePosition(chain, target.p_BT, q, position);
  return p.status == SolveStatus::kOutOfReach &&
         p.error > target.bounds.head<3>().norm() + options.position_tolerance;
}

// The search of RefinePose with the storage that fits the chain. Sets result->q and the status.
template <int Capacity>
void SearchPose(const Chain& chain, const Problem& problem, const IkTarget& target,
                const Eigen::VectorXd& q_start, const PoseRefineOptions& options, SolveResult* result) {
  const auto begin = Search::Clock::now();
  const std::chrono::duration<double> budget(options.timeout_seconds);
  Search search;
  search.deadline =
      begin + std::chrono::duration_cast<Search::Clock::duration>((1.0 - kPolishShare) * budget);
  PoseSearch<Capacity> pose(chain, problem, options, &search);
  pose.RunStarts(q_start);
  search.deadline = begin + std::chrono::duration_cast<Search::Clock::duration>(budget);
  // A single start (a local solve: tracking, one of many solutions) certifies nothing.
  const bool certify = !pose.Settled() && (options.max_starts == 0 || options.max_starts >= kAgreeingMinima);
  // Provably out of reach: the position lies beyond the chain's reach (an upper bound of the
  // tip's distance from the base origin) by more than the position bounds allow, or the
  // position alone is out of reach.
  bool position_out = target.p_BT.norm() > chain.reach() + target.bounds.head<3>().norm();
  if (certify && !position_out && !search.OutOfTime()) {
    position_out = PositionOutOfReach(chain, target, pose.ends().best_q, options);
  }
  if (certify) {
    int polished = 0;  // with the position out of reach, one polish for a closer pose
    pose.PolishPending([&] { return position_out && polished++ > 0; });
  }
  const Ends<Capacity>& ends = pose.ends();
  result->q = ends.best_q;
  result->iterations = search.iterations;
  if (ends.converged) {
    result->status = SolveStatus::kConverged;
  } else if (position_out || ends.Agree()) {
    result->status = SolveStatus::kOutOfReach;
  } else {
    result->status = SolveStatus::kFailed;
  }
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
  const Problem problem = internal::MakeProblem(target, options.angle_weight);

  SolveResult result;
  if (n <= kFixedJoints) {
    SearchPose<kFixedJoints>(chain, problem, target, q_start, options, &result);
  } else {
    SearchPose<Eigen::Dynamic>(chain, problem, target, q_start, options, &result);
  }
  MeasureResult(chain, target, &result);
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
