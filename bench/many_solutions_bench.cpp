// Several exact solutions per target (solve --solutions K): time to K = 1, 10, 100 and the
// solutions' diversity, for the model-free solver and for models (multi-head ones propose their
// heads as the first starts), side by side in one run on the same seeded targets:
//   build/bench/deepik_bench_many seed [--model M]... [--targets 100] [--seed 1] [--threads 1]
//       [--k 1,10,100] [--min-distance 0.1] [--repeats 3]
//   build/bench/deepik_bench_many panda --model models/panda-pose.safetensors
// Targets: FK of joint values uniform within the limits (std::mt19937_64(seed)): positions on
// the seed arm, full poses on any other arm. Diversity: the mean pairwise JointDistance of a
// target's solutions, and the share of the target's self-motion cells they hit (self_motion.hpp:
// the seed arm's elbow angle x 4 branches, 36 bins of 10 deg; other arms: 36 bins of the last
// joint's range, feasibility from 30 bin-restricted LM starts per bin). Time: the least wall time
// of --repeats runs, after a warm-up run of every solver. Prints Markdown tables.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <iomanip>
#include <iostream>
#include <limits>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "deepik/data/random.hpp"
#include "deepik/kinematics/builtin_arms.hpp"
#include "deepik/kinematics/fk.hpp"
#include "deepik/learn/model.hpp"
#include "deepik/solve/many_solutions.hpp"
#include "deepik/solve/self_motion.hpp"
#include "deepik/solve/solvers.hpp"

namespace deepik {
namespace {

constexpr int kBins = 36;

struct Options {
  std::string arm;
  std::vector<std::string> models;
  int targets = 100;
  uint64_t seed = 1;
  int threads = 1;
  std::vector<int> ks = {1, 10, 100};
  double min_distance = 0.1;
  int repeats = 3;
};

[[noreturn]] void Usage(const std::string& message) {
  std::cerr << "deepik_bench_many: " << message
            << "\nusage: deepik_bench_many ARM [--model M]... [--targets N] [--seed S] [--threads T] "
               "[--k 1,10,100] [--min-distance D] [--repeats R]\n";
  std::exit(2);
}

Options Parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) Usage(arg + ": expected a value");
      return argv[++i];
    };
    if (arg == "--model") {
      o.models.push_back(value());
    } else if (arg == "--targets") {
      o.targets = std::stoi(value());
    } else if (arg == "--seed") {
      o.seed = std::stoull(value());
    } else if (arg == "--threads") {
      o.threads = std::stoi(value());
    } else if (arg == "--repeats") {
      o.repeats = std::stoi(value());
    } else if (arg == "--min-distance") {
      o.min_distance = std::stod(value());
    } else if (arg == "--k") {
      o.ks.clear();
      std::stringstream list(value());
      for (std::string k; std::getline(list, k, ',');) o.ks.push_back(std::stoi(k));
    } else if (!arg.empty() && arg[0] != '-' && o.arm.empty()) {
      o.arm = arg;
    } else {
      Usage("unknown argument '" + arg + "'");
    }
  }
  if (o.arm.empty()) Usage("expected an arm (seed, panda, ...)");
  if (o.targets < 1 || o.threads < 1 || o.repeats < 1 || o.ks.empty())
    Usage("expected --targets, --threads, --repeats, --k >= 1");
  return o;
}

std::vector<IkTarget> MakeTargets(const Chain& chain, bool poses, int count, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<IkTarget> targets;
  Eigen::VectorXd q(chain.num_joints());
  for (int i = 0; i < count; ++i) {
    UniformConfiguration(chain, &rng, q);
    const Eigen::Isometry3d X_BT = TipPose(chain, q);
    targets.push_back(poses ? IkTarget(X_BT.translation(), Eigen::Quaterniond(X_BT.linear()))
                            : IkTarget(X_BT.translation()));
  }
  return targets;
}

// The per-target self-motion cells and the cell of a solution.
class Cells {
 public:
  Cells(const Chain& chain, const std::vector<IkTarget>& targets, const SolverSettings& settings)
      : chain_(chain), seed_arm_(SeedArmOptionsOf(chain).has_value()) {
    for (size_t t = 0; t < targets.size(); ++t) {
      cells_.push_back(seed_arm_ ? SeedArmSelfMotionCells(chain, targets[t].p_BT, kBins)
                                 : JointBinCells(chain, targets[t], chain.num_joints() - 1, kBins, 30,
                                                 1000 + t, settings));
    }
  }
  int Of(const IkTarget& target, const Eigen::VectorXd& q) const {
    return seed_arm_ ? SeedArmSelfMotionCell(chain_, target.p_BT, q, kBins)
                     : JointBinCell(chain_, chain_.num_joints() - 1, kBins, q);
  }
  const SelfMotionCells& operator[](size_t t) const { return cells_[t]; }
  std::string Description() const {
    return seed_arm_ ? "elbow angle (36 bins) x 4 branches" : "last joint, 36 bins";
  }
  double MeanFeasibleShare() const {
    double sum = 0;
    for (const SelfMotionCells& c : cells_) sum += static_cast<double>(c.FeasibleCount()) / c.feasible.size();
    return sum / static_cast<double>(cells_.size());
  }

 private:
  const Chain& chain_;
  bool seed_arm_;
  std::vector<SelfMotionCells> cells_;
};

struct Row {
  double seconds = 0, solutions = 0, starts = 0, diversity = 0, coverage = 0;
  int exact_targets = 0;
};

Row Measure(const Solver& solver, const std::vector<IkTarget>& targets, const Cells& cells, int k,
            const Options& o, const SolverSettings& settings) {
  ManySolutionsOptions many;
  many.solutions = k;
  many.min_distance = o.min_distance;
  // The least wall time of `repeats` runs (the same answers each time: every start is seeded).
  std::vector<ManySolutions> results;
  Row row;
  row.seconds = std::numeric_limits<double>::infinity();
  for (int r = 0; r < o.repeats; ++r) {
    const auto start = std::chrono::steady_clock::now();
    results = SolveManyBatch(solver, targets, many, settings, o.threads);
    row.seconds = std::min(row.seconds,
                           std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  const Chain& chain = solver.chain();
  int diverse_targets = 0;
  for (size_t t = 0; t < results.size(); ++t) {
    row.starts += results[t].starts;
    if (!results[t].exact()) continue;
    ++row.exact_targets;
    const std::vector<SolveResult>& s = results[t].solutions;
    row.solutions += static_cast<double>(s.size());
    std::vector<int> hit;
    for (const SolveResult& r : s) hit.push_back(cells.Of(targets[t], r.q));
    row.coverage += cells[t].Coverage(hit);
    if (s.size() < 2) continue;
    double sum = 0;
    int pairs = 0;
    for (size_t i = 0; i < s.size(); ++i) {
      for (size_t j = 0; j < i; ++j, ++pairs) sum += JointDistance(chain, s[i].q, s[j].q);
    }
    row.diversity += sum / pairs;
    ++diverse_targets;
  }
  const double n = static_cast<double>(targets.size());
  row.solutions /= n;
  row.starts /= n;
  row.coverage /= n;
  row.diversity = diverse_targets > 0 ? row.diversity / diverse_targets : 0;
  return row;
}

double Median(std::vector<double> values) {
  std::nth_element(values.begin(), values.begin() + values.size() / 2, values.end());
  return values[values.size() / 2];
}

// A multi-head model's heads by themselves on the targets: each head's median errors and how
// often it is the answer (the head closest by FK), and the median largest distance between heads.
void PrintHeads(const std::string& path, const IkModel& model, const std::vector<IkTarget>& targets) {
  const int heads = model.heads();
  const Chain& chain = model.chain();
  std::vector<std::vector<double>> position(heads), angle(heads);
  std::vector<int> wins(heads, 0);
  std::vector<double> spread;
  for (const IkTarget& target : targets) {
    const bool pose = model.target() == TargetKind::kPose;
    const Eigen::Matrix3d R = pose ? target.Q_BT->toRotationMatrix() : Eigen::Matrix3d::Identity();
    int best = 0;
    const Eigen::MatrixXd q = model.PredictHeads(target.p_BT, pose ? &R : nullptr, &best);
    ++wins[best];
    double largest = 0;
    for (int h = 0; h < heads; ++h) {
      const Eigen::Isometry3d X = TipPose(chain, q.col(h));
      position[h].push_back((X.translation() - target.p_BT).norm());
      if (pose) angle[h].push_back(RotationAngleBetween(R, X.linear()));
      for (int k = 0; k < h; ++k) largest = std::max(largest, JointDistance(chain, q.col(h), q.col(k)));
    }
    spread.push_back(largest);
  }
  std::cout << "\n"
            << path << ": " << heads << " heads, median largest distance between two heads "
            << std::setprecision(2) << Median(spread) << " rad\n\n| head | median position error (mm) |"
            << (model.target() == TargetKind::kPose ? " median angle error (deg) |" : "")
            << " the answer for (share of targets) |\n|---|---|"
            << (model.target() == TargetKind::kPose ? "---|" : "") << "---|\n";
  for (int h = 0; h < heads; ++h) {
    std::cout << "| " << h << " | " << std::setprecision(1) << 1e3 * Median(position[h]) << " | ";
    if (model.target() == TargetKind::kPose) std::cout << Median(angle[h]) * 180 / M_PI << " | ";
    std::cout << std::setprecision(3) << static_cast<double>(wins[h]) / targets.size() << " |\n";
  }
}

int Main(int argc, char** argv) {
  const Options o = Parse(argc, argv);
  const Chain chain = MakeBuiltinArm(o.arm);
  const bool poses = !SeedArmOptionsOf(chain).has_value();
  const SolverSettings settings;
  const std::vector<IkTarget> targets = MakeTargets(chain, poses, o.targets, o.seed);
  const Cells cells(chain, targets, settings);
  std::cout << o.targets << " " << (poses ? "poses" : "positions") << " of " << chain.name() << " (seed "
            << o.seed << "), " << o.threads << " thread(s), distinct = " << o.min_distance
            << " rad apart; self-motion cells: " << cells.Description() << ", feasible on average "
            << std::fixed << std::setprecision(3) << cells.MeanFeasibleShare() << " of them\n\n";
  std::vector<std::pair<std::string, std::unique_ptr<Solver>>> solvers;
  solvers.emplace_back("lm (no model)", MakeSolver("lm", chain, nullptr, settings));
  std::vector<IkModel> models;
  models.reserve(o.models.size());
  for (const std::string& path : o.models) {
    models.push_back(IkModel::Load(path));
    const std::string heads =
        models.back().heads() > 1 ? ", " + std::to_string(models.back().heads()) + " heads" : "";
    solvers.emplace_back("refined (" + path + heads + ")",
                         MakeSolver("refined", chain, &models.back(), settings));
    if (models.back().heads() > 1) PrintHeads(path, models.back(), targets);
  }
  std::cout << "\n";
  for (const auto& [name, solver] : solvers)
    (void)Measure(*solver, targets, cells, 1, o, settings);  // warm-up
  std::cout
      << "| solver | K | time per target (us) | starts per target | solutions per target | mean pairwise "
         "distance (rad) | self-motion coverage | targets with an exact solution |\n"
         "|---|---|---|---|---|---|---|---|\n";
  for (const int k : o.ks) {
    for (const auto& [name, solver] : solvers) {
      const Row r = Measure(*solver, targets, cells, k, o, settings);
      std::cout << "| " << name << " | " << k << " | " << std::setprecision(1) << 1e6 * r.seconds / o.targets
                << " | " << std::setprecision(1) << r.starts << " | " << r.solutions << " | "
                << std::setprecision(2) << r.diversity << " | " << std::setprecision(3) << r.coverage << " | "
                << r.exact_targets << " |\n"
                << std::flush;
    }
  }
  return 0;
}

}  // namespace
}  // namespace deepik

int main(int argc, char** argv) {
  try {
    return deepik::Main(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "deepik_bench_many: " << e.what() << "\n";
    return 1;
  }
}
