// Chains longer than the refinements' fixed-size fast path (16 joints): 17, 18, 64 and 256 (the
// limit, kMaxJoints) joints on every solver. Each answer is within the limits, and its reported error equals
// the distance of an independent FK (4 x 4 homogeneous products, not the library's chain walk) from the
// target; reachable targets are reached. More joints than kMaxJoints are refused by name.
#include <gtest/gtest.h>

#include <Eigen/Geometry>
#include <cmath>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "deepik/kinematics/chain_json.hpp"
#include "deepik/kinematics/fk.hpp"
#include "deepik/kinematics/joint_configuration.hpp"
#include "deepik/learn/model.hpp"
#include "deepik/solve/many_solutions.hpp"
#include "deepik/solve/pose_refine.hpp"
#include "deepik/solve/posture.hpp"
#include "deepik/solve/refine.hpp"
#include "deepik/solve/solvers.hpp"
#include "deepik/solve/track.hpp"
#include "test_util.hpp"

namespace deepik {
namespace {

// n revolute joints about z, y, x in turn (every fifth prismatic along its z), links of 1/n m in
// varying directions: about 1 m of reach whatever n, limits +-2.5 rad (prismatic 0..1/n m).
Chain LongChain(int n) {
  std::mt19937_64 rng(100 + n);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  std::vector<Joint> joints;
  const Eigen::Vector3d axes[3] = {Eigen::Vector3d::UnitZ(), Eigen::Vector3d::UnitY(),
                                   Eigen::Vector3d::UnitX()};
  for (int j = 0; j < n; ++j) {
    Joint joint;
    joint.name = "j" + std::to_string(j);
    const bool prismatic = j % 5 == 4;
    joint.type = prismatic ? JointType::kPrismatic : JointType::kRevolute;
    joint.axis_J = prismatic ? Eigen::Vector3d::UnitZ() : axes[j % 3];
    joint.lower = prismatic ? 0.0 : -2.5;
    joint.upper = prismatic ? 1.0 / n : 2.5;
    Eigen::Vector3d link(0.3 * u(rng), 0.3 * u(rng), 1.0);
    joint.X_PJ = Eigen::Isometry3d::Identity();
    if (j > 0) joint.X_PJ.translation() = link.normalized() / n;
    joint.X_PJ.linear() = Eigen::AngleAxisd(0.2 * u(rng), Eigen::Vector3d::UnitX()).toRotationMatrix();
    joints.push_back(joint);
  }
  Eigen::Isometry3d X_LT = Eigen::Isometry3d::Identity();
  X_LT.translation() = Eigen::Vector3d(0, 0, 1.0 / n);
  return Chain("long" + std::to_string(n), joints, X_LT);
}

// The tip pose by the textbook route: X_PJ * motion for every joint, then X_LT.
Eigen::Isometry3d IndependentTipPose(const Chain& chain, const Eigen::VectorXd& q) {
  Eigen::Matrix4d X = Eigen::Matrix4d::Identity();
  for (int j = 0; j < chain.num_joints(); ++j) {
    const Joint& joint = chain.joint(j);
    Eigen::Matrix4d motion = Eigen::Matrix4d::Identity();
    if (joint.type == JointType::kRevolute) {
      motion.topLeftCorner<3, 3>() = Eigen::AngleAxisd(q[j], joint.axis_J).toRotationMatrix();
    } else {
      motion.topRightCorner<3, 1>() = q[j] * joint.axis_J;
    }
    X = X * joint.X_PJ.matrix() * motion;
  }
  X = X * chain.X_LT().matrix();
  Eigen::Isometry3d out;
  out.matrix() = X;
  return out;
}

// The answer is within the limits, its reported position error is the independent FK's, and a
// target said to be reached is reached (position within `tolerance`).
void ExpectHonest(const Chain& chain, const IkTarget& target, const SolveResult& r, double tolerance,
                  const std::string& what) {
  ASSERT_EQ(r.q.size(), chain.num_joints()) << what;
  EXPECT_TRUE(chain.WithinLimits(r.q)) << what;
  const Eigen::Isometry3d X = IndependentTipPose(chain, r.q);
  const double error = (X.translation() - target.p_BT).norm();
  EXPECT_NEAR(r.error, error, 1e-9 + 1e-9 * error) << what;
  EXPECT_LE((r.p_reached - X.translation()).norm(), 1e-9) << what;
  if (r.status == SolveStatus::kConverged) EXPECT_LE(error, tolerance) << what;
}

class LongChainTest : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override {
    chain_ = std::make_unique<Chain>(LongChain(GetParam()));
    std::mt19937_64 rng(GetParam());
    for (int i = 0; i < 2; ++i) {
      const Eigen::Isometry3d X = IndependentTipPose(*chain_, testing::RandomConfiguration(*chain_, &rng));
      positions_.emplace_back(X.translation());
      poses_.emplace_back(X.translation(), Eigen::Quaterniond(X.linear()));
    }
  }
  // Fewer targets and attempts on the longest chain keep the test short.
  bool Long() const { return GetParam() > 200; }
  std::unique_ptr<Chain> chain_;
  std::vector<IkTarget> positions_, poses_;
};

TEST_P(LongChainTest, IndependentFkAgreesWithTheLibrary) {
  std::mt19937_64 rng(3);
  const Eigen::VectorXd q = testing::RandomConfiguration(*chain_, &rng);
  EXPECT_TRUE(TipPose(*chain_, q).isApprox(IndependentTipPose(*chain_, q), 1e-12));
}

TEST_P(LongChainTest, PositionRefinementReachesReachableTargets) {
  const RefineOptions options;
  for (const IkTarget& target : positions_) {
    const SolveResult r = RefinePosition(*chain_, target.p_BT, chain_->mid_configuration(), options);
    EXPECT_EQ(r.status, SolveStatus::kConverged) << GetParam() << " joints, error " << r.error;
    ExpectHonest(*chain_, target, r, options.tolerance, "RefinePosition");
  }
  // Out of reach (twice the reach away): the closest point, about 1 m short.
  const IkTarget far(Eigen::Vector3d(2.0 * chain_->reach(), 0, 0));
  const SolveResult r = RefinePosition(*chain_, far.p_BT, chain_->mid_configuration(), options);
  EXPECT_NE(r.status, SolveStatus::kConverged);
  EXPECT_GE(r.error, chain_->reach() - 1e-9);
  ExpectHonest(*chain_, far, r, options.tolerance, "RefinePosition out of reach");
}

TEST_P(LongChainTest, PoseRefinementReachesReachablePoses) {
  PoseRefineOptions options;
  options.timeout_seconds = 20.0;
  for (const IkTarget& target : poses_) {
    const SolveResult r = RefinePose(*chain_, target, chain_->mid_configuration(), options);
    EXPECT_EQ(r.status, SolveStatus::kConverged) << GetParam() << " joints, error " << r.error;
    ExpectHonest(*chain_, target, r, options.position_tolerance, "RefinePose");
    EXPECT_LE(r.angle_error, options.angle_tolerance);
    const Eigen::Isometry3d X = IndependentTipPose(*chain_, r.q);
    EXPECT_LE(Eigen::AngleAxisd(target.Q_BT->toRotationMatrix().transpose() * X.linear()).angle(),
              options.angle_tolerance);
  }
}

TEST_P(LongChainTest, EveryModelFreeSolverAnswersHonestly) {
  for (const std::string name : {"lm", "kdl-nr", "kdl-lma", "kdl-nr-restarts", "kdl-lma-restarts"}) {
    SolverSettings settings;  // the pose timeout is also the KDL restarts' time budget
    settings.pose.timeout_seconds = name == "lm" ? 20.0 : 0.05;
    const std::unique_ptr<Solver> solver = MakeSolver(name, *chain_, nullptr, settings);
    for (const std::vector<IkTarget>* targets : {&positions_, &poses_}) {
      // KDL's velocity solver works on n x n matrices: one target of each kind on the longest.
      const size_t count = Long() && name != "lm" ? 1 : targets->size();
      for (size_t i = 0; i < count; ++i) {
        const IkTarget& target = (*targets)[i];
        const SolveResult r = solver->Solve(target);
        ExpectHonest(*chain_, target, r, 1e-5, name + " on " + std::to_string(GetParam()) + " joints");
        if (name == "lm") EXPECT_EQ(r.status, SolveStatus::kConverged) << name;
      }
    }
  }
}

TEST_P(LongChainTest, SeveralSolutionsPostureAndTracking) {
  SolverSettings settings;
  settings.pose.timeout_seconds = 20.0;
  const LmSolver lm(*chain_, settings.pose, settings.refine);
  ManySolutionsOptions many;
  many.solutions = Long() ? 2 : 3;
  many.posture.avoid_limits = 1.0;
  many.posture.max_iterations = Long() ? 3 : 10;
  const ManySolutions found = SolveMany(lm, poses_[0], many, settings);
  ASSERT_EQ(static_cast<int>(found.solutions.size()), many.solutions);
  for (size_t i = 0; i < found.solutions.size(); ++i) {
    ExpectHonest(*chain_, poses_[0], found.solutions[i], 1e-9, "SolveMany");
    EXPECT_EQ(found.solutions[i].status, SolveStatus::kConverged);
    for (size_t k = 0; k < i; ++k)
      EXPECT_GE(JointDistance(*chain_, found.solutions[i].q, found.solutions[k].q), many.min_distance);
  }
  // A short straight path of positions from the first target: every row tracked, no jumps.
  std::vector<IkTarget> path;
  for (int i = 0; i < 4; ++i) path.emplace_back(positions_[0].p_BT + Eigen::Vector3d(0.002 * i, 0, 0));
  const std::vector<TrackPoint> points = TrackPath(lm, path, settings);
  for (size_t i = 0; i < points.size(); ++i) {
    EXPECT_EQ(points[i].status, TrackStatus::kTracked) << "row " << i;
    ExpectHonest(*chain_, path[i], points[i].result, 1e-9, "TrackPath row " + std::to_string(i));
    if (i > 0) EXPECT_LE(points[i].joint_step, points[i].step_bound);
  }
}

// A seeded network of random weights (3 -> 8 -> n) stands in for a trained one: what is checked
// is that the network and refined solvers run on the chain and answer honestly, not accuracy.
IkModel RandomModel(const Chain& chain) {
  NetworkOptions network;
  network.depth = 1;
  network.width = 8;
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<float> u(-0.5f, 0.5f);
  auto random = [&](int64_t count) {
    std::vector<float> v(static_cast<size_t>(count));
    for (float& x : v) x = u(rng);
    return v;
  };
  const int64_t n = chain.num_joints();
  std::map<std::string, RawTensor> tensors;
  tensors["hidden.0.weight"] = RawTensor::FromFloats(random(8 * 3), {8, 3});
  tensors["hidden.0.bias"] = RawTensor::FromFloats(random(8), {8});
  tensors["out.weight"] = RawTensor::FromFloats(random(n * 8), {n, 8});
  tensors["out.bias"] = RawTensor::FromFloats(random(n), {n});
  tensors["input_mean"] = RawTensor::FromFloats({0.f, 0.f, 0.5f}, {3});
  tensors["input_std"] = RawTensor::FromFloats({0.5f, 0.5f, 0.5f}, {3});
  return IkModel::FromSafetensors(MakeModelFile(chain, network, tensors, "{}", {}, "{}"), "random");
}

TEST_P(LongChainTest, NetworkAndRefinedSolversRun) {
  const IkModel model = RandomModel(*chain_);
  for (const std::string name : {"network", "refined"}) {
    const std::unique_ptr<Solver> solver = MakeSolver(name, model);
    for (const IkTarget& target : positions_) {
      const SolveResult r = solver->Solve(target);
      ExpectHonest(*chain_, target, r, 1e-9, name);
      if (name == "refined") EXPECT_EQ(r.status, SolveStatus::kConverged);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Joints, LongChainTest, ::testing::Values(17, 18, 64, kMaxJoints));

TEST(LongChain, MoreJointsThanTheLimitAreRefusedByName) {
  EXPECT_NO_THROW((void)LongChain(kMaxJoints));
  EXPECT_THROW((void)LongChain(kMaxJoints + 1), std::invalid_argument);
  try {
    (void)LongChain(1000);
    FAIL() << "a chain of " << 1000 << " joints was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("expected at most 256 actuated joints, got 1000"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace deepik
