// What the command says to people: usage errors and their codes, suggestions, summaries, plurals,
// names from files with their control characters escaped, URDF soft limits and text encodings,
// quaternions typed by hand.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "cli_util.hpp"
#include "deepik/errors.hpp"

namespace deepik {
namespace {

using testing::CliResult;
using testing::ReadFile;
using testing::RunCli;
using testing::TempDir;

void Write(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

bool Has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST(Usage, ABareCommandPrintsTheHelp) {
  TempDir dir;
  const CliResult bare = RunCli("", dir);
  const CliResult help = RunCli("--help", dir);
  EXPECT_EQ(bare.exit_code, kExitOk);
  EXPECT_EQ(bare.out, help.out);
  EXPECT_TRUE(Has(bare.out, "solve")) << bare.out;
}

TEST(Usage, AMistypedCommandOrOptionIsSuggested) {
  TempDir dir;
  CliResult r = RunCli("solvee", dir);
  EXPECT_EQ(r.exit_code, kExitUsage);
  EXPECT_TRUE(Has(r.err, "unknown command 'solvee'; did you mean 'deepik solve'?")) << r.err;
  r = RunCli("model infoo x", dir);
  EXPECT_EQ(r.exit_code, kExitUsage);
  EXPECT_TRUE(Has(r.err, "did you mean 'deepik model info'?")) << r.err;
  r = RunCli("solve --modle m.safetensors -i t.csv", dir);
  EXPECT_EQ(r.exit_code, kExitUsage);
  EXPECT_TRUE(Has(r.err, "unknown option --modle; did you mean --model?")) << r.err;
  r = RunCli("frobnicate", dir);  // nothing near: CLI11's message, still a usage error
  EXPECT_EQ(r.exit_code, kExitUsage);
  EXPECT_TRUE(Has(r.err, "frobnicate")) << r.err;
}

// dataset's options are checked as train's are, before any work: usage errors, ranges in --help.
TEST(Usage, DatasetOptionsAreUsageErrorsWithTheirRangesInTheHelp) {
  TempDir dir;
  for (const std::string args : {"--count 0", "--count -5", "--step 0", "--margin nan", "--sampler ball",
                                 "--train-fraction 0", "--train-fraction 0.9 --validation-fraction 0.2"}) {
    const CliResult r = RunCli("dataset seed " + args + " -o d.dset", dir);
    EXPECT_EQ(r.exit_code, kExitUsage) << args << "\n" << r.err;
    EXPECT_FALSE(std::ifstream(dir.Path("d.dset")).good()) << args;
  }
  const CliResult help = RunCli("dataset --help", dir);
  ASSERT_EQ(help.exit_code, kExitOk);
  for (const char* range : {"[1, 50000000]", "[0.001, 360]", "[0, 100]", "[1e-09, 1]", "[0, 1]"}) {
    EXPECT_TRUE(Has(help.out, range)) << range << "\n" << help.out;
  }
}

// model info: a summary of at most 100 columns with units; --json the raw texts.
TEST(ModelInfo, IsASummaryForPeopleAndRawWithJson) {
  TempDir dir;
  const CliResult raw = RunCli("model info --json '" + testing::kSeedModel + "'", dir);
  ASSERT_EQ(raw.exit_code, kExitOk) << raw.err;
  const size_t at = raw.out.find("\nmetrics: ");
  ASSERT_NE(at, std::string::npos) << raw.out;
  const nlohmann::json metrics =
      nlohmann::json::parse(raw.out.substr(at + 10, raw.out.find('\n', at + 1) - at - 10));
  const CliResult r = RunCli("model info '" + testing::kSeedModel + "'", dir);
  ASSERT_EQ(r.exit_code, kExitOk) << r.err;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) EXPECT_LE(line.size(), 100u) << line;
  char median[32];
  std::snprintf(median, sizeof median, "median %.4g mm", 1e3 * metrics["in_reach"]["median_m"].get<double>());
  EXPECT_TRUE(Has(r.out, median)) << median << "\n" << r.out;
  for (const char* part : {"training options:\n  ", "batch size 1024", "in reach:\n", "within 1cm 100 %",
                           "limit violations 0", "history: 14 epochs"}) {
    EXPECT_TRUE(Has(r.out, part)) << part << "\n" << r.out;
  }
  EXPECT_FALSE(Has(r.out, "\"median_m\"")) << r.out;
  EXPECT_TRUE(Has(raw.out, "\"median_m\"")) << raw.out;
}

// eval's tables fit a terminal of 100 columns: three tables of one row per solver.
TEST(EvalTable, FitsOneHundredColumns) {
  TempDir dir;
  const CliResult r = RunCli("eval --model '" + std::string(DEEPIK_SOURCE_DIR) +
                                 "/models/seed-fast.safetensors' --in-reach 200 --out-of-reach 50",
                             dir);
  ASSERT_EQ(r.exit_code, kExitOk) << r.err;
  int rows = 0;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("| kdl-nr-restarts |", 0) == 0) ++rows;
    if (line.rfind("|", 0) == 0) {
      EXPECT_LE(line.size(), 100u) << line;
    }
  }
  EXPECT_EQ(rows, 3) << r.out;  // the longest solver name, in each table
}

TEST(Plurals, OneRowAndOneTarget) {
  TempDir dir;
  Write(dir.Path("q.csv"), "a,b,c,d\n0,0,0,0\n");
  Write(dir.Path("t.csv"), "x,y,z\n0,0,2\n");
  CliResult r = RunCli("fk seed -i q.csv -o p.csv", dir);
  EXPECT_TRUE(Has(r.err, "fk: 1 row -> p.csv")) << r.err;
  r = RunCli("solve --arm seed -i t.csv -o s.csv", dir);
  EXPECT_TRUE(Has(r.err, "solve: 1 target (1 converged)")) << r.err;
  r = RunCli("track --arm seed -i t.csv -o r.csv", dir);
  EXPECT_TRUE(Has(r.err, "track: 1 row with")) << r.err;
}

// A URDF with soft limits (<safety_controller>) on two of its three joints, one of them wider
// than the hard limits on one side, and a joint limit a hair below zero (never "-0.00").
std::string SoftLimitsUrdf(const std::string& robot = "soft", const std::string& joint1 = "j1") {
  return R"(<?xml version="1.0"?>
<robot name=")" +
         robot + R"(">
  <link name="base"/><link name="l1"/><link name="l2"/><link name="tool"/>
  <joint name=")" +
         joint1 + R"(" type="revolute">
    <parent link="base"/><child link="l1"/><origin xyz="0 0 0.5"/><axis xyz="0 0 1"/>
    <limit lower="-2" upper="2" effort="1" velocity="1"/>
    <safety_controller soft_lower_limit="-1" soft_upper_limit="1" k_position="100" k_velocity="10"/>
  </joint>
  <joint name="j2" type="revolute">
    <parent link="l1"/><child link="l2"/><origin xyz="0 0 0.5"/><axis xyz="0 1 0"/>
    <limit lower="-2" upper="2" effort="1" velocity="1"/>
    <safety_controller soft_lower_limit="-3" soft_upper_limit="0.5" k_velocity="10"/>
  </joint>
  <joint name="j3" type="revolute">
    <parent link="l2"/><child link="tool"/><origin xyz="0 0 0.5"/><axis xyz="0 1 0"/>
    <limit lower="-0.0000001" upper="1" effort="1" velocity="1"/>
  </joint>
</robot>
)";
}

TEST(UrdfLimits, HardByDefaultSoftOnRequest) {
  TempDir dir;
  Write(dir.Path("soft.urdf"), SoftLimitsUrdf());
  const CliResult hard = RunCli("arm info soft.urdf", dir);
  ASSERT_EQ(hard.exit_code, kExitOk) << hard.err;
  EXPECT_TRUE(Has(hard.out, "base link: base (the root link")) << hard.out;
  EXPECT_TRUE(Has(hard.out, "tip link: tool (the end of the longest actuated chain")) << hard.out;
  EXPECT_TRUE(Has(hard.out, "limits: hard (2 joints with <safety_controller> soft limits; --limits soft"))
      << hard.out;
  EXPECT_TRUE(Has(hard.out, "-114.59     114.59")) << hard.out;  // j1: +-2 rad
  EXPECT_FALSE(Has(hard.out, "-0.00")) << hard.out;
  EXPECT_TRUE(Has(hard.out, "     0.00      57.30")) << hard.out;  // j3

  const CliResult soft = RunCli("arm info soft.urdf --limits soft --tip l2", dir);
  ASSERT_EQ(soft.exit_code, kExitOk) << soft.err;
  EXPECT_TRUE(Has(soft.out, "tip link: l2 (--tip)")) << soft.out;
  EXPECT_TRUE(Has(soft.out, "limits: soft (2 joints with <safety_controller> soft limits, used)"))
      << soft.out;
  EXPECT_TRUE(Has(soft.out, "-57.30      57.30")) << soft.out;   // j1: soft +-1 within +-2
  EXPECT_TRUE(Has(soft.out, "-114.59      28.65")) << soft.out;  // j2: max(-2, -3), min(2, 0.5)

  // The chain the solvers get has the soft limits too. The tool's position depends on j1 and j2
  // only; (1.5, 0.3) and its mirror (1.5 - pi, -0.3) are the only ways to reach it, both with j1
  // beyond the soft +-1.
  Write(dir.Path("q.csv"), "j1,j2,j3\n1.5,0.3,0\n");
  ASSERT_EQ(RunCli("fk soft.urdf -i q.csv -o p.csv", dir).exit_code, kExitOk);
  const auto reached = testing::CsvFields(ReadFile(dir.Path("p.csv")));
  Write(dir.Path("t.csv"), "x,y,z\n" + reached[1][0] + "," + reached[1][1] + "," + reached[1][2] + "\n");
  ASSERT_EQ(RunCli("solve --arm soft.urdf -i t.csv -o hard.csv", dir).exit_code, kExitOk);
  ASSERT_EQ(RunCli("solve --arm soft.urdf --limits soft -i t.csv -o soft.csv", dir).exit_code, kExitOk);
  EXPECT_EQ(testing::CsvFields(ReadFile(dir.Path("hard.csv")))[1].back(), "converged");
  EXPECT_EQ(testing::CsvFields(ReadFile(dir.Path("soft.csv")))[1].back(), "out of reach");

  CliResult r = RunCli("arm info seed --limits soft", dir);
  EXPECT_EQ(r.exit_code, kExitInput);
  EXPECT_TRUE(Has(r.err, "--limits soft applies to URDF files only")) << r.err;
  r = RunCli("arm info soft.urdf --limits medium", dir);
  EXPECT_EQ(r.exit_code, kExitUsage);
}

TEST(UrdfLimits, SoftLimitsOutsideTheHardOnesAreRefused) {
  TempDir dir;
  std::string urdf = SoftLimitsUrdf();
  urdf.replace(urdf.find(R"(soft_lower_limit="-3")"), 21, R"(soft_lower_limit="2.5")");
  Write(dir.Path("bad.urdf"), urdf);
  EXPECT_EQ(RunCli("arm info bad.urdf", dir).exit_code, kExitOk);  // hard limits: fine
  const CliResult r = RunCli("arm info bad.urdf --limits soft", dir);
  EXPECT_EQ(r.exit_code, kExitInput);
  EXPECT_TRUE(Has(r.err, "joint 'j2': expected soft limits")) << r.err;
}

// Names are text: a URDF that is not UTF-8 is refused at load, naming the line, by every command
// (so serve and train never meet it; train in train_cli_test); control characters in names are
// printed escaped.
TEST(NamesFromFiles, InvalidUtf8IsRefusedAtLoad) {
  TempDir dir;
  Write(dir.Path("latin1.urdf"), SoftLimitsUrdf("caf\xe9"));
  for (const std::string command :
       {"arm info latin1.urdf", "fk latin1.urdf -i q.csv -o p.csv", "serve --arm latin1.urdf --port 0"}) {
    // (timeout: a serve that started would never end by itself)
    const CliResult r = testing::RunShell("timeout 60 '" + std::string(DEEPIK_CLI) + "' " + command, dir);
    EXPECT_EQ(r.exit_code, kExitInput) << command << "\n" << r.err;
    EXPECT_TRUE(Has(r.err, "latin1.urdf:2: expected UTF-8 text")) << command << "\n" << r.err;
    EXPECT_TRUE(Has(r.err, "0xe9")) << r.err;
  }
}

TEST(NamesFromFiles, ControlCharactersArePrintedEscaped) {
  TempDir dir;
  Write(dir.Path("esc.urdf"), SoftLimitsUrdf("red\x1b[31mrobot", "j\x1b]0;title\x07one"));
  const CliResult r = RunCli("arm info esc.urdf", dir);
  ASSERT_EQ(r.exit_code, kExitOk) << r.err;
  EXPECT_EQ(r.out.find('\x1b'), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find('\x07'), std::string::npos) << r.out;
  EXPECT_TRUE(Has(r.out, "arm: red\\x1b[31mrobot")) << r.out;
  EXPECT_TRUE(Has(r.out, "j\\x1b]0;title\\x07one")) << r.out;
  // In error messages too (a tip that does not exist: the message lists the links).
  const CliResult error = RunCli("arm info esc.urdf --tip 'no\x1b[2Jsuch'", dir);
  EXPECT_EQ(error.exit_code, kExitInput);
  EXPECT_EQ(error.err.find('\x1b'), std::string::npos) << error.err;
  EXPECT_TRUE(Has(error.err, "no\\x1b[2Jsuch")) << error.err;
}

// model info escapes the names a model file holds: a copy of a shipped model whose arm has a
// joint name with an escape sequence (the header rewritten, the tensors kept).
TEST(NamesFromFiles, ModelInfoEscapesNames) {
  TempDir dir;
  const std::string bytes = ReadFile(std::string(DEEPIK_SOURCE_DIR) + "/models/seed-fast.safetensors");
  uint64_t length = 0;
  for (int i = 7; i >= 0; --i)
    length = (length << 8) | static_cast<unsigned char>(bytes[static_cast<size_t>(i)]);
  nlohmann::json header = nlohmann::json::parse(bytes.substr(8, length));
  nlohmann::json arm = nlohmann::json::parse(header["__metadata__"]["arm"].get<std::string>());
  arm["joints"][0]["name"] = "yaw\x1b[8m";
  header["__metadata__"]["arm"] = arm.dump();
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');
  std::string prefix(8, '\0');
  for (int i = 0; i < 8; ++i)
    prefix[static_cast<size_t>(i)] = static_cast<char>((text.size() >> (8 * i)) & 0xFF);
  Write(dir.Path("m.safetensors"), prefix + text + bytes.substr(8 + length));
  const CliResult r = RunCli("model info m.safetensors", dir);
  ASSERT_EQ(r.exit_code, kExitOk) << r.err;
  EXPECT_EQ(r.out.find('\x1b'), std::string::npos) << r.out;
  EXPECT_TRUE(Has(r.out, "yaw\\x1b[8m")) << r.out;
}

// Quaternions typed by hand: a norm within 0.01 of 1 is normalised; beyond, the row is refused.
TEST(Quaternions, NearlyUnitOnesAreNormalised) {
  TempDir dir;
  Write(dir.Path("t.csv"), "x,y,z,qw,qx,qy,qz\n0.3,0.1,0.5,0.707,0,0.707,0\n0.3,0.1,0.5,0.995,0,0,0\n");
  CliResult r = RunCli("solve --arm panda --collisions off -i t.csv -o s.csv", dir);
  ASSERT_EQ(r.exit_code, kExitOk) << r.err;
  // The answers are for the normalised rotations: the angle error is measured against them.
  const auto rows = testing::CsvFields(ReadFile(dir.Path("s.csv")));
  ASSERT_EQ(rows.size(), 3u);
  Write(dir.Path("far.csv"), "x,y,z,qw,qx,qy,qz\n0.3,0.1,0.5,0.7,0,0.7,0\n");
  r = RunCli("solve --arm panda -i far.csv -o s.csv", dir);
  EXPECT_EQ(r.exit_code, kExitInput);
  EXPECT_TRUE(
      Has(r.err, "far.csv:2: expected a unit quaternion qw,qx,qy,qz (norm within 0.01 of 1), got norm"))
      << r.err;
}

}  // namespace
}  // namespace deepik
