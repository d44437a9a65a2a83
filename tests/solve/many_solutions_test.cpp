// Several exact solutions per target: every one reaches its target by FK within the limits, they
// are pairwise distinct, and on the seed arm they cover both elbow branches.
#include "deepik/solve/many_solutions.hpp"

#include <gtest/gtest.h>

#include <Eigen/Geometry>
#include <cmath>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "deepik/errors.hpp"
#include "deepik/kinematics/builtin_arms.hpp"
#include "deepik/kinematics/fk.hpp"
#include "deepik/learn/model.hpp"
#include "deepik/solve/pose_refine.hpp"
#include "deepik/solve/solvers.hpp"
#include "test_util.hpp"

namespace deepik {
namespace {

constexpr double kPi = 3.14159265358979323846;
const std::string kSeedModel = std::string(DEEPIK_SOURCE_DIR) + "/models/seed-default.safetensors";

// The distance of two configurations computed independently of JointDistance: every joint whose
// range spans a full turn compared through atan2 of the sine and cosine of the difference.
double WrappedDistance(const Chain& chain, const Eigen::VectorXd& a, const Eigen::VectorXd& b) {
  double sum = 0;
  for (int j = 0; j < chain.num_joints(); ++j) {
    double d = a[j] - b[j];
    if (chain.joint(j).upper - chain.joint(j).lower >= 2 * kPi - 1e-9)
      d = std::atan2(std::sin(d), std::cos(d));
    sum += d * d;
  }
  return std::sqrt(sum);
}

// Every solution exact by FK, within the limits, and pairwise distinct.
void ExpectExactAndDistinct(const Chain& chain, const IkTarget& target, const ManySolutions& many,
                            double min_distance, double tolerance) {
  ASSERT_TRUE(many.exact());
  for (size_t i = 0; i < many.solutions.size(); ++i) {
    const SolveResult& s = many.solutions[i];
    EXPECT_EQ(s.status, SolveStatus::kConverged);
    EXPECT_TRUE(chain.WithinLimits(s.q)) << "solution " << i;
    const Eigen::Isometry3d X = TipPose(chain, s.q);
    EXPECT_LE((X.translation() - target.p_BT).norm(), tolerance) << "solution " << i;
    if (target.Q_BT) {
      const double angle =
          Eigen::AngleAxisd(target.Q_BT->toRotationMatrix().transpose() * X.linear()).angle();
      EXPECT_LE(angle, tolerance) << "solution " << i;
    }
    for (size_t k = 0; k < i; ++k) {
      EXPECT_GE(WrappedDistance(chain, s.q, many.solutions[k].q), min_distance * (1 - 1e-12))
          << "solutions " << k << " and " << i;
    }
  }
}

TEST(JointDistance, WrapsFullTurnJointsOnly) {
  const Chain chain = MakeSeedArm();  // joints 0 and 2 are full turns, 1 and 3 are not
  Eigen::VectorXd a = Eigen::VectorXd::Zero(4), b = Eigen::VectorXd::Zero(4);
  a[0] = 3.0;
  b[0] = -3.0;  // 6 rad apart, 2 pi - 6 after wrapping
  EXPECT_NEAR(JointDistance(chain, a, b), 2 * kPi - 6.0, 1e-12);
  a.setZero();
  b.setZero();
  a[1] = 1.0;
  b[1] = -1.0;
  b[3] = 1.0;
  EXPECT_NEAR(JointDistance(chain, a, b), std::sqrt(5.0), 1e-12);
  EXPECT_THROW((void)JointDistance(chain, a, Eigen::VectorXd::Zero(3)), std::invalid_argument);
}

TEST(SolveMany, SeedArmPositionsModelFree) {
  const Chain chain = MakeSeedArm();
  const std::unique_ptr<Solver> lm = MakeSolver("lm", chain, nullptr, SolverSettings{});
  ManySolutionsOptions options;
  options.solutions = 8;
  std::mt19937_64 rng(11);
  for (int t = 0; t < 20; ++t) {
    const IkTarget target(TipPosition(chain, testing::RandomConfiguration(chain, &rng)));
    const ManySolutions many = SolveMany(*lm, target, options, SolverSettings{});
    ExpectExactAndDistinct(chain, target, many, options.min_distance, 1e-8);
    EXPECT_EQ(static_cast<int>(many.solutions.size()), options.solutions) << "target " << t;
    EXPECT_LE(many.starts, 10 * options.solutions + 10);
  }
}

TEST(SolveMany, SeedArmPositionsRefinedWithModel) {
  const IkModel model = IkModel::Load(kSeedModel);
  const std::unique_ptr<Solver> refined = MakeSolver("refined", model.chain(), &model, SolverSettings{});
  const Chain& chain = model.chain();
  ManySolutionsOptions options;
  options.solutions = 5;
  options.min_distance = 0.3;
  std::mt19937_64 rng(12);
  for (int t = 0; t < 10; ++t) {
    const IkTarget target(TipPosition(chain, testing::RandomConfiguration(chain, &rng)));
    const ManySolutions many = SolveMany(*refined, target, options, SolverSettings{});
    ExpectExactAndDistinct(chain, target, many, options.min_distance, 1e-8);
    EXPECT_EQ(static_cast<int>(many.solutions.size()), options.solutions);
    // The first solution is the refined network's own answer.
    const SolveResult single = refined->Solve(target);
    EXPECT_LE((many.solutions.front().q - single.q).norm(), 1e-12);
  }
}

// The elbow of the seed arm sits on a circle around the base-target line (|elbow| = L1, |tip -
// elbow| = L2): "elbow up" above the line, "elbow down" below it. Both exist for these targets
// (the whole circle lies in the shoulder's hemisphere z >= 0 and the bend is within 135 deg);
// independently, the elbow pitch can take either sign (elbow yaw turns by pi).
TEST(SolveMany, SeedArmSolutionsCoverBothElbowBranches) {
  const Chain chain = MakeSeedArm();
  const std::unique_ptr<Solver> lm = MakeSolver("lm", chain, nullptr, SolverSettings{});
  ManySolutionsOptions options;
  options.solutions = 12;
  options.min_distance = 0.2;
  for (const Eigen::Vector3d p : {Eigen::Vector3d(1.0, 0.0, 1.0), Eigen::Vector3d(0.3, -0.8, 1.2),
                                  Eigen::Vector3d(-0.6, 0.5, 1.1), Eigen::Vector3d(0.0, 0.2, 1.6)}) {
    const IkTarget target(p);
    const ManySolutions many = SolveMany(*lm, target, options, SolverSettings{});
    ExpectExactAndDistinct(chain, target, many, options.min_distance, 1e-8);
    // "Up" in the vertical plane through the base-target line: the unit vector orthogonal to p
    // in the plane spanned by p and z.
    const Eigen::Vector3d axis = p.normalized();
    const Eigen::Vector3d up = (Eigen::Vector3d::UnitZ() - axis.z() * axis).normalized();
    int elbow_up = 0, elbow_down = 0, pitch_positive = 0, pitch_negative = 0;
    for (const SolveResult& s : many.solutions) {
      const Eigen::Vector3d elbow(std::cos(s.q[0]) * std::sin(s.q[1]), std::sin(s.q[0]) * std::sin(s.q[1]),
                                  std::cos(s.q[1]));  // Rz(q0) Ry(q1) (0, 0, L1), L1 = 1
      const double height = (elbow - elbow.dot(axis) * axis).dot(up);
      (height > 0 ? elbow_up : elbow_down) += 1;
      (s.q[3] > 0 ? pitch_positive : pitch_negative) += 1;
    }
    EXPECT_GT(elbow_up, 0) << p.transpose();
    EXPECT_GT(elbow_down, 0) << p.transpose();
    EXPECT_GT(pitch_positive, 0) << p.transpose();
    EXPECT_GT(pitch_negative, 0) << p.transpose();
  }
}

TEST(SolveMany, PandaPosesModelFree) {
  const Chain chain = MakePanda();
  SolverSettings settings;
  settings.pose.timeout_seconds = 0.05;  // generous: the test must not depend on the machine's load
  const std::unique_ptr<Solver> lm = MakeSolver("lm", chain, nullptr, settings);
  ManySolutionsOptions options;
  options.solutions = 6;
  std::mt19937_64 rng(13);
  for (int t = 0; t < 8; ++t) {
    const Eigen::Isometry3d X = TipPose(chain, testing::RandomConfiguration(chain, &rng));
    const IkTarget target(X.translation(), Eigen::Quaterniond(X.linear()));
    const ManySolutions many = SolveMany(*lm, target, options, settings);
    ExpectExactAndDistinct(chain, target, many, options.min_distance, 1e-8);
    EXPECT_EQ(static_cast<int>(many.solutions.size()), options.solutions) << "target " << t;
  }
}

// A solver that proposes given starts (as a multi-head model's refined solver proposes its other
// heads) and otherwise solves as lm.
class ProposingSolver final : public Solver {
 public:
  ProposingSolver(const Chain& chain, std::vector<Eigen::VectorXd> proposals)
      : lm_(chain), proposals_(std::move(proposals)) {}
  std::string name() const override { return "proposing"; }
  const Chain& chain() const override { return lm_.chain(); }
  SolveResult Solve(const IkTarget& target, const Eigen::VectorXd* q_start) const override {
    return lm_.Solve(target, q_start);
  }
  std::vector<Eigen::VectorXd> ProposeStarts(const IkTarget&) const override { return proposals_; }

 private:
  LmSolver lm_;
  std::vector<Eigen::VectorXd> proposals_;
};

// The proposed starts come right after the solver's own answer, before any uniform start: with
// proposals that are exact solutions already (the seed arm's other three branches of a known
// configuration), K = 4 and 4 starts in all give exactly the answer and the proposals, in order.
TEST(SolveMany, ProposedStartsComeBeforeUniformStarts) {
  const Chain chain = MakeSeedArm();
  Eigen::VectorXd q(4);
  q << 0.4, 0.6, -1.0, 1.1;
  const IkTarget target(TipPosition(chain, q));
  const auto turn = [](double a) { return std::remainder(a + kPi, 2 * kPi); };
  std::vector<Eigen::VectorXd> proposals(3, q);
  proposals[0] << turn(q[0]), -q[1], turn(q[2]), q[3];  // the shoulder the other way round
  proposals[1] << q[0], q[1], turn(q[2]), -q[3];        // the elbow the other way round
  proposals[2] << turn(q[0]), -q[1], q[2], -q[3];       // both
  for (const Eigen::VectorXd& p : proposals) ASSERT_LE((TipPosition(chain, p) - target.p_BT).norm(), 1e-12);
  const ProposingSolver solver(chain, proposals);
  ManySolutionsOptions options;
  options.solutions = 4;
  options.max_starts = 4;
  const ManySolutions many = SolveMany(solver, target, options, SolverSettings{});
  ExpectExactAndDistinct(chain, target, many, options.min_distance, 1e-8);
  ASSERT_EQ(many.solutions.size(), 4u);
  EXPECT_EQ(many.starts, 4);
  for (size_t i = 0; i < proposals.size(); ++i) {
    EXPECT_LE(WrappedDistance(chain, many.solutions[i + 1].q, proposals[i]), 1e-9) << "proposal " << i;
  }
}

// The shipped 8-head Panda pose model: its answer is the head closest by FK (position error + 0.1
// m/rad x angle, computed here from FK directly), the other 7 heads are proposed as starts, and
// the solutions are exact and distinct.
TEST(SolveMany, PandaPosesFromTheMultiHeadModel) {
  const IkModel model =
      IkModel::Load(std::string(DEEPIK_SOURCE_DIR) + "/models/panda-pose-heads.safetensors");
  ASSERT_EQ(model.heads(), 8);
  const Chain& chain = model.chain();
  const std::unique_ptr<Solver> refined = MakeSolver("refined", chain, &model, SolverSettings{});
  ManySolutionsOptions options;
  options.solutions = 8;
  std::mt19937_64 rng(15);
  for (int t = 0; t < 8; ++t) {
    const Eigen::Isometry3d X = TipPose(chain, testing::RandomConfiguration(chain, &rng));
    const Eigen::Matrix3d R = X.linear();
    const IkTarget target(X.translation(), Eigen::Quaterniond(R));
    int best = -1;
    const Eigen::MatrixXd heads = model.PredictHeads(X.translation(), &R, &best);
    ASSERT_EQ(heads.cols(), 8);
    double least = 1e300;
    int expected = -1;
    for (int h = 0; h < 8; ++h) {
      const Eigen::Isometry3d Y = TipPose(chain, heads.col(h));
      const double angle = Eigen::AngleAxisd(R.transpose() * Y.linear()).angle();
      const double error = (Y.translation() - X.translation()).norm() + 0.1 * angle;
      if (error < least) {
        least = error;
        expected = h;
      }
    }
    EXPECT_EQ(best, expected) << "target " << t;
    EXPECT_EQ((model.Predict(X.translation(), R) - heads.col(expected)).norm(), 0.0) << "target " << t;
    const std::vector<Eigen::VectorXd> starts = refined->ProposeStarts(target);
    ASSERT_EQ(starts.size(), 7u);
    for (const Eigen::VectorXd& start : starts) EXPECT_GT((start - heads.col(expected)).norm(), 0.0);
    const ManySolutions many = SolveMany(*refined, target, options, SolverSettings{});
    ExpectExactAndDistinct(chain, target, many, options.min_distance, 1e-8);
    EXPECT_EQ(static_cast<int>(many.solutions.size()), options.solutions) << "target " << t;
  }
}

TEST(SolveMany, ClosestToStartOrdersByDistance) {
  const Chain chain = MakePanda();
  const std::unique_ptr<Solver> lm = MakeSolver("lm", chain, nullptr, SolverSettings{});
  std::mt19937_64 rng(14);
  const Eigen::VectorXd q_true = testing::RandomConfiguration(chain, &rng);
  const IkTarget target(TipPosition(chain, q_true));  // position only: 4-D self-motion
  ManySolutionsOptions options;
  options.solutions = 10;
  options.order = SolutionOrder::kClosestToStart;
  const Eigen::VectorXd q_start = testing::RandomConfiguration(chain, &rng);
  const ManySolutions many = SolveMany(*lm, target, options, SolverSettings{}, &q_start);
  ExpectExactAndDistinct(chain, target, many, options.min_distance, 1e-8);
  for (size_t i = 1; i < many.solutions.size(); ++i) {
    EXPECT_LE(WrappedDistance(chain, many.solutions[i - 1].q, q_start),
              WrappedDistance(chain, many.solutions[i].q, q_start) + 1e-12);
  }
}

TEST(SolveMany, OutOfReachGivesTheOneClosestAnswer) {
  const Chain chain = MakeSeedArm();
  const std::unique_ptr<Solver> lm = MakeSolver("lm", chain, nullptr, SolverSettings{});
  ManySolutionsOptions options;
  options.solutions = 10;
  const ManySolutions many =
      SolveMany(*lm, IkTarget(Eigen::Vector3d(3.0, 0.0, 0.5)), options, SolverSettings{});
  ASSERT_EQ(many.solutions.size(), 1u);
  EXPECT_FALSE(many.exact());
  EXPECT_EQ(many.solutions.front().status, SolveStatus::kOutOfReach);
  EXPECT_EQ(many.starts, 1);
}

TEST(SolveMany, BatchMatchesOneByOne) {
  const Chain chain = MakeSeedArm();
  const std::unique_ptr<Solver> lm = MakeSolver("lm", chain, nullptr, SolverSettings{});
  ManySolutionsOptions options;
  options.solutions = 4;
  std::mt19937_64 rng(15);
  std::vector<IkTarget> targets;
  for (int t = 0; t < 6; ++t)
    targets.emplace_back(TipPosition(chain, testing::RandomConfiguration(chain, &rng)));
  const std::vector<ManySolutions> batch = SolveManyBatch(*lm, targets, options, SolverSettings{}, 2);
  ASSERT_EQ(batch.size(), targets.size());
  for (size_t t = 0; t < targets.size(); ++t) {
    const ManySolutions one = SolveMany(*lm, targets[t], options, SolverSettings{});
    ASSERT_EQ(batch[t].solutions.size(), one.solutions.size());
    for (size_t i = 0; i < one.solutions.size(); ++i) EXPECT_EQ(batch[t].solutions[i].q, one.solutions[i].q);
  }
  EXPECT_THROW((void)SolveManyBatch(*lm, targets, options, SolverSettings{}, 1, {Eigen::VectorXd::Zero(4)}),
               std::invalid_argument);
}

TEST(SolveMany, RefusesBadInput) {
  const Chain chain = MakeSeedArm();
  const std::unique_ptr<Solver> lm = MakeSolver("lm", chain, nullptr, SolverSettings{});
  const IkTarget target(Eigen::Vector3d(1.0, 0.0, 1.0));
  ManySolutionsOptions options;
  options.solutions = 0;
  EXPECT_THROW((void)SolveMany(*lm, target, options, SolverSettings{}), std::invalid_argument);
  options.solutions = 2;
  options.min_distance = -1;
  EXPECT_THROW((void)SolveMany(*lm, target, options, SolverSettings{}), std::invalid_argument);
  options.min_distance = 0.1;
  const Eigen::VectorXd wrong = Eigen::VectorXd::Zero(3);
  EXPECT_THROW((void)SolveMany(*lm, target, options, SolverSettings{}, &wrong), std::invalid_argument);
  const IkModel model = IkModel::Load(kSeedModel);
  const std::unique_ptr<Solver> network = MakeSolver("network", model.chain(), &model, SolverSettings{});
  EXPECT_THROW((void)SolveMany(*network, target, options, SolverSettings{}), InputError);
}

}  // namespace
}  // namespace deepik
