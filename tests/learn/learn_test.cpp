// Learning: losses against finite differences, a small seeded training run, bounded outputs,
// model files (round trip, corruption) and resuming an interrupted run.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <random>

#include "deepik/data/random.hpp"
#include "deepik/data/safetensors.hpp"
#include "deepik/errors.hpp"
#include "deepik/kinematics/builtin_arms.hpp"
#include "deepik/kinematics/chain_json.hpp"
#include "deepik/kinematics/fk.hpp"
#include "deepik/learn/accuracy.hpp"
#include "deepik/learn/losses.hpp"
#include "deepik/learn/model.hpp"
#include "deepik/learn/network.hpp"
#include "deepik/learn/trainer.hpp"
#include "test_util.hpp"
#include "trained_fixture.hpp"

namespace deepik {
namespace {

using testing::TempDir;

TEST(LossTest, FkLossGradientMatchesFiniteDifferences) {
  const Chain chain = MakeSeedArm();
  const TorchFk fk(chain);
  torch::manual_seed(3);
  const torch::Tensor q0 = torch::rand({16, 4}, torch::kFloat64) * 2 - 1;
  const torch::Tensor targets = torch::rand({16, 3}, torch::kFloat64) * 3 - 1.5;
  torch::Tensor q = q0.clone().requires_grad_(true);
  FkDistanceLoss(fk, q, targets).backward();
  const torch::Tensor grad = q.grad();
  const double h = 1e-6;
  for (int64_t b = 0; b < 16; b += 5) {
    for (int64_t j = 0; j < 4; ++j) {
      torch::Tensor plus = q0.clone(), minus = q0.clone();
      plus[b][j] += h;
      minus[b][j] -= h;
      const double fd = (FkDistanceLoss(fk, plus, targets).item<double>() -
                         FkDistanceLoss(fk, minus, targets).item<double>()) /
                        (2 * h);
      EXPECT_NEAR(grad[b][j].item<double>(), fd, 1e-8) << "sample " << b << " joint " << j;
    }
  }
}

TEST(LossTest, AngleMseWrapsPeriodicJoints) {
  const torch::Tensor q = torch::tensor({{3.1, 0.5}}, torch::kFloat64);
  const torch::Tensor labels = torch::tensor({{-3.1, 0.4}}, torch::kFloat64);
  const double wrapped = AngleMseLoss(q, labels, {true, false}).item<double>();
  const double d0 = 2 * M_PI - 6.2;
  EXPECT_NEAR(wrapped, (d0 * d0 + 0.01) / 2, 1e-12);
  EXPECT_NEAR(AngleMseLoss(q, labels, {false, false}).item<double>(), (6.2 * 6.2 + 0.01) / 2, 1e-12);
}

TEST(LossTest, LimitPenaltyIsZeroInsideAndQuadraticOutside) {
  const torch::Tensor lower = torch::tensor({-1.0, -1.0}, torch::kFloat64);
  const torch::Tensor upper = torch::tensor({1.0, 1.0}, torch::kFloat64);
  EXPECT_EQ(LimitPenalty(torch::tensor({{0.5, -0.9}}, torch::kFloat64), lower, upper).item<double>(), 0.0);
  EXPECT_NEAR(LimitPenalty(torch::tensor({{1.5, -3.0}}, torch::kFloat64), lower, upper).item<double>(),
              0.25 + 4.0, 1e-12);
}

TEST(NetworkTest, BoundedHeadNeverLeavesTheLimitsEvenFarBeyondTheReach) {
  for (const std::string& name : {"seed", "panda", "ur5"}) {
    const Chain chain = MakeBuiltinArm(name);
    torch::manual_seed(5);
    NetworkOptions options;
    options.width = 32;
    options.depth = 2;
    IkNet net(chain, options, torch::zeros({3}), torch::ones({3}) * 0.01);  // tiny std: huge activations
    // Targets up to 100x the reach in every direction, and the origin.
    torch::Tensor targets = (torch::rand({4096, 3}) * 2 - 1) * 100 * chain.reach();
    targets[0] = torch::zeros({3});
    const torch::Tensor q = PredictBatch(net, targets);
    const Eigen::VectorXd lo = chain.lower_limits(), hi = chain.upper_limits();
    ASSERT_TRUE(torch::isfinite(q).all().item<bool>());
    for (int j = 0; j < chain.num_joints(); ++j) {
      EXPECT_GE(q.select(1, j).min().item<double>(), lo[j]) << name << " joint " << j;
      EXPECT_LE(q.select(1, j).max().item<double>(), hi[j]) << name << " joint " << j;
    }
  }
}

// A loss that stops being finite (a learning rate far too large; the command line caps --lr, the
// library accepts any positive value) ends training with a clear message, keeps the last checkpoint
// made from finite weights and writes no model.
TEST(TrainDivergence, ANonFiniteLossStopsAndKeepsTheLastGoodCheckpoint) {
  TempDir dir;
  SamplerOptions sampler;
  sampler.kind = SamplerKind::kJoints;
  sampler.count = 4000;
  sampler.seed = 5;
  Dataset data = MakeDataset(MakeSeedArm(), sampler);
  // One training label of 1e20 rad on shoulder_pitch (limits +-90 deg: not wrapped as a full turn
  // is): finite, but its square overflows float32, so the loss turns infinite on the batch that
  // holds it (not the first: a checkpoint follows every step before it).
  data.train.labels(1000, 1) = 1e20;
  NetworkOptions network;
  network.head = OutputHead::kFree;
  TrainOptions options;
  options.fk_weight = 0;
  options.mse_weight = 1;
  options.learning_rate = 1e-3;
  options.epochs = 5;
  options.batch_size = 256;
  options.checkpoint_every = 1;
  options.threads = 1;
  options.eval_samples = 50;
  const TrainFiles files{dir.Path("m.safetensors"), dir.Path("m.ckpt"), dir.Path("m.csv"), false};
  try {
    (void)Train(data, network, options, files);
    FAIL() << "training on a label whose square overflows float32 did not diverge";
  } catch (const InputError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("training diverged"), std::string::npos) << message;
    EXPECT_NE(message.find("smaller --lr"), std::string::npos) << message;
  }
  EXPECT_TRUE(std::filesystem::exists(dir.Path("m.ckpt"))) << "the last good checkpoint";
  EXPECT_FALSE(std::filesystem::exists(dir.Path("m.safetensors"))) << "no model from diverged weights";
  EXPECT_FALSE(std::filesystem::exists(dir.Path("m.safetensors.lock"))) << "the lock is released";
}

// A small seeded run on planar2, shared by the tests below.
class TrainedPlanar2 : public testing::TrainedOnce<TrainedPlanar2> {
 public:
  static constexpr char kName[] = "planar2";
  static Chain Configure(SamplerOptions* sampler, NetworkOptions* network, TrainOptions* options) {
    sampler->count = 20000;
    sampler->seed = 11;
    network->depth = 3;
    network->width = 64;
    network->activation = Activation::kTanh;
    options->epochs = 30;
    options->batch_size = 256;
    options->learning_rate = 3e-3;
    options->seed = 2;
    options->threads = 1;
    options->eval_samples = 5000;
    return MakePlanar2();
  }
};

TEST_F(TrainedPlanar2, ReachesTheStatedMedianError) {
  // planar2 reaches 2 m; the network alone must get within 2 cm (1 % of the reach) at the median.
  EXPECT_EQ(result_->status, TrainStatus::kCompleted);
  std::cout << "planar2, network alone: " << FormatErrorStats(result_->in_reach) << "\n";
  EXPECT_LT(result_->in_reach.median, 0.02) << FormatErrorStats(result_->in_reach);
  EXPECT_EQ(result_->limit_violations, 0);
  EXPECT_EQ(result_->in_reach.non_finite, 0);
}

TEST_F(TrainedPlanar2, ModelFileIsSelfContained) {
  const IkModel model = IkModel::Load(dir_->Path("planar2.safetensors"));
  EXPECT_TRUE(SameChain(model.chain(), MakePlanar2()));
  EXPECT_EQ(model.network().width, 64);
  EXPECT_EQ(model.network().activation, Activation::kTanh);
  EXPECT_EQ(static_cast<int>(model.History().size()), 30);
  EXPECT_NE(model.Metadata("training").find("\"learning_rate\":0.003"), std::string::npos);
  EXPECT_NE(model.Metadata("metrics").find("median_m"), std::string::npos);
  // The CSV log has a header and one row per epoch.
  std::ifstream log(dir_->Path("planar2.csv"));
  int lines = 0;
  for (std::string line; std::getline(log, line);) ++lines;
  EXPECT_EQ(lines, 31);
}

TEST_F(TrainedPlanar2, SaveLoadPredictIsBitIdentical) {
  const IkModel model = IkModel::Load(dir_->Path("planar2.safetensors"));
  model.Save(dir_->Path("copy.safetensors"));
  const IkModel copy = IkModel::Load(dir_->Path("copy.safetensors"));
  IkNet a = MakeIkNet(model), b = MakeIkNet(copy);
  torch::manual_seed(9);
  const torch::Tensor targets = torch::rand({1000, 3}) * 4 - 2;
  EXPECT_TRUE(torch::equal(PredictBatch(a, targets), PredictBatch(b, targets)));
  // The lean Eigen path equals the libtorch path within 1e-5.
  const torch::Tensor q = PredictBatch(a, targets);
  for (int64_t i = 0; i < 1000; ++i) {
    const Eigen::Vector3d t(targets[i][0].item<double>(), targets[i][1].item<double>(),
                            targets[i][2].item<double>());
    const Eigen::VectorXd lean = copy.Predict(t);
    for (int j = 0; j < 2; ++j) {
      double diff = std::abs(lean[j] - q[i][j].item<double>());
      diff = std::min(diff, 2 * M_PI - diff);  // +-pi are one angle for a full-turn joint
      ASSERT_LT(diff, 1e-5) << "target " << i;
    }
  }
}

TEST_F(TrainedPlanar2, CorruptedModelFilesAreRefused) {
  const std::string good = dir_->Path("planar2.safetensors");
  const auto size = std::filesystem::file_size(good);
  // Truncated.
  std::filesystem::copy_file(good, dir_->Path("cut.safetensors"));
  std::filesystem::resize_file(dir_->Path("cut.safetensors"), size - 100);
  // A flipped byte in the header.
  std::filesystem::copy_file(good, dir_->Path("flip.safetensors"));
  {
    std::fstream f(dir_->Path("flip.safetensors"), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(12);
    f.put('#');
  }
  // Not a model at all.
  std::ofstream(dir_->Path("text.safetensors")) << "hello, I am not a model";
  for (const char* name :
       {"cut.safetensors", "flip.safetensors", "text.safetensors", "missing.safetensors"}) {
    try {
      IkModel::Load(dir_->Path(name));
      ADD_FAILURE() << name << " was accepted";
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(name), std::string::npos) << e.what();
    }
  }
}

TEST_F(TrainedPlanar2, AnInterruptedRunResumesToTheSameWeights) {
  TrainOptions options = options_;
  options.epochs = 4;
  options.checkpoint_every = 7;
  NetworkOptions network = network_;
  TrainFiles straight{dir_->Path("straight.safetensors"), dir_->Path("straight.ckpt"), "", false};
  (void)Train(*data_, network, options, straight);

  // Stop in the middle of epoch 2, then resume.
  TrainFiles files{dir_->Path("resumed.safetensors"), dir_->Path("resumed.ckpt"), "", false};
  std::atomic<bool> stop{false};
  const auto stop_in_epoch_two = [&](const TrainProgress& p) {
    if (p.epoch == 1 && p.step_in_epoch == 10) stop = true;  // 3 steps after the checkpoint at step 7
  };
  options.progress_interval_seconds = 0;  // a callback after every step
  const TrainResult interrupted = Train(*data_, network, options, files, stop_in_epoch_two, &stop);
  ASSERT_EQ(interrupted.status, TrainStatus::kInterrupted);
  EXPECT_FALSE(std::filesystem::exists(files.model_path));
  ASSERT_TRUE(std::filesystem::exists(files.checkpoint_path));
  files.resume = true;
  options.progress_interval_seconds = 0.25;  // not part of what the checkpoint must match
  const TrainResult resumed = Train(*data_, network, options, files);
  EXPECT_EQ(resumed.status, TrainStatus::kCompleted);

  const IkModel a = IkModel::Load(straight.model_path), b = IkModel::Load(files.model_path);
  ASSERT_EQ(a.file().tensors.size(), b.file().tensors.size());
  for (const auto& [name, tensor] : a.file().tensors) {
    EXPECT_EQ(tensor.bytes, b.file().tensors.at(name).bytes) << name;
  }
  EXPECT_EQ(a.History().size(), b.History().size());
}

// The history's per-epoch headline figure is what the saved network gives on the same seeded
// in-reach targets: the curve and the headline are one figure.
TEST_F(TrainedPlanar2, HistoryShowsTheHeadlineFigureOfEveryEpoch) {
  const IkModel model = IkModel::Load(dir_->Path("planar2.safetensors"));
  const std::vector<EpochRecord> history = model.History();
  for (const EpochRecord& r : history) {
    EXPECT_TRUE(std::isfinite(r.validation_median_in_reach) && r.validation_median_in_reach > 0) << r.epoch;
    EXPECT_GE(r.validation_p99_in_reach, r.validation_median_in_reach) << r.epoch;
    EXPECT_TRUE(std::isnan(r.out_of_reach_excess_median)) << "joints data: every target is in reach";
  }
  const int best = nlohmann::json::parse(model.Metadata("metrics")).at("best_epoch").get<int>();
  const EpochRecord& kept = history.at(static_cast<size_t>(best - 1));
  const NetworkAccuracy same = EvaluateNetworkInReach(model, 4096, options_.seed + 2000003);
  EXPECT_EQ(kept.validation_median_in_reach, same.position.median);
  EXPECT_EQ(kept.validation_p99_in_reach, same.position.p99);
  // Other targets give another figure: the comparison above can fail.
  const NetworkAccuracy other = EvaluateNetworkInReach(model, 4096, options_.seed + 7);
  EXPECT_NE(other.position.median, kept.validation_median_in_reach);
  // The CSV log carries the same figures in its last columns.
  std::ifstream log(dir_->Path("planar2.csv"));
  std::string header;
  std::getline(log, header);
  EXPECT_NE(
      header.find(",validation_median_in_reach_m,validation_p99_in_reach_m,out_of_reach_excess_median_m"),
      std::string::npos)
      << header;
}

// planar2 reaches the disc of radius 2 m in the plane z = 0 (both joints turn fully): the closest
// reachable point to p is at distance sqrt(z^2 + max(0, rho - 2)^2), rho = |(x, y)|. Trained on a
// ball of targets around it, the history's out-of-reach excess is the saved network's error minus
// that distance, at the median over the validation targets.
TEST(TrainerTest, OutOfReachExcessIsTheErrorBeyondTheClosestReachablePoint) {
  SamplerOptions sampler;
  sampler.kind = SamplerKind::kWorkspace;
  sampler.count = 4000;
  sampler.train_fraction = 0.75;
  sampler.validation_fraction = 0.25;
  sampler.seed = 5;
  const Chain chain = MakePlanar2();
  const Dataset data = MakeDataset(chain, sampler);
  std::vector<double> closest;
  for (int64_t i = 0; i < data.validation.size(); ++i) {
    const Eigen::Vector3d p = data.validation.targets.row(i).transpose();
    closest.push_back(std::hypot(p.z(), std::max(0.0, p.head<2>().norm() - 2.0)));
  }
  NetworkOptions network;
  network.depth = 2;
  network.width = 32;
  TrainOptions options;
  options.epochs = 3;
  options.batch_size = 128;
  options.threads = 1;
  options.eval_samples = 100;
  TempDir dir;
  const TrainResult result =
      Train(data, network, options, TrainFiles{dir.Path("m"), dir.Path("c"), "", false}, nullptr, nullptr,
            nullptr, closest);
  const IkModel model = IkModel::Load(dir.Path("m"));
  std::vector<double> excess;
  Eigen::VectorXd q(chain.num_joints());
  IkModel::Scratch scratch;
  for (int64_t i = 0; i < data.validation.size(); ++i) {
    const Eigen::Vector3d p = data.validation.targets.row(i).transpose();
    model.Predict(p, q, &scratch);
    if (closest[static_cast<size_t>(i)] > 1e-6)
      excess.push_back((TipPosition(chain, q) - p).norm() - closest[i]);
  }
  ASSERT_GT(excess.size(), 100u);
  const double median = SummariseErrors(excess).median;
  EXPECT_NEAR(result.best.out_of_reach_excess_median, median, 1e-5) << "over " << excess.size() << " targets";
  EXPECT_GE(result.best.out_of_reach_excess_median, -1e-6) << "no network gets closer than the closest point";
  // A distance vector of the wrong length is refused, naming it.
  closest.pop_back();
  try {
    (void)Train(data, network, options, TrainFiles{dir.Path("m2"), dir.Path("c2"), "", false}, nullptr,
                nullptr, nullptr, closest);
    ADD_FAILURE() << "expected a refusal";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("validation_closest"), std::string::npos) << e.what();
  }
}

// With a time limit, the cosine ends with the epoch in which the limit falls: the rates fall
// epoch after epoch, and the last epoch runs at the floor, though --epochs would allow far more.
TEST(TrainerTest, TheLearningRateScheduleFollowsTheTimeLimit) {
  SamplerOptions sampler;
  sampler.kind = SamplerKind::kJoints;
  sampler.count = 8000;
  const Dataset data = MakeDataset(MakePlanar2(), sampler);
  NetworkOptions network;
  network.depth = 2;
  network.width = 32;
  TrainOptions options;
  options.epochs = 100000;
  options.batch_size = 64;
  options.time_limit_seconds = 3;
  options.threads = 1;
  options.eval_samples = 100;
  options.progress_interval_seconds = 0.05;
  TempDir dir;
  // The ETA is that of the time limit, not of the 100,000 epochs.
  double largest_eta = 0;
  int reports = 0;
  const auto progress = [&](const TrainProgress& p) {
    if (p.epoch_done) return;
    largest_eta = std::max(largest_eta, p.eta_seconds);
    ++reports;
  };
  const TrainResult result =
      Train(data, network, options, TrainFiles{dir.Path("m"), dir.Path("c"), "", false}, progress);
  EXPECT_EQ(result.status, TrainStatus::kTimeLimit);
  EXPECT_GT(reports, 5);
  EXPECT_LT(largest_eta, 2 * options.time_limit_seconds);
  const std::vector<EpochRecord> history = IkModel::Load(dir.Path("m")).History();
  ASSERT_GE(history.size(), 3u) << "epochs too long for the test's time limit";
  EXPECT_DOUBLE_EQ(history.front().learning_rate, options.learning_rate);
  for (size_t i = 1; i < history.size(); ++i)
    EXPECT_LE(history[i].learning_rate, history[i - 1].learning_rate);
  EXPECT_LT(history[history.size() / 2].learning_rate, 0.9 * options.learning_rate);
  // At the floor, or within the one epoch by which the end was mispredicted (at most 1/3 of the
  // run: 3 or more epochs): cos(pi * 2/3) puts it at a quarter of the way from the floor.
  const double floor = options.learning_rate * options.final_lr_fraction;
  EXPECT_LE(history.back().learning_rate, floor + 0.25 * (options.learning_rate - floor) + 1e-12);
  EXPECT_GE(history.back().seconds, options.time_limit_seconds);
  EXPECT_LT(history[history.size() - 2].seconds, options.time_limit_seconds);
}

// The Newton steps that may end a position model's forward pass: seed-fast (19 mm at the median
// alone) with newton_steps written into its description. Each step is checked against the same
// damped step computed here from a central-difference Jacobian of TipPosition.
TEST(NewtonSteps, EndTheForwardPassAsTheDampedGaussNewtonStepOnTheExactFk) {
  SafetensorsFile file = ReadSafetensors(std::string(DEEPIK_SOURCE_DIR) + "/models/seed-fast.safetensors");
  const IkModel alone = IkModel::FromSafetensors(file, "seed-fast");
  nlohmann::json network = nlohmann::json::parse(file.metadata.at("network"));
  network["newton_steps"] = 1;
  file.metadata["network"] = network.dump();
  const IkModel one = IkModel::FromSafetensors(file, "seed-fast, 1 step");
  network["newton_steps"] = 2;
  file.metadata["network"] = network.dump();
  const IkModel two = IkModel::FromSafetensors(file, "seed-fast, 2 steps");
  EXPECT_EQ(two.network().newton_steps, 2);
  const Chain& chain = alone.chain();
  std::mt19937_64 rng(17);
  std::vector<double> before, after_one, after_two;
  Eigen::VectorXd q_true(4), q0(4), q1(4), q2(4);
  IkModel::Scratch scratch;
  for (int i = 0; i < 2000; ++i) {
    UniformConfiguration(chain, &rng, q_true);
    const Eigen::Vector3d p = TipPosition(chain, q_true);
    alone.Predict(p, q0, &scratch);
    one.Predict(p, q1, &scratch);
    two.Predict(p, q2, &scratch);
    before.push_back((TipPosition(chain, q0) - p).norm());
    after_one.push_back((TipPosition(chain, q1) - p).norm());
    after_two.push_back((TipPosition(chain, q2) - p).norm());
    EXPECT_TRUE(chain.WithinLimits(q1) && chain.WithinLimits(q2)) << i;
    if (i % 20 != 0) continue;
    // The step, by another route.
    Eigen::Matrix<double, 3, Eigen::Dynamic> J(3, 4);
    for (int j = 0; j < 4; ++j) {
      Eigen::VectorXd a = q0, b = q0;
      a[j] += 1e-6;
      b[j] -= 1e-6;
      J.col(j) = (TipPosition(chain, a) - TipPosition(chain, b)) / 2e-6;
    }
    // The target as the network reads it, rounded to float32.
    const Eigen::Vector3d e = p.cast<float>().cast<double>() - TipPosition(chain, q0);
    const Eigen::Matrix3d JJt =
        J * J.transpose() + (kNewtonDamping * kNewtonDamping + e.squaredNorm()) * Eigen::Matrix3d::Identity();
    Eigen::VectorXd expected = q0 + J.transpose() * JJt.inverse() * e;
    for (int j = 0; j < 4; ++j) {
      const Joint& joint = chain.joints()[static_cast<size_t>(j)];
      if (IsFullTurn(joint)) expected[j] = std::remainder(expected[j], 2 * M_PI);
      expected[j] = std::clamp(expected[j], joint.lower, joint.upper);
    }
    for (int j = 0; j < 4; ++j) {
      // The same angle (modulo a turn for the full-turn joints).
      EXPECT_NEAR(std::remainder(q1[j] - expected[j], 2 * M_PI), 0.0, 1e-6) << i << " joint " << j;
    }
  }
  const double m0 = SummariseErrors(before).median, m1 = SummariseErrors(after_one).median,
               m2 = SummariseErrors(after_two).median;
  std::cout << "seed-fast: median " << m0 * 1e3 << " mm alone, " << m1 * 1e3 << " mm after one step, "
            << m2 * 1e3 << " mm after two\n";
  EXPECT_LT(m1, m0 / 20);
  EXPECT_LT(m2, m1 / 20);
  // A pose model may have them too (model_file_test checks its step); more than the limit is refused.
  NetworkOptions pose;
  pose.target = TargetKind::kPose;
  pose.newton_steps = 1;
  std::string error;
  EXPECT_TRUE(pose.IsValid(&error)) << error;
  pose.newton_steps = kMaxNewtonSteps + 1;
  EXPECT_FALSE(pose.IsValid(&error));
  EXPECT_NE(error.find("newton_steps"), std::string::npos) << error;
}

TEST(TrainerTest, MseLossNeedsLabels) {
  SamplerOptions sampler;
  sampler.kind = SamplerKind::kWorkspace;
  sampler.count = 1000;
  const Dataset data = MakeDataset(MakePlanar2(), sampler);
  TrainOptions options;
  options.fk_weight = 0;
  options.mse_weight = 1;
  TempDir dir;
  EXPECT_THROW(
      (void)Train(data, NetworkOptions{}, options, TrainFiles{dir.Path("m"), dir.Path("c"), "", false}),
      std::invalid_argument);
}

TEST(TrainerTest, ResumingWithoutACheckpointIsRefused) {
  SamplerOptions sampler;
  sampler.count = 1000;
  const Dataset data = MakeDataset(MakePlanar2(), sampler);
  TempDir dir;
  EXPECT_THROW((void)Train(data, NetworkOptions{}, TrainOptions{},
                           TrainFiles{dir.Path("m"), dir.Path("none"), "", true}),
               InputError);
}

TEST(TrainerTest, OptionsNameTheBadField) {
  TrainOptions options;
  options.batch_size = 0;
  std::string error;
  EXPECT_FALSE(options.IsValid(&error));
  EXPECT_NE(error.find("batch_size"), std::string::npos);
  NetworkOptions network;
  network.width = 0;
  EXPECT_FALSE(network.IsValid(&error));
  EXPECT_NE(error.find("width"), std::string::npos);
}

}  // namespace
}  // namespace deepik
