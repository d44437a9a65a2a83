// `deepik bench --collision-free` (run inside the geometry plugin: it needs FCL).
#include "deepik/solve/clear_bench.hpp"

#include <cstdio>
#include <cstdlib>
#include <ostream>
#include <sstream>

#include "deepik/errors.hpp"
#include "deepik/geometry/exact_checker.hpp"
#include "deepik/kinematics/arm_spec.hpp"
#include "deepik/kinematics/joint_configuration.hpp"
#include "deepik/solve/kdl_solvers.hpp"
#include "geometry_commands.hpp"

namespace deepik::cli {

CollisionWorld MakeCollisionWorld(const CollisionSetupOptions& options, std::ostream& log);

namespace {

constexpr uint64_t kRestartSeed = 7;  // the baselines' random starts (lm's restart seed)
constexpr const char* kReference = "lm (collision-aware)";

std::string Formatted(const char* format, double value) {
  char text[64];
  std::snprintf(text, sizeof(text), format, value);
  return text;
}

std::string LoadAverage() {
  double load[3] = {0, 0, 0};
  if (getloadavg(load, 3) != 3) return "unknown";
  return Formatted("%.2f, ", load[0]) + Formatted("%.2f, ", load[1]) + Formatted("%.2f", load[2]);
}

// The exact check of a collision-aware solver, counted: where its time goes.
class CountingChecker final : public CollisionChecker {
 public:
  explicit CountingChecker(std::unique_ptr<const CollisionChecker> inner) : inner_(std::move(inner)) {}
  CollisionReport Check(const Eigen::Ref<const Eigen::VectorXd>& q) const override {
    const double start = ThreadCpuMicros();
    const CollisionReport report = inner_->Check(q);
    Count(start);
    return report;
  }
  bool InCollision(const Eigen::Ref<const Eigen::VectorXd>& q) const override {
    const double start = ThreadCpuMicros();
    const bool colliding = inner_->InCollision(q);
    Count(start);
    return colliding;
  }
  bool Clear(const Eigen::Ref<const Eigen::VectorXd>& q, double clearance) const override {
    const double start = ThreadCpuMicros();
    const bool clear = inner_->Clear(q, clearance);
    Count(start);
    return clear;
  }
  const std::vector<std::string>& link_names() const override { return inner_->link_names(); }
  /// "N exact checks per target, X us CPU per target (Y % of the row's CPU mean)", over the row's
  /// solves and its `warmup` untimed ones.
  std::string Summary(const ClearBenchRow& row, int64_t warmup) const {
    const double n = static_cast<double>(std::max<int64_t>(row.targets + warmup, 1));
    return Formatted("%.2f", static_cast<double>(calls_) / n) + " exact checks per target, " +
           Formatted("%.1f us", cpu_us_ / n) + " CPU per target (" +
           Formatted("%.0f %%", row.cpu_mean_us > 0 ? 100.0 * cpu_us_ / n / row.cpu_mean_us : 0) +
           " of the row's CPU mean)";
  }

 private:
  void Count(double start) const {
    cpu_us_ += ThreadCpuMicros() - start;
    ++calls_;
  }
  std::unique_ptr<const CollisionChecker> inner_;
  mutable int64_t calls_ = 0;  // one thread: the bench's
  mutable double cpu_us_ = 0;
};

std::string Verdict(bool met) { return met ? "met" : "MISSED"; }

// The goals for one collision-aware row, against the baselines' means.
void ReportGoals(const ClearBenchRow& row, const std::vector<ClearBenchRow>& rows, std::ostream& out) {
  const double rate =
      row.targets > 0 ? 100.0 * static_cast<double>(row.successes) / static_cast<double>(row.targets) : 0;
  out << "- " << row.solver << ": success " << Formatted("%.2f %%", rate)
      << " >= 99.5 %: " << Verdict(rate >= 99.5) << "; converged in collision " << row.converged_in_collision
      << " = 0: " << Verdict(row.converged_in_collision == 0) << "; mean "
      << Formatted("%.1f us", row.mean_us) << " <= 60 us: " << Verdict(row.mean_us <= 60.0) << " (CPU "
      << Formatted("%.1f us", row.cpu_mean_us) << ")";
  for (const ClearBenchRow& other : rows) {
    if (other.solver.find("+check") == std::string::npos) continue;
    const double ratio = row.mean_us > 0 ? other.mean_us / row.mean_us : 0;
    const double cpu_ratio = row.cpu_mean_us > 0 ? other.cpu_mean_us / row.cpu_mean_us : 0;
    out << "; " << Formatted("%.1f", ratio) << " x faster than " << other.solver
        << " (>= 5 x): " << Verdict(ratio >= 5.0) << " (CPU " << Formatted("%.1f x", cpu_ratio) << ")";
  }
  out << "\n";
}

}  // namespace

void RunClearBench(const ClearBenchCommandOptions& options, std::ostream& out, std::ostream& log) {
  const std::string load_before = LoadAverage();
  // The solvers' world (spheres + the exact check that verifies their answers), and a second exact
  // check built apart: it draws the targets, judges every answer and is the baselines' check.
  CollisionWorld world = MakeCollisionWorld(options.setup, log);
  std::ostringstream quiet;
  CollisionWorld judge_world = MakeCollisionWorld(options.setup, quiet);
  const CollisionChecker& judge = *judge_world.exact;
  // The kinematic chain is the arm's (`--arm`: the built-in one) or the model's, as `solve` uses
  // it; the geometry's URDF chain may end at another tip frame (panda: the hand), and the
  // collision checks depend on the joint values alone.
  std::shared_ptr<const IkModel> model;
  if (!options.model_path.empty()) model = std::make_shared<const IkModel>(IkModel::Load(options.model_path));
  const Chain chain = model ? model->chain() : LoadArm(options.setup.geometry.arm);
  if (chain.num_joints() != world.spheres->chain().num_joints())
    throw InputError("--model: expected a model of " + world.spheres->chain().name() + ", got one of " +
                     chain.name());
  ClearBenchOptions bench;
  bench.count = options.count;
  bench.seed = options.seed;
  log << "bench: drawing " << bench.count << " clear configurations (seed " << bench.seed << ")\n";
  const ClearBenchTargets targets = MakeClearBenchTargets(chain, judge, bench);
  const double budget = options.settings.pose.timeout_seconds;
  const CollisionSolveOptions clear;
  std::vector<ClearBenchRow> rows;
  const auto run = [&](const Solver& solver, const std::string& label) {
    log << "bench: " << label << "...\n";
    rows.push_back(BenchClearSolver(solver, targets, judge, bench));
    rows.back().solver = label;
  };
  // A collision-aware solver whose exact check counts its calls and their time.
  std::vector<std::string> profile;
  const auto run_aware = [&](const std::string& name, CollisionWorld aware, const std::string& label) {
    auto counting = std::make_unique<CountingChecker>(std::move(aware.exact));
    const CountingChecker* counter = counting.get();
    aware.exact = std::move(counting);
    const ClearSolver solver(MakeSolver(name, chain, model, options.settings), std::move(aware),
                             options.settings.pose, clear);
    run(solver, label);
    profile.push_back(label + ": " + counter->Summary(rows.back(), bench.Warmup()));
  };
  run_aware("lm", std::move(world), kReference);
  if (model) run_aware("refined", MakeCollisionWorld(options.setup, quiet), "refined (collision-aware)");
  run(*MakeSolver("lm", chain, nullptr, options.settings), "lm (collisions off)");
  SolverSettings one_start = options.settings;
  one_start.pose.max_starts = 1;
  run(CheckRestartSolver(MakeSolver("lm", chain, nullptr, one_start), &judge, budget, kRestartSeed),
      "lm+check");
  KdlOptions kdl = MoveItKdlOptions();
  kdl.max_attempts = 1;
  run(CheckRestartSolver(MakeKdlSolver(chain, KdlMethod::kNewtonRaphsonJlRestarts, kdl), &judge, budget,
                         kRestartSeed),
      "kdl-nr-restarts+check");
  const bool scene = options.setup.mode == CollisionMode::kAll;
  const double drawn_clear = 100.0 * static_cast<double>(targets.targets.size()) /
                             static_cast<double>(std::max<int64_t>(targets.draws, 1));
  out << "Arm " << chain.name() << " (" << chain.num_joints() << " joints), collisions "
      << (scene ? "all: self + scene " + options.setup.scene_path : std::string("self"))
      << (model ? ", model " + options.model_path : std::string()) << "; seed " << bench.seed << "; "
      << targets.targets.size() << " FK poses of uniform configurations clear by FCL ("
      << Formatted("%.2f %%", drawn_clear) << " of " << targets.draws << " drawn); budget " << 1e3 * budget
      << " ms per target; success: position error <= 1e-5 m and angle error <= 1e-5 rad within the limits "
         "AND "
         "clear by FCL, checked by the bench; one thread; load average before "
      << load_before << ", after " << LoadAverage() << ".\n\n"
      << ClearBenchMarkdown(rows, kReference) << "\nGoals (issue 23):\n";
  for (const ClearBenchRow& row : rows)
    if (row.solver.find("collision-aware") != std::string::npos) ReportGoals(row, rows, out);
  out << "Where the time goes:\n";
  for (const std::string& line : profile) out << "- " << line << "\n";
  out << "(+check: the baseline MoveIt runs, one attempt from a seeded uniform start, the FCL check, again "
         "until clear or the budget is spent; its iterations column counts attempts. lm (collisions off): "
         "plain lm, which ignores collisions: its answers in collision are what the others avoid.)\n";
}

}  // namespace deepik::cli
