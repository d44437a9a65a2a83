// Learning full poses: the pose loss against finite differences and an independent angle, the
// lean forward pass of pose models against libtorch, a short seeded training on ur5, the model
// file round trip with the target kind, and the refusals of mismatched targets.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <Eigen/Geometry>
#include <algorithm>
#include <atomic>
#include <cmath>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "deepik/data/random.hpp"
#include "deepik/errors.hpp"
#include "deepik/kinematics/builtin_arms.hpp"
#include "deepik/kinematics/fk.hpp"
#include "deepik/learn/accuracy.hpp"
#include "deepik/learn/losses.hpp"
#include "deepik/learn/model.hpp"
#include "deepik/learn/network.hpp"
#include "deepik/learn/trainer.hpp"
#include "deepik/solve/solvers.hpp"
#include "test_util.hpp"
#include "trained_fixture.hpp"

namespace deepik {
namespace {

using testing::TempDir;

// The angle of R_a^T R_b from the trace, in long double: the textbook formula, independent of both
// the atan2 form of GeodesicAngle and the quaternion form of RotationAngle. Used away from 0 and pi,
// where acos is well conditioned.
double TraceAngle(const Eigen::Matrix3d& R_a, const Eigen::Matrix3d& R_b) {
  long double trace = 0;
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 3; ++j) trace += static_cast<long double>(R_a(i, j)) * R_b(i, j);
  }
  return static_cast<double>(std::acos((trace - 1.0L) / 2.0L));
}

Eigen::Matrix3d RandomRotation(std::mt19937_64* rng) {
  Eigen::Vector4d v;
  for (int i = 0; i < 4; ++i) v[i] = 2 * UniformUnit(rng) - 1;
  return Eigen::Quaterniond(v[0], v[1], v[2], v[3]).normalized().toRotationMatrix();
}

torch::Tensor ToTorch(const Eigen::Matrix3d& R) {
  torch::Tensor t = torch::empty({3, 3}, torch::kFloat64);
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 3; ++j) t[i][j] = R(i, j);
  }
  return t;
}

// Pose targets [B, 9] (PoseInput rows) in float64.
torch::Tensor PoseTargets(const std::vector<Eigen::Isometry3d>& poses) {
  torch::Tensor t = torch::empty({static_cast<int64_t>(poses.size()), 9}, torch::kFloat64);
  for (size_t i = 0; i < poses.size(); ++i) {
    const Eigen::Matrix<double, 9, 1> input = PoseInput(poses[i].translation(), poses[i].linear());
    for (int k = 0; k < 9; ++k) t[static_cast<int64_t>(i)][k] = input[k];
  }
  return t;
}

TEST(PoseLossTest, GeodesicAngleEqualsTheAngleFromTheTrace) {
  std::mt19937_64 rng(31);
  std::vector<Eigen::Matrix3d> a, b;
  for (int i = 0; i < 200; ++i) {
    a.push_back(RandomRotation(&rng));
    b.push_back(RandomRotation(&rng));
  }
  torch::Tensor Ra = torch::stack([&] {
    std::vector<torch::Tensor> v;
    for (const auto& R : a) v.push_back(ToTorch(R));
    return v;
  }());
  torch::Tensor Rb = torch::stack([&] {
    std::vector<torch::Tensor> v;
    for (const auto& R : b) v.push_back(ToTorch(R));
    return v;
  }());
  const torch::Tensor angle = GeodesicAngle(Ra, Rb);
  int compared = 0;
  for (int i = 0; i < 200; ++i) {
    const double expected = TraceAngle(a[i], b[i]);
    if (expected < 0.01 || expected > M_PI - 0.01) continue;  // acos is ill-conditioned there
    ++compared;
    EXPECT_NEAR(angle[i].item<double>(), expected, 1e-9) << i;
    EXPECT_NEAR(RotationAngle(a[i], b[i]), expected, 1e-9) << i;
  }
  EXPECT_GT(compared, 150);
  // Small and near-half-turn angles, from axis-angle rotations of known angle.
  for (double theta : {0.0, 1e-5, 1e-3, 0.5, M_PI - 1e-3, M_PI - 1e-6, M_PI}) {
    const Eigen::Matrix3d R0 = RandomRotation(&rng);
    const Eigen::Vector3d axis = Eigen::Vector3d(0.3, -0.5, 0.8).normalized();
    const Eigen::Matrix3d R1 = R0 * Eigen::AngleAxisd(theta, axis).toRotationMatrix();
    const double torch_angle =
        GeodesicAngle(ToTorch(R0).unsqueeze(0), ToTorch(R1).unsqueeze(0)).item<double>();
    // The 1e-12 under the square root shifts the angle by at most 1e-6 rad (at 0).
    EXPECT_NEAR(torch_angle, theta, 1.1e-6) << theta;
    EXPECT_NEAR(RotationAngle(R0, R1), theta, 1e-9) << theta;
  }
}

// d(loss)/dq by autograd against central differences, on ur5 in float64, for targets at a generic
// angle, close to the answer (small angle) and close to a half turn away, where acos's gradient
// would blow up.
TEST(PoseLossTest, GradientMatchesFiniteDifferencesIncludingNearZeroAndHalfTurn) {
  const Chain chain = MakeUr5();
  const TorchFk fk(chain);
  std::mt19937_64 rng(5);
  const int n = chain.num_joints();
  const int64_t batch = 6;
  Eigen::MatrixXd q_values(batch, n);
  std::vector<Eigen::Isometry3d> targets;
  for (int64_t i = 0; i < batch; ++i) {
    Eigen::VectorXd q(n), q_target(n);
    UniformConfiguration(chain, &rng, q);
    UniformConfiguration(chain, &rng, q_target);
    q_values.row(i) = q.transpose();
    Eigen::Isometry3d X = TipPose(chain, q);
    const Eigen::Vector3d axis = Eigen::Vector3d(0.2, 0.9, -0.4).normalized();
    if (i == 0) X = TipPose(chain, q_target);  // generic
    if (i == 1) X.linear() = X.linear() * Eigen::AngleAxisd(1e-3, axis).toRotationMatrix();
    if (i == 2) X.linear() = X.linear() * Eigen::AngleAxisd(M_PI - 1e-3, axis).toRotationMatrix();
    if (i == 3) X.translation() += Eigen::Vector3d(0.01, -0.02, 0.03);
    if (i == 4) X.linear() = X.linear() * Eigen::AngleAxisd(2.0, axis).toRotationMatrix();
    if (i == 5) X = TipPose(chain, q_target);
    targets.push_back(X);
  }
  const torch::Tensor target_tensor = PoseTargets(targets);
  torch::Tensor q = torch::empty({batch, n}, torch::kFloat64);
  for (int64_t i = 0; i < batch; ++i) {
    for (int j = 0; j < n; ++j) q[i][j] = q_values(i, j);
  }
  const double weight = 0.3;
  q.set_requires_grad(true);
  const torch::Tensor loss = FkPoseLoss(fk, q, target_tensor, weight);
  loss.backward();
  const torch::Tensor gradient = q.grad();
  ASSERT_TRUE(torch::isfinite(gradient).all().item<bool>());
  const double h = 1e-6;
  torch::NoGradGuard no_grad;
  for (int64_t i = 0; i < batch; ++i) {
    for (int j = 0; j < n; ++j) {
      torch::Tensor plus = q.detach().clone(), minus = q.detach().clone();
      plus[i][j] += h;
      minus[i][j] -= h;
      const double numeric = (FkPoseLoss(fk, plus, target_tensor, weight).item<double>() -
                              FkPoseLoss(fk, minus, target_tensor, weight).item<double>()) /
                             (2 * h);
      EXPECT_NEAR(gradient[i][j].item<double>(), numeric, 1e-6) << "sample " << i << " joint " << j;
    }
  }
}

TEST(PoseLossTest, GradientIsFiniteAtZeroAndAtAHalfTurn) {
  const Chain chain = MakeUr5();
  const TorchFk fk(chain);
  Eigen::VectorXd q0 = Eigen::VectorXd::Constant(chain.num_joints(), 0.4);
  Eigen::Isometry3d exact = TipPose(chain, q0), flipped = exact;
  flipped.linear() = flipped.linear() * Eigen::AngleAxisd(M_PI, Eigen::Vector3d::UnitX()).toRotationMatrix();
  for (const Eigen::Isometry3d& X : {exact, flipped}) {
    for (torch::Dtype dtype : {torch::kFloat64, torch::kFloat32}) {
      torch::Tensor q = torch::full({1, chain.num_joints()}, 0.4, dtype).set_requires_grad(true);
      const torch::Tensor loss = FkPoseLoss(fk, q, PoseTargets({X}).to(dtype), 0.1);
      loss.backward();
      EXPECT_TRUE(torch::isfinite(q.grad()).all().item<bool>());
      EXPECT_LT(q.grad().abs().max().item<double>(), 10.0);
    }
  }
}

// A network with random weights and a non-trivial input normalisation, as a model file.
IkModel RandomModel(const Chain& chain, const NetworkOptions& network, uint64_t seed) {
  torch::manual_seed(seed);
  const int64_t inputs = InputCount(network.target);
  const torch::Tensor mean = torch::rand({inputs}) * 0.2 - 0.1;
  const torch::Tensor std_dev = torch::rand({inputs}) * 0.5 + 0.3;
  IkNet net(chain, network, mean, std_dev);
  return IkModel::FromSafetensors(MakeModelFile(chain, network, ModelTensors(net), "{}", {}, "{}"),
                                  "random model");
}

// The differences between the lean Eigen forward pass and libtorch's on `count` FK poses, one per
// joint value, sorted.
std::vector<double> LeanVsLibtorch(const IkModel& model, int count, uint64_t seed) {
  const Chain& chain = model.chain();
  IkNet net = MakeIkNet(model);
  std::mt19937_64 rng(seed);
  std::vector<Eigen::Isometry3d> poses;
  Eigen::VectorXd q(chain.num_joints());
  for (int i = 0; i < count; ++i) {
    UniformConfiguration(chain, &rng, q);
    poses.push_back(TipPose(chain, q));
  }
  const torch::Tensor expected = PredictBatch(net, PoseTargets(poses));
  IkModel::Scratch scratch;
  Eigen::VectorXd lean(chain.num_joints());
  std::vector<double> differences;
  for (int i = 0; i < count; ++i) {
    model.Predict(poses[i].translation(), poses[i].linear(), lean, &scratch);
    for (int j = 0; j < chain.num_joints(); ++j)
      differences.push_back(std::abs(lean[j] - expected[i][j].item<double>()));
  }
  std::sort(differences.begin(), differences.end());
  return differences;
}

// Random weights on arms whose joints all use the bounded head. (A random network's (sin, cos)
// pairs can be tiny, where atan2 magnifies float32 rounding; the trained ur5 model below covers
// (sin, cos) joints.)
TEST(PoseModelTest, LeanPredictEqualsLibtorchForward) {
  for (const std::string arm : {"panda", "iiwa14"}) {
    const Chain chain = MakeBuiltinArm(arm);
    for (Activation activation : {Activation::kRelu, Activation::kTanh, Activation::kSilu}) {
      NetworkOptions network;
      network.target = TargetKind::kPose;
      network.depth = 3;
      network.width = activation == Activation::kRelu ? 96 : 40;
      network.activation = activation;
      const IkModel model = RandomModel(chain, network, 17);
      ASSERT_EQ(model.target(), TargetKind::kPose);
      EXPECT_LT(LeanVsLibtorch(model, 300, 3).back(), 1e-5) << arm << " " << ToString(activation);
    }
  }
}

TEST(PoseModelTest, MismatchedTargetsAreRefusedWithAnInputError) {
  const Chain chain = MakeUr5();
  NetworkOptions pose;
  pose.target = TargetKind::kPose;
  pose.depth = 2;
  pose.width = 16;
  const IkModel pose_model = RandomModel(chain, pose, 1);
  const Eigen::Isometry3d X = TipPose(chain, Eigen::VectorXd::Constant(6, 0.3));
  EXPECT_THROW((void)pose_model.Predict(X.translation()), InputError);

  // The network solver follows the model: a pose target is answered as Predict answers it, a
  // position-only target is refused.
  NetworkSolver solver{IkModel(pose_model)};
  IkTarget target;
  target.p_BT = X.translation();
  EXPECT_THROW((void)solver.Solve(target), InputError);
  // From worker threads too: the error reaches the caller.
  EXPECT_THROW((void)solver.SolveBatch(std::vector<IkTarget>(8, target), 2), InputError);
  // Either quaternion sign is the same orientation.
  target.Q_BT = Eigen::Quaterniond(X.linear());
  const SolveResult a = solver.Solve(target);
  target.Q_BT->coeffs() *= -1;
  const SolveResult b = solver.Solve(target);
  const Eigen::VectorXd expected = pose_model.Predict(X.translation(), X.linear());
  EXPECT_LT((a.q - expected).norm(), 1e-12);
  EXPECT_LT((b.q - expected).norm(), 1e-12);

  // A position model refuses an orientation.
  NetworkOptions position = pose;
  position.target = TargetKind::kPosition;
  const IkModel position_model = RandomModel(chain, position, 2);
  EXPECT_EQ(position_model.target(), TargetKind::kPosition);
  EXPECT_THROW((void)position_model.Predict(X.translation(), X.linear()), InputError);
  EXPECT_THROW((void)NetworkSolver(IkModel(position_model)).Solve(target), InputError);
  target.Q_BT.reset();
  EXPECT_NO_THROW((void)NetworkSolver(IkModel(position_model)).Solve(target));
}

TEST(PoseModelTest, ShippedPositionModelsStillLoadAsPositionModels) {
  for (const char* name : {"seed-default.safetensors", "seed-fast.safetensors"}) {
    const IkModel model = IkModel::Load(std::string(DEEPIK_SOURCE_DIR) + "/models/" + name);
    EXPECT_EQ(model.target(), TargetKind::kPosition) << name;
    // Their description is written back unchanged: no "target" field for position models.
    EXPECT_EQ(NetworkOptionsToJson(model.network()), model.file().metadata.at("network")) << name;
  }
}

// The angle of R_a^T R_b from its skew part, asin(|vee(E - E^T)| / 2): well conditioned near 0,
// where the trace formula is not, and independent of the solvers' quaternion route.
double SkewAngle(const Eigen::Matrix3d& R_a, const Eigen::Matrix3d& R_b) {
  const Eigen::Matrix3d E = R_a.transpose() * R_b;
  const Eigen::Vector3d vee(E(2, 1) - E(1, 2), E(0, 2) - E(2, 0), E(1, 0) - E(0, 1));
  return std::asin(std::min(1.0, 0.5 * vee.norm()));
}

// The shipped pose models (README, "Shipped pose models"): pose models of their arm whose network
// answers are finite and within the limits, and from whose answers `refined` reaches FK poses of
// seeded random configurations within its 1e-9 m / 1e-9 rad tolerance: checked by FK of the answer
// (not the solver's word), with a budget the test never reaches.
TEST(ShippedPoseModels, RefinedFromTheNetworkReachesFkPosesOnEveryArm) {
  const std::vector<std::pair<std::string, int>> arms = {{"panda", 7}, {"ur5", 6}, {"iiwa14", 7}};
  for (const auto& [arm, joints] : arms) {
    SCOPED_TRACE(arm);
    const IkModel model =
        IkModel::Load(std::string(DEEPIK_SOURCE_DIR) + "/models/" + arm + "-pose.safetensors");
    ASSERT_EQ(model.target(), TargetKind::kPose);
    const Chain& chain = model.chain();
    ASSERT_EQ(chain.num_joints(), joints);
    SolverSettings settings;
    settings.pose.timeout_seconds = 100.0;
    const std::unique_ptr<Solver> network = MakeSolver("network", chain, &model, settings);
    const std::unique_ptr<Solver> refined = MakeSolver("refined", chain, &model, settings);
    std::mt19937_64 rng(31);
    for (int i = 0; i < 25; ++i) {
      const Eigen::Isometry3d X = TipPose(chain, testing::RandomConfiguration(chain, &rng));
      const IkTarget target(X.translation(), Eigen::Quaterniond(X.linear()));
      const SolveResult guess = network->Solve(target);
      EXPECT_TRUE(guess.q.allFinite());
      EXPECT_TRUE(chain.WithinLimits(guess.q));
      const SolveResult r = refined->Solve(target);
      EXPECT_EQ(r.status, SolveStatus::kConverged);
      EXPECT_TRUE(chain.WithinLimits(r.q));
      const Eigen::Isometry3d X_reached = TipPose(chain, r.q);
      EXPECT_LE((X_reached.translation() - X.translation()).norm(), 1e-9);
      EXPECT_LE(SkewAngle(X.linear(), X_reached.linear()), 1e-9 + 1e-14);
    }
  }
}

// `refined` on a DH arm (a Puma 560 table): even from an untrained pose network's answer, it reaches
// FK poses within its tolerance by FK of the answer (its restarts cover a useless start).
TEST(ShippedPoseModels, RefinedRoundTripsOnADhArmFromAnUntrainedNetwork) {
  const Chain chain = testing::MakePumaDh();
  NetworkOptions network;
  network.target = TargetKind::kPose;
  network.depth = 2;
  network.width = 16;
  const IkModel model = RandomModel(chain, network, 5);
  SolverSettings settings;
  settings.pose.timeout_seconds = 100.0;
  const std::unique_ptr<Solver> refined = MakeSolver("refined", chain, &model, settings);
  std::mt19937_64 rng(13);
  for (int i = 0; i < 12; ++i) {
    const Eigen::Isometry3d X = TipPose(chain, testing::RandomConfiguration(chain, &rng));
    const SolveResult r = refined->Solve(IkTarget(X.translation(), Eigen::Quaterniond(X.linear())));
    EXPECT_EQ(r.status, SolveStatus::kConverged);
    EXPECT_TRUE(chain.WithinLimits(r.q));
    const Eigen::Isometry3d X_reached = TipPose(chain, r.q);
    EXPECT_LE((X_reached.translation() - X.translation()).norm(), 1e-9);
    EXPECT_LE(SkewAngle(X.linear(), X_reached.linear()), 1e-9 + 1e-14);
  }
}

TEST(PoseTrainerTest, PoseTargetsNeedJointLabels) {
  SamplerOptions sampler;
  sampler.kind = SamplerKind::kWorkspace;
  sampler.count = 1000;
  const Dataset data = MakeDataset(MakeUr5(), sampler);
  NetworkOptions network;
  network.target = TargetKind::kPose;
  TempDir dir;
  TrainOptions options;
  options.epochs = 1;
  try {
    (void)Train(data, network, options, {dir.Path("m.safetensors"), dir.Path("m.ckpt"), "", false});
    FAIL() << "a workspace dataset was accepted for pose targets";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("joints or grid"), std::string::npos) << e.what();
  }
}

// A short seeded pose training on ur5, shared by the tests below.
class TrainedPoseUr5 : public testing::TrainedOnce<TrainedPoseUr5> {
 public:
  static constexpr char kName[] = "ur5";
  static Chain Configure(SamplerOptions* sampler, NetworkOptions* network, TrainOptions* options) {
    sampler->count = 12000;
    sampler->seed = 4;
    network->target = TargetKind::kPose;
    network->depth = 2;
    network->width = 64;
    options->epochs = 6;
    options->batch_size = 256;
    options->learning_rate = 3e-3;
    options->seed = 3;
    options->threads = 1;
    options->eval_samples = 2000;
    options->checkpoint_every = 40;
    return MakeUr5();
  }
};

TEST_F(TrainedPoseUr5, TrainingLowersThePoseLossAndReportsAngles) {
  ASSERT_EQ(result_->status, TrainStatus::kCompleted);
  const IkModel model = IkModel::Load(dir_->Path("ur5.safetensors"));
  const std::vector<EpochRecord> history = model.History();
  ASSERT_EQ(history.size(), 6u);
  // The untrained network's pose loss on the validation split, for reference.
  NetworkOptions network = network_;
  const IkModel untrained = RandomModel(model.chain(), network, 3);
  const NetworkAccuracy before = EvaluateNetworkInReach(untrained, 2000, 77);
  const NetworkAccuracy after = EvaluateNetworkInReach(model, 2000, 77);
  ASSERT_TRUE(before.angle && after.angle);
  std::cout << "ur5 pose, untrained: " << FormatErrorStats(before.position) << "; "
            << FormatAngleStats(*before.angle) << "\n";
  std::cout << "ur5 pose, 6 short epochs: " << FormatErrorStats(after.position) << "; "
            << FormatAngleStats(*after.angle) << "\n";
  EXPECT_LT(history.back().validation_loss, 0.8 * history.front().validation_loss);
  const double loss_before = before.position.mean + options_.angle_weight * before.angle->mean;
  const double loss_after = after.position.mean + options_.angle_weight * after.angle->mean;
  EXPECT_LT(loss_after, 0.6 * loss_before) << loss_before << " -> " << loss_after;
  EXPECT_EQ(after.limit_violations, 0);
  for (const EpochRecord& r : history) {
    EXPECT_FALSE(std::isnan(r.validation_angle_median));
    EXPECT_GE(r.validation_angle_p95, r.validation_angle_median);
    EXPECT_GE(r.validation_p95, r.validation_median);
  }
  // The headline metrics are those of the saved model on the trainer's evaluation seed.
  ASSERT_TRUE(result_->in_reach_angle.has_value());
  const NetworkAccuracy headline = EvaluateNetworkInReach(model, 2000, options_.seed + 1000003);
  EXPECT_EQ(result_->in_reach_angle->median, headline.angle->median);
  EXPECT_EQ(result_->in_reach.median, headline.position.median);
  EXPECT_NE(model.Metadata("metrics").find("in_reach_angle"), std::string::npos);
}

TEST_F(TrainedPoseUr5, LeanPredictEqualsLibtorchForwardWithSinCosJoints) {
  const IkModel model = IkModel::Load(dir_->Path("ur5.safetensors"));
  // A (sin, cos) joint's angle is atan2 of two float32 outputs: where the pair is short (a short
  // training leaves some), atan2 magnifies float32 rounding by 1 / |(sin, cos)|. So: 1e-5 for all
  // but 0.1 % of the joint values, and 1e-4 for every one.
  const std::vector<double> differences = LeanVsLibtorch(model, 1000, 12);
  EXPECT_LT(differences[differences.size() * 999 / 1000], 1e-5);
  EXPECT_LT(differences.back(), 1e-4);
}

TEST_F(TrainedPoseUr5, ModelFileRoundTripKeepsTheTargetKind) {
  const IkModel model = IkModel::Load(dir_->Path("ur5.safetensors"));
  EXPECT_EQ(model.target(), TargetKind::kPose);
  EXPECT_NE(model.file().metadata.at("network").find("\"target\":\"pose\""), std::string::npos);
  EXPECT_EQ(model.file().tensors.at("input_mean").shape, std::vector<int64_t>{9});
  model.Save(dir_->Path("copy.safetensors"));
  const IkModel copy = IkModel::Load(dir_->Path("copy.safetensors"));
  EXPECT_EQ(copy.target(), TargetKind::kPose);
  const std::vector<EpochRecord> a = model.History(), b = copy.History();
  ASSERT_EQ(a.size(), b.size());
  EXPECT_EQ(a.back().validation_angle_p95, b.back().validation_angle_p95);
  std::mt19937_64 rng(8);
  Eigen::VectorXd q(6);
  for (int i = 0; i < 50; ++i) {
    UniformConfiguration(model.chain(), &rng, q);
    const Eigen::Isometry3d X = TipPose(model.chain(), q);
    EXPECT_EQ(model.Predict(X.translation(), X.linear()), copy.Predict(X.translation(), X.linear()));
  }
}

TEST_F(TrainedPoseUr5, AnInterruptedPoseRunResumesToTheSameWeights) {
  TrainOptions options = options_;
  options.epochs = 2;
  options.checkpoint_every = 7;
  TrainFiles straight{dir_->Path("straight.safetensors"), dir_->Path("straight.ckpt"), "", false};
  (void)Train(*data_, network_, options, straight);
  TrainFiles files{dir_->Path("resumed.safetensors"), dir_->Path("resumed.ckpt"), "", false};
  std::atomic<bool> stop{false};
  options.progress_interval_seconds = 0;
  const TrainResult interrupted = Train(
      *data_, network_, options, files,
      [&](const TrainProgress& p) {
        if (p.epoch == 1 && p.step_in_epoch == 10) stop = true;
      },
      &stop);
  ASSERT_EQ(interrupted.status, TrainStatus::kInterrupted);
  files.resume = true;
  // The angle weight decides a pose model's weights: a resume with another one is refused.
  TrainOptions other = options;
  other.angle_weight = 0.5;
  EXPECT_THROW((void)Train(*data_, network_, other, files), InputError);
  const TrainResult resumed = Train(*data_, network_, options, files);
  EXPECT_EQ(resumed.status, TrainStatus::kCompleted);
  const IkModel a = IkModel::Load(straight.model_path), b = IkModel::Load(files.model_path);
  for (const auto& [name, tensor] : a.file().tensors) {
    EXPECT_EQ(tensor.bytes, b.file().tensors.at(name).bytes) << name;
  }
}

}  // namespace
}  // namespace deepik
