// Datasets: the samplers' statistics, grid counts, splits, reproducible files, refusal of broken
// files; and the Chain <-> JSON round trip the files rely on.
#include "deepik/data/dataset.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "deepik/data/random.hpp"
#include "deepik/data/safetensors.hpp"
#include "deepik/errors.hpp"
#include "deepik/kinematics/builtin_arms.hpp"
#include "deepik/kinematics/chain_json.hpp"
#include "deepik/kinematics/fk.hpp"
#include "test_util.hpp"

namespace deepik {
namespace {

using testing::ReadBytes;
using testing::TempDir;
using testing::WriteBytes;

constexpr double kPi = 3.14159265358979323846;

// The message of the InputError that loading `path` throws; also checks that it names the file.
std::string LoadError(const std::string& path) {
  try {
    LoadDataset(path);
  } catch (const InputError& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find(path), std::string::npos) << message;
    return message;
  }
  ADD_FAILURE() << "LoadDataset(" << path << ") did not throw";
  return "";
}

bool SameBits(const Eigen::Vector3d& a, const Eigen::Vector3d& b) {
  return std::memcmp(a.data(), b.data(), 3 * sizeof(double)) == 0;
}

// All rows of the three splits, in order.
std::vector<const DatasetSplit*> Splits(const Dataset& dataset) {
  return {&dataset.train, &dataset.validation, &dataset.test};
}

int64_t TotalRows(const Dataset& dataset) {
  return dataset.train.size() + dataset.validation.size() + dataset.test.size();
}

SamplerOptions GridOptions(double step_deg) {
  SamplerOptions options;
  options.kind = SamplerKind::kGrid;
  options.grid_step_deg = step_deg;
  return options;
}

// The distinct values of column `joint` of every split's labels.
std::set<double> DistinctLabels(const Dataset& dataset, int joint) {
  std::set<double> values;
  for (const DatasetSplit* split : Splits(dataset)) {
    for (int64_t r = 0; r < split->labels.rows(); ++r) values.insert(split->labels(r, joint));
  }
  return values;
}

// Every label within the limits and every target = FK(label), to `tolerance` (0 = bit for bit).
void ExpectLabelsAndTargets(const Chain& chain, const Dataset& dataset, double tolerance) {
  for (const DatasetSplit* split : Splits(dataset)) {
    ASSERT_EQ(split->labels.rows(), split->targets.rows());
    ASSERT_EQ(split->labels.cols(), chain.num_joints());
    for (int64_t r = 0; r < split->size(); ++r) {
      const Eigen::VectorXd q = split->labels.row(r).transpose();
      ASSERT_TRUE(chain.WithinLimits(q)) << q.transpose();
      const Eigen::Vector3d p_BT = TipPosition(chain, q);
      const Eigen::Vector3d target = split->targets.row(r).transpose();
      if (tolerance == 0) {
        ASSERT_TRUE(SameBits(p_BT, target)) << target.transpose() << " vs " << p_BT.transpose();
      } else {
        ASSERT_LE((p_BT - target).norm(), tolerance);
      }
    }
  }
}

TEST(DatasetTest, GridCountIsTheProductOfPerJointSteps) {
  // planar2: both joints span [-pi, pi], a full turn: 360 / 30 = 12 values each, +pi (the same
  // configuration as -pi) dropped.
  const Chain planar2 = MakePlanar2();
  const Dataset planar = MakeDataset(planar2, GridOptions(30.0));
  EXPECT_EQ(TotalRows(planar), 12 * 12);
  for (int joint = 0; joint < 2; ++joint) {
    const std::set<double> values = DistinctLabels(planar, joint);
    EXPECT_EQ(values.size(), 12u);
    EXPECT_EQ(*values.begin(), -kPi);
    EXPECT_NEAR(*values.rbegin(), kPi - kPi / 6, 1e-12);
  }
  ExpectLabelsAndTargets(planar2, planar, 0.0);

  // seed at 45 deg: yaw [-180, 180] is a full turn (8 values); pitch [-90, 90] gives 5 values,
  // elbow pitch [-135, 135] gives 7, both ends included.
  const Chain seed = MakeSeedArm();
  const Dataset grid = MakeDataset(seed, GridOptions(45.0));
  EXPECT_EQ(TotalRows(grid), 8 * 5 * 8 * 7);
  EXPECT_EQ(DistinctLabels(grid, 0).size(), 8u);
  EXPECT_EQ(DistinctLabels(grid, 2).size(), 8u);
  const std::set<double> pitch = DistinctLabels(grid, 1);
  ASSERT_EQ(pitch.size(), 5u);
  EXPECT_EQ(*pitch.begin(), -kPi / 2);
  EXPECT_NEAR(*pitch.rbegin(), kPi / 2, 1e-12);
  const std::set<double> elbow_pitch = DistinctLabels(grid, 3);
  ASSERT_EQ(elbow_pitch.size(), 7u);
  EXPECT_NEAR(*elbow_pitch.rbegin(), 0.75 * kPi, 1e-12);
  ExpectLabelsAndTargets(seed, grid, 0.0);

  // Every configuration of the grid appears exactly once across the splits.
  std::set<std::vector<double>> rows;
  for (const DatasetSplit* split : Splits(grid)) {
    for (int64_t r = 0; r < split->size(); ++r) {
      rows.insert(std::vector<double>(split->labels.row(r).data(), split->labels.row(r).data() + 4));
    }
  }
  EXPECT_EQ(rows.size(), static_cast<size_t>(TotalRows(grid)));

  // A step that does not divide the range: floor(180 / 50) + 1 = 4 pitch values; a full turn at
  // 50 deg takes ceil(360 / 50) = 8 yaw values; elbow pitch floor(270 / 50) + 1 = 6.
  EXPECT_EQ(TotalRows(MakeDataset(seed, GridOptions(50.0))), 8 * 4 * 8 * 6);
}

TEST(DatasetTest, GridThatIsTooLargeIsRefused) {
  try {
    MakeDataset(MakePanda(), GridOptions(1.0));
    ADD_FAILURE() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& error) {
    EXPECT_NE(std::string(error.what()).find("at most 50000000 rows"), std::string::npos) << error.what();
  }
}

TEST(DatasetTest, JointSamplerIsUniformWithinLimits) {
  const Chain chain = MakeSeedArm();
  SamplerOptions options;
  options.kind = SamplerKind::kJoints;
  options.count = 20000;
  options.seed = 7;
  const Dataset dataset = MakeDataset(chain, options);
  ASSERT_EQ(TotalRows(dataset), options.count);
  ExpectLabelsAndTargets(chain, dataset, 1e-12);
  EXPECT_EQ(dataset.share_beyond_reach, 0.0);

  // The mean of N uniform values on [lo, hi] has standard error (hi - lo) / sqrt(12 N); allow 5
  // of them (a fair sampler fails one joint with probability ~6e-7).
  const double n = static_cast<double>(options.count);
  for (int joint = 0; joint < chain.num_joints(); ++joint) {
    double sum = 0.0;
    for (const DatasetSplit* split : Splits(dataset)) sum += split->labels.col(joint).sum();
    const double range = chain.joint(joint).upper - chain.joint(joint).lower;
    const double middle = 0.5 * (chain.joint(joint).upper + chain.joint(joint).lower);
    EXPECT_NEAR(sum / n, middle, 5.0 * range / std::sqrt(12.0 * n)) << chain.joint(joint).name;
  }
}

TEST(DatasetTest, WorkspaceSamplerIsUniformInTheBall) {
  const Chain chain = MakeSeedArm();
  ASSERT_EQ(chain.reach(), 2.0);
  SamplerOptions options;
  options.kind = SamplerKind::kWorkspace;
  options.count = 20000;
  options.margin = 0.2;
  options.seed = 11;
  const Dataset dataset = MakeDataset(chain, options);
  ASSERT_EQ(TotalRows(dataset), options.count);
  const double radius = (1.0 + options.margin) * chain.reach();

  std::vector<double> r;
  Eigen::Vector3d direction_sum = Eigen::Vector3d::Zero();
  for (const DatasetSplit* split : Splits(dataset)) {
    EXPECT_FALSE(split->has_labels());
    EXPECT_EQ(split->labels.cols(), chain.num_joints());
    for (int64_t row = 0; row < split->size(); ++row) {
      const Eigen::Vector3d p = split->targets.row(row).transpose();
      ASSERT_LE(p.norm(), radius);
      r.push_back(p.norm() / radius);
      direction_sum += p.normalized();
    }
  }
  // Uniform in volume: P(|p| / R <= x) = x^3. Kolmogorov-Smirnov at 1% significance:
  // D < 1.63 / sqrt(N).
  std::sort(r.begin(), r.end());
  const double n = static_cast<double>(r.size());
  double d = 0.0;
  for (size_t i = 0; i < r.size(); ++i) {
    const double cdf = r[i] * r[i] * r[i];
    d = std::max(
        {d, std::abs(cdf - static_cast<double>(i) / n), std::abs(cdf - static_cast<double>(i + 1) / n)});
  }
  EXPECT_LT(d, 1.63 / std::sqrt(n));
  // Each component of a uniform unit vector has mean 0 and variance 1/3: allow 5 standard errors.
  EXPECT_LT((direction_sum / n).cwiseAbs().maxCoeff(), 5.0 * std::sqrt(1.0 / (3.0 * n)));

  // The seed arm's reach (2 m) is exact, so the share beyond it is 1 - 1/(1 + margin)^3; allow
  // 5 binomial standard errors.
  const double expected = 1.0 - 1.0 / std::pow(1.0 + options.margin, 3);
  EXPECT_NEAR(dataset.share_beyond_reach, expected, 5.0 * std::sqrt(expected * (1 - expected) / n));
  const double beyond = static_cast<double>(
      std::count_if(r.begin(), r.end(), [&](double x) { return x * radius > chain.reach(); }));
  EXPECT_EQ(dataset.share_beyond_reach, beyond / n);

  options.margin = 0.0;
  EXPECT_EQ(MakeDataset(chain, options).share_beyond_reach, 0.0);
}

TEST(DatasetTest, SplitSizesAreRoundedDown) {
  const Chain chain = MakePlanar2();
  SamplerOptions options;
  options.kind = SamplerKind::kJoints;
  options.count = 1000;
  options.train_fraction = 0.7;
  options.validation_fraction = 0.2;
  Dataset dataset = MakeDataset(chain, options);
  EXPECT_EQ(dataset.train.size(), 700);
  EXPECT_EQ(dataset.validation.size(), 200);
  EXPECT_EQ(dataset.test.size(), 100);

  // 0.29 * 100 = 28.999999999999996 in doubles: still 29 rows.
  options.count = 100;
  options.train_fraction = 0.29;
  options.validation_fraction = 0.5;
  dataset = MakeDataset(chain, options);
  EXPECT_EQ(dataset.train.size(), 29);
  EXPECT_EQ(dataset.validation.size(), 50);
  EXPECT_EQ(dataset.test.size(), 21);

  // 144 grid rows at 0.8 / 0.1: floor(115.2) = 115, floor(14.4) = 14, the rest (15) for test.
  dataset = MakeDataset(chain, GridOptions(30.0));
  EXPECT_EQ(dataset.train.size(), 115);
  EXPECT_EQ(dataset.validation.size(), 14);
  EXPECT_EQ(dataset.test.size(), 15);

  options.count = 10;
  options.train_fraction = 1.0;
  options.validation_fraction = 0.0;
  dataset = MakeDataset(chain, options);
  EXPECT_EQ(dataset.train.size(), 10);
  EXPECT_EQ(dataset.validation.size(), 0);
  EXPECT_EQ(dataset.test.size(), 0);
  EXPECT_EQ(dataset.test.labels.cols(), 2);
}

TEST(DatasetTest, SameSeedGivesTheSameFile) {
  TempDir dir;
  const Chain chain = MakeSeedArm();
  for (SamplerKind kind : {SamplerKind::kGrid, SamplerKind::kJoints, SamplerKind::kWorkspace}) {
    SCOPED_TRACE(ToString(kind));
    SamplerOptions options;
    options.kind = kind;
    options.count = 500;
    options.grid_step_deg = 60.0;
    options.seed = 3;
    SaveDataset(dir.Path("a.safetensors"), MakeDataset(chain, options));
    SaveDataset(dir.Path("b.safetensors"), MakeDataset(chain, options));
    const std::string a = ReadBytes(dir.Path("a.safetensors"));
    ASSERT_FALSE(a.empty());
    EXPECT_EQ(a, ReadBytes(dir.Path("b.safetensors")));
    options.seed = 4;
    SaveDataset(dir.Path("c.safetensors"), MakeDataset(chain, options));
    EXPECT_NE(a, ReadBytes(dir.Path("c.safetensors")));
  }
}

void ExpectSameDataset(const Dataset& a, const Dataset& b) {
  EXPECT_EQ(a.arm_json, b.arm_json);
  EXPECT_EQ(a.options.kind, b.options.kind);
  EXPECT_EQ(a.options.count, b.options.count);
  EXPECT_EQ(a.options.grid_step_deg, b.options.grid_step_deg);
  EXPECT_EQ(a.options.grid_step_m, b.options.grid_step_m);
  EXPECT_EQ(a.options.margin, b.options.margin);
  EXPECT_EQ(a.options.seed, b.options.seed);
  EXPECT_EQ(a.options.train_fraction, b.options.train_fraction);
  EXPECT_EQ(a.options.validation_fraction, b.options.validation_fraction);
  EXPECT_EQ(a.share_beyond_reach, b.share_beyond_reach);
  const std::vector<const DatasetSplit*> split_a = Splits(a), split_b = Splits(b);
  for (size_t i = 0; i < 3; ++i) {
    ASSERT_EQ(split_a[i]->targets.rows(), split_b[i]->targets.rows());
    EXPECT_TRUE(split_a[i]->targets == split_b[i]->targets);
    ASSERT_EQ(split_a[i]->labels.rows(), split_b[i]->labels.rows());
    ASSERT_EQ(split_a[i]->labels.cols(), split_b[i]->labels.cols());
    EXPECT_TRUE(split_a[i]->labels == split_b[i]->labels);
  }
}

TEST(DatasetTest, SaveLoadRoundTripIsExact) {
  TempDir dir;
  const Chain chain = MakeUr5();
  for (SamplerKind kind : {SamplerKind::kGrid, SamplerKind::kJoints, SamplerKind::kWorkspace}) {
    SCOPED_TRACE(ToString(kind));
    SamplerOptions options;
    options.kind = kind;
    options.count = 300;
    options.grid_step_deg = 120.0;
    options.margin = 0.35;
    options.seed = 0xfedcba9876543210ull;  // above INT64_MAX: must survive the JSON options
    options.train_fraction = 0.6;
    options.validation_fraction = 0.3;
    const Dataset dataset = MakeDataset(chain, options);
    const std::string path = dir.Path(std::string(ToString(kind)) + ".safetensors");
    SaveDataset(path, dataset);
    const Dataset loaded = LoadDataset(path);
    ExpectSameDataset(dataset, loaded);
    EXPECT_TRUE(SameChain(ChainFromJson(loaded.arm_json), chain));
  }
  // The file is plain safetensors with the documented metadata.
  const SafetensorsFile file = ReadSafetensors(dir.Path("grid.safetensors"));
  EXPECT_EQ(file.metadata.at("format"), "deepik-dataset");
  EXPECT_EQ(file.metadata.at("version"), "1");
  EXPECT_EQ(file.tensors.at("train_labels").shape[1], 6);
  EXPECT_EQ(file.tensors.at("test_targets").dtype, "F64");
  EXPECT_EQ(ReadSafetensors(dir.Path("workspace.safetensors")).tensors.count("train_labels"), 0u);
}

class DatasetFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SamplerOptions options;
    options.kind = SamplerKind::kJoints;
    options.count = 200;
    SaveDataset(good_, MakeDataset(MakeSeedArm(), options));
  }
  TempDir dir_;
  const std::string good_ = dir_.Path("good.safetensors");
  const std::string bad_ = dir_.Path("bad.safetensors");
};

TEST_F(DatasetFileTest, RefusesMissingAndTruncatedFiles) {
  EXPECT_NE(LoadError(dir_.Path("missing.safetensors")).find("cannot open"), std::string::npos);
  const std::string bytes = ReadBytes(good_);
  for (size_t cut : {size_t{5}, size_t{100}, bytes.size() / 2, bytes.size() - 1}) {
    WriteBytes(bad_, bytes.substr(0, cut));
    const std::string message = LoadError(bad_);
    EXPECT_TRUE(message.find("truncated") != std::string::npos ||
                message.find("expected at least 8 bytes") != std::string::npos)
        << "cut at " << cut << ": " << message;
  }
}

TEST_F(DatasetFileTest, RefusesForeignAndOtherVersionFiles) {
  SafetensorsFile foreign;
  foreign.tensors["weights"] = RawTensor::FromFloats({1.0f}, {1});
  WriteSafetensors(bad_, foreign);
  EXPECT_NE(LoadError(bad_).find("not a deepik dataset: expected metadata format 'deepik-dataset', got none"),
            std::string::npos);
  foreign.metadata["format"] = "deepik-model";
  WriteSafetensors(bad_, foreign);
  EXPECT_NE(LoadError(bad_).find("got 'deepik-model'"), std::string::npos);

  SafetensorsFile file = ReadSafetensors(good_);
  file.metadata["version"] = "2";
  WriteSafetensors(bad_, file);
  EXPECT_NE(LoadError(bad_).find("expected dataset version 1, got '2'"), std::string::npos);

  file = ReadSafetensors(good_);
  file.metadata.erase("arm");
  WriteSafetensors(bad_, file);
  EXPECT_NE(LoadError(bad_).find("metadata 'arm' is missing"), std::string::npos);

  file = ReadSafetensors(good_);
  file.metadata["arm"] = "{}";
  WriteSafetensors(bad_, file);
  EXPECT_NE(LoadError(bad_).find("metadata 'arm': chain JSON: name: missing"), std::string::npos);

  file = ReadSafetensors(good_);
  nlohmann::json options = nlohmann::json::parse(file.metadata.at("options"));
  options["train_fraction"] = 1.5;
  file.metadata["options"] = options.dump();
  WriteSafetensors(bad_, file);
  EXPECT_NE(LoadError(bad_).find("metadata 'options': train_fraction: expected a value in (0, 1]"),
            std::string::npos);
}

TEST_F(DatasetFileTest, RefusesShapesThatDoNotMatchTheArm) {
  SafetensorsFile file = ReadSafetensors(good_);
  const int64_t rows = file.tensors.at("train_labels").shape[0];
  // Labels for a 3-joint arm in a file whose arm (the seed arm) has 4.
  file.tensors["train_labels"] =
      RawTensor::FromDoubles(std::vector<double>(static_cast<size_t>(rows) * 3, 0.0), {rows, 3});
  WriteSafetensors(bad_, file);
  EXPECT_NE(LoadError(bad_).find("tensor 'train_labels': expected shape [rows, 4], got [" +
                                 std::to_string(rows) + ", 3]"),
            std::string::npos);

  file = ReadSafetensors(good_);
  file.tensors["test_targets"] = RawTensor::FromDoubles({1, 2, 3, 4}, {2, 2});
  WriteSafetensors(bad_, file);
  EXPECT_NE(LoadError(bad_).find("tensor 'test_targets': expected shape [rows, 3], got [2, 2]"),
            std::string::npos);

  file = ReadSafetensors(good_);
  file.tensors["validation_labels"] = RawTensor::FromDoubles({0, 0, 0, 0}, {1, 4});
  WriteSafetensors(bad_, file);
  EXPECT_NE(
      LoadError(bad_).find("tensor 'validation_labels': expected 20 rows like 'validation_targets', got 1"),
      std::string::npos);

  file = ReadSafetensors(good_);
  file.tensors.erase("train_targets");
  WriteSafetensors(bad_, file);
  EXPECT_NE(LoadError(bad_).find("tensor 'train_targets' is missing"), std::string::npos);

  file = ReadSafetensors(good_);
  file.tensors["train_targets"].dtype = "I64";
  WriteSafetensors(bad_, file);
  EXPECT_NE(LoadError(bad_).find("tensor 'train_targets': expected F64, got I64"), std::string::npos);

  file = ReadSafetensors(good_);
  file.tensors["test_targets"] = RawTensor::FromDoubles({1, 2, std::nan("")}, {1, 3});
  file.tensors["test_labels"] = RawTensor::FromDoubles({0, 0, 0, 0}, {1, 4});
  WriteSafetensors(bad_, file);
  EXPECT_NE(LoadError(bad_).find("tensor 'test_targets': row 0 holds a value that is not finite"),
            std::string::npos);
}

TEST(SamplerOptionsTest, IsValidNamesTheField) {
  const auto error_of = [](const SamplerOptions& options) {
    std::string error;
    EXPECT_FALSE(options.IsValid(&error));
    return error;
  };
  std::string error;
  EXPECT_TRUE(SamplerOptions().IsValid(&error)) << error;
  SamplerOptions options;
  options.count = 0;
  EXPECT_EQ(error_of(options).rfind("count:", 0), 0u);
  options = {};
  options.grid_step_deg = 0;
  EXPECT_EQ(error_of(options).rfind("grid_step_deg:", 0), 0u);
  options = {};
  options.grid_step_m = -1;
  EXPECT_EQ(error_of(options).rfind("grid_step_m:", 0), 0u);
  options = {};
  options.margin = -0.1;
  EXPECT_EQ(error_of(options).rfind("margin:", 0), 0u);
  options = {};
  options.margin = std::nan("");
  EXPECT_EQ(error_of(options).rfind("margin:", 0), 0u);
  options = {};
  options.train_fraction = 0;
  EXPECT_EQ(error_of(options).rfind("train_fraction:", 0), 0u);
  options = {};
  options.validation_fraction = -0.1;
  EXPECT_EQ(error_of(options).rfind("validation_fraction:", 0), 0u);
  options = {};
  options.train_fraction = 0.9;
  options.validation_fraction = 0.2;
  EXPECT_EQ(error_of(options).rfind("train_fraction + validation_fraction:", 0), 0u);

  options = {};
  options.count = -5;
  try {
    MakeDataset(MakeSeedArm(), options);
    ADD_FAILURE() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("count"), std::string::npos) << e.what();
  }
}

TEST(SamplerOptionsTest, KindNames) {
  for (SamplerKind kind : {SamplerKind::kGrid, SamplerKind::kJoints, SamplerKind::kWorkspace}) {
    EXPECT_EQ(SamplerKindFromString(ToString(kind)), kind);
  }
  try {
    SamplerKindFromString("random");
    ADD_FAILURE() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("grid, joints, workspace"), std::string::npos) << e.what();
  }
}

TEST(ChainJsonTest, RoundTripOfEveryBuiltinArmIsExact) {
  std::mt19937_64 rng(5);
  for (const std::string& name : BuiltinArmNames()) {
    SCOPED_TRACE(name);
    const Chain chain = MakeBuiltinArm(name);
    const std::string json = ChainToJson(chain);
    const Chain back = ChainFromJson(json);
    EXPECT_TRUE(SameChain(chain, back));
    EXPECT_EQ(ChainToJson(back), json);
    for (int trial = 0; trial < 50; ++trial) {
      const Eigen::VectorXd q = testing::RandomConfiguration(chain, &rng);
      const Eigen::Isometry3d a = TipPose(chain, q), b = TipPose(back, q);
      EXPECT_EQ(std::memcmp(a.data(), b.data(), 16 * sizeof(double)), 0);
    }
  }
}

TEST(ChainJsonTest, KeepsPrismaticAndContinuousJoints) {
  Joint slide;
  slide.name = "slide";
  slide.type = JointType::kPrismatic;
  slide.axis_J = Eigen::Vector3d(0.6, 0.0, 0.8);
  slide.lower = -0.1;
  slide.upper = 0.3;
  Joint spin;
  spin.name = "spin";
  spin.continuous = true;
  spin.lower = -kPi;
  spin.upper = kPi;
  spin.X_PJ = TransformFromXyzRpy(Eigen::Vector3d(0.1, -0.0, 1.0 / 3.0), Eigen::Vector3d(0.3, -1.1, 2.9));
  const Chain chain("mixed", {slide, spin},
                    TransformFromXyzRpy(Eigen::Vector3d(1e-300, 0, 0), {0.1, 0.2, 0.3}));
  const Chain back = ChainFromJson(ChainToJson(chain));
  EXPECT_TRUE(SameChain(chain, back));
  EXPECT_EQ(back.joint(0).type, JointType::kPrismatic);
  EXPECT_TRUE(back.joint(1).continuous);
  EXPECT_TRUE(std::signbit(back.joint(1).X_PJ.translation().y()));

  // SameChain notices a one-ulp difference.
  std::vector<Joint> joints = chain.joints();
  joints[0].upper = std::nextafter(joints[0].upper, 1.0);
  EXPECT_FALSE(SameChain(chain, Chain("mixed", joints, chain.X_LT())));
}

std::string ChainJsonError(const std::string& json) {
  try {
    ChainFromJson(json);
  } catch (const InputError& error) {
    return error.what();
  }
  ADD_FAILURE() << "ChainFromJson did not throw for " << json;
  return "";
}

TEST(ChainJsonTest, BadJsonIsRefusedWithTheFieldNamed) {
  const nlohmann::json good = nlohmann::json::parse(ChainToJson(MakeSeedArm()));
  EXPECT_NE(ChainJsonError("{not json").find("not valid JSON"), std::string::npos);
  EXPECT_NE(ChainJsonError("[]").find("expected an object"), std::string::npos);

  nlohmann::json bad = good;
  bad.erase("joints");
  EXPECT_NE(ChainJsonError(bad.dump()).find("chain JSON: joints: missing"), std::string::npos);

  bad = good;
  bad["joints"][1]["lower"] = "low";
  EXPECT_NE(ChainJsonError(bad.dump()).find("joints[1].lower: expected a number, got \"low\""),
            std::string::npos);

  bad = good;
  bad["joints"][2]["origin"]["R"] = {1, 0, 0};
  EXPECT_NE(ChainJsonError(bad.dump()).find("joints[2].origin.R: expected an array of 9 numbers"),
            std::string::npos);

  bad = good;
  bad["joints"][0]["type"] = "spherical";
  EXPECT_NE(ChainJsonError(bad.dump()).find("joints[0].type: expected \"revolute\" or \"prismatic\""),
            std::string::npos);

  bad = good;
  bad["joints"][3].erase("continuous");
  EXPECT_NE(ChainJsonError(bad.dump()).find("joints[3].continuous: missing"), std::string::npos);

  bad = good;
  bad["tip"].erase("xyz");
  EXPECT_NE(ChainJsonError(bad.dump()).find("tip.xyz: missing"), std::string::npos);

  // What the Chain constructor refuses comes back as an InputError too.
  bad = good;
  bad["joints"][0]["lower"] = 1.0;
  bad["joints"][0]["upper"] = -1.0;
  EXPECT_NE(ChainJsonError(bad.dump()).find("expected lower <= upper"), std::string::npos);
  bad = good;
  bad["joints"][1]["axis"] = {0, 0, 2};
  EXPECT_NE(ChainJsonError(bad.dump()).find("expected a unit axis"), std::string::npos);
}

// The workspace sampler draws in the arm's own span: planar2's targets all lie in its plane (z = 0,
// FK of any joint values), where the old 3-D ball put most of them out of reach; a spatial arm
// still draws in a ball, with the very draws of UniformInBall.
TEST(WorkspaceSampler, DrawsInAPlanarArmsPlane) {
  const Chain planar = MakeBuiltinArm("planar2");
  const ReachableSpan span = FindReachableSpan(planar);
  ASSERT_EQ(span.dimension, 2);
  EXPECT_NEAR(std::abs(span.axes_B.col(0).z()) + std::abs(span.axes_B.col(1).z()), 0.0, 1e-9);
  EXPECT_LT(span.center_B.norm(), 1e-9);
  SamplerOptions options;
  options.count = 4000;
  options.margin = 0.2;
  const Dataset data = MakeDataset(planar, options);
  double max_abs_z = 0, max_radius = 0;
  int64_t beyond = 0, total = 0;
  for (const DatasetSplit* split : {&data.train, &data.validation, &data.test}) {
    for (int64_t r = 0; r < split->size(); ++r) {
      const Eigen::Vector3d p = split->targets.row(r).transpose();
      max_abs_z = std::max(max_abs_z, std::abs(p.z()));
      max_radius = std::max(max_radius, p.norm());
      beyond += p.norm() > planar.reach();
      ++total;
    }
  }
  EXPECT_LT(max_abs_z, 1e-9);
  EXPECT_LE(max_radius, 1.2 * planar.reach() + 1e-12);
  EXPECT_GT(max_radius, 1.15 * planar.reach());  // the disc is filled to its edge
  // Uniform in a disc of radius 1.2 r: 1 - 1 / 1.2^2 = 30.6 % beyond r (a ball would give 42.1 %).
  EXPECT_NEAR(static_cast<double>(beyond) / total, 1.0 - 1.0 / 1.44, 0.03);
  EXPECT_NEAR(data.share_beyond_reach, static_cast<double>(beyond) / total, 1e-12);
}

TEST(WorkspaceSampler, SpatialArmsDrawTheBallAsBefore) {
  const Chain seed = MakeBuiltinArm("seed");
  EXPECT_EQ(FindReachableSpan(seed).dimension, 3);
  SamplerOptions options;
  options.count = 500;
  options.train_fraction = 1.0;
  options.validation_fraction = 0.0;
  const Dataset data = MakeDataset(seed, options);
  // The same draws as UniformInBall from the dataset's seed (the split is shuffled: compare sets).
  std::mt19937_64 rng(options.seed);
  std::vector<std::vector<double>> expected, got;
  for (int i = 0; i < 500; ++i) {
    const Eigen::Vector3d p = UniformInBall(1.2 * seed.reach(), &rng);
    expected.push_back({p.x(), p.y(), p.z()});
    got.push_back({data.train.targets(i, 0), data.train.targets(i, 1), data.train.targets(i, 2)});
  }
  std::sort(expected.begin(), expected.end());
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, expected);
}

TEST(WorkspaceSampler, SpanOfALineAndOfAPoint) {
  Joint slide;
  slide.name = "slide";
  slide.type = JointType::kPrismatic;
  slide.axis_J = Eigen::Vector3d(0, 1, 0);
  slide.lower = -0.5;
  slide.upper = 0.5;
  Eigen::Isometry3d X_LT = Eigen::Isometry3d::Identity();
  X_LT.translation() = Eigen::Vector3d(1, 0, 2);
  const ReachableSpan line = FindReachableSpan(Chain("slide", {slide}, X_LT));
  ASSERT_EQ(line.dimension, 1);
  EXPECT_NEAR(std::abs(line.axes_B.col(0).y()), 1.0, 1e-12);
  EXPECT_NEAR((line.center_B - Eigen::Vector3d(1, 0, 2)).norm(), 0.0, 1e-12);
  // A joint turning about the axis through its tip: every configuration reaches one point.
  Joint spin;
  spin.name = "spin";
  spin.lower = -1;
  spin.upper = 1;
  Eigen::Isometry3d X_LT_up = Eigen::Isometry3d::Identity();
  X_LT_up.translation() = Eigen::Vector3d(0, 0, 0.3);
  const ReachableSpan point = FindReachableSpan(Chain("spin", {spin}, X_LT_up));
  EXPECT_EQ(point.dimension, 0);
  EXPECT_NEAR((point.center_B - Eigen::Vector3d(0, 0, 0.3)).norm(), 0.0, 1e-12);
}

TEST(WorkspaceSampler, WarnsWhenMostValidationTargetsAreOutOfReach) {
  const std::string warning = OutOfReachWarning(500, 500, "train: ");
  EXPECT_NE(
      warning.find("train: WARNING: 500 of the 500 validation targets (100 %) are out of the arm's reach"),
      std::string::npos)
      << warning;
  EXPECT_NE(OutOfReachWarning(251, 500, "").find("WARNING"), std::string::npos);
  EXPECT_EQ(OutOfReachWarning(250, 500, ""), "");
  EXPECT_EQ(OutOfReachWarning(0, 0, ""), "");
}

}  // namespace
}  // namespace deepik
