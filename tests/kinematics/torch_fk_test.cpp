// TorchFk against the Eigen FK and Jacobian: values (tip poses and every joint frame), gradients,
// input checks, threads.
#include "deepik/kinematics/torch_fk.hpp"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "deepik/kinematics/builtin_arms.hpp"
#include "deepik/kinematics/fk.hpp"

namespace deepik {
namespace {

constexpr int kNumConfigurations = 500;

// [count, n] float64 tensor of uniformly random in-limit configurations.
torch::Tensor RandomConfigurations(const Chain& chain, int count, unsigned seed) {
  std::mt19937 rng(seed);
  torch::Tensor q = torch::empty({count, chain.num_joints()}, torch::kFloat64);
  auto a = q.accessor<double, 2>();
  for (int b = 0; b < count; ++b) {
    for (int i = 0; i < chain.num_joints(); ++i) {
      std::uniform_real_distribution<double> uniform(chain.joint(i).lower, chain.joint(i).upper);
      a[b][i] = uniform(rng);
    }
  }
  return q;
}

Eigen::VectorXd Row(const torch::Tensor& q, int b) {
  const torch::Tensor row = q[b].to(torch::kFloat64).contiguous();
  return Eigen::Map<const Eigen::VectorXd>(row.data_ptr<double>(), row.size(0));
}

Eigen::Vector3d Vector3At(const torch::Tensor& p, int b) {
  const torch::Tensor row = p[b].to(torch::kFloat64).contiguous();
  return Eigen::Map<const Eigen::Vector3d>(row.data_ptr<double>());
}

Eigen::Matrix3d Matrix3At(const torch::Tensor& R, int b) {
  const torch::Tensor m = R[b].to(torch::kFloat64).contiguous();
  return Eigen::Map<const Eigen::Matrix<double, 3, 3, Eigen::RowMajor>>(m.data_ptr<double>());
}

// Every joint frame of TorchFk::JointFrames equals the Eigen JointFrames' (the second route), and
// the last one with the tip offset applied is the Eigen tip pose.
void ExpectFramesSameAsEigen(const Chain& chain, const torch::Tensor& q, double tol) {
  const int n = chain.num_joints();
  const int64_t count = q.size(0);
  const torch::Tensor frames = TorchFk(chain).JointFrames(q);
  ASSERT_EQ(frames.sizes(), torch::IntArrayRef({count, n, 3, 4}));
  EXPECT_EQ(frames.scalar_type(), q.scalar_type());
  const torch::Tensor f64 = frames.to(torch::kFloat64).contiguous();
  std::vector<Eigen::Isometry3d> X_BF;
  for (int b = 0; b < count; ++b) {
    JointFrames(chain, Row(q, b), &X_BF);
    ASSERT_EQ(static_cast<int>(X_BF.size()), n + 1);
    for (int i = 0; i < n; ++i) {
      const torch::Tensor X = f64[b][i].contiguous();
      const Eigen::Matrix<double, 3, 4> got =
          Eigen::Map<const Eigen::Matrix<double, 3, 4, Eigen::RowMajor>>(X.data_ptr<double>());
      const Eigen::Matrix<double, 3, 4> want = X_BF[static_cast<size_t>(i)].matrix().topRows<3>();
      ASSERT_LE((got - want).cwiseAbs().maxCoeff(), tol)
          << chain.name() << " configuration " << b << " frame " << i;
    }
    const Eigen::Isometry3d X_BT = X_BF[static_cast<size_t>(n - 1)] * chain.X_LT();
    ASSERT_LE((X_BT.matrix() - TipPose(chain, Row(q, b)).matrix()).cwiseAbs().maxCoeff(), 1e-12);
  }
}

// Torch and Eigen FK agree on `count` random configurations in q's dtype.
void ExpectSameAsEigen(const Chain& chain, torch::ScalarType dtype, double tol, unsigned seed,
                       int count = kNumConfigurations) {
  const TorchFk fk(chain);
  const torch::Tensor q = RandomConfigurations(chain, count, seed).to(dtype);
  const TorchPoses poses = fk.TipPoses(q);
  const torch::Tensor p_only = fk.TipPositions(q);
  ASSERT_EQ(poses.p_BT.sizes(), torch::IntArrayRef({count, 3}));
  ASSERT_EQ(poses.R_BT.sizes(), torch::IntArrayRef({count, 3, 3}));
  ASSERT_EQ(p_only.sizes(), torch::IntArrayRef({count, 3}));
  EXPECT_EQ(poses.p_BT.scalar_type(), dtype);
  EXPECT_EQ(poses.R_BT.scalar_type(), dtype);
  EXPECT_EQ(p_only.scalar_type(), dtype);
  for (int b = 0; b < count; ++b) {
    // Eigen at the very same (possibly float32-rounded) joint values.
    const Eigen::Isometry3d X_BT = TipPose(chain, Row(q, b));
    const double p_error = (Vector3At(poses.p_BT, b) - X_BT.translation()).cwiseAbs().maxCoeff();
    const double R_error = (Matrix3At(poses.R_BT, b) - X_BT.linear()).cwiseAbs().maxCoeff();
    const double p_only_error = (Vector3At(p_only, b) - X_BT.translation()).cwiseAbs().maxCoeff();
    ASSERT_LE(p_error, tol) << chain.name() << " configuration " << b;
    ASSERT_LE(R_error, tol) << chain.name() << " configuration " << b;
    ASSERT_LE(p_only_error, tol) << chain.name() << " configuration " << b;
  }
  ExpectFramesSameAsEigen(chain, q, tol);
}

class BuiltinArmTest : public ::testing::TestWithParam<std::string> {};

TEST_P(BuiltinArmTest, MatchesEigenInFloat64) {
  ExpectSameAsEigen(MakeBuiltinArm(GetParam()), torch::kFloat64, 1e-12, 1);
}

TEST_P(BuiltinArmTest, MatchesEigenInFloat32) {
  ExpectSameAsEigen(MakeBuiltinArm(GetParam()), torch::kFloat32, 1e-5, 2);
}

TEST_P(BuiltinArmTest, JointFramesRefuseAWrongShape) {
  const Chain chain = MakeBuiltinArm(GetParam());
  EXPECT_THROW(TorchFk(chain).JointFrames(torch::zeros({2, chain.num_joints() + 1}, torch::kFloat64)),
               std::invalid_argument);
}

// d(p_BT)/dq by autograd equals the linear rows of the geometric Jacobian, and the angular
// velocity from dR/dq (omega_hat = dR/dq_i * R^T) equals its angular rows.
TEST_P(BuiltinArmTest, GradientsMatchJacobian) {
  const Chain chain = MakeBuiltinArm(GetParam());
  const int n = chain.num_joints();
  const TorchFk fk(chain);
  const torch::Tensor q = RandomConfigurations(chain, kNumConfigurations, 3).requires_grad_(true);
  const TorchPoses poses = fk.TipPoses(q);
  const torch::Tensor p_only = fk.TipPositions(q);

  // Samples are independent, so the gradient of a column's sum is that column's row of the
  // Jacobian for every sample at once.
  auto gradient = [&q](const torch::Tensor& y) {
    return torch::autograd::grad({y.sum()}, {q}, {}, /*retain_graph=*/true)[0];  // [B, n]
  };
  std::vector<torch::Tensor> dp(3), dp_only(3), dR(9);  // each [B, n]
  for (int k = 0; k < 3; ++k) {
    dp[k] = gradient(poses.p_BT.select(1, k));
    dp_only[k] = gradient(p_only.select(1, k));
  }
  for (int r = 0; r < 3; ++r) {
    for (int c = 0; c < 3; ++c) dR[3 * r + c] = gradient(poses.R_BT.select(1, r).select(1, c));
  }

  auto at = [](const torch::Tensor& t, int b, int i) { return t.accessor<double, 2>()[b][i]; };
  for (int b = 0; b < kNumConfigurations; ++b) {
    const Matrix6Xd J = TipJacobian(chain, Row(q.detach(), b));
    const Eigen::Matrix3d R = Matrix3At(poses.R_BT.detach(), b);
    for (int i = 0; i < n; ++i) {
      Eigen::Matrix3d dR_dqi;
      for (int k = 0; k < 9; ++k) dR_dqi(k / 3, k % 3) = at(dR[k], b, i);
      const Eigen::Matrix3d omega_hat = dR_dqi * R.transpose();
      const Eigen::Vector3d omega(omega_hat(2, 1), omega_hat(0, 2), omega_hat(1, 0));
      ASSERT_LE((omega_hat + omega_hat.transpose()).cwiseAbs().maxCoeff(), 1e-10)
          << chain.name() << " configuration " << b << " joint " << i << ": not skew-symmetric";
      ASSERT_LE((omega - J.col(i).tail<3>()).cwiseAbs().maxCoeff(), 1e-10)
          << chain.name() << " configuration " << b << " joint " << i;
      for (int k = 0; k < 3; ++k) {
        ASSERT_NEAR(at(dp[k], b, i), J(k, i), 1e-10)
            << chain.name() << " configuration " << b << " joint " << i << " row " << k;
        ASSERT_NEAR(at(dp_only[k], b, i), J(k, i), 1e-10)
            << chain.name() << " configuration " << b << " joint " << i << " row " << k;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllBuiltinArms, BuiltinArmTest, ::testing::ValuesIn(BuiltinArmNames()),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

// The built-in arms are all revolute with n >= 2; cover prismatic joints and one-joint chains.
Joint MakeTestJoint(const std::string& name, JointType type, const Eigen::Vector3d& xyz,
                    const Eigen::Vector3d& rpy, const Eigen::Vector3d& axis, double lower, double upper) {
  Joint joint;
  joint.name = name;
  joint.type = type;
  joint.X_PJ = TransformFromXyzRpy(xyz, rpy);
  joint.axis_J = axis.normalized();
  joint.lower = lower;
  joint.upper = upper;
  return joint;
}

TEST(TorchFkTest, MixedPrismaticChainMatchesEigen) {
  const Eigen::Isometry3d X_LT = TransformFromXyzRpy({0.1, -0.2, 0.3}, {0.4, -0.5, 0.6});
  const Chain chain(
      "mixed",
      {MakeTestJoint("slide", JointType::kPrismatic, {0.1, 0.2, 0.3}, {0.3, 0.2, 0.1}, {1, 2, 3}, -0.5, 0.7),
       MakeTestJoint("turn", JointType::kRevolute, {0.0, 0.4, 0.1}, {-0.2, 0.5, 1.0}, {1, -1, 0.5}, -3, 3),
       MakeTestJoint("lift", JointType::kPrismatic, {0.2, 0.0, 0.0}, {0, 0, 0}, {0, 0, 1}, 0.0, 1.0)},
      X_LT);
  ExpectSameAsEigen(chain, torch::kFloat64, 1e-12, 4, 100);
  ExpectSameAsEigen(chain, torch::kFloat32, 1e-5, 5, 100);
}

TEST(TorchFkTest, OneJointChainsMatchEigen) {
  const Eigen::Isometry3d X_LT = TransformFromXyzRpy({0.3, 0.2, 0.1}, {0.1, 0.2, 0.3});
  for (JointType type : {JointType::kRevolute, JointType::kPrismatic}) {
    const Chain chain(
        "one", {MakeTestJoint("only", type, {0.5, -0.1, 0.2}, {0.7, 0.1, -0.3}, {0.2, 1, 0.3}, -2, 2)}, X_LT);
    ExpectSameAsEigen(chain, torch::kFloat64, 1e-12, 6, 100);
    ExpectSameAsEigen(chain, torch::kFloat32, 1e-5, 7, 100);
  }
}

TEST(TorchFkTest, EmptyBatchGivesEmptyResults) {
  const TorchFk fk(MakeBuiltinArm("panda"));
  const torch::Tensor q = torch::zeros({0, 7}, torch::kFloat32);
  EXPECT_EQ(fk.TipPositions(q).sizes(), torch::IntArrayRef({0, 3}));
  EXPECT_EQ(fk.TipPoses(q).R_BT.sizes(), torch::IntArrayRef({0, 3, 3}));
}

void ExpectInvalid(const TorchFk& fk, const torch::Tensor& q, const std::string& fragment) {
  for (int which = 0; which < 2; ++which) {
    try {
      if (which == 0) {
        (void)fk.TipPositions(q);
      } else {
        (void)fk.TipPoses(q);
      }
      ADD_FAILURE() << "expected std::invalid_argument mentioning '" << fragment << "'";
    } catch (const std::invalid_argument& e) {
      const std::string message = e.what();
      EXPECT_NE(message.find("expected"), std::string::npos) << message;
      EXPECT_NE(message.find(fragment), std::string::npos) << message;
    }
  }
}

TEST(TorchFkTest, RejectsWrongShapeAndDtype) {
  const TorchFk fk(MakeBuiltinArm("seed"));
  ASSERT_EQ(fk.num_joints(), 4);
  ExpectInvalid(fk, torch::zeros({8, 3}), "[8, 3]");
  ExpectInvalid(fk, torch::zeros({8, 5}), "[8, 5]");
  ExpectInvalid(fk, torch::zeros({4}), "[4]");
  ExpectInvalid(fk, torch::zeros({2, 8, 4}), "[2, 8, 4]");
  ExpectInvalid(fk, torch::zeros({8, 4}, torch::kInt64), "Long");
  ExpectInvalid(fk, torch::zeros({8, 4}, torch::kFloat16), "Half");
  ExpectInvalid(fk, torch::Tensor(), "undefined");
}

TEST(TorchFkTest, ConcurrentCallsMatchSingleThread) {
  const Chain chain = MakeBuiltinArm("panda");
  const TorchFk fk(chain);
  constexpr int kThreads = 4, kRepeats = 50;
  std::vector<torch::Tensor> inputs, expected;
  for (int t = 0; t < kThreads; ++t) {
    inputs.push_back(RandomConfigurations(chain, 256, 10 + t).to(t % 2 ? torch::kFloat32 : torch::kFloat64));
    expected.push_back(fk.TipPositions(inputs.back()));
  }
  std::vector<int> mismatches(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int r = 0; r < kRepeats; ++r) {
        if (!torch::equal(fk.TipPositions(inputs[t]), expected[t])) ++mismatches[t];
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(mismatches[t], 0) << "thread " << t;
}

}  // namespace
}  // namespace deepik
