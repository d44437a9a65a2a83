// The pose CSV contract of `deepik solve` (and `eval --targets`, `bench --pose`) end to end:
// x,y,z,qw,qx,qy,qz in; joints, reached pose, position and angle errors and status out; arms
// without a model; bad quaternions refused with their line.
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
#include "deepik/errors.hpp"
#include "deepik/kinematics/builtin_arms.hpp"
#include "deepik/kinematics/fk.hpp"
#include "test_util.hpp"

namespace deepik::testing {
namespace {

double TraceAngle(const Eigen::Matrix3d& R_a, const Eigen::Matrix3d& R_b) {
  return std::acos(std::max(-1.0, std::min(1.0, 0.5 * ((R_a.transpose() * R_b).trace() - 1.0))));
}

// FK poses of seeded configurations as CSV rows; every other quaternion negated.
std::string PoseRows(const Chain& chain, int count, std::vector<Eigen::Isometry3d>* poses) {
  std::mt19937_64 rng(31);
  std::string text = "x,y,z,qw,qx,qy,qz\n";
  for (int i = 0; i < count; ++i) {
    const Eigen::Isometry3d X = TipPose(chain, testing::RandomConfiguration(chain, &rng));
    poses->push_back(X);
    Eigen::Quaterniond Q(X.linear());
    if (i % 2 == 1) Q.coeffs() = -Q.coeffs();
    text += FormatDouble(X.translation().x()) + "," + FormatDouble(X.translation().y()) + "," +
            FormatDouble(X.translation().z()) + "," + FormatDouble(Q.w()) + "," + FormatDouble(Q.x()) + "," +
            FormatDouble(Q.y()) + "," + FormatDouble(Q.z()) + "\n";
  }
  return text;
}

TEST(PoseCliTest, SolvePosesOnAnArmWithoutAModelFollowsTheContract) {
  for (const std::string& arm : {"panda", "ur5", "iiwa14"}) {
    SCOPED_TRACE(arm);
    const Chain chain = MakeBuiltinArm(arm);
    TempDir dir;
    std::vector<Eigen::Isometry3d> poses;
    WriteBytes(dir.Path("t.csv"), PoseRows(chain, 8, &poses));
    // The kinematic contract: the poses of random configurations, some in self-collision, so no
    // collision checks (collision-aware solving: collision_solve_test, collision_cli_test).
    const CliResult r =
        RunCli("solve --arm " + arm + " --collisions off --timeout 1000 -i t.csv -o s.csv", dir);
    ASSERT_EQ(r.exit_code, kExitOk) << r.err;
    EXPECT_NE(r.err.find("solve: 8 targets (8 converged) with lm"), std::string::npos) << r.err;
    const auto rows = CsvFields(ReadFile(dir.Path("s.csv")));
    ASSERT_EQ(rows.size(), 9u);
    const int n = chain.num_joints();
    std::string header;
    for (const Joint& joint : chain.joints()) header += joint.name + ",";
    header += "x,y,z,qw,qx,qy,qz,position_error,angle_error,status";
    std::string got;
    for (const std::string& f : rows[0]) got += (got.empty() ? "" : ",") + f;
    EXPECT_EQ(got, header);
    for (size_t i = 1; i < rows.size(); ++i) {
      ASSERT_EQ(rows[i].size(), static_cast<size_t>(n + 10));
      Eigen::VectorXd q(n);
      for (int j = 0; j < n; ++j) q[j] = std::stod(rows[i][static_cast<size_t>(j)]);
      EXPECT_TRUE(chain.WithinLimits(q));
      const Eigen::Isometry3d X = TipPose(chain, q);
      const Eigen::Isometry3d& target = poses[i - 1];
      const double position_error = (X.translation() - target.translation()).norm();
      const double angle = TraceAngle(target.linear(), X.linear());
      EXPECT_LE(position_error, 1e-9);
      EXPECT_LE(angle, 1e-7);
      auto at = [&](int c) { return std::stod(rows[i][static_cast<size_t>(n + c)]); };
      EXPECT_NEAR(at(0), X.translation().x(), 1e-12);
      EXPECT_NEAR(at(1), X.translation().y(), 1e-12);
      EXPECT_NEAR(at(2), X.translation().z(), 1e-12);
      const Eigen::Quaterniond Q_reached(at(3), at(4), at(5), at(6));
      EXPECT_NEAR(Q_reached.norm(), 1.0, 1e-12);
      EXPECT_LT(TraceAngle(Q_reached.toRotationMatrix(), X.linear()), 1e-7);
      EXPECT_NEAR(at(7), position_error, 1e-12);
      EXPECT_NEAR(at(8), angle, 1e-7);
      EXPECT_EQ(rows[i][static_cast<size_t>(n + 9)], "converged");
    }
  }
}

TEST(PoseCliTest, KdlSolversTakePoseFilesToo) {
  const Chain chain = MakeUr5();
  TempDir dir;
  std::vector<Eigen::Isometry3d> poses;
  WriteBytes(dir.Path("t.csv"), PoseRows(chain, 4, &poses));
  for (const char* solver : {"kdl-nr", "kdl-nr-restarts", "kdl-lma", "kdl-lma-restarts"}) {
    const CliResult r =
        RunCli(std::string("solve --arm ur5 --collisions off -s ") + solver + " -i t.csv -o s.csv", dir);
    ASSERT_EQ(r.exit_code, kExitOk) << r.err;
    const auto rows = CsvFields(ReadFile(dir.Path("s.csv")));
    ASSERT_EQ(rows.size(), 5u);
    for (size_t i = 1; i < rows.size(); ++i) {
      if (rows[i].back() != "converged") continue;
      EXPECT_LE(std::stod(rows[i][6 + 7]), 1e-5) << solver;  // position_error
      EXPECT_LE(std::stod(rows[i][6 + 8]), 1e-5) << solver;  // angle_error
    }
  }
}

TEST(PoseCliTest, PositionTargetsLeaveTheAngleErrorEmpty) {
  TempDir dir;
  WriteBytes(dir.Path("t.csv"), "x,y,z\n0.4,0.1,0.5\n");
  const CliResult r = RunCli("solve --arm panda --collisions off -i t.csv -o s.csv", dir);
  ASSERT_EQ(r.exit_code, kExitOk) << r.err;
  const auto rows = CsvFields(ReadFile(dir.Path("s.csv")));
  ASSERT_EQ(rows.size(), 2u);
  ASSERT_EQ(rows[1].size(), 17u);
  EXPECT_EQ(rows[1][15], "");
  EXPECT_EQ(rows[1][16], "converged");
  EXPECT_LE(std::stod(rows[1][14]), 1e-9);
}

TEST(PoseCliTest, ANonUnitQuaternionIsABadRowNamedByItsLine) {
  TempDir dir;
  WriteBytes(dir.Path("t.csv"),
             "x,y,z,qw,qx,qy,qz\n0.4,0.1,0.5,0,1,0,0\n0.4,0.1,0.5,0,1.011,0,0\n0.4,0.1,0.5,0,0,0,0.5\n"
             "0.4,0.1,0.5,0,-1,0,0.005\n");
  const CliResult r = RunCli("solve --arm panda --collisions off -i t.csv -o s.csv", dir);
  EXPECT_EQ(r.exit_code, kExitInput) << r.err;
  for (const char* part : {"2 bad rows in t.csv", "t.csv:3: expected a unit quaternion", "norm 1.011",
                           "t.csv:4: expected a unit quaternion", "norm 0.5"}) {
    EXPECT_NE(r.err.find(part), std::string::npos) << part << "\n" << r.err;
  }
  EXPECT_EQ(r.err.find("t.csv:5"), std::string::npos) << r.err;  // within 0.01: accepted
  EXPECT_FALSE(std::filesystem::exists(dir.Path("s.csv")));
}

TEST(PoseCliTest, FreeAxesComeFromTheBoundsOption) {
  const Chain chain = MakePanda();
  TempDir dir;
  // A reachable pose turned 2.5 rad about its own z axis: reachable once that turn is free.
  std::mt19937_64 rng(4);
  const Eigen::Isometry3d X = TipPose(chain, testing::RandomConfiguration(chain, &rng));
  const Eigen::Quaterniond Q =
      Eigen::Quaterniond(X.linear()) * Eigen::Quaterniond(Eigen::AngleAxisd(2.5, Eigen::Vector3d::UnitZ()));
  WriteBytes(dir.Path("t.csv"), "x,y,z,qw,qx,qy,qz\n" + FormatDouble(X.translation().x()) + "," +
                                    FormatDouble(X.translation().y()) + "," +
                                    FormatDouble(X.translation().z()) + "," + FormatDouble(Q.w()) + "," +
                                    FormatDouble(Q.x()) + "," + FormatDouble(Q.y()) + "," +
                                    FormatDouble(Q.z()) + "\n");
  const CliResult r =
      RunCli("solve --arm panda --collisions off --bounds rz=free --timeout 1000 -i t.csv -o s.csv", dir);
  ASSERT_EQ(r.exit_code, kExitOk) << r.err;
  const auto rows = CsvFields(ReadFile(dir.Path("s.csv")));
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1].back(), "converged");
  Eigen::VectorXd q(7);
  for (int j = 0; j < 7; ++j) q[j] = std::stod(rows[1][static_cast<size_t>(j)]);
  const Eigen::Matrix3d R = TipPose(chain, q).linear();
  EXPECT_LT(std::acos(std::min(1.0, R.col(2).dot(Q.toRotationMatrix().col(2)))), 1e-7);

  const CliResult bad = RunCli("solve --arm panda --bounds rw=free -i t.csv -o s2.csv", dir);
  EXPECT_EQ(bad.exit_code, kExitInput);
  EXPECT_NE(bad.err.find("AXIS one of x, y, z, rx, ry, rz"), std::string::npos) << bad.err;
}

TEST(PoseCliTest, AnalyticRefusesPosesOnEveryThread) {
  TempDir dir;
  std::vector<Eigen::Isometry3d> poses;
  WriteBytes(dir.Path("t.csv"), PoseRows(MakeSeedArm(), 4, &poses));
  const CliResult r = RunCli("solve -m '" + kSeedModel + "' -s analytic --threads 2 -i t.csv -o s.csv", dir);
  EXPECT_EQ(r.exit_code, kExitInput) << r.err;
  EXPECT_NE(r.err.find("t.csv:2: solver analytic solves position-only targets"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir.Path("s.csv")));
}

TEST(PoseCliTest, ModelOrArmExactlyOneAndModelSolversNeedAModel) {
  TempDir dir;
  WriteBytes(dir.Path("t.csv"), "x,y,z\n0.4,0.1,0.5\n");
  CliResult r = RunCli("solve -i t.csv -o s.csv", dir);
  EXPECT_EQ(r.exit_code, kExitInput);
  EXPECT_NE(r.err.find("exactly one of them"), std::string::npos) << r.err;
  r = RunCli("solve --arm panda --collisions off -m '" + kSeedModel + "' -i t.csv -o s.csv", dir);
  EXPECT_EQ(r.exit_code, kExitInput);
  r = RunCli("solve --arm panda --collisions off -s refined -i t.csv -o s.csv", dir);
  EXPECT_EQ(r.exit_code, kExitInput);
  EXPECT_NE(r.err.find("needs a model"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir.Path("s.csv")));
}

TEST(PoseCliTest, EvalTakesAPoseFileAndBenchRunsThePoseProtocol) {
  TempDir dir;
  const Chain seed = MakeSeedArm();
  std::vector<Eigen::Isometry3d> poses;
  WriteBytes(dir.Path("poses.csv"), PoseRows(seed, 6, &poses));
  CliResult r = RunCli("eval -m '" + kSeedModel + "' --targets poses.csv --solvers lm,refined", dir);
  ASSERT_EQ(r.exit_code, kExitOk) << r.err;
  EXPECT_NE(r.out.find("| file | lm | 100.00 % (6/6)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("| file | refined | 100.00 % (6/6)"), std::string::npos) << r.out;

  r = RunCli(
      "bench --pose --arm ur5 --count 10 --near-limit 4 --out-of-reach 3 --solvers lm,kdl-nr --timeout 1000",
      dir);
  ASSERT_EQ(r.exit_code, kExitOk) << r.err;
  for (const char* part :
       {"| in reach | lm | 100.00 % (10/10)", "| near limit | lm |", "| out of reach | lm | 0.00 % (0/3)",
        "| in reach | kdl-nr |", "Batch throughput"}) {
    EXPECT_NE(r.out.find(part), std::string::npos) << part << "\n" << r.out;
  }
}

}  // namespace
}  // namespace deepik::testing
