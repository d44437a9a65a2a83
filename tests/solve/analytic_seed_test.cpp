#include "deepik/solve/analytic_seed.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <stdexcept>
#include <vector>

#include "deepik/kinematics/fk.hpp"
#include "test_util.hpp"

namespace deepik {
namespace {

// Two option sets in the exact range besides the defaults: unequal links, small and large pitch
// limits, yaw limits below a full turn (but >= 90 degrees).
SeedArmOptions ShortPitchOptions() {
  SeedArmOptions o;
  o.link1_length = 1.3;
  o.link2_length = 0.7;
  o.shoulder_yaw_limit_deg = 120.0;
  o.shoulder_pitch_limit_deg = 60.0;
  o.elbow_yaw_limit_deg = 100.0;
  o.elbow_pitch_limit_deg = 170.0;
  return o;
}

SeedArmOptions LongSecondLinkOptions() {
  SeedArmOptions o;
  o.link1_length = 0.6;
  o.link2_length = 1.1;
  o.shoulder_yaw_limit_deg = 90.0;
  o.shoulder_pitch_limit_deg = 135.0;
  o.elbow_yaw_limit_deg = 180.0;
  o.elbow_pitch_limit_deg = 45.0;
  return o;
}

// Outside the exact range: the numeric fallback.
SeedArmOptions NarrowYawOptions() {
  SeedArmOptions o;
  o.shoulder_yaw_limit_deg = 60.0;
  o.elbow_yaw_limit_deg = 45.0;
  return o;
}

template <typename Rng>
Eigen::Vector3d RandomPointInBall(double radius, Rng* rng) {
  std::uniform_real_distribution<double> u(-radius, radius);
  for (;;) {
    const Eigen::Vector3d p(u(*rng), u(*rng), u(*rng));
    if (p.norm() <= radius) return p;
  }
}

void ExpectRoundTrips(const SeedArmOptions& options, int count, double tolerance, uint64_t seed) {
  const AnalyticSeedSolver solver(options);
  const Chain& chain = solver.chain();
  std::mt19937_64 rng(seed);
  for (int k = 0; k < count; ++k) {
    const Eigen::VectorXd q = testing::RandomConfiguration(chain, &rng);
    const Eigen::Vector3d p = TipPosition(chain, q);
    const SolveResult result = solver.Solve(IkTarget{p});
    ASSERT_EQ(result.status, SolveStatus::kConverged) << "sample " << k << " p = " << p.transpose();
    ASSERT_TRUE(chain.WithinLimits(result.q)) << "q = " << result.q.transpose();
    ASSERT_LE((TipPosition(chain, result.q) - p).norm(), tolerance) << "q = " << q.transpose();
    ASSERT_LE(result.error, tolerance);
    ASSERT_EQ(solver.Classify(p), SeedReachability::kReachable);
    if (solver.exact()) ASSERT_EQ(result.iterations, 0);
  }
}

TEST(AnalyticSeedTest, RoundTripDefaultOptions) { ExpectRoundTrips(SeedArmOptions(), 10000, 1e-12, 1); }
TEST(AnalyticSeedTest, RoundTripShortPitchOptions) { ExpectRoundTrips(ShortPitchOptions(), 10000, 1e-12, 2); }
TEST(AnalyticSeedTest, RoundTripLongSecondLinkOptions) {
  ExpectRoundTrips(LongSecondLinkOptions(), 10000, 1e-12, 3);
}

TEST(AnalyticSeedTest, RoundTripNumericFallback) {
  EXPECT_FALSE(AnalyticSeedSolver(NarrowYawOptions()).exact());
  ExpectRoundTrips(NarrowYawOptions(), 300, 1e-10, 4);
}

TEST(AnalyticSeedTest, ExactRange) {
  EXPECT_TRUE(AnalyticSeedSolver().exact());
  EXPECT_TRUE(AnalyticSeedSolver(ShortPitchOptions()).exact());
  SeedArmOptions o;
  o.elbow_yaw_limit_deg = 10.0;
  EXPECT_FALSE(AnalyticSeedSolver(o).exact());
  o.elbow_pitch_limit_deg = 0.0;
  EXPECT_TRUE(AnalyticSeedSolver(o).exact());
  o.shoulder_yaw_limit_deg = 89.0;
  EXPECT_FALSE(AnalyticSeedSolver(o).exact());
}

TEST(AnalyticSeedTest, DegenerateTargets) {
  const AnalyticSeedSolver solver;
  // On the z axis, up: yaw 0; fully stretched: the elbow straight.
  SolveResult result = solver.Solve(IkTarget{Eigen::Vector3d(0, 0, 2)});
  EXPECT_EQ(result.status, SolveStatus::kConverged);
  EXPECT_TRUE(result.q.isZero(1e-7)) << result.q.transpose();
  EXPECT_LE(result.error, 1e-12);
  result = solver.Solve(IkTarget{Eigen::Vector3d(0, 0, 1.2)});
  EXPECT_EQ(result.status, SolveStatus::kConverged);
  EXPECT_EQ(result.q[0], 0.0);
  EXPECT_LE(result.error, 1e-12);
  // Negative zero must not turn the yaw around.
  result = solver.Solve(IkTarget{Eigen::Vector3d(-0.0, -0.0, 1.2)});
  EXPECT_EQ(result.q[0], 0.0);
  // Straight out sideways at full stretch: pitch 90, elbow 0.
  result = solver.Solve(IkTarget{Eigen::Vector3d(0, 2, 0)});
  EXPECT_EQ(result.status, SolveStatus::kConverged);
  EXPECT_NEAR(result.q[1], M_PI / 2, 1e-7);
  EXPECT_LE(result.error, 1e-12);

  // The origin is reachable when the links are equal and the elbow folds completely.
  SeedArmOptions folding;
  folding.elbow_pitch_limit_deg = 180.0;
  const AnalyticSeedSolver folding_solver(folding);
  EXPECT_EQ(folding_solver.Classify(Eigen::Vector3d::Zero()), SeedReachability::kReachable);
  result = folding_solver.Solve(IkTarget{Eigen::Vector3d::Zero()});
  EXPECT_EQ(result.status, SolveStatus::kConverged);
  EXPECT_TRUE(folding_solver.chain().WithinLimits(result.q));
  EXPECT_LE(result.error, 1e-12);
}

TEST(AnalyticSeedTest, ClassifyDefaultArm) {
  const AnalyticSeedSolver solver;
  // The elbow bends at most 135 degrees: |p| >= |(0,0,1) + (sin 135, 0, cos 135)| = 0.765 m.
  EXPECT_EQ(solver.Classify(Eigen::Vector3d(0.5, 0, 0)), SeedReachability::kInnerHollow);
  EXPECT_EQ(solver.Classify(Eigen::Vector3d(0, 0.3, -0.4)), SeedReachability::kInnerHollow);
  EXPECT_EQ(solver.Classify(Eigen::Vector3d::Zero()), SeedReachability::kInnerHollow);
  EXPECT_EQ(solver.Classify(Eigen::Vector3d(3, 0, 0)), SeedReachability::kBeyondReach);
  EXPECT_EQ(solver.Classify(Eigen::Vector3d(0, 0, 2.5)), SeedReachability::kBeyondReach);
  // Straight down at 1.9 m: the elbow bends acos(0.805) = 36.4 degrees, so the tip is 18.2
  // degrees past link 1, which is at most 90 degrees from up: 108.2 < 180 degrees. In fact
  // nothing straight below the base is reachable: the tip is at most 90 + 67.5 degrees from up.
  EXPECT_EQ(solver.Classify(Eigen::Vector3d(0, 0, -1.9)), SeedReachability::kBelowAllowed);
  EXPECT_EQ(solver.Classify(Eigen::Vector3d(0, 0, -1.0)), SeedReachability::kBelowAllowed);
  EXPECT_EQ(solver.Classify(Eigen::Vector3d(0, 0, -0.8)), SeedReachability::kBelowAllowed);
  // Link 1 horizontal, link 2 straight down.
  EXPECT_EQ(solver.Classify(Eigen::Vector3d(1, 0, -1)), SeedReachability::kReachable);
  EXPECT_EQ(solver.Classify(Eigen::Vector3d(1, 0, -1.01)), SeedReachability::kBelowAllowed);
  // On the z axis, above: reachable from fully stretched to fully bent.
  EXPECT_EQ(solver.Classify(Eigen::Vector3d(0, 0, 2)), SeedReachability::kReachable);
  EXPECT_EQ(solver.Classify(Eigen::Vector3d(0, 0, 1)), SeedReachability::kReachable);
  EXPECT_EQ(solver.Classify(Eigen::Vector3d(0, 0, 0.8)), SeedReachability::kReachable);
  EXPECT_EQ(solver.Classify(Eigen::Vector3d(2, 0, 0)), SeedReachability::kReachable);
  EXPECT_EQ(solver.Classify(Eigen::Vector3d(-1.2, 0.5, -0.3)), SeedReachability::kReachable);

  // Pitch within 60 degrees: the horizontal at full stretch is out of the allowed cone.
  const AnalyticSeedSolver narrow(ShortPitchOptions());
  EXPECT_EQ(narrow.Classify(Eigen::Vector3d(2, 0, 0)), SeedReachability::kBelowAllowed);
  EXPECT_EQ(narrow.Classify(Eigen::Vector3d(0, 0, 2)), SeedReachability::kReachable);
}

// Out of reach: kOutOfReach, finite, within limits, reaching exactly the claimed closest point.
void ExpectOutOfReachContract(const AnalyticSeedSolver& solver, const Eigen::Vector3d& p) {
  const Chain& chain = solver.chain();
  ASSERT_NE(solver.Classify(p), SeedReachability::kReachable) << p.transpose();
  const SolveResult result = solver.Solve(IkTarget{p});
  EXPECT_EQ(result.status, SolveStatus::kOutOfReach) << p.transpose();
  ASSERT_TRUE(result.q.allFinite());
  EXPECT_TRUE(chain.WithinLimits(result.q)) << result.q.transpose();
  double d_star = -1.0;
  const Eigen::Vector3d closest = solver.ClosestReachablePoint(p, &d_star);
  EXPECT_LE((TipPosition(chain, result.q) - closest).norm(), 1e-12 * std::max(1.0, p.norm()))
      << p.transpose();
  EXPECT_NEAR(result.error, d_star, 1e-12 * std::max(1.0, p.norm()));
  EXPECT_GT(d_star, 0.0);
}

TEST(AnalyticSeedTest, OutOfReachContract) {
  for (const SeedArmOptions& options : {SeedArmOptions(), ShortPitchOptions(), LongSecondLinkOptions()}) {
    const AnalyticSeedSolver solver(options);
    for (const Eigen::Vector3d& p :
         {Eigen::Vector3d(1e4, 0, 0), Eigen::Vector3d(-3e3, 7e3, 4e3), Eigen::Vector3d(0, 0, 1e4),
          Eigen::Vector3d(0, 0, -1e4), Eigen::Vector3d(0, 0, 3), Eigen::Vector3d(0, 0, -0.3),
          Eigen::Vector3d(0, 0, -1.9), Eigen::Vector3d(0, 0, -3), Eigen::Vector3d(0.01, 0, -2)}) {
      ExpectOutOfReachContract(solver, p);
    }
    std::mt19937_64 rng(5);
    for (int k = 0; k < 2000; ++k) {
      const Eigen::Vector3d p = RandomPointInBall(4.0, &rng);
      if (solver.Classify(p) != SeedReachability::kReachable) ExpectOutOfReachContract(solver, p);
    }
  }
  // The origin: in the hollow for the default arm.
  ExpectOutOfReachContract(AnalyticSeedSolver(), Eigen::Vector3d::Zero());
}

TEST(AnalyticSeedTest, FarTargetsStretchTowardThem) {
  const AnalyticSeedSolver solver;
  double d_star = 0.0;
  EXPECT_LE(
      (solver.ClosestReachablePoint(Eigen::Vector3d(1e4, 0, 0), &d_star) - Eigen::Vector3d(2, 0, 0)).norm(),
      1e-12);
  EXPECT_NEAR(d_star, 1e4 - 2, 1e-9);
  // Far below: the lowest reachable points have link 1 horizontal and link 2 straight down.
  const Eigen::Vector3d below = solver.ClosestReachablePoint(Eigen::Vector3d(0, 0, -1e4), &d_star);
  EXPECT_NEAR(below.z(), -1.0, 1e-6);
  EXPECT_NEAR(std::hypot(below.x(), below.y()), 1.0, 1e-3);
  // The origin: the closest points are on the inner hollow sphere.
  solver.ClosestReachablePoint(Eigen::Vector3d::Zero(), &d_star);
  EXPECT_NEAR(d_star, std::sqrt(2.0 - std::sqrt(2.0)), 1e-12);
}

// An independent brute force: the best points of a dense joint grid, each refined by a
// box-constrained damped Newton descent on |FK(q) - p|^2. The grid sits at the cell centres (no
// point on a limit, so a yaw start never sits on the wrong side of +-180 degrees, and a straight
// elbow does not repeat one position for every elbow yaw); the starts are the best grid points
// with distinct positions.
class BruteForce {
 public:
  explicit BruteForce(const Chain& chain) : chain_(chain) {
    const int counts[4] = {36, 18, 36, 27};
    Eigen::VectorXd q(4);
    for (int i0 = 0; i0 < counts[0]; ++i0)
      for (int i1 = 0; i1 < counts[1]; ++i1)
        for (int i2 = 0; i2 < counts[2]; ++i2)
          for (int i3 = 0; i3 < counts[3]; ++i3) {
            const int index[4] = {i0, i1, i2, i3};
            for (int j = 0; j < 4; ++j) {
              q[j] = chain.joint(j).lower +
                     (chain.joint(j).upper - chain.joint(j).lower) * (index[j] + 0.5) / counts[j];
            }
            grid_q_.push_back(q);
            grid_p_.push_back(TipPosition(chain, q));
          }
  }

  double Distance(const Eigen::Vector3d& p) const {
    constexpr size_t kCandidates = 400, kStarts = 16;
    std::vector<std::pair<double, size_t>> order(grid_p_.size());
    for (size_t i = 0; i < grid_p_.size(); ++i) order[i] = {(grid_p_[i] - p).squaredNorm(), i};
    std::partial_sort(order.begin(), order.begin() + kCandidates, order.end());
    std::vector<size_t> starts;
    for (size_t k = 0; k < kCandidates && starts.size() < kStarts; ++k) {
      const Eigen::Vector3d& candidate = grid_p_[order[k].second];
      bool distinct = true;
      for (size_t s : starts) distinct = distinct && (grid_p_[s] - candidate).norm() > 1e-9;
      if (distinct) starts.push_back(order[k].second);
    }
    double best = std::numeric_limits<double>::infinity();
    for (size_t s : starts) best = std::min(best, Refine(p, grid_q_[s]));
    return best;
  }

 private:
  Eigen::VectorXd Gradient(const Eigen::Vector3d& p, const Eigen::VectorXd& q) const {
    return TipJacobian(chain_, q).topRows(3).transpose() * (TipPosition(chain_, q) - p);
  }

  // Damped Newton with a finite-difference Hessian of the exact gradient (Gauss-Newton alone
  // converges only linearly for the large residuals out of reach), clamped to the limits.
  double Refine(const Eigen::Vector3d& p, Eigen::VectorXd q) const {
    const Eigen::VectorXd lo = chain_.lower_limits(), hi = chain_.upper_limits();
    double f = (TipPosition(chain_, q) - p).squaredNorm();
    double lambda = 1e-6;
    for (int it = 0; it < 300 && f > 0; ++it) {
      Eigen::VectorXd g = Gradient(p, q);
      Eigen::MatrixXd H(4, 4);
      for (int i = 0; i < 4; ++i) {
        Eigen::VectorXd dq = Eigen::VectorXd::Zero(4);
        dq[i] = 1e-6;
        H.col(i) = (Gradient(p, q + dq) - Gradient(p, q - dq)) / 2e-6;
      }
      H = (0.5 * (H + H.transpose())).eval();
      for (int i = 0; i < 4; ++i) {
        if ((q[i] <= lo[i] && g[i] > 0) || (q[i] >= hi[i] && g[i] < 0)) {
          H.row(i).setZero();
          H.col(i).setZero();
          H(i, i) = 1;
          g[i] = 0;
        }
      }
      bool improved = false;
      for (; lambda < 1e12; lambda *= 4) {
        const Eigen::LLT<Eigen::MatrixXd> llt(H + lambda * Eigen::MatrixXd::Identity(4, 4));
        if (llt.info() != Eigen::Success) continue;
        const Eigen::VectorXd q_new = (q - llt.solve(g)).cwiseMax(lo).cwiseMin(hi);
        const double f_new = (TipPosition(chain_, q_new) - p).squaredNorm();
        if (f_new < f) {
          improved = (q_new - q).norm() > 1e-15;
          q = q_new;
          f = f_new;
          lambda = std::max(lambda / 4, 1e-12);
          break;
        }
      }
      if (!improved) break;
    }
    return std::sqrt(f);
  }

  const Chain& chain_;
  std::vector<Eigen::VectorXd> grid_q_;
  std::vector<Eigen::Vector3d> grid_p_;
};

// `never_worse` bounds how much farther than the brute force the solver's closest point may be:
// rounding for the closed form, a looser bound for the numeric fallback.
void ExpectClosestMatchesBruteForce(const SeedArmOptions& options, int count, uint64_t seed,
                                    double never_worse = 1e-9) {
  const AnalyticSeedSolver solver(options);
  const BruteForce brute(solver.chain());
  std::mt19937_64 rng(seed);
  std::vector<Eigen::Vector3d> targets = {Eigen::Vector3d::Zero(), Eigen::Vector3d(1e4, 0, 0),
                                          Eigen::Vector3d(0, 0, -1e4), Eigen::Vector3d(0, 0, -1.9),
                                          Eigen::Vector3d(0, 0, 3)};
  // Half in a ball of radius 4, half within 2.2 m where the hollow and the region below lie.
  for (int k = 0; k < count; ++k) targets.push_back(RandomPointInBall(k % 2 == 0 ? 4.0 : 2.2, &rng));
  for (const Eigen::Vector3d& p : targets) {
    double d_closed = -1.0;
    const Eigen::Vector3d closest = solver.ClosestReachablePoint(p, &d_closed);
    const double d_brute = brute.Distance(p);
    const double scale = std::max(1.0, p.norm());
    EXPECT_LE(d_closed, d_brute + never_worse * scale) << "p = " << p.transpose();
    EXPECT_GE(d_closed, d_brute - 1e-6 * scale) << "p = " << p.transpose();
    const SolveResult result = solver.Solve(IkTarget{p});
    EXPECT_LE((result.p_reached - closest).norm(), 1e-12 * scale) << "p = " << p.transpose();
    EXPECT_TRUE(solver.chain().WithinLimits(result.q));
  }
}

TEST(AnalyticSeedTest, ClosestPointMatchesBruteForceDefaultOptions) {
  ExpectClosestMatchesBruteForce(SeedArmOptions(), 300, 11);
}

TEST(AnalyticSeedTest, ClosestPointMatchesBruteForceShortPitchOptions) {
  ExpectClosestMatchesBruteForce(ShortPitchOptions(), 150, 12);
}

TEST(AnalyticSeedTest, ClosestPointMatchesBruteForceLongSecondLinkOptions) {
  ExpectClosestMatchesBruteForce(LongSecondLinkOptions(), 150, 13);
}

TEST(AnalyticSeedTest, NumericFallbackMatchesBruteForce) {
  ExpectClosestMatchesBruteForce(NarrowYawOptions(), 60, 14, 1e-6);
}

TEST(AnalyticSeedTest, NonFiniteTargetFails) {
  const AnalyticSeedSolver solver;
  const SolveResult result = solver.Solve(IkTarget{Eigen::Vector3d(NAN, 0, 0)});
  EXPECT_EQ(result.status, SolveStatus::kFailed);
  EXPECT_TRUE(result.q.allFinite());
  EXPECT_TRUE(solver.chain().WithinLimits(result.q));
  EXPECT_THROW(solver.Classify(Eigen::Vector3d(0, INFINITY, 0)), std::invalid_argument);
  EXPECT_THROW(solver.ClosestReachablePoint(Eigen::Vector3d(0, 0, NAN)), std::invalid_argument);
}

TEST(AnalyticSeedTest, ToStrings) {
  EXPECT_STREQ(ToString(SeedReachability::kReachable), "reachable");
  EXPECT_STREQ(ToString(SeedReachability::kBelowAllowed), "below allowed");
  EXPECT_EQ(AnalyticSeedSolver().name(), "analytic");
}

}  // namespace
}  // namespace deepik
