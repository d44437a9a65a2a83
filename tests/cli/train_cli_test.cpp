// The learning commands end to end: dataset -> train -> model info -> solve, interruption and
// resume through a real signal, and bad input refused with nothing half-written.
#include <gtest/gtest.h>

#include <Eigen/Core>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "cli_util.hpp"
#include "deepik/data/csv.hpp"
#include "deepik/errors.hpp"
#include "deepik/kinematics/builtin_arms.hpp"
#include "deepik/kinematics/fk.hpp"
#include "deepik/learn/model.hpp"

namespace deepik {
namespace {

using testing::CliResult;
using testing::CsvRows;
using testing::JointsOfRow;
using testing::kSeedModel;
using testing::ReadFile;
using testing::RunCli;
using testing::TempDir;
using testing::WriteBytes;

void Write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

bool Has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream stream(text);
  for (std::string line; std::getline(stream, line);) lines.push_back(line);
  return lines;
}

// One small planar2 model for the whole suite.
class LearningCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    const CliResult data =
        RunCli("dataset planar2 --sampler joints --count 5000 --data-seed 3 -o d.dset", *dir_);
    ASSERT_EQ(data.exit_code, kExitOk) << data.err;
    const CliResult train = RunCli(
        "train --data d.dset --epochs 3 --width 32 --depth 2 --threads 1 --eval-samples 500 -o m.safetensors",
        *dir_);
    ASSERT_EQ(train.exit_code, kExitOk) << train.err;
    train_log_ = new std::string(train.err);
  }
  static void TearDownTestSuite() {
    delete train_log_;
    delete dir_;
  }
  static TempDir* dir_;
  static std::string* train_log_;
};
TempDir* LearningCli::dir_ = nullptr;
std::string* LearningCli::train_log_ = nullptr;

TEST_F(LearningCli, TrainReportsEpochsAndHeadlineMetrics) {
  EXPECT_NE(train_log_->find("epoch 3/3"), std::string::npos) << *train_log_;
  EXPECT_NE(train_log_->find("unseen in-reach targets: median"), std::string::npos) << *train_log_;
  EXPECT_TRUE(std::filesystem::exists(dir_->Path("m.safetensors.log.csv")));
  EXPECT_TRUE(std::filesystem::exists(dir_->Path("m.safetensors.ckpt")));
}

TEST_F(LearningCli, ModelInfoPrintsEverythingTheFileHolds) {
  const CliResult r = RunCli("model info m.safetensors", *dir_);
  ASSERT_EQ(r.exit_code, kExitOk) << r.err;
  for (const char* part :
       {"arm: planar2", "joint1 joint2", "2 hidden layers x 32 relu", "bounded head",
        "training options:", "history: 3 epochs", "metrics:", "in reach:\n    count 500"}) {
    EXPECT_NE(r.out.find(part), std::string::npos) << part << "\n" << r.out;
  }
}

// The shipped default ends with a Newton step, and its history has the headline figure per epoch:
// `model info` says both.
TEST(ModelInfo, ShowsTheNewtonStepsAndTheInReachFigureOfEachEpoch) {
  TempDir dir;
  const CliResult r = RunCli("model info " + kSeedModel, dir);
  ASSERT_EQ(r.exit_code, kExitOk) << r.err;
  EXPECT_NE(r.out.find("newton steps: 1 "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\n     14  0.2025 / 0.2008    77.19 mm    0.009052 mm       1.677 mm    2m34s\n"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("in reach: median  p99"), std::string::npos) << r.out;
}

TEST_F(LearningCli, SolveFollowsTheCsvContract) {
  Write(dir_->Path("t.csv"), "x,y,z\n1.2,0.3,0\n-0.5,1,0\n0,0,0\n");
  const CliResult r = RunCli("solve --model m.safetensors --solver network -i t.csv -o s.csv", *dir_);
  ASSERT_EQ(r.exit_code, kExitOk) << r.err;
  const std::vector<std::string> lines = Lines(ReadFile(dir_->Path("s.csv")));
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0], "joint1,joint2,x,y,z,qw,qx,qy,qz,position_error,angle_error,status");
  for (size_t i = 1; i < lines.size(); ++i) {
    std::istringstream row(lines[i]);
    std::vector<double> values;
    std::vector<std::string> fields;
    for (std::string field; std::getline(row, field, ',');) fields.push_back(field);
    ASSERT_EQ(fields.size(), 12u);
    for (size_t c = 0; c < 10; ++c) values.push_back(std::stod(fields[c]));
    EXPECT_EQ(fields[10], "");  // angle_error: empty for a position-only target
    // The network alone: converged within 0.1 mm, otherwise approximate (never "failed" for a
    // finite answer within the limits, never "out of reach": it cannot tell).
    EXPECT_EQ(fields[11], values[9] <= 1e-4 ? "converged" : "approximate") << lines[i];
    // planar2 turns about z only: the reached orientation is a turn of q1 + q2 about z.
    EXPECT_NEAR(std::abs(values[5]), std::abs(std::cos(0.5 * (values[0] + values[1]))), 1e-12);
    EXPECT_NEAR(values[6], 0.0, 1e-12);
    EXPECT_NEAR(values[7], 0.0, 1e-12);
    // The reached point is FK of the angles (planar2 closed form) and error its distance to the target.
    const double x = std::cos(values[0]) + std::cos(values[0] + values[1]);
    const double y = std::sin(values[0]) + std::sin(values[0] + values[1]);
    EXPECT_NEAR(values[2], x, 1e-12);
    EXPECT_NEAR(values[3], y, 1e-12);
  }
}

TEST_F(LearningCli, BadSolveRowsAreListedWithLineNumbersAndNothingIsWritten) {
  Write(dir_->Path("bad.csv"), "x,y,z\n1,0,0\n1,0\n1,abc,0\n1,nan,0\n");
  const CliResult r = RunCli("solve -m m.safetensors -i bad.csv -o out.csv", *dir_);
  EXPECT_EQ(r.exit_code, kExitInput);
  for (const char* part : {"3 bad rows", "bad.csv:3: expected 3 columns, got 2", "bad.csv:4: column 2 (y)",
                           "'abc'", "bad.csv:5: column 2 (y)", "'nan'"}) {
    EXPECT_NE(r.err.find(part), std::string::npos) << part << "\n" << r.err;
  }
  EXPECT_FALSE(std::filesystem::exists(dir_->Path("out.csv")));
}

TEST_F(LearningCli, UnknownSolverAndBadHeaderAreRefused) {
  Write(dir_->Path("t2.csv"), "x,y,z\n1,0,0\n");
  CliResult r = RunCli("solve -m m.safetensors --solver magic -i t2.csv -o o.csv", *dir_);
  EXPECT_EQ(r.exit_code, kExitInput);
  EXPECT_NE(r.err.find("magic"), std::string::npos) << r.err;
  Write(dir_->Path("t3.csv"), "a,b,c\n1,0,0\n");
  r = RunCli("solve -m m.safetensors -i t3.csv -o o.csv", *dir_);
  EXPECT_EQ(r.exit_code, kExitInput);
  EXPECT_NE(r.err.find("x,y,z"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir_->Path("o.csv")));
}

TEST_F(LearningCli, CorruptedModelAndTruncatedDatasetAreRefused) {
  const std::string model = testing::ReadBytes(dir_->Path("m.safetensors"));
  testing::WriteBytes(dir_->Path("cut.safetensors"), model.substr(0, model.size() / 2));
  Write(dir_->Path("t4.csv"), "x,y,z\n1,0,0\n");
  CliResult r = RunCli("solve -m cut.safetensors -i t4.csv -o o4.csv", *dir_);
  EXPECT_EQ(r.exit_code, kExitInput);
  EXPECT_NE(r.err.find("cut.safetensors"), std::string::npos) << r.err;
  r = RunCli("model info cut.safetensors", *dir_);
  EXPECT_EQ(r.exit_code, kExitInput);

  const std::string data = testing::ReadBytes(dir_->Path("d.dset"));
  testing::WriteBytes(dir_->Path("cut.dset"), data.substr(0, data.size() - 8));
  r = RunCli("train --data cut.dset --epochs 1 -o never.safetensors", *dir_);
  EXPECT_EQ(r.exit_code, kExitInput);
  EXPECT_NE(r.err.find("cut.dset"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir_->Path("never.safetensors")));
}

TEST_F(LearningCli, ADatasetForAnotherArmIsRefused) {
  const CliResult r = RunCli("train seed --data d.dset --epochs 1 -o never2.safetensors", *dir_);
  EXPECT_EQ(r.exit_code, kExitInput);
  EXPECT_NE(r.err.find("made for arm 'planar2'"), std::string::npos) << r.err;
}

TEST_F(LearningCli, MseOnUnlabelledDataIsRefused) {
  ASSERT_EQ(RunCli("dataset planar2 --count 1000 -o w.dset", *dir_).exit_code, kExitOk);
  const CliResult r = RunCli("train --data w.dset --loss mse --epochs 1 -o never3.safetensors", *dir_);
  EXPECT_EQ(r.exit_code, kExitInput);
  EXPECT_NE(r.err.find("labels"), std::string::npos) << r.err;
}

// A pose model end to end: train --target pose, model info, eval (network alone on poses) and
// the refusals of what a pose model cannot take.
TEST(PoseCliTest, TrainInfoEvalAndRefusals) {
  TempDir dir;
  const CliResult train = RunCli(
      "train ur5 --target pose --count 3000 --epochs 2 --depth 2 --width 16 --threads 1 --eval-samples 300 "
      "--angle-weight 0.2 -o p.safetensors",
      dir);
  ASSERT_EQ(train.exit_code, kExitOk) << train.err;
  for (const char* part : {"sampling joints data", "pose targets", "deg (p95",
                           "unseen in-reach poses: position median", "train: angle median"}) {
    EXPECT_NE(train.err.find(part), std::string::npos) << part << "\n" << train.err;
  }
  EXPECT_NE(ReadFile(dir.Path("p.safetensors.log.csv")).find("validation_angle_median_rad"),
            std::string::npos);
  const CliResult info = RunCli("model info p.safetensors", dir);
  ASSERT_EQ(info.exit_code, kExitOk) << info.err;
  EXPECT_NE(info.out.find("target: pose"), std::string::npos) << info.out;
  EXPECT_NE(info.out.find("angle weight 0.2"), std::string::npos) << info.out;
  const CliResult eval = RunCli("eval --model p.safetensors --in-reach 400 --json r.json", dir);
  ASSERT_EQ(eval.exit_code, kExitOk) << eval.err;
  for (const char* part : {"network alone on 400 unseen poses", "| position (mm) |", "| angle (deg) |"}) {
    EXPECT_NE(eval.out.find(part), std::string::npos) << part << "\n" << eval.out;
  }
  EXPECT_NE(ReadFile(dir.Path("r.json")).find("\"angle_rad\""), std::string::npos);
  // Position-only targets for a pose model: a clear input error, on one thread or two.
  Write(dir.Path("t.csv"), "x,y,z\n0.3,0.2,0.4\n0.1,0.4,0.3\n");
  for (const char* threads : {"1", "2"}) {
    const CliResult solve = RunCli(
        std::string("solve --model p.safetensors --solver network -i t.csv -o s.csv --threads ") + threads,
        dir);
    EXPECT_EQ(solve.exit_code, kExitInput) << solve.err;
    EXPECT_NE(solve.err.find("full-pose targets"), std::string::npos) << solve.err;
  }
  EXPECT_FALSE(std::filesystem::exists(dir.Path("s.csv")));
  EXPECT_EQ(RunCli("eval --model p.safetensors --solvers refined", dir).exit_code, kExitInput);
  EXPECT_EQ(RunCli("train ur5 --target orientation -o q.safetensors", dir).exit_code, kExitUsage);
  // A pose model needs joint labels: a workspace dataset is refused.
  const CliResult workspace =
      RunCli("train ur5 --target pose --sampler workspace --count 500 -o w.safetensors", dir);
  EXPECT_EQ(workspace.exit_code, kExitInput) << workspace.err;
  EXPECT_NE(workspace.err.find("joints or grid"), std::string::npos) << workspace.err;
}

// `train --collision-weight`: the penalty on the arm's coarse sphere model, recorded in the model
// file beside the other training options (0 when off); arms without geometry or sphere model and
// bad weights refused naming the option.
TEST(CollisionTrainCli, PenaltyRecordedAndBadInputRefused) {
  TempDir dir;
  const CliResult train = RunCli(
      "train panda --target pose --count 2000 --epochs 1 --depth 2 --width 16 --threads 1 --eval-samples 200 "
      "--collision-weight 0.5 -o c.safetensors",
      dir);
  ASSERT_EQ(train.exit_code, kExitOk) << train.err;
  EXPECT_TRUE(Has(train.err, "self-collision penalty x 0.5 on 36 spheres")) << train.err;
  EXPECT_TRUE(Has(train.err, "320 sphere pairs of 20 checked link pairs")) << train.err;
  const IkModel model = IkModel::Load(dir.Path("c.safetensors"));
  EXPECT_TRUE(Has(model.Metadata("training"), "\"collision_weight\":0.5")) << model.Metadata("training");
  EXPECT_TRUE(Has(model.Metadata("training"), "\"collision_sphere_pairs\":320"))
      << model.Metadata("training");
  const CliResult info = RunCli("model info c.safetensors", dir);
  EXPECT_TRUE(Has(info.out, "collision weight 0.5")) << info.out;
  const CliResult off = RunCli(
      "train panda --target pose --count 500 --epochs 1 --depth 1 --width 8 --threads 1 --eval-samples 50 "
      "-o off.safetensors",
      dir);
  ASSERT_EQ(off.exit_code, kExitOk) << off.err;
  EXPECT_TRUE(Has(IkModel::Load(dir.Path("off.safetensors")).Metadata("training"), "\"collision_weight\":0"));
  EXPECT_FALSE(Has(off.err, "self-collision penalty"));

  const CliResult seed = RunCli("train seed --count 500 --collision-weight 1 -o s.safetensors", dir);
  EXPECT_EQ(seed.exit_code, kExitInput) << seed.err;
  EXPECT_TRUE(Has(seed.err, "--collision-weight: arm 'seed' has no collision geometry")) << seed.err;
  Write(dir.Path("bad.spheres.json"),
        "{\"arm\": \"panda\", \"links\": [{\"link\": \"nowhere\", \"spheres\": []}]}");
  const CliResult spheres = RunCli(
      "train panda --target pose --count 500 --collision-weight 1 --spheres bad.spheres.json -o "
      "b.safetensors",
      dir);
  EXPECT_EQ(spheres.exit_code, kExitInput) << spheres.err;
  EXPECT_TRUE(Has(spheres.err, "nowhere")) << spheres.err;
  for (const char* weight : {"-1", "nan", "1e9", "x"}) {
    const CliResult bad =
        RunCli(std::string("train panda --collision-weight ") + weight + " -o w.safetensors", dir);
    EXPECT_EQ(bad.exit_code, kExitUsage) << weight;
    EXPECT_TRUE(Has(bad.err, "--collision-weight")) << bad.err;
  }
  for (const char* file : {"s.safetensors", "b.safetensors", "w.safetensors"})
    EXPECT_FALSE(std::filesystem::exists(dir.Path(file))) << file;
}

TEST(TrainSignalTest, SigintSavesACheckpointAndResumeFinishes) {
  TempDir dir;
  // Long enough to be interrupted: SIGINT as soon as the first checkpoint exists (waited for with a
  // deadline, not a fixed time), then resume to the end.
  const std::string train =
      "train planar2 --sampler joints --count 60000 --epochs 40 --width 64 --threads 1 "
      "--eval-samples 200 -o m.safetensors";
  const CliResult first = testing::RunShell(
      "'" + std::string(DEEPIK_CLI) + "' " + train +
          " & pid=$!; for i in $(seq 3000); do [ -f m.safetensors.ckpt ] && break; sleep 0.1; done; "
          "kill -INT $pid; wait $pid",
      dir);
  EXPECT_EQ(first.exit_code, kExitInterrupted) << first.err;
  EXPECT_NE(first.err.find("--resume"), std::string::npos) << first.err;
  EXPECT_FALSE(std::filesystem::exists(dir.Path("m.safetensors")));
  ASSERT_TRUE(std::filesystem::exists(dir.Path("m.safetensors.ckpt")));
  const CliResult second = RunCli(train + " --resume", dir);
  ASSERT_EQ(second.exit_code, kExitOk) << second.err;
  EXPECT_NE(second.err.find("epoch 40/40"), std::string::npos) << second.err;
  EXPECT_TRUE(std::filesystem::exists(dir.Path("m.safetensors")));
}

}  // namespace
}  // namespace deepik

namespace deepik {
namespace {

TEST(ExperimentCliTest, SeedExperimentPrintsEveryRowOfTheStory) {
  TempDir dir;
  const CliResult r =
      RunCli("experiment seed --seconds 3 --in-reach 300 --out-of-reach 60 --work-dir exp", dir);
  ASSERT_EQ(r.exit_code, kExitOk) << r.err;
  const std::vector<std::string> lines = Lines(r.out);
  // Each solver has a row in each of eval's three tables: accuracy, shares, speed.
  auto row = [&lines](const std::string& start, size_t table) {
    std::vector<std::string> found;
    for (const std::string& line : lines) {
      if (line.rfind("| " + start, 0) == 0) found.push_back(line);
    }
    return found.size() > table ? found[table] : std::string();
  };
  for (const char* start :
       {"A: MSE", "B: FK loss", "C: B with", "D: C + refinement", "analytic", "kdl-nr", "kdl-lma"}) {
    EXPECT_FALSE(row(start, 2).empty()) << start << "\n" << r.out;
  }
  // Cell 6 of the first table is the limit-violation count: bounded heads, refinement and the
  // closed form never violate.
  auto violations = [](const std::string& line) {
    std::vector<std::string> cells;
    std::istringstream stream(line);
    for (std::string cell; std::getline(stream, cell, '|');) cells.push_back(cell);
    return cells.size() > 6 ? std::stoi(cells[6]) : -1;
  };
  EXPECT_EQ(violations(row("C: B with", 0)), 0) << row("C: B with", 0);
  EXPECT_EQ(violations(row("D: C + refinement", 0)), 0);
  EXPECT_EQ(violations(row("analytic", 0)), 0);
  // The closed form is exact in reach.
  EXPECT_NE(row("analytic", 1).find("| 100.0 % | 100.0 % | 100.0 % | 100.0 % |"), std::string::npos)
      << row("analytic", 1);
}

// (From options_cli_test and messages_cli_test, whose other tests need no libtorch and run in the
// sanitizer builds.)
struct Case {
  std::string args;
  std::string message;  // a part of the message
};

TEST(OptionsCliTest, ResumeWithOtherDataOptionsIsRefused) {
  TempDir dir;
  const std::string train =
      "train planar2 --count 600 --epochs 1 --width 8 --depth 1 --threads 1 --eval-samples 20 -o "
      "m.safetensors";
  ASSERT_EQ(RunCli(train + " --sampler workspace", dir).exit_code, kExitOk);
  ASSERT_TRUE(std::filesystem::exists(dir.Path("m.safetensors.ckpt")));
  // Same number of training samples, other samples: the trainer's own check (training and network
  // options, arm, sample count) cannot see these.
  for (const Case& c : std::vector<Case>{{" --sampler workspace --data-seed 2", "--data-seed 1, now 2"},
                                         {" --sampler workspace --margin 0.5", "--margin 0.2, now 0.5"},
                                         {" --sampler joints", "--sampler workspace, now joints"}}) {
    const CliResult r = RunCli(train + c.args + " --resume", dir);
    EXPECT_EQ(r.exit_code, kExitInput) << c.args << "\n" << r.err;
    EXPECT_NE(
        r.err.find("m.safetensors.ckpt: cannot resume: the checkpoint was made with other training data"),
        std::string::npos)
        << r.err;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << c.args << "\n" << r.err;
  }
  // A grid step does not change workspace data: the same samples, so the run may continue.
  const CliResult same = RunCli(train + " --sampler workspace --step 5 --resume", dir);
  EXPECT_EQ(same.exit_code, kExitOk) << same.err;

  // A checkpoint without the record of its data (an older deepik) cannot be checked: refused.
  std::filesystem::remove(dir.Path("m.safetensors.ckpt.data"));
  const CliResult r = RunCli(train + " --sampler workspace --resume", dir);
  EXPECT_EQ(r.exit_code, kExitInput) << r.err;
  EXPECT_NE(r.err.find("m.safetensors.ckpt.data, the record of the run's data, is missing"),
            std::string::npos)
      << r.err;
}

// Training warns loudly when most validation targets are out of reach (data that does not fit
// the arm), and not for README's planar2 example, whose workspace targets now lie in its plane.
TEST(Training, WarnsWhenMostValidationTargetsAreOutOfReach) {
  TempDir dir;
  const std::string small = " --count 2000 --epochs 1 --depth 1 --width 8 --threads 1";
  const CliResult far = RunCli("train seed --margin 100" + small + " -o far.safetensors", dir);
  ASSERT_EQ(far.exit_code, kExitOk) << far.err;
  EXPECT_TRUE(Has(far.err, "train: WARNING: ")) << far.err;
  EXPECT_TRUE(Has(far.err, "validation targets (")) << far.err;
  const CliResult planar = RunCli("train planar2" + small + " -o planar.safetensors", dir);
  ASSERT_EQ(planar.exit_code, kExitOk) << planar.err;
  EXPECT_FALSE(Has(planar.err, "WARNING")) << planar.err;
}

// train refuses a URDF that is not UTF-8 at load, naming the line, as every other command does
// (messages_cli_test: NamesFromFiles.InvalidUtf8IsRefusedAtLoad).
TEST(NamesFromFiles, TrainRefusesANonUtf8UrdfAtLoad) {
  TempDir dir;
  Write(dir.Path("latin1.urdf"),
        "<?xml version=\"1.0\"?>\n<robot name=\"caf\xe9\">\n"
        "  <link name=\"base\"/><link name=\"tool\"/>\n"
        "  <joint name=\"j1\" type=\"revolute\"><parent link=\"base\"/>"
        "<child link=\"tool\"/><axis xyz=\"0 0 1\"/>"
        "<limit lower=\"-1\" upper=\"1\" effort=\"1\" velocity=\"1\"/></joint>\n"
        "</robot>\n");
  const CliResult r = RunCli("train latin1.urdf --epochs 1 --count 100 -o m.safetensors", dir);
  EXPECT_EQ(r.exit_code, kExitInput) << r.err;
  EXPECT_TRUE(Has(r.err, "latin1.urdf:2: expected UTF-8 text")) << r.err;
  EXPECT_TRUE(Has(r.err, "0xe9")) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir.Path("m.safetensors")));
}

// (From redundancy_cli_test.)
// A multi-head model end to end: trained by `train --heads`, described by `model info`, its
// heads the first starts of `solve --solutions` (every row exact by FK), exported to ONNX (the
// graph chooses the head by FK; onnxruntime runs it in tests/python/test_onnx_export.py), a bad
// --heads refused before anything is trained.
TEST(RedundancyCli, MultiHeadModelTrainsSolvesAndExportsToOnnx) {
  TempDir dir;
  CliResult r = RunCli(
      "train seed --heads 3 --depth 2 --width 32 --count 4000 --epochs 3 --threads 1 --eval-samples "
      "200 "
      "-o h.safetensors",
      dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("x 3 (winner-takes-all)"), std::string::npos) << r.err;
  r = RunCli("model info h.safetensors", dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("heads: 3 joint vectors per target"), std::string::npos) << r.out;
  const Chain chain = MakeSeedArm();
  const Eigen::Vector3d p(0.4, -0.7, 1.1);
  WriteBytes(dir.Path("t.csv"),
             "x,y,z\n" + FormatDouble(p.x()) + "," + FormatDouble(p.y()) + "," + FormatDouble(p.z()) + "\n");
  r = RunCli("solve --model h.safetensors -i t.csv -o o.csv --solutions 5 --min-distance 0.2", dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> header;
  const auto rows = CsvRows(ReadFile(dir.Path("o.csv")), &header);
  ASSERT_EQ(rows.size(), 5u);
  for (const auto& row : rows) {
    const Eigen::VectorXd q = JointsOfRow(row, 4);
    EXPECT_EQ(row[13], "converged");
    EXPECT_TRUE(chain.WithinLimits(q));
    EXPECT_LE((TipPosition(chain, q) - p).norm(), 1e-8);
  }
  r = RunCli("export --format onnx --model h.safetensors -o h.onnx", dir);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("input 'targets' [batch, 3]"), std::string::npos) << r.err;
  EXPECT_TRUE(std::filesystem::exists(dir.Path("h.onnx")));
  for (const std::string bad : {"0", "65", "two"}) {
    r = RunCli("train seed --heads " + bad + " --epochs 1 -o bad.safetensors", dir);
    EXPECT_NE(r.exit_code, 0) << bad;
    EXPECT_NE(r.err.find("--heads"), std::string::npos) << r.err;
    EXPECT_FALSE(std::filesystem::exists(dir.Path("bad.safetensors"))) << bad;
  }
}

}  // namespace
}  // namespace deepik
