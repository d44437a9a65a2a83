// Model files without libtorch: the pose Newton step against one built from a finite-difference
// Jacobian of the weighted pose residual; Newton steps set on a trained model; and files that say
// one thing and hold another (a layer beyond `depth`, a fractional or unknown network field, a
// joint origin that is not a rotation) refused with the field's name.
#include <gtest/gtest.h>

#include <Eigen/Cholesky>
#include <Eigen/Geometry>
#include <algorithm>
#include <functional>
#include <nlohmann/json.hpp>
#include <random>
#include <stdexcept>

#include "deepik/errors.hpp"
#include "deepik/kinematics/chain_json.hpp"
#include "deepik/kinematics/fk.hpp"
#include "deepik/learn/model.hpp"
#include "test_util.hpp"

namespace deepik {
namespace {

std::string ModelPath(const std::string& name) { return std::string(DEEPIK_SOURCE_DIR) + "/models/" + name; }

// The target as the network reads it (its float32 input; the rotation from its two columns).
void NetworkReading(const Eigen::Vector3d& p, const Eigen::Matrix3d& R, Eigen::Vector3d* p_read,
                    Eigen::Matrix3d* R_read) {
  *p_read = p.cast<float>().cast<double>();
  const Eigen::Vector3d a = R.col(0).cast<float>().cast<double>().normalized();
  const Eigen::Vector3d b = R.col(1).cast<float>().cast<double>();
  const Eigen::Vector3d c = (b - a.dot(b) * a).normalized();
  R_read->col(0) = a;
  R_read->col(1) = c;
  R_read->col(2) = a.cross(c);
}

// The weighted pose residual r = (p* - p(q), -a phi), phi = the rotation vector of R(q) R*^T,
// computed through Eigen's AngleAxis (not the model's formula).
Eigen::Matrix<double, 6, 1> Residual(const Chain& chain, const Eigen::VectorXd& q, const Eigen::Vector3d& p,
                                     const Eigen::Matrix3d& R) {
  const Eigen::Isometry3d X = TipPose(chain, q);
  const Eigen::AngleAxisd log(Eigen::Matrix3d(X.linear() * R.transpose()));
  Eigen::Matrix<double, 6, 1> r;
  r << p - X.translation(), -kNewtonAngleWeight * log.angle() * log.axis();
  return r;
}

TEST(PoseNewtonStep, EqualsAStepBuiltFromAFiniteDifferenceJacobian) {
  const IkModel network = IkModel::Load(ModelPath("panda-pose.safetensors"));
  ASSERT_EQ(network.network().newton_steps, 0);
  const IkModel stepped = network.WithNewtonSteps(1);
  const Chain& chain = network.chain();
  const int n = chain.num_joints();
  std::mt19937_64 rng(11);
  int compared = 0;
  for (int i = 0; i < 300; ++i) {
    const Eigen::Isometry3d X = TipPose(chain, testing::RandomConfiguration(chain, &rng));
    const Eigen::VectorXd q0 = network.Predict(X.translation(), X.linear());
    const Eigen::VectorXd q1 = stepped.Predict(X.translation(), X.linear());
    Eigen::Vector3d p;
    Eigen::Matrix3d R;
    NetworkReading(X.translation(), X.linear(), &p, &R);
    const Eigen::Matrix<double, 6, 1> r = Residual(chain, q0, p, R);
    if (r.tail<3>().norm() > 0.1 * 3.0) continue;  // the logarithm jumps near a half turn
    // dr/dq by central differences; the Gauss-Newton step is -Jd^T (Jd Jd^T + mu I)^-1 r.
    Eigen::Matrix<double, 6, Eigen::Dynamic> Jd(6, n);
    const double h = 1e-6;
    for (int j = 0; j < n; ++j) {
      Eigen::VectorXd plus = q0, minus = q0;
      plus[j] += h;
      minus[j] -= h;
      Jd.col(j) = (Residual(chain, plus, p, R) - Residual(chain, minus, p, R)) / (2 * h);
    }
    Eigen::Matrix<double, 6, 6> A = Jd * Jd.transpose();
    A.diagonal().array() += kNewtonDamping * kNewtonDamping + r.squaredNorm();
    Eigen::VectorXd expected = q0 - Jd.transpose() * A.llt().solve(r);
    for (int j = 0; j < n; ++j)
      expected[j] = std::clamp(expected[j], chain.joint(j).lower, chain.joint(j).upper);
    EXPECT_LE((q1 - expected).cwiseAbs().maxCoeff(), 1e-6) << "target " << i;
    ++compared;
  }
  EXPECT_GE(compared, 250);
}

// The steps do what they are for: two steps bring the network's answers 20x closer at the median
// (measured 46x on UR5; 30x in position alone on 10,000 poses, docs/BENCHMARKS.md).
TEST(PoseNewtonStep, BringsTheNetworksAnswersCloser) {
  const IkModel network = IkModel::Load(ModelPath("ur5-pose.safetensors"));
  const IkModel stepped = network.WithNewtonSteps(2);
  const Chain& chain = network.chain();
  std::mt19937_64 rng(5);
  std::vector<double> before, after;
  for (int i = 0; i < 400; ++i) {
    const Eigen::Isometry3d X = TipPose(chain, testing::RandomConfiguration(chain, &rng));
    for (const IkModel* model : {&network, &stepped}) {
      const Eigen::Isometry3d reached = TipPose(chain, model->Predict(X.translation(), X.linear()));
      const double error = (reached.translation() - X.translation()).norm() +
                           kNewtonAngleWeight * RotationAngleBetween(reached.linear(), X.linear());
      (model == &network ? before : after).push_back(error);
    }
  }
  std::nth_element(before.begin(), before.begin() + 200, before.end());
  std::nth_element(after.begin(), after.begin() + 200, after.end());
  EXPECT_LT(after[200], before[200] / 20) << "median before " << before[200] << ", after " << after[200];
}

TEST(PoseNewtonStep, EveryHeadEndsWithTheStepsAndTheAnswerIsTheChosenHead) {
  const IkModel model = IkModel::Load(ModelPath("panda-pose-heads.safetensors")).WithNewtonSteps(1);
  ASSERT_GT(model.heads(), 1);
  std::mt19937_64 rng(3);
  for (int i = 0; i < 50; ++i) {
    const Eigen::Isometry3d X = TipPose(model.chain(), testing::RandomConfiguration(model.chain(), &rng));
    const Eigen::Matrix3d R = X.linear();
    int best = -1;
    const Eigen::MatrixXd heads = model.PredictHeads(X.translation(), &R, &best);
    ASSERT_GE(best, 0);
    EXPECT_EQ(heads.col(best), model.Predict(X.translation(), R)) << i;
  }
}

// HeadSelectionError computed here by the chain's FK, against the target itself (not rounded).
double IndependentHeadError(const Chain& chain, const Eigen::VectorXd& q, const Eigen::Isometry3d& X_BT) {
  const Eigen::Isometry3d X = TipPose(chain, q);
  return (X.translation() - X_BT.translation()).norm() +
         kHeadAngleWeight * RotationAngleBetween(X.linear(), X_BT.linear());
}

TEST(PoseNewtonStep, OnEveryHeadTheAnswerIsTheHeadClosestAfterTheSteps) {
  const IkModel loaded = IkModel::Load(ModelPath("panda-pose-heads.safetensors"));
  const IkModel before = loaded.WithNewtonSteps(2);  // the choice, then the steps on the chosen head
  const IkModel every = loaded.WithNewtonSteps(2, true);
  ASSERT_GT(every.heads(), 1);
  const Chain& chain = every.chain();
  std::mt19937_64 rng(5);
  double sum_before = 0, sum_every = 0;
  int checked = 0;
  for (int i = 0; i < 200; ++i) {
    const Eigen::Isometry3d X = TipPose(chain, testing::RandomConfiguration(chain, &rng));
    const Eigen::Matrix3d R = X.linear();
    // Every head after the steps, as the other route computes them (each head, then its steps).
    const Eigen::MatrixXd stepped = before.PredictHeads(X.translation(), &R);
    int best = -1;
    EXPECT_EQ(every.PredictHeads(X.translation(), &R, &best), stepped) << i;
    std::vector<double> errors;
    for (int h = 0; h < every.heads(); ++h) errors.push_back(IndependentHeadError(chain, stepped.col(h), X));
    const double least = *std::min_element(errors.begin(), errors.end());
    int expected = 0;
    while (!(errors[static_cast<size_t>(expected)] <= least + kHeadTie)) ++expected;
    const Eigen::VectorXd q = every.Predict(X.translation(), R);
    const double error_every = IndependentHeadError(chain, q, X);
    const double error_before = IndependentHeadError(chain, before.Predict(X.translation(), R), X);
    // Never worse than the head chosen before the steps (to the tie), and better on the whole.
    EXPECT_LE(error_every, error_before + kHeadTie) << i;
    sum_before += error_before;
    sum_every += error_every;
    // The file's target is rounded to float32: skip an error within 1e-7 m of the tie's edge.
    bool edge = false;
    for (double e : errors) edge = edge || std::abs(e - least - kHeadTie) < 1e-7;
    if (edge) continue;
    ++checked;
    EXPECT_EQ(best, expected) << i;
    EXPECT_EQ(q, stepped.col(expected)) << i;
  }
  EXPECT_GE(checked, 190);
  EXPECT_LT(sum_every, 0.8 * sum_before) << "mean " << sum_every / 200 << " against " << sum_before / 200;
}

TEST(ModelNewtonSteps, EveryHeadIsRecordedAndReloaded) {
  testing::TempDir dir;
  IkModel::Load(ModelPath("panda-pose-heads.safetensors"))
      .WithNewtonSteps(3, true)
      .Save(dir.Path("m.safetensors"));
  const IkModel reloaded = IkModel::Load(dir.Path("m.safetensors"));
  EXPECT_EQ(reloaded.network().newton_steps, 3);
  EXPECT_TRUE(reloaded.network().newton_every_head);
  EXPECT_FALSE(reloaded.WithNewtonSteps(3).network().newton_every_head);
  EXPECT_FALSE(IkModel::Load(ModelPath("panda-pose-heads.safetensors")).network().newton_every_head);
}

TEST(ModelNewtonSteps, SetOnATrainedModelSavesAndReloads) {
  testing::TempDir dir;
  const IkModel original = IkModel::Load(ModelPath("iiwa14-pose.safetensors"));
  original.WithNewtonSteps(2).Save(dir.Path("m.safetensors"));
  const IkModel reloaded = IkModel::Load(dir.Path("m.safetensors"));
  EXPECT_EQ(reloaded.network().newton_steps, 2);
  EXPECT_EQ(reloaded.file().tensors.at("out.weight").bytes, original.file().tensors.at("out.weight").bytes);
  EXPECT_EQ(reloaded.Metadata("history"), original.Metadata("history"));
  EXPECT_THROW(original.WithNewtonSteps(kMaxNewtonSteps + 1), std::invalid_argument);
  EXPECT_THROW(original.WithNewtonSteps(-1), std::invalid_argument);
}

// The seed default's file with its "network" description edited by `edit`.
SafetensorsFile EditedNetwork(const std::function<void(nlohmann::json&)>& edit) {
  SafetensorsFile file = ReadSafetensors(ModelPath("seed-default.safetensors"));
  nlohmann::json network = nlohmann::json::parse(file.metadata.at("network"));
  edit(network);
  file.metadata["network"] = network.dump();
  return file;
}

void ExpectRefused(const SafetensorsFile& file, const std::string& words) {
  try {
    IkModel::FromSafetensors(file, "edited.safetensors");
    ADD_FAILURE() << "accepted; expected an error naming " << words;
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(words), std::string::npos) << e.what();
  }
}

TEST(ModelFile, TensorsBeyondTheDescribedNetworkAreRefused) {
  const IkModel model = IkModel::Load(ModelPath("seed-default.safetensors"));
  const int depth = model.network().depth;
  ASSERT_GE(depth, 2);
  // The description says one layer fewer: the file's last hidden layer would be silently ignored.
  ExpectRefused(EditedNetwork([&](nlohmann::json& n) { n["depth"] = depth - 1; }),
                "tensor 'hidden." + std::to_string(depth - 1) + ".bias' is not part of the network");
  SafetensorsFile extra = ReadSafetensors(ModelPath("seed-default.safetensors"));
  extra.tensors["stray"] = extra.tensors.at("input_std");
  ExpectRefused(extra, "tensor 'stray'");
}

TEST(ModelFile, NetworkFieldsMustBeIntegersOfTheRightType) {
  ExpectRefused(EditedNetwork([](nlohmann::json& n) { n["heads"] = 1.5; }),
                "network.heads: expected an integer, got 1.5");
  ExpectRefused(EditedNetwork([](nlohmann::json& n) { n["depth"] = 4.0; }),
                "network.depth: expected an integer");
  ExpectRefused(EditedNetwork([](nlohmann::json& n) { n["width"] = "256"; }),
                "network.width: expected an integer");
  ExpectRefused(EditedNetwork([](nlohmann::json& n) { n["newton_steps"] = 0.5; }), "network.newton_steps");
  ExpectRefused(EditedNetwork([](nlohmann::json& n) { n["periodic_sincos"] = 1; }),
                "network.periodic_sincos: expected true or false");
  ExpectRefused(EditedNetwork([](nlohmann::json& n) { n["newton_every_head"] = 1; }),
                "network.newton_every_head: expected true or false");
  ExpectRefused(EditedNetwork([](nlohmann::json& n) { n["activation"] = 3; }),
                "network.activation: expected a string");
  ExpectRefused(EditedNetwork([](nlohmann::json& n) { n["hedas"] = 2; }), "network.hedas: unknown field");
  ExpectRefused(EditedNetwork([](nlohmann::json& n) { n.erase("width"); }), "network.width: missing");
  // The unedited description loads.
  EXPECT_NO_THROW(IkModel::FromSafetensors(EditedNetwork([](nlohmann::json&) {}), "unedited"));
}

TEST(ModelFile, HistoryEpochsAreIntegers) {
  SafetensorsFile file = ReadSafetensors(ModelPath("seed-default.safetensors"));
  nlohmann::json history = nlohmann::json::parse(file.metadata.at("history"));
  history[0]["epoch"] = 1.5;
  file.metadata["history"] = history.dump();
  ExpectRefused(file, "epoch: expected an integer, got 1.5");
}

// The arm of a model file (chain JSON) with joint 0's origin rotation, or the tip's, replaced.
std::string ArmWithRotation(const std::string& which, const std::vector<double>& R) {
  nlohmann::json arm =
      nlohmann::json::parse(IkModel::Load(ModelPath("seed-default.safetensors")).Metadata("arm"));
  (which == "tip" ? arm["tip"]["R"] : arm["joints"][0]["origin"]["R"]) = R;
  return arm.dump();
}

TEST(ChainJson, OriginsMustBeRotations) {
  const std::vector<double> twice = {2, 0, 0, 0, 2, 0, 0, 0, 2}, mirror = {1, 0, 0, 0, 1, 0, 0, 0, -1},
                            shear = {1, 0.1, 0, 0, 1, 0, 0, 0, 1};
  for (const auto& R : {twice, mirror, shear}) {
    for (const std::string which : {"joints", "tip"}) {
      try {
        ChainFromJson(ArmWithRotation(which, R));
        ADD_FAILURE() << which << ": accepted a matrix that is not a rotation";
      } catch (const InputError& e) {
        EXPECT_NE(
            std::string(e.what()).find(which == "tip" ? "tip.R: expected a rotation matrix"
                                                      : "joints[0].origin.R: expected a rotation matrix"),
            std::string::npos)
            << e.what();
      }
    }
  }
  // Through a model file too: the model is refused, naming the field.
  SafetensorsFile file = ReadSafetensors(ModelPath("seed-default.safetensors"));
  file.metadata["arm"] = ArmWithRotation("joints", twice);
  ExpectRefused(file, "joints[0].origin.R");
  // A rotation printed with a few digits (0.7071068) is a rotation.
  const double c = 0.7071068;
  const Chain chain = ChainFromJson(ArmWithRotation("joints", {c, -c, 0, c, c, 0, 0, 0, 1}));
  EXPECT_NEAR(chain.joint(0).X_PJ.linear().determinant(), 1.0, 1e-6);
}

}  // namespace
}  // namespace deepik
