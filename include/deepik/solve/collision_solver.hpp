// Collision-aware IK: Levenberg-Marquardt on the pose residual plus the sphere model's distances
// below the clearance, with restarts, and every converged answer verified by the exact check
// (FCL on the meshes, through the CollisionChecker interface); `in collision` when no clear
// answer is found. Part of deepik::core (the exact checker comes from deepik::geometry).
#pragma once

#include <Eigen/Core>
#include <memory>
#include <string>
#include <vector>

#include "deepik/data/option_range.hpp"
#include "deepik/geometry/collision_model.hpp"
#include "deepik/geometry/sphere_world.hpp"
#include "deepik/solve/pose_refine.hpp"
#include "deepik/solve/solver.hpp"

namespace deepik {

/// Settings of collision-aware solving. Defaults in the declaration.
struct CollisionSolveOptions {
  /// m: the least distance kept between checked links and between the arm and obstacles, by the
  /// sphere model while solving and by the exact check when verifying (`--clearance`).
  double clearance = 0.0;
  /// m: during the search, distances below clearance + activation already push back (a cushion
  /// that keeps the steps from grazing); a start that ends inside it is polished at the clearance.
  double activation = 0.01;
  /// The weight of one metre of distance residual against one metre of position error.
  double weight = 1.0;

  static constexpr NumberRange kClearance{0.0, 1.0};  ///< m
  /// True when valid; otherwise false with `error` naming the offending field.
  bool IsValid(std::string* error) const;
};

/// What a collision-aware solve checks, owned together.
struct CollisionWorld {
  std::unique_ptr<const SphereWorld> spheres;  ///< the model the optimiser works on (required)
  /// Verifies every answer called converged (the exact check on the meshes, self pairs and the
  /// scene); null: the sphere model alone judges.
  std::unique_ptr<const CollisionChecker> exact;
};

/// Collision-aware IK from q_start (chain order, within the limits). Each start first solves the
/// pose alone (RefinePose with one start and what is left of the budget; no sphere placed) and
/// accepts its answer when it is clear (below). An answer in collision is repaired
/// when the task leaves a self-motion (more joints than the target fixes: 6 for a pose, 3 for a
/// position) and either 8 starts have already ended in collision or it is the last start allowed
/// (pose.max_starts): Levenberg-Marquardt on the stacked residual (the pose excess; for every
/// sphere distance d below clearance + activation, weight * (d - clearance - activation)) with the
/// analytic Jacobians (SphereWorld::Proximities), polished with the cushion removed, for at most
/// as long as 8 starts have taken on average (or the rest of the budget on the last start). Until
/// then a new start is cheaper than a repair (docs/BENCHMARKS.md "Collision-free IK"). Restarts
/// from seeded uniform configurations follow until a start converges clear, the time budget
/// (pose.timeout_seconds) or pose.max_starts runs out.
///
/// Clear: at clearance 0, `exact` (when given) finds no collision (the sphere model's false
/// alarms do not turn an answer away); above 0, the sphere model keeps the clearance and `exact`
/// (when given) finds a distance of at least the clearance; without `exact`, the sphere model
/// keeps the clearance.
///
/// Status: kConverged only when the pose is within the tolerances and the answer is clear.
/// Otherwise kInCollision when some start reached the target in collision (q: of the first 4
/// such, the one with the largest sphere-model distance) or a plain RefinePose from the best end
/// reaches it; else that RefinePose's status (kOutOfReach, kFailed). collision_distance (the
/// sphere model's) is set unless the answer is converged at clearance 0 (measuring it would cost
/// more than the solve; the exact check judged it).
/// @throws std::invalid_argument for invalid options, target or q_start (as RefinePose), or a
///         world for another chain (a different joint count).
SolveResult RefineClear(const Chain& chain, const IkTarget& target, const Eigen::VectorXd& q_start,
                        const PoseRefineOptions& pose, const CollisionSolveOptions& options,
                        const SphereWorld& spheres, const CollisionChecker* exact);

/// An iterative solver (lm, refined) made collision-aware: Solve starts RefineClear from q_start,
/// or from the base solver's answer for a solver with a model (`refined`: the network's answer
/// refined; returned at once when it is clear as RefineClear judges it; else RefineClear gets
/// what is left of the budget), or from the middle of the limits (`lm`).
class ClearSolver final : public Solver {
 public:
  /// @throws std::invalid_argument for invalid options, a world without spheres, or a world for
  ///         another chain.
  ClearSolver(std::unique_ptr<Solver> base, CollisionWorld world, const PoseRefineOptions& pose,
              const CollisionSolveOptions& options);
  std::string name() const override { return base_->name(); }
  const Chain& chain() const override { return base_->chain(); }
  bool needs_model() const override { return base_->needs_model(); }
  bool proposes_starts() const override { return base_->proposes_starts(); }
  bool position_only() const override { return base_->position_only(); }
  SolveResult Solve(const IkTarget& target, const Eigen::VectorXd* q_start = nullptr) const override;
  std::vector<Eigen::VectorXd> ProposeStarts(const IkTarget& target) const override {
    return base_->ProposeStarts(target);
  }
  /// One RefineClear start from q (no restarts), with `pose`'s tolerances and budget: how
  /// SolveMany refines its extra starts when the solver is collision-aware.
  SolveResult SolveFrom(const IkTarget& target, const Eigen::VectorXd& q,
                        const PoseRefineOptions& pose) const;
  /// Whether q keeps the clearance by the rule this solver's converged answers pass: the exact
  /// check alone at clearance 0; above it, the sphere model and the exact check (the sphere model
  /// alone when the world has no exact check).
  bool KeepsClearance(const Eigen::VectorXd& q) const;
  const CollisionWorld& world() const { return world_; }
  const CollisionSolveOptions& options() const { return options_; }

 private:
  std::unique_ptr<Solver> base_;
  CollisionWorld world_;
  PoseRefineOptions pose_;
  CollisionSolveOptions options_;
};

}  // namespace deepik
