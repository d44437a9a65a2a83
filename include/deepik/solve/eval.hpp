// Measuring solvers side by side on the same targets: accuracy in reach, behaviour out of reach,
// limits, non-finite outputs, latency and throughput.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "deepik/data/metrics.hpp"
#include "deepik/solve/solver.hpp"

namespace deepik {

/// The target sets of one evaluation; every solver sees the same ones.
struct EvalTargets {
  std::vector<IkTarget> in_reach;      ///< FK of uniform random joint values: reachable by construction
  std::vector<IkTarget> out_of_reach;  ///< unreachable targets
  std::vector<double>
      closest_distance;        ///< d*: distance from each out-of-reach target to the reachable set (m)
  std::string closest_method;  ///< how d* was found ("closed form" or "best of N multi-start refinements")
};

/// Options of MakeEvalTargets.
struct EvalTargetOptions {
  int64_t in_reach_count = 10000;
  int64_t out_of_reach_count = 2000;
  uint64_t seed = 2024;
  int closest_restarts = 32;  ///< multi-start refinements for d* when no closed form exists
};

/// In-reach targets from FK of uniform joints; out-of-reach targets uniform in a ball of 2.5 x reach,
/// kept when unreachable (closed form for the seed arm; beyond the reach bound otherwise), and for
/// the seed arm also in the inner hollow and below the allowed region. d* by the closed form for
/// the seed arm, else the best of many multi-start refinements.
EvalTargets MakeEvalTargets(const Chain& chain, const EvalTargetOptions& options);

/// A target whose d* (distance to the reachable set) is at most this counts as reachable (m):
/// far above refinement's convergence tolerance (1e-9 m) and rounding, and the finest bucket of
/// the report (<= 1 um), so a target counted in reach by it cannot move a solver's figures.
inline constexpr double kReachTolerance = 1e-6;

/// Adds given targets (e.g. from a file) to the sets, each by whether it can be reached, with the
/// rule of MakeEvalTargets: on the seed arm d* from the closed form (the exact closest reachable
/// point), elsewhere the best of `options.closest_restarts` multi-start refinements (seeded by
/// `options.seed`; a target reached within kReachTolerance by one of them stops the search). A
/// target whose d* exceeds kReachTolerance goes to out_of_reach with its d*, the others to
/// in_reach. Returns how many went to out_of_reach.
/// @throws std::invalid_argument when a target is not finite.
int64_t AddClassifiedTargets(const Chain& chain, const std::vector<Eigen::Vector3d>& points,
                             const EvalTargetOptions& options, EvalTargets* targets);

/// One solver's figures.
struct SolverReport {
  std::string solver;
  ErrorStats in_reach;
  ErrorStats excess;  ///< out of reach: error - d* (m)
  int64_t limit_violations = 0;
  int64_t non_finite = 0;
  int64_t queries = 0;
  double latency_median_us = 0, latency_p99_us = 0;  ///< single query, one thread
  double throughput_per_s = 0;                       ///< batch on `batch_threads` threads
  int batch_threads = 1;
  std::vector<double> in_reach_errors;  ///< per target (m), for plots
};

/// Runs one solver on every target, timing each single query on this thread, then the whole
/// in-reach set as one batch on `batch_threads` threads.
SolverReport EvaluateSolver(const Solver& solver, const EvalTargets& targets, int batch_threads);

/// The reports as three Markdown tables of one row per solver, each narrower than 100 columns:
/// in-reach accuracy with limit violations; shares within 1 um .. 1 cm with the out-of-reach
/// excess; latency and throughput.
std::string ReportsToMarkdown(const std::vector<SolverReport>& reports);
/// JSON text of the reports and how the targets were made.
std::string ReportsToJson(const std::vector<SolverReport>& reports, const EvalTargets& targets);

/// An SVG histogram of in-reach errors (log10 bins from 1e-16 m to 1 m), one series per solver.
std::string ErrorHistogramSvg(const std::vector<std::string>& names,
                              const std::vector<std::vector<double>>& errors);
/// An SVG heat map of a solver's error over the plane y = 0 (x, z in [-extent, extent]).
std::string ErrorSliceSvg(const Solver& solver, double extent, int resolution);

/// Latency and throughput alone (`deepik bench`): `repetitions` passes over the targets after
/// `warmup` passes; medians over all timed queries.
SolverReport BenchSolver(const Solver& solver, const std::vector<IkTarget>& targets, int warmup,
                         int repetitions, int batch_threads);

}  // namespace deepik
