// The library's solve request: one IsValid that names the offending field with the range every
// front end prints, and one function that runs it by the route its fields choose (Solve, Solve
// from a start, SolveMany), checked against calling that route directly.
#include "deepik/solve/solve_request.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "deepik/kinematics/builtin_arms.hpp"
#include "deepik/kinematics/fk.hpp"
#include "deepik/learn/model.hpp"
#include "deepik/solve/solvers.hpp"
#include "test_util.hpp"

namespace deepik {
namespace {

const std::string kSeedModel = std::string(DEEPIK_SOURCE_DIR) + "/models/seed-default.safetensors";

std::string Refusal(const SolveRequest& request, const Solver* solver = nullptr) {
  std::string error;
  EXPECT_FALSE(request.IsValid(&error, solver));
  return error;
}

std::vector<IkTarget> PandaTargets(int count, uint64_t seed) {
  const Chain chain = MakePanda();
  std::mt19937_64 rng(seed);
  std::vector<IkTarget> targets;
  for (int i = 0; i < count; ++i)
    targets.emplace_back(TipPosition(chain, testing::RandomConfiguration(chain, &rng)));
  return targets;
}

TEST(SolveRequestTest, DefaultsAreValidAndEachRangeIsNamedWithItsLimits) {
  std::string error = "unchanged";
  EXPECT_TRUE(SolveRequest{}.IsValid(&error));
  EXPECT_EQ(error, "");
  const double nan = std::numeric_limits<double>::quiet_NaN();
  struct Case {
    void (*set)(SolveRequest*);
    std::string message;
  };
  const std::vector<Case> cases = {
      {[](SolveRequest* r) { r->threads = 0; }, "threads: expected a whole number in [1, 256], got 0"},
      {[](SolveRequest* r) { r->threads = 257; }, "threads: expected a whole number in [1, 256], got 257"},
      {[](SolveRequest* r) { r->timeout_seconds = 61; },
       "timeout_seconds: expected a number in [1e-06, 60], got 61"},
      {[](SolveRequest* r) { r->position_tolerance = 2; },
       "position_tolerance: expected a number in [1e-15, 1], got 2"},
      {[](SolveRequest* r) { r->angle_tolerance = 0; },
       "angle_tolerance: expected a number in [1e-15, 1], got 0"},
      {[](SolveRequest* r) { r->solutions = -1; },
       "solutions: expected 0 (one answer) or a whole number in [1, 10000]"},
      {[](SolveRequest* r) { r->candidates = 10001; }, "candidates: expected 0 (the default)"},
      {[](SolveRequest* r) { r->min_distance = -0.1; },
       "min_distance: expected a number in [0, 100], got -0.1"},
      {[](SolveRequest* r) { r->posture.avoid_limits = 2e6; },
       "avoid_limits: expected a number in [0, 1e+06]"},
      {[](SolveRequest* r) { r->posture.posture = Eigen::Vector2d(0.1, 1e300); },
       "posture[1]: expected a number in [-1000, 1000], got 1e+300"},
      {[](SolveRequest* r) {
         r->posture.start_weight = 1;
         r->targets = {IkTarget(Eigen::Vector3d(0.3, 0.1, 0.4))};
       },
       "start_weight: expected a start for every target"},
  };
  for (const Case& c : cases) {
    SolveRequest request;
    c.set(&request);
    EXPECT_EQ(Refusal(request).rfind(c.message, 0), 0u) << Refusal(request) << "\nexpected: " << c.message;
  }
  SolveRequest request;
  request.posture.posture_weight = nan;
  EXPECT_EQ(Refusal(request), "posture_weight: expected a number in [0, 1e+06], got nan");
  request = SolveRequest{};
  request.targets = PandaTargets(2, 1);
  request.starts.resize(1);
  EXPECT_EQ(Refusal(request), "starts: expected none or one per target (2), got 1");
  request.starts.clear();
  request.targets[1].p_BT.x() = nan;
  EXPECT_EQ(Refusal(request).rfind("targets[1]: ", 0), 0u) << Refusal(request);
}

TEST(SolveRequestTest, TheSolverDecidesWhatItCanAnswer) {
  const IkModel model = IkModel::Load(kSeedModel);
  const std::unique_ptr<Solver> network = MakeSolver("network", model.chain(), &model, {});
  const std::unique_ptr<Solver> refined = MakeSolver("refined", model.chain(), &model, {});
  const std::unique_ptr<Solver> analytic = MakeSolver("analytic", model.chain(), nullptr, {});
  const std::unique_ptr<Solver> lm = MakeSolver("lm", model.chain(), nullptr, {});
  // The traits, and the name table that answers before a solver exists, agree.
  for (const Solver* s : {network.get(), refined.get(), analytic.get(), lm.get()}) {
    EXPECT_EQ(s->needs_model(), SolverNeedsModel(s->name())) << s->name();
  }
  EXPECT_FALSE(network->exact());
  EXPECT_TRUE(refined->exact() && lm->exact() && analytic->exact());
  EXPECT_TRUE(analytic->position_only());
  EXPECT_FALSE(lm->position_only());
  EXPECT_EQ(refined->proposes_starts(), model.heads() > 1);
  EXPECT_EQ(DefaultSolverName(true), "refined");
  EXPECT_EQ(DefaultSolverName(false), "lm");

  SolveRequest request;
  request.targets = {IkTarget(Eigen::Vector3d(0.3, 0.2, 0.4))};
  EXPECT_TRUE(request.IsValid(nullptr, network.get()));
  request.solutions = 2;
  EXPECT_EQ(Refusal(request, network.get()),
            "solutions, closest_to_start, posture: expected an exact solver (refined, lm, kdl-*), got solver "
            "network");
  EXPECT_TRUE(request.IsValid(nullptr, lm.get()));
  request.solutions = 0;
  request.posture.posture = Eigen::Vector3d::Zero();
  EXPECT_EQ(Refusal(request, lm.get()), "posture: expected 4 joint values, got 3");
  request.posture.posture = Eigen::Vector4d::Zero();
  EXPECT_TRUE(request.IsValid(nullptr, lm.get()));
  request.targets[0].Q_BT = Eigen::Quaterniond::Identity();
  EXPECT_EQ(
      Refusal(request, analytic.get()).rfind("targets[0]: solver analytic solves position-only targets", 0),
      0u);
  request.starts = {Eigen::Vector4d::Constant(100.0)};
  EXPECT_EQ(Refusal(request, lm.get()), "starts[0]: expected joint values within the limits");
  request.starts = {Eigen::Vector3d::Zero()};
  EXPECT_EQ(Refusal(request, lm.get()), "starts[0]: expected 4 joint values, got 3");
  EXPECT_THROW((void)RunSolveRequest(*lm, request), std::invalid_argument);
}

// Each route against the function it stands for, bit for bit.
TEST(SolveRequestTest, RunsTheRouteItsFieldsChoose) {
  const Chain chain = MakePanda();
  SolveRequest request;
  request.targets = PandaTargets(6, 7);
  request.threads = 2;
  request.timeout_seconds = 1.0;  // no load can exhaust it: the answers are the same each run
  const std::unique_ptr<Solver> lm = MakeSolver("lm", chain, nullptr, request.solver_settings());

  std::vector<ManySolutions> answers = RunSolveRequest(*lm, request);
  ASSERT_EQ(answers.size(), request.targets.size());
  for (size_t t = 0; t < answers.size(); ++t) {
    ASSERT_EQ(answers[t].solutions.size(), 1u);
    EXPECT_EQ(answers[t].starts, 1);
    EXPECT_EQ(answers[t].solutions[0].q, lm->Solve(request.targets[t]).q) << t;
  }

  std::mt19937_64 rng(3);
  for (size_t t = 0; t < request.targets.size(); ++t)
    request.starts.push_back(testing::RandomConfiguration(chain, &rng));
  answers = RunSolveRequest(*lm, request);
  for (size_t t = 0; t < answers.size(); ++t) {
    EXPECT_EQ(answers[t].solutions[0].q, lm->Solve(request.targets[t], &request.starts[t]).q) << t;
  }

  request.solutions = 3;
  request.closest_to_start = true;
  const ManySolutionsOptions many = request.many_options();
  EXPECT_EQ(many.solutions, 3);
  EXPECT_EQ(many.candidates, SolveRequest::kDefaultRankedCandidates);
  EXPECT_EQ(many.order, SolutionOrder::kClosestToStart);
  answers = RunSolveRequest(*lm, request);
  const std::vector<ManySolutions> direct =
      SolveManyBatch(*lm, request.targets, many, request.solver_settings(), 1, request.starts);
  for (size_t t = 0; t < answers.size(); ++t) {
    ASSERT_EQ(answers[t].solutions.size(), direct[t].solutions.size()) << t;
    EXPECT_GE(answers[t].solutions.size(), 1u);
    for (size_t k = 0; k < direct[t].solutions.size(); ++k)
      EXPECT_EQ(answers[t].solutions[k].q, direct[t].solutions[k].q) << t << ", " << k;
  }
}

}  // namespace
}  // namespace deepik
