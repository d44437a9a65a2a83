// The front ends on chains longer than the refinements' fixed-size fast path (16 joints): `solve
// --arm` on generated URDFs of 17, 18, 64 and 1,000 joints and a 20-row DH table, `serve --arm`
// answering a request, and the refusal of a chain past kMaxJoints. Every answer's error is
// checked against FK of its joint values (the library's TipPose on the chain loaded from the same
// file; long_chain_solve_test checks TipPose against an independent FK on such chains).
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "cli_util.hpp"
#include "deepik/kinematics/arm_spec.hpp"
#include "deepik/kinematics/fk.hpp"
#include "deepik/kinematics/joint_configuration.hpp"
#include "serve/serve_process.hpp"

// After Eigen: httplib.h brings <resolv.h>, whose `_res` macro breaks Eigen's headers.
#include <httplib.h>
#undef _res

namespace deepik {
namespace {

using testing::CsvFields;
using testing::RunCli;
using testing::TempDir;

// A serial URDF of n revolute joints about z, y, x in turn (links of 1/n m, tilted a little),
// base link "base", tip link "tip".
void WriteUrdf(const std::string& path, int n) {
  std::ofstream out(path);
  const char* axes[3] = {"0 0 1", "0 1 0", "1 0 0"};
  out << "<robot name='long" << n << "'>\n<link name='base'/>\n";
  for (int j = 0; j < n; ++j) {
    const std::string parent = j == 0 ? "base" : "l" + std::to_string(j - 1);
    out << "<link name='l" << j << "'/>\n<joint name='j" << j << "' type='revolute'><parent link='" << parent
        << "'/><child link='l" << j << "'/><origin xyz='0 " << 0.2 / n << ' ' << 1.0 / n << "' rpy='"
        << 0.1 * ((j % 3) - 1) << " 0 0'/><axis xyz='" << axes[j % 3]
        << "'/><limit lower='-2.5' upper='2.5' effort='1' velocity='1'/></joint>\n";
  }
  out << "<link name='tip'/>\n<joint name='tool' type='fixed'><parent link='l" << n - 1
      << "'/><child link='tip'/><origin xyz='0 0 " << 1.0 / n << "'/></joint>\n</robot>\n";
}

// A standard DH table of n rows.
void WriteDh(const std::string& path, int n) {
  nlohmann::json table = {{"name", "dh" + std::to_string(n)}, {"convention", "standard"}};
  for (int j = 0; j < n; ++j) {
    table["joints"].push_back({{"name", "j" + std::to_string(j)},
                               {"a", 1.0 / n},
                               {"alpha", j % 2 == 0 ? 1.5707963 : -1.5707963},
                               {"d", 0.5 / n},
                               {"lower", -2.5},
                               {"upper", 2.5}});
  }
  std::ofstream(path) << table.dump();
}

// Position targets at FK of seeded configurations (reachable), plus one 2 x reach away.
std::vector<Eigen::Vector3d> WriteTargets(const Chain& chain, const std::string& path, int count) {
  std::mt19937_64 rng(5);
  std::vector<Eigen::Vector3d> targets;
  for (int i = 0; i < count; ++i)
    targets.push_back(TipPosition(chain, testing::RandomConfiguration(chain, &rng)));
  targets.emplace_back(2.0 * chain.reach(), 0.0, 0.0);
  std::ofstream out(path);
  out.precision(17);
  out << "x,y,z\n";
  for (const Eigen::Vector3d& p : targets) out << p.x() << ',' << p.y() << ',' << p.z() << '\n';
  return targets;
}

// Every row of a `solve` output: the joints within the limits, the reported position error is
// |FK(q) - target|, reachable targets converged, the far one not.
void ExpectHonestRows(const Chain& chain, const std::vector<Eigen::Vector3d>& targets, const std::string& csv,
                      const std::string& what) {
  const auto rows = CsvFields(csv);
  ASSERT_EQ(rows.size(), targets.size() + 1) << what;
  const size_t n = static_cast<size_t>(chain.num_joints());
  ASSERT_EQ(rows[0].size(), n + 10) << what;
  for (size_t i = 0; i < targets.size(); ++i) {
    const auto& row = rows[i + 1];
    ASSERT_EQ(row.size(), n + 10) << what << " row " << i;
    Eigen::VectorXd q(chain.num_joints());
    for (size_t j = 0; j < n; ++j) q[static_cast<Eigen::Index>(j)] = std::stod(row[j]);
    EXPECT_TRUE(chain.WithinLimits(q)) << what << " row " << i;
    const double error = (TipPosition(chain, q) - targets[i]).norm();
    EXPECT_NEAR(std::stod(row[n + 7]), error, 1e-9 + 1e-6 * error) << what << " row " << i;
    const std::string& status = row[n + 9];
    if (i + 1 < targets.size()) {
      EXPECT_EQ(status, "converged") << what << " row " << i;
      EXPECT_LE(error, 1e-9) << what << " row " << i;
    } else {
      EXPECT_NE(status, "converged") << what << " row " << i;
      EXPECT_GE(error, chain.reach() - 1e-9) << what;
    }
  }
}

class LongChainCliTest : public ::testing::TestWithParam<int> {};

TEST_P(LongChainCliTest, SolveArmUrdfAnswersEveryRowHonestly) {
  const int n = GetParam();
  TempDir dir;
  WriteUrdf(dir.Path("long.urdf"), n);
  const Chain chain = LoadArm(ArmSpec{dir.Path("long.urdf"), "base", "tip"});
  ASSERT_EQ(chain.num_joints(), n);
  const auto targets = WriteTargets(chain, dir.Path("t.csv"), n > 200 ? 2 : 4);
  const auto r = RunCli("solve --arm long.urdf --base base --tip tip -i t.csv -o s.csv", dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ExpectHonestRows(chain, targets, testing::ReadFile(dir.Path("s.csv")), "lm");
  if (n > 200) return;  // the other solvers on 1,000 joints: long_chain_solve_test
  for (const std::string solver : {"kdl-nr", "kdl-lma"}) {
    const auto k =
        RunCli("solve --arm long.urdf --base base --tip tip -s " + solver + " -i t.csv -o k.csv", dir);
    ASSERT_EQ(k.exit_code, 0) << k.err;
    const auto rows = CsvFields(testing::ReadFile(dir.Path("k.csv")));
    ASSERT_EQ(rows.size(), targets.size() + 1);
    for (size_t i = 0; i < targets.size(); ++i) {
      Eigen::VectorXd q(n);
      for (int j = 0; j < n; ++j) q[j] = std::stod(rows[i + 1][static_cast<size_t>(j)]);
      const double error = (TipPosition(chain, q) - targets[i]).norm();
      EXPECT_NEAR(std::stod(rows[i + 1][static_cast<size_t>(n) + 7]), error, 1e-9 + 1e-6 * error) << solver;
    }
  }
  const auto many =
      RunCli("solve --arm long.urdf --base base --tip tip --solutions 3 -i t.csv -o m.csv", dir);
  ASSERT_EQ(many.exit_code, 0) << many.err;
  const auto rows = CsvFields(testing::ReadFile(dir.Path("m.csv")));
  int converged = 0;
  for (size_t i = 1; i < rows.size(); ++i) {
    Eigen::VectorXd q(n);
    for (int j = 0; j < n; ++j) q[j] = std::stod(rows[i][static_cast<size_t>(j)]);
    const size_t target = std::stoul(rows[i][static_cast<size_t>(n) + 10]);
    ASSERT_LT(target, targets.size());
    const double error = (TipPosition(chain, q) - targets[target]).norm();
    EXPECT_NEAR(std::stod(rows[i][static_cast<size_t>(n) + 7]), error, 1e-9 + 1e-6 * error);
    converged += rows[i][static_cast<size_t>(n) + 9] == "converged";
  }
  EXPECT_EQ(converged, 3 * static_cast<int>(targets.size() - 1));
}

INSTANTIATE_TEST_SUITE_P(Joints, LongChainCliTest, ::testing::Values(17, 18, 64, kMaxJoints));

TEST(LongChainCli, SolveArmDhTableOfTwentyRows) {
  TempDir dir;
  WriteDh(dir.Path("dh20.json"), 20);
  const Chain chain = LoadArm(ArmSpec{dir.Path("dh20.json"), "", ""});
  const auto targets = WriteTargets(chain, dir.Path("t.csv"), 4);
  const auto r = RunCli("solve --arm dh20.json -i t.csv -o s.csv", dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ExpectHonestRows(chain, targets, testing::ReadFile(dir.Path("s.csv")), "dh20");
}

TEST(LongChainCli, MoreJointsThanTheLimitIsAnInputError) {
  TempDir dir;
  WriteUrdf(dir.Path("over.urdf"), 1000);
  std::ofstream(dir.Path("t.csv")) << "x,y,z\n0.1,0.2,0.3\n";
  const auto r = RunCli("solve --arm over.urdf --base base --tip tip -i t.csv -o s.csv", dir);
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("expected at most 256 actuated joints, got 1000"), std::string::npos) << r.err;
}

// `serve --arm` on a 64-joint URDF: the server stays up and answers a batch honestly.
TEST(LongChainCli, ServeArmAnswersARequest) {
  TempDir dir;
  WriteUrdf(dir.Path("long.urdf"), 64);
  const Chain chain = LoadArm(ArmSpec{dir.Path("long.urdf"), "base", "tip"});
  testing::ServeProcess serve(
      {"--arm", dir.Path("long.urdf"), "--base", "base", "--tip", "tip", "--port", "0", "--threads", "2"});
  ASSERT_NE(serve.port(), 0) << serve.first_line();
  httplib::Client client("127.0.0.1", serve.port());
  client.set_read_timeout(60);
  std::mt19937_64 rng(9);
  nlohmann::json body = {{"solver", "lm"}};
  std::vector<Eigen::Vector3d> targets;
  for (int i = 0; i < 3; ++i) {
    targets.push_back(TipPosition(chain, testing::RandomConfiguration(chain, &rng)));
    body["targets"].push_back({targets.back().x(), targets.back().y(), targets.back().z()});
  }
  for (int round = 0; round < 2; ++round) {  // the server survives its first answer
    const httplib::Result result = client.Post("/api/solve", body.dump(), "application/json");
    ASSERT_TRUE(result) << "no answer: the server died?";
    ASSERT_EQ(result->status, 200) << result->body;
    const nlohmann::json answer = nlohmann::json::parse(result->body);
    ASSERT_EQ(answer.at("results").size(), targets.size());
    for (size_t i = 0; i < targets.size(); ++i) {
      const nlohmann::json& a = answer["results"][i];
      const std::vector<double> q = a.at("q").get<std::vector<double>>();
      ASSERT_EQ(q.size(), 64u);
      const Eigen::VectorXd qv = Eigen::Map<const Eigen::VectorXd>(q.data(), 64);
      const double error = (TipPosition(chain, qv) - targets[i]).norm();
      EXPECT_NEAR(a.at("position_error").get<double>(), error, 1e-9 + 1e-6 * error);
      EXPECT_EQ(a.at("status"), "converged");
    }
  }
}

}  // namespace
}  // namespace deepik
