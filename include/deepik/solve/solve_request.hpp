// One solve request, as every front end (the command line, Python, the JSON API) asks it: the
// targets, how many answers per target, the posture objective and the solver settings, with one
// IsValid that names the offending field, and the one function that runs it (Solve, or SolveMany
// when several or ranked answers are asked for). The front ends only parse and print.
#pragma once

#include <Eigen/Core>
#include <optional>
#include <string>
#include <vector>

#include "deepik/data/option_range.hpp"
#include "deepik/geometry/sphere_world.hpp"
#include "deepik/solve/collision_solver.hpp"
#include "deepik/solve/many_solutions.hpp"
#include "deepik/solve/posture.hpp"
#include "deepik/solve/solver.hpp"
#include "deepik/solve/solvers.hpp"

namespace deepik {

/// What to solve and how. Defaults in the declaration; the ranges below are the one definition of
/// each option's range (the command line's --help and checks, Python and the JSON API use them).
///
/// Names and units: every field is named as here in the library, Python and the JSON API; the
/// command line spells them with dashes (--position-tolerance). One exception, kept for users:
/// the command line's --timeout (solve, track, bench, serve) is in milliseconds (timeout_seconds *
/// 1000), Python's `timeout` is in seconds.
struct SolveRequest {
  // ---- What to solve ----
  std::vector<IkTarget> targets;  ///< position or full-pose targets (m, base frame), with their bounds
  /// Empty, or one start configuration per target (chain order, rad or m, within the limits):
  /// where iterative solvers begin, and what closest_to_start and start_weight measure from.
  std::vector<Eigen::VectorXd> starts;

  // ---- How many answers per target ----
  /// 0: one answer per target (Solver::Solve). K >= 1: up to K distinct exact solutions per
  /// target (SolveMany); the front ends then list them with target and solution indices.
  int solutions = 0;
  double min_distance = 0.1;      ///< rad: least JointDistance between two listed solutions
  bool closest_to_start = false;  ///< rank the solutions by distance to the target's start
  /// Solutions to find and rank before keeping K; 0: kDefaultRankedCandidates when ranking
  /// (closest_to_start or a posture objective), else K.
  int candidates = 0;
  PostureOptions posture;  ///< limit avoidance, preferred posture, start weight (0: none)

  // ---- Solver settings ----
  double timeout_seconds = 0.005;    ///< per target: pose refinement, lm and the KDL restarts
  double position_tolerance = 1e-9;  ///< m: position error that counts as reached (lm, refined)
  double angle_tolerance = 1e-9;     ///< rad: angle error that counts as reached (pose targets)
  int threads = 1;                   ///< threads sharing the targets

  // ---- Collision options (docs/SCENES.md, README "Collision-free IK") ----
  // The checks themselves (the sphere model, the scene, the exact check) are built by the front
  // end from these and the arm's files, and the solver wrapped in a ClearSolver
  // (deepik/solve/collision_solver.hpp).
  /// off, self or all; absent: self when the arm has collision geometry and a sphere model, else off.
  std::optional<CollisionMode> collisions;
  double clearance = 0.0;  ///< m: kept between checked links and from obstacles (CollisionSolveOptions)

  // ---- The ranges (one definition each) ----
  static constexpr WholeRange kThreads = kThreadRange;
  static constexpr NumberRange kTimeoutSeconds{1e-6, 60.0};
  static constexpr NumberRange kTolerance{1e-15, 1.0};  ///< position_tolerance (m), angle_tolerance (rad)
  static constexpr WholeRange kSolutions{1, ManySolutionsOptions::kMaxSolutions};  ///< solutions, candidates
  static constexpr NumberRange kMinDistance{0.0, 100.0};                           ///< rad
  static constexpr NumberRange kClearance = CollisionSolveOptions::kClearance;     ///< m
  static constexpr NumberRange kWeight{0.0, 1e6};       ///< avoid_limits, posture_weight, start_weight
  static constexpr NumberRange kJointValue{-1e3, 1e3};  ///< posture and start values (rad or m)
  /// Candidates found and ranked when ranking without an explicit `candidates`.
  static constexpr int kDefaultRankedCandidates = 8;

  /// True when the answers are ranked: closest_to_start or a posture objective.
  bool ranked() const { return closest_to_start || posture.active(); }
  /// True when the request runs through SolveMany (solutions > 0 or ranked()).
  bool many() const { return solutions > 0 || ranked(); }
  /// The solver settings these fields give (tolerances, time budget).
  SolverSettings solver_settings() const;
  /// SolveMany's options these fields give (the candidates default resolved).
  ManySolutionsOptions many_options() const;

  /// True when valid; otherwise false with `error` naming the offending field ("threads:
  /// expected a whole number in [1, 256], got 0"). Without a solver, the checks that need none
  /// (ranges, one start per target); with one, also those against its arm and traits (one posture
  /// value per joint, starts of the right size within the limits, an exact solver for many(), no
  /// orientation for a position-only solver).
  bool IsValid(std::string* error, const Solver* solver = nullptr) const;
};

/// Runs `request` with `solver`: one ManySolutions per target, in order. Without many(), each
/// holds the solver's one answer (Solve from the target's start when given), starts = 1.
/// @throws std::invalid_argument with IsValid's message when the request is not valid for the
///         solver.
std::vector<ManySolutions> RunSolveRequest(const Solver& solver, const SolveRequest& request);

}  // namespace deepik
