// The solvers behind `deepik solve --solver S`, built from a model file.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "deepik/kinematics/builtin_arms.hpp"
#include "deepik/learn/model.hpp"
#include "deepik/solve/pose_refine.hpp"
#include "deepik/solve/refine.hpp"
#include "deepik/solve/solver.hpp"

namespace deepik {

/// The trained network alone (lean inference path).
class NetworkSolver final : public Solver {
 public:
  explicit NetworkSolver(IkModel model);
  /// Shares `model` (immutable, so any number of solvers and threads may read it) instead of
  /// holding a copy of its weights: a server with network and refined solvers loads one.
  /// @throws std::invalid_argument when `model` is null.
  explicit NetworkSolver(std::shared_ptr<const IkModel> model);
  std::string name() const override { return "network"; }
  const Chain& chain() const override { return model_->chain(); }
  bool exact() const override { return false; }
  bool needs_model() const override { return true; }
  /// Status: kConverged when the error is below 1e-4 m (0.1 mm) (and, for a full-pose target, the
  /// angle error below 1e-4 rad after the bounds), else kApproximate (the network
  /// alone cannot tell an unreachable target from its own error, so never kOutOfReach); kFailed
  /// when the answer is not finite or breaks a limit (possible with the `free` head). A pose
  /// model answers full-pose targets (the status still judges the position error only).
  /// @throws InputError when the target does not match the model: a position-only target on a
  ///         pose model, or a target with an orientation on a position model.
  SolveResult Solve(const IkTarget& target, const Eigen::VectorXd* q_start = nullptr) const override;
  const IkModel& model() const { return *model_; }

 private:
  std::shared_ptr<const IkModel> model_;  // never null; shared read-only, never written
};

/// The network's answer polished: by RefinePosition for a plain position-only target (network +
/// refinement, as ever), by RefinePose for a full-pose target or one with bounds.
class RefinedSolver final : public Solver {
 public:
  /// @throws std::invalid_argument for invalid options.
  RefinedSolver(IkModel model, const RefineOptions& options = {}, const PoseRefineOptions& pose = {});
  /// Shares `model`, as NetworkSolver does. @throws std::invalid_argument when it is null.
  RefinedSolver(std::shared_ptr<const IkModel> model, const RefineOptions& options = {},
                const PoseRefineOptions& pose = {});
  std::string name() const override { return "refined"; }
  const Chain& chain() const override { return network_.chain(); }
  bool needs_model() const override { return true; }
  /// True on a multi-head model (its other heads).
  bool proposes_starts() const override { return network_.model().heads() > 1; }
  /// Starts from q_start when given, else from the network's answer (a multi-head model: the head
  /// closest to the target by FK).
  SolveResult Solve(const IkTarget& target, const Eigen::VectorXd* q_start = nullptr) const override;
  /// A multi-head model's other heads, in head order (none for one head): SolveMany's first
  /// starts after the network's answer.
  std::vector<Eigen::VectorXd> ProposeStarts(const IkTarget& target) const override;

 private:
  NetworkSolver network_;
  RefineOptions options_;
  PoseRefineOptions pose_;
};

/// Everything a solver is built with besides its arm and model.
struct SolverSettings {
  RefineOptions refine;    ///< position-only refinement (refined, lm)
  PoseRefineOptions pose;  ///< pose refinement (refined, lm); its timeout_seconds is also the KDL
                           ///< restarts' time budget
};

/// The seed-arm options that reproduce `chain` exactly, if it is a seed arm.
std::optional<SeedArmOptions> SeedArmOptionsOf(const Chain& chain);

/// The solver names `MakeSolver` knows: network, refined, lm (no model), analytic (seed arm
/// only), kdl-nr, kdl-nr-restarts (with MoveItKdlOptions(): MoveIt's KDL plugin, random restarts
/// in 5 ms), kdl-lma, kdl-lma-restarts.
std::vector<std::string> SolverNames();

/// True for the solvers that need a model file (network, refined): Solver::needs_model() of the
/// solver `name` makes, before it is made.
bool SolverNeedsModel(const std::string& name);

/// The solver every front end uses when none is named: refined with a model, lm without.
std::string DefaultSolverName(bool with_model);

/// @throws InputError for an unknown name, or "analytic" on an arm that is not a seed arm.
std::unique_ptr<Solver> MakeSolver(const std::string& name, const IkModel& model,
                                   const RefineOptions& refine = {});

/// The solver `name` for `chain`; `model` may be null for the solvers that need none (lm,
/// analytic, kdl-*). When given, it must be a model of `chain`; network and refined keep a copy.
/// @throws InputError for an unknown name, network/refined without a model, or "analytic" on an
///         arm that is not a seed arm; std::invalid_argument for invalid settings.
std::unique_ptr<Solver> MakeSolver(const std::string& name, const Chain& chain, const IkModel* model,
                                   const SolverSettings& settings);

/// The same with `model` shared rather than copied (network and refined keep a reference to it,
/// no copy of the weights; `model` may be null as above).
std::unique_ptr<Solver> MakeSolver(const std::string& name, const Chain& chain,
                                   const std::shared_ptr<const IkModel>& model,
                                   const SolverSettings& settings);

}  // namespace deepik
