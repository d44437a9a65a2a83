#include "deepik/solve/track.hpp"

#include <cmath>
#include <limits>
#include <random>
#include <stdexcept>

#include "deepik/kinematics/fk.hpp"
#include "deepik/kinematics/joint_configuration.hpp"
#include "deepik/solve/collision_solver.hpp"
#include "deepik/solve/many_solutions.hpp"
#include "deepik/solve/pose_refine.hpp"

namespace deepik {
namespace {

// Nudged warm starts of a row whose warm start fails: how many, and how far (a share of the
// row's step bound per joint, so that a nudged solution can still be within the bound).
constexpr int kNudges = 4;
constexpr double kNudgeShare = 0.25;
constexpr uint64_t kNudgeSeed = 17;

// The target's step from the pose a configuration reaches (TrackOptions).
double TargetStep(const Chain& chain, const IkTarget& target, const SolveResult& previous) {
  double s = (target.p_BT - previous.p_reached).norm() / chain.reach();
  if (target.Q_BT) s += target.Q_BT->normalized().angularDistance(previous.Q_reached);
  return s;
}

// The status of a row solved afresh (row 0).
TrackStatus FreshStatus(SolveStatus status) {
  switch (status) {
    case SolveStatus::kConverged:
      return TrackStatus::kTracked;
    case SolveStatus::kOutOfReach:
      return TrackStatus::kOutOfReach;
    case SolveStatus::kInCollision:
      return TrackStatus::kInCollision;
    default:
      return TrackStatus::kFailed;
  }
}

// The solves of one row: the warm start (one start, no restarts) and the full search that says
// why a row could not be followed; collision-aware when the solver is.
class RowSolver {
 public:
  RowSolver(const Solver& solver, const SolverSettings& settings)
      : solver_(solver),
        clear_(dynamic_cast<const ClearSolver*>(&solver)),
        single_(OneStart(settings)),
        warm_(solver.chain(), single_.pose, single_.refine),
        full_(solver.chain(), settings.pose, settings.refine) {}

  SolveResult Warm(const IkTarget& target, const Eigen::VectorXd& q) const {
    return clear_ != nullptr ? clear_->SolveFrom(target, q, single_.pose) : warm_.Solve(target, &q);
  }

  // Why a row without a clear continuous solution (`local`, the warm start's end) is not tracked:
  // kReconfiguration when a (clear) answer exists, kInCollision when the target is reached only
  // in collision, else kOutOfReach.
  TrackStatus Verdict(const IkTarget& target, const SolveResult& local,
                      const Eigen::VectorXd& previous) const {
    bool in_collision = local.status == SolveStatus::kInCollision;
    const auto reached = [&](const Eigen::VectorXd* q_start) {
      const SolveStatus status =
          clear_ != nullptr ? solver_.Solve(target, q_start).status : full_.Solve(target, q_start).status;
      in_collision |= status == SolveStatus::kInCollision;
      return status == SolveStatus::kConverged;
    };
    // A collision-aware search that reached the target only in collision has spent its budget on
    // restarts already: the solver's own start is one more, not worth another budget.
    if (local.status == SolveStatus::kConverged || reached(&previous) || (!in_collision && reached(nullptr)))
      return TrackStatus::kReconfiguration;
    return in_collision ? TrackStatus::kInCollision : TrackStatus::kOutOfReach;
  }

  // True when a row that is not tracked may keep q (a point within the bound): clear, when
  // collisions are checked.
  bool MayHold(const Eigen::VectorXd& q) const { return clear_ == nullptr || clear_->KeepsClearance(q); }

 private:
  static SolverSettings OneStart(SolverSettings settings) {
    settings.refine.restarts = 0;  // one warm start per row: the next row is the restart
    settings.pose.max_starts = 1;
    return settings;
  }

  const Solver& solver_;
  const ClearSolver* clear_;
  SolverSettings single_;
  LmSolver warm_, full_;
};

}  // namespace

bool TrackOptions::IsValid(std::string* error) const {
  auto fail = [error](const std::string& message) {
    if (error != nullptr) *error = message;
    return false;
  };
  if (!(step_ratio > 0.0) || !std::isfinite(step_ratio))
    return fail("step_ratio: expected a finite value > 0");
  if (!(step_floor >= 0.0) || !std::isfinite(step_floor))
    return fail("step_floor: expected a finite value >= 0 (rad)");
  return true;
}

const char* ToString(TrackStatus status) {
  switch (status) {
    case TrackStatus::kTracked:
      return "tracked";
    case TrackStatus::kOutOfReach:
      return "out of reach";
    case TrackStatus::kReconfiguration:
      return "reconfiguration";
    case TrackStatus::kFailed:
      return "failed";
    case TrackStatus::kInCollision:
      return "in collision";
  }
  return "unknown";
}

std::vector<TrackPoint> TrackPath(const Solver& solver, const std::vector<IkTarget>& path,
                                  const SolverSettings& settings, const TrackOptions& options,
                                  const Eigen::VectorXd* q_start) {
  std::string message;
  if (!options.IsValid(&message)) throw std::invalid_argument("TrackOptions::" + message);
  const Chain& chain = solver.chain();
  if (q_start != nullptr && (q_start->size() != chain.num_joints() || !q_start->allFinite())) {
    throw std::invalid_argument("TrackPath: expected a finite q_start of " +
                                std::to_string(chain.num_joints()) + " values, got size " +
                                std::to_string(q_start->size()));
  }
  for (const IkTarget& target : path) ThrowUnlessValidTarget(target);
  const RowSolver rows(solver, settings);

  // The row before path[0] when the path continues from q_start: q_start measured against path[0].
  SolveResult before;
  const bool continued = options.continue_from_start && q_start != nullptr && !path.empty();
  if (continued) {
    before.q = *q_start;
    MeasureResult(chain, path[0], &before);
  }
  std::vector<TrackPoint> points(path.size());
  for (size_t i = 0; i < path.size(); ++i) {
    TrackPoint& point = points[i];
    if (i == 0 && !continued) {
      point.result = solver.Solve(path[0], q_start);
      point.step_bound = std::numeric_limits<double>::infinity();
      point.status = FreshStatus(point.result.status);
      continue;
    }
    const SolveResult& previous = i == 0 ? before : points[i - 1].result;
    point.step_bound = options.step_ratio * TargetStep(chain, path[i], previous) + options.step_floor;
    SolveResult local = rows.Warm(path[i], previous.q);
    double step = MaxJointStep(chain, local.q, previous.q);
    // At a singular configuration (the arm stretched out toward a target that was out of reach)
    // the gradient has no component along the way back: nudged warm starts find it.
    std::mt19937_64 rng(kNudgeSeed + i);
    for (int nudge = 0;
         nudge < kNudges && !(local.status == SolveStatus::kConverged && step <= point.step_bound); ++nudge) {
      Eigen::VectorXd q = previous.q;
      for (int j = 0; j < q.size(); ++j)
        q[j] += (2.0 * UniformUnit(&rng) - 1.0) * kNudgeShare * point.step_bound;
      ProjectIntoLimits(chain, q);
      SolveResult nudged = rows.Warm(path[i], q);
      const double nudged_step = MaxJointStep(chain, nudged.q, previous.q);
      if (nudged.status == SolveStatus::kConverged && nudged_step <= point.step_bound) {
        local = std::move(nudged);
        step = nudged_step;
      }
    }
    if (local.status == SolveStatus::kConverged && step <= point.step_bound) {
      point.result = std::move(local);
      point.joint_step = step;
      point.status = TrackStatus::kTracked;
      continue;
    }
    // No (clear) continuous solution: say why, and never jump (nor into a collision).
    point.status = rows.Verdict(path[i], local, previous.q);
    if (step <= point.step_bound && rows.MayHold(local.q)) {
      point.result = std::move(local);
      point.joint_step = step;
    } else {
      point.result = previous;
      point.result.status = point.status == TrackStatus::kReconfiguration ? SolveStatus::kFailed
                            : point.status == TrackStatus::kInCollision   ? SolveStatus::kInCollision
                                                                          : SolveStatus::kOutOfReach;
      MeasureResult(chain, path[i], &point.result);
      point.joint_step = 0.0;
    }
  }
  return points;
}

TrackSummary SummarizeTrack(const std::vector<TrackPoint>& points) {
  TrackSummary s;
  s.rows = static_cast<int>(points.size());
  for (size_t i = 0; i < points.size(); ++i) {
    const TrackPoint& p = points[i];
    s.tracked += p.status == TrackStatus::kTracked;
    s.out_of_reach += p.status == TrackStatus::kOutOfReach;
    s.in_collision += p.status == TrackStatus::kInCollision;
    if (p.status == TrackStatus::kReconfiguration) {
      ++s.reconfiguration_rows;
      if (i == 0 || points[i - 1].status != TrackStatus::kReconfiguration) ++s.reconfigurations;
    }
    s.max_joint_step = std::max(s.max_joint_step, p.joint_step);
    if (i > 0 && p.step_bound > 0) s.max_step_ratio = std::max(s.max_step_ratio, p.joint_step / p.step_bound);
  }
  return s;
}

}  // namespace deepik
