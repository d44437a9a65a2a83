// Redundancy on the command line: `solve --solutions K` (target and solution columns, every row
// exact by FK), start columns with --closest-to-start, --avoid-limits, and `track`.
#include <gtest/gtest.h>

#include <Eigen/Geometry>
#include <cmath>
#include <filesystem>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "cli_util.hpp"
#include "deepik/data/csv.hpp"
#include "deepik/kinematics/builtin_arms.hpp"
#include "deepik/kinematics/fk.hpp"
#include "test_util.hpp"

namespace deepik {
namespace {

using testing::CliResult;
using testing::CsvRows;
using testing::JointsOfRow;
using testing::ReadFile;
using testing::RunCli;
using testing::TempDir;
using testing::WriteBytes;

TEST(RedundancyCli, SolutionsGiveTargetAndSolutionColumnsAndExactRows) {
  TempDir dir;
  const Chain chain = MakeSeedArm();
  std::mt19937_64 rng(41);
  std::vector<Eigen::Vector3d> targets;
  std::string text = "x,y,z\n";
  for (int i = 0; i < 5; ++i) {
    targets.push_back(TipPosition(chain, testing::RandomConfiguration(chain, &rng)));
    text += FormatDouble(targets.back().x()) + "," + FormatDouble(targets.back().y()) + "," +
            FormatDouble(targets.back().z()) + "\n";
  }
  WriteBytes(dir.Path("t.csv"), text);
  const CliResult r = RunCli("solve --arm seed -i t.csv -o o.csv --solutions 6 --min-distance 0.2", dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> header;
  const auto rows = CsvRows(ReadFile(dir.Path("o.csv")), &header);
  ASSERT_EQ(header.size(), 16u);
  EXPECT_EQ(header[13], "status");
  EXPECT_EQ(header[14], "target");
  EXPECT_EQ(header[15], "solution");
  ASSERT_EQ(rows.size(), 30u);
  for (size_t i = 0; i < rows.size(); ++i) {
    const int t = std::stoi(rows[i][14]), k = std::stoi(rows[i][15]);
    EXPECT_EQ(t, static_cast<int>(i / 6));
    EXPECT_EQ(k, static_cast<int>(i % 6));
    EXPECT_EQ(rows[i][13], "converged");
    const Eigen::VectorXd q = JointsOfRow(rows[i], 4);
    EXPECT_TRUE(chain.WithinLimits(q));
    EXPECT_LE((TipPosition(chain, q) - targets[t]).norm(), 1e-8);
  }
  const CliResult bad = RunCli("solve --arm seed -i t.csv -o o2.csv --solutions 0", dir);
  EXPECT_NE(bad.exit_code, 0);
}

TEST(RedundancyCli, StartColumnsClosestToStartAndAvoidLimits) {
  TempDir dir;
  const Chain chain = MakePanda();
  std::mt19937_64 rng(42);
  std::string text = "x,y,z";
  for (const Joint& joint : chain.joints()) text += ",start_" + joint.name;
  text += "\n";
  std::vector<Eigen::Vector3d> targets;
  std::vector<Eigen::VectorXd> starts;
  for (int i = 0; i < 4; ++i) {
    targets.push_back(TipPosition(chain, testing::RandomConfiguration(chain, &rng)));
    starts.push_back(testing::RandomConfiguration(chain, &rng));
    text += FormatDouble(targets.back().x()) + "," + FormatDouble(targets.back().y()) + "," +
            FormatDouble(targets.back().z());
    for (int j = 0; j < 7; ++j) text += "," + FormatDouble(starts.back()[j]);
    text += "\n";
  }
  WriteBytes(dir.Path("t.csv"), text);
  CliResult r = RunCli(
      "solve --arm panda --collisions off -i t.csv -o near.csv --closest-to-start --candidates 6", dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = RunCli("solve --arm panda --collisions off -i t.csv -o plain.csv --avoid-limits 1", dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> h1, h2;
  const auto near = CsvRows(ReadFile(dir.Path("near.csv")), &h1);
  const auto centred = CsvRows(ReadFile(dir.Path("plain.csv")), &h2);
  ASSERT_EQ(near.size(), 4u);
  ASSERT_EQ(centred.size(), 4u);
  EXPECT_EQ(h1.size(), 7u + 10u);  // no target and solution columns without --solutions
  for (int i = 0; i < 4; ++i) {
    for (const auto* rows : {&near, &centred}) {
      const Eigen::VectorXd q = JointsOfRow((*rows)[i], 7);
      EXPECT_EQ((*rows)[i][16], "converged");
      EXPECT_TRUE(chain.WithinLimits(q));
      EXPECT_LE((TipPosition(chain, q) - targets[i]).norm(), 1e-8);
    }
  }
  // A start column out of the limits, and --start-weight without start columns, are refused.
  WriteBytes(dir.Path("bad.csv"), "x,y,z\n0.3,0.1,0.5\n");
  r = RunCli("solve --arm panda -i bad.csv -o x.csv --start-weight 1", dir);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("start columns"), std::string::npos) << r.err;
}

TEST(RedundancyCli, TrackWritesStatusStepAndBound) {
  TempDir dir;
  std::string text = "x,y,z\n";
  for (int i = 0; i <= 100; ++i) {
    const double a = 2 * M_PI * i / 100;  // a circle that leaves the reach (2 m) for a while
    text += FormatDouble(1.5 + 0.8 * std::cos(a)) + "," + FormatDouble(0.8 * std::sin(a)) + ",0.5\n";
  }
  WriteBytes(dir.Path("path.csv"), text);
  const CliResult r = RunCli("track seed --input path.csv --output joints.csv", dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("largest joint step"), std::string::npos) << r.err;
  std::vector<std::string> header;
  const auto rows = CsvRows(ReadFile(dir.Path("joints.csv")), &header);
  ASSERT_EQ(rows.size(), 101u);
  ASSERT_EQ(header.back(), "step_bound");
  int out_of_reach = 0;
  for (size_t i = 1; i < rows.size(); ++i) {
    EXPECT_LE(std::stod(rows[i][14]), std::stod(rows[i][15])) << "row " << i;
    out_of_reach += rows[i][13] == "out of reach";
  }
  EXPECT_GT(out_of_reach, 0);
  EXPECT_NE(RunCli("track seed --input path.csv --output j2.csv --start 0,0", dir).exit_code, 0);
}

}  // namespace
}  // namespace deepik
