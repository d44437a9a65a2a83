#include "deepik/solve/eval.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <sstream>

#include "data/json_util.hpp"
#include "deepik/data/random.hpp"
#include "deepik/kinematics/fk.hpp"
#include "deepik/solve/analytic_seed.hpp"
#include "deepik/solve/refine.hpp"
#include "deepik/solve/solvers.hpp"

namespace deepik {
namespace {

using Clock = std::chrono::steady_clock;

// d* without a closed form: the best of many refinements from seeded random starts, stopping early
// once one comes within `good_enough` (m).
double ClosestDistanceByRefinement(const Chain& chain, const Eigen::Vector3d& p, int restarts, uint64_t seed,
                                   double good_enough = 0) {
  RefineOptions options;
  options.restarts = 0;
  options.max_iterations = 200;
  std::mt19937_64 rng(seed);
  double best = std::numeric_limits<double>::infinity();
  Eigen::VectorXd q(chain.num_joints());
  for (int r = 0; r < restarts && best > good_enough; ++r) {
    UniformConfiguration(chain, &rng, q);
    best = std::min(best, RefinePosition(chain, p, q, options).error);
  }
  return best;
}

constexpr const char* kClosedFormMethod = "closed form (analytic seed-arm solver)";

std::string RefinementMethod(const EvalTargetOptions& options) {
  return "best of " + std::to_string(options.closest_restarts) + " multi-start refinements";
}

bool Finite(const SolveResult& r) {
  return r.q.allFinite() && r.p_reached.allFinite() && std::isfinite(r.error);
}

std::string Fmt(const char* format, double value) {
  char text[64];
  std::snprintf(text, sizeof(text), format, value);
  return text;
}

// An error in m shown with a unit that fits it.
std::string Length(double metres) {
  const double a = std::abs(metres);
  if (a == 0) return "0";
  if (a < 1e-6) return Fmt("%.3g nm", metres * 1e9);
  if (a < 1e-3) return Fmt("%.3g um", metres * 1e6);
  if (a < 1) return Fmt("%.3g mm", metres * 1e3);
  return Fmt("%.3g m", metres);
}

}  // namespace

EvalTargets MakeEvalTargets(const Chain& chain, const EvalTargetOptions& options) {
  EvalTargets targets;
  std::mt19937_64 rng(options.seed);
  Eigen::VectorXd q(chain.num_joints());
  for (int64_t i = 0; i < options.in_reach_count; ++i) {
    UniformConfiguration(chain, &rng, q);
    targets.in_reach.push_back(IkTarget{TipPosition(chain, q)});
  }
  const std::optional<SeedArmOptions> seed = SeedArmOptionsOf(chain);
  if (seed) {
    const AnalyticSeedSolver analytic(*seed);
    targets.closest_method = kClosedFormMethod;
    // Named hard cases first: far away, the origin, on the yaw axis, at full stretch, in the
    // inner hollow and below the allowed region; then uniform samples in 2.5 x reach.
    const double reach = chain.reach();
    const std::vector<Eigen::Vector3d> named = {{1e4, 0, 0},
                                                {0, 0, 1e4},
                                                {0, 0, -1e4},
                                                {0, 0, 0},
                                                {0, 0, 1.5 * reach},
                                                {0, 0, -0.999 * reach},
                                                {reach * 1.0001, 0, 0},
                                                {0, 0, 0.1 * reach},
                                                {0.05 * reach, 0.05 * reach, 0}};
    for (const Eigen::Vector3d& p : named) {
      if (static_cast<int64_t>(targets.out_of_reach.size()) >= options.out_of_reach_count) break;
      if (analytic.Classify(p) == SeedReachability::kReachable) continue;
      targets.out_of_reach.push_back(IkTarget{p});
    }
    while (static_cast<int64_t>(targets.out_of_reach.size()) < options.out_of_reach_count) {
      const Eigen::Vector3d p = UniformInBall(2.5 * reach, &rng);
      if (analytic.Classify(p) != SeedReachability::kReachable) targets.out_of_reach.push_back(IkTarget{p});
    }
    for (const IkTarget& t : targets.out_of_reach) {
      double d = 0;
      analytic.ClosestReachablePoint(t.p_BT, &d);
      targets.closest_distance.push_back(d);
    }
  } else {
    targets.closest_method = RefinementMethod(options);
    const double reach = chain.reach();
    while (static_cast<int64_t>(targets.out_of_reach.size()) < options.out_of_reach_count) {
      const Eigen::Vector3d p = UniformInBall(2.5 * reach, &rng);
      if (p.norm() > reach * 1.001) targets.out_of_reach.push_back(IkTarget{p});
    }
    uint64_t s = options.seed;
    for (const IkTarget& t : targets.out_of_reach) {
      targets.closest_distance.push_back(
          ClosestDistanceByRefinement(chain, t.p_BT, options.closest_restarts, ++s));
    }
  }
  return targets;
}

int64_t AddClassifiedTargets(const Chain& chain, const std::vector<Eigen::Vector3d>& points,
                             const EvalTargetOptions& options, EvalTargets* targets) {
  const std::optional<SeedArmOptions> seed = SeedArmOptionsOf(chain);
  std::optional<AnalyticSeedSolver> analytic;
  if (seed) analytic.emplace(*seed);
  if (targets->closest_method.empty())
    targets->closest_method = seed ? kClosedFormMethod : RefinementMethod(options);
  // Restart seeds apart from those of the generated targets (options.seed + 1, + 2, ...).
  uint64_t s = options.seed ^ 0x9E3779B97F4A7C15ull;
  int64_t unreachable = 0;
  for (const Eigen::Vector3d& p : points) {
    if (!p.allFinite()) throw std::invalid_argument("eval target: expected finite coordinates");
    double d = 0;
    if (analytic) {
      analytic->ClosestReachablePoint(p, &d);
    } else {
      d = ClosestDistanceByRefinement(chain, p, options.closest_restarts, ++s, kReachTolerance);
    }
    if (d > kReachTolerance) {
      targets->out_of_reach.push_back(IkTarget{p});
      targets->closest_distance.push_back(d);
      ++unreachable;
    } else {
      targets->in_reach.push_back(IkTarget{p});
    }
  }
  return unreachable;
}

SolverReport EvaluateSolver(const Solver& solver, const EvalTargets& targets, int batch_threads) {
  SolverReport report;
  report.solver = solver.name();
  report.batch_threads = batch_threads;
  const Chain& chain = solver.chain();
  std::vector<double> latencies, excess;
  auto run = [&](const IkTarget& t) {
    const auto start = Clock::now();
    const SolveResult r = solver.Solve(t);
    latencies.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
    ++report.queries;
    if (!Finite(r)) ++report.non_finite;
    if (!chain.WithinLimits(r.q)) ++report.limit_violations;
    return r;
  };
  for (const IkTarget& t : targets.in_reach) report.in_reach_errors.push_back(run(t).error);
  for (size_t i = 0; i < targets.out_of_reach.size(); ++i) {
    excess.push_back(run(targets.out_of_reach[i]).error - targets.closest_distance[i]);
  }
  report.in_reach = SummariseErrors(report.in_reach_errors);
  report.excess = SummariseErrors(excess);
  const ErrorStats latency = SummariseErrors(std::move(latencies));  // any values: percentiles
  report.latency_median_us = latency.median;
  report.latency_p99_us = latency.p99;
  const auto start = Clock::now();
  const std::vector<SolveResult> batch = solver.SolveBatch(targets.in_reach, batch_threads);
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  report.throughput_per_s = seconds > 0 ? static_cast<double>(batch.size()) / seconds : 0;
  return report;
}

SolverReport BenchSolver(const Solver& solver, const std::vector<IkTarget>& targets, int warmup,
                         int repetitions, int batch_threads) {
  SolverReport report;
  report.solver = solver.name();
  report.batch_threads = batch_threads;
  for (int w = 0; w < warmup; ++w) {
    for (const IkTarget& t : targets) (void)solver.Solve(t);
  }
  std::vector<double> latencies;
  std::vector<double> throughputs;
  for (int r = 0; r < repetitions; ++r) {
    for (const IkTarget& t : targets) {
      const auto start = Clock::now();
      const SolveResult result = solver.Solve(t);
      latencies.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
      if (!Finite(result)) ++report.non_finite;
      if (!solver.chain().WithinLimits(result.q)) ++report.limit_violations;
      ++report.queries;
    }
    const auto start = Clock::now();
    (void)solver.SolveBatch(targets, batch_threads);
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    throughputs.push_back(static_cast<double>(targets.size()) / seconds);
  }
  const ErrorStats latency = SummariseErrors(std::move(latencies));  // any values: percentiles
  report.latency_median_us = latency.median;
  report.latency_p99_us = latency.p99;
  report.throughput_per_s = SummariseErrors(std::move(throughputs)).median;
  return report;
}

std::string ReportsToMarkdown(const std::vector<SolverReport>& reports) {
  // Three tables of one row per solver, each under 100 columns so that none wraps in a terminal:
  // accuracy in reach, shares within a distance and the excess out of reach, speed.
  std::ostringstream md;
  md << "| solver | in-reach median | p95 | p99 | max | limit violations | non-finite |\n"
     << "|---|---|---|---|---|---|---|\n";
  for (const SolverReport& r : reports) {
    const ErrorStats& s = r.in_reach;
    md << "| " << r.solver << " | " << Length(s.median) << " | " << Length(s.p95) << " | " << Length(s.p99)
       << " | " << Length(s.max) << " | " << r.limit_violations << " | " << r.non_finite << " |\n";
  }
  md << "\n| solver | <=1 um | <=0.1 mm | <=1 mm | <=1 cm | out-of-reach excess median | p95 | max |\n"
     << "|---|---|---|---|---|---|---|---|\n";
  for (const SolverReport& r : reports) {
    const ErrorStats& s = r.in_reach;
    md << "| " << r.solver << " | " << Fmt("%.1f %%", 100 * s.share_within_1um) << " | "
       << Fmt("%.1f %%", 100 * s.share_within_100um) << " | " << Fmt("%.1f %%", 100 * s.share_within_1mm)
       << " | " << Fmt("%.1f %%", 100 * s.share_within_1cm) << " | " << Length(r.excess.median) << " | "
       << Length(r.excess.p95) << " | " << Length(r.excess.max) << " |\n";
  }
  md << "\n| solver | latency median | p99 | throughput |\n|---|---|---|---|\n";
  for (const SolverReport& r : reports) {
    md << "| " << r.solver << " | " << Fmt("%.2f us", r.latency_median_us) << " | "
       << Fmt("%.2f us", r.latency_p99_us) << " | " << Fmt("%.0f /s", r.throughput_per_s) << " ("
       << r.batch_threads << " threads) |\n";
  }
  return md.str();
}

std::string ReportsToJson(const std::vector<SolverReport>& reports, const EvalTargets& targets) {
  const auto stats = internal::ErrorStatsJson;
  nlohmann::json rows = nlohmann::json::array();
  for (const SolverReport& r : reports) {
    rows.push_back({{"solver", r.solver},
                    {"in_reach", stats(r.in_reach)},
                    {"out_of_reach_excess", stats(r.excess)},
                    {"limit_violations", r.limit_violations},
                    {"non_finite", r.non_finite},
                    {"queries", r.queries},
                    {"latency_median_us", r.latency_median_us},
                    {"latency_p99_us", r.latency_p99_us},
                    {"throughput_per_s", r.throughput_per_s},
                    {"batch_threads", r.batch_threads}});
  }
  return nlohmann::json{{"in_reach_targets", targets.in_reach.size()},
                        {"out_of_reach_targets", targets.out_of_reach.size()},
                        {"closest_distance_method", targets.closest_method},
                        {"solvers", rows}}
      .dump(2);
}

std::string ErrorHistogramSvg(const std::vector<std::string>& names,
                              const std::vector<std::vector<double>>& errors) {
  const int bins = 32, width = 720, height = 360, left = 60, bottom = 40, top = 30;
  const double lo = -16, hi = 0;  // log10(m)
  std::vector<std::vector<double>> shares(names.size(), std::vector<double>(bins, 0.0));
  double peak = 1e-9;
  for (size_t s = 0; s < names.size(); ++s) {
    for (double e : errors[s]) {
      const double x = std::log10(std::max(e, 1e-16));
      const int b = std::clamp(static_cast<int>((x - lo) / (hi - lo) * bins), 0, bins - 1);
      shares[s][static_cast<size_t>(b)] += 1.0 / static_cast<double>(std::max<size_t>(errors[s].size(), 1));
    }
    for (double v : shares[s]) peak = std::max(peak, v);
  }
  const char* colours[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"};
  std::ostringstream svg;
  svg << "<svg xmlns='http://www.w3.org/2000/svg' width='" << width << "' height='" << height
      << "' font-family='sans-serif' font-size='11'>\n<rect width='100%' height='100%' fill='white'/>\n";
  svg << "<text x='" << width / 2 << "' y='18' text-anchor='middle' font-size='13'>In-reach position error "
      << "(share of targets per log10 bin)</text>\n";
  const double plot_w = width - left - 20, plot_h = height - top - bottom;
  for (int d = -16; d <= 0; d += 2) {
    const double x = left + (d - lo) / (hi - lo) * plot_w;
    svg << "<line x1='" << x << "' y1='" << top << "' x2='" << x << "' y2='" << top + plot_h
        << "' stroke='#ddd'/><text x='" << x << "' y='" << height - 22 << "' text-anchor='middle'>1e" << d
        << "</text>\n";
  }
  svg << "<text x='" << left + plot_w / 2 << "' y='" << height - 6
      << "' text-anchor='middle'>error (m)</text>\n";
  for (size_t s = 0; s < names.size(); ++s) {
    svg << "<polyline fill='none' stroke-width='2' stroke='" << colours[s % 6] << "' points='";
    for (int b = 0; b < bins; ++b) {
      const double x = left + (b + 0.5) / bins * plot_w;
      const double y = top + plot_h - shares[s][static_cast<size_t>(b)] / peak * plot_h;
      svg << x << ',' << y << ' ';
    }
    svg << "'/>\n<text x='" << left + 10 << "' y='" << top + 16 + 14 * static_cast<int>(s) << "' fill='"
        << colours[s % 6] << "'>" << names[s] << "</text>\n";
  }
  svg << "</svg>\n";
  return svg.str();
}

std::string ErrorSliceSvg(const Solver& solver, double extent, int resolution) {
  const int cell = std::max(2, 480 / resolution), size = cell * resolution, margin = 40;
  std::ostringstream svg;
  svg << "<svg xmlns='http://www.w3.org/2000/svg' width='" << size + 2 * margin << "' height='"
      << size + 2 * margin
      << "' font-family='sans-serif' font-size='11'>\n<rect width='100%' height='100%' fill='white'/>\n";
  svg << "<text x='" << margin << "' y='16' font-size='13'>" << solver.name()
      << ": log10 position error (m) over the plane y = 0, x and z in [" << -extent << ", " << extent
      << "] m</text>\n";
  for (int iz = 0; iz < resolution; ++iz) {
    for (int ix = 0; ix < resolution; ++ix) {
      const double x = -extent + (ix + 0.5) * 2 * extent / resolution;
      const double z = extent - (iz + 0.5) * 2 * extent / resolution;
      const SolveResult r = solver.Solve(IkTarget{Eigen::Vector3d(x, 0, z)});
      // -10 (1e-10 m) is dark blue, 0 (1 m) is red.
      const double t = std::clamp((std::log10(std::max(r.error, 1e-12)) + 10.0) / 10.0, 0.0, 1.0);
      const int red = static_cast<int>(255 * t), blue = static_cast<int>(255 * (1 - t));
      svg << "<rect x='" << margin + ix * cell << "' y='" << margin + iz * cell << "' width='" << cell
          << "' height='" << cell << "' fill='rgb(" << red << ",40," << blue << ")'/>\n";
    }
  }
  svg << "<text x='" << margin << "' y='" << size + margin + 16
      << "'>blue: 1e-10 m or less; red: 1 m (out-of-reach targets show their distance to the reach)</text>\n";
  svg << "</svg>\n";
  return svg.str();
}

}  // namespace deepik
