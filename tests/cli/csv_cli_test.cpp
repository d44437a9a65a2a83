// CSV input of `fk`, `solve` and `eval --targets` end to end: header rules, byte order marks,
// paths that are not files, target bounds, reachability of given targets, and large files
// streamed in bounded memory with the same bytes as a computation of every row at once.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "cli_util.hpp"
#include "deepik/data/csv.hpp"
#include "deepik/errors.hpp"
#include "deepik/kinematics/builtin_arms.hpp"
#include "deepik/kinematics/fk.hpp"
#include "deepik/learn/model.hpp"
#include "deepik/solve/analytic_seed.hpp"
#include "deepik/solve/solvers.hpp"

namespace deepik {
namespace {

using testing::CliResult;
using testing::kSeedModel;
using testing::ReadFile;
using testing::RunCli;
using testing::TempDir;
using testing::WriteBytes;

// Files in `dir` other than the captured output (a temporary output file would show here).
std::vector<std::string> Files(const TempDir& dir) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    const std::string name = entry.path().filename().string();
    if (name[0] != '.') names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

void ExpectError(const CliResult& r, int exit_code, const std::vector<std::string>& parts) {
  EXPECT_EQ(r.exit_code, exit_code) << r.err;
  EXPECT_EQ(r.err.rfind("deepik: error: ", 0), 0u) << r.err;
  for (const std::string& part : parts)
    EXPECT_NE(r.err.find(part), std::string::npos) << part << "\n" << r.err;
}

TEST(CsvCliTest, FkRefusesAFileWithoutHeaderInsteadOfDroppingItsFirstRow) {
  TempDir dir;
  WriteBytes(dir.Path("q.csv"), "0,0.5,0,0\n0,1,0,0\n");
  ExpectError(RunCli("fk seed -i q.csv -o p.csv", dir), kExitInput,
              {"q.csv:1: expected a header line", "'0,0.5,0,0'", "first row would be lost"});
  EXPECT_EQ(Files(dir), std::vector<std::string>{"q.csv"});
}

TEST(CsvCliTest, FkAndSolveAcceptAByteOrderMark) {
  TempDir dir;
  WriteBytes(dir.Path("q.csv"), "a,b,c,d\n0,0,0,0\n0,1.5,0,0\n");
  WriteBytes(dir.Path("q_bom.csv"),
             "\xEF\xBB\xBF"
             "a,b,c,d\n0,0,0,0\n0,1.5,0,0\n");
  ASSERT_EQ(RunCli("fk seed -i q.csv -o p.csv", dir).exit_code, kExitOk);
  const CliResult r = RunCli("fk seed -i q_bom.csv -o p_bom.csv", dir);
  ASSERT_EQ(r.exit_code, kExitOk) << r.err;
  EXPECT_NE(r.err.find("fk: 2 rows"), std::string::npos) << r.err;
  EXPECT_EQ(ReadFile(dir.Path("p_bom.csv")), ReadFile(dir.Path("p.csv")));

  WriteBytes(dir.Path("t_bom.csv"), "\xEF\xBB\xBFx,y,z\n1,0,1\n");
  const CliResult s = RunCli("solve -m '" + kSeedModel + "' -s analytic -i t_bom.csv -o s.csv", dir);
  ASSERT_EQ(s.exit_code, kExitOk) << s.err;
  EXPECT_NE(s.err.find("solve: 1 target (1 converged)"), std::string::npos) << s.err;
}

TEST(CsvCliTest, ADirectoryOrAnUnopenablePathIsNamedAsSuch) {
  TempDir dir;
  std::filesystem::create_directory(dir.Path("folder"));
  ExpectError(RunCli("fk seed -i folder -o p.csv", dir), kExitInput,
              {"folder: cannot read: it is a directory"});
  ExpectError(RunCli("solve -m '" + kSeedModel + "' -i folder -o p.csv", dir), kExitInput,
              {"folder: cannot read: it is a directory"});
  ExpectError(RunCli("eval -m '" + kSeedModel + "' --targets folder --in-reach 1 --out-of-reach 0", dir),
              kExitInput, {"folder: cannot read: it is a directory"});
  WriteBytes(dir.Path("plain"), "x\n");
  ExpectError(RunCli("fk seed -i plain/q.csv -o p.csv", dir), kExitInput,
              {"plain/q.csv: cannot open the file (Not a directory)"});
  EXPECT_EQ(Files(dir), (std::vector<std::string>{"folder", "plain"}));
}

// `solve -i t.csv` and `eval --targets t.csv` both refuse a target file with `text`, with every
// one of `parts` in their messages, and write nothing.
void ExpectTargetFileRefused(const std::string& text, const std::vector<std::string>& parts) {
  TempDir dir;
  WriteBytes(dir.Path("t.csv"), text);
  ExpectError(RunCli("solve -m '" + kSeedModel + "' -i t.csv -o s.csv", dir), kExitInput, parts);
  ExpectError(RunCli("eval -m '" + kSeedModel + "' --targets t.csv --in-reach 1 --out-of-reach 0", dir),
              kExitInput, parts);
  EXPECT_EQ(Files(dir), std::vector<std::string>{"t.csv"});
}

TEST(CsvCliTest, SolveAndEvalRefuseAHeaderOtherThanXyz) {
  ExpectTargetFileRefused(
      "1,0,1\n0,1,1\n",
      {"t.csv:1: expected the header x,y,z (positions) or x,y,z,qw,qx,qy,qz (poses), got '1,0,1'",
       "first row would be lost"});
}

TEST(CsvCliTest, TargetsBeyondTenKilometresAreRefusedWithFileLineAndColumn) {
  ExpectTargetFileRefused(
      "x,y,z\n1,0,1\n0,1e4,0\n0,0,-1.5e4\n",
      {"1 bad row in t.csv", "t.csv:4: column 3 (z): expected a value within +-10000, got '-1.5e4'"});
}

TEST(CsvCliTest, EvalTargetsJoinTheSetTheClosedFormPutsThemIn) {
  // Seed arm: reachable targets (FK of random joints) mixed with random points in a 2.5 m ball,
  // some beyond reach, in the inner hollow or below the allowed region.
  const Chain chain = MakeSeedArm();
  const AnalyticSeedSolver analytic;
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<double> u(-2.5, 2.5);
  std::string text = "x,y,z\n";
  int64_t reachable = 0, unreachable = 0;
  for (int i = 0; i < 60; ++i) {
    Eigen::Vector3d p(u(rng), u(rng), u(rng));
    if (i % 2 == 0) p = TipPosition(chain, testing::RandomConfiguration(chain, &rng));
    text += FormatDouble(p.x()) + "," + FormatDouble(p.y()) + "," + FormatDouble(p.z()) + "\n";
    (analytic.Classify(p) == SeedReachability::kReachable ? reachable : unreachable)++;
  }
  ASSERT_GE(unreachable, 10);  // the test's own premise: both kinds, many of each
  ASSERT_GE(reachable, 30);
  TempDir dir;
  WriteBytes(dir.Path("t.csv"), text);
  const CliResult r =
      RunCli("eval -m '" + kSeedModel +
                 "' --solvers analytic --targets t.csv --in-reach 0 --out-of-reach 0 --json r.json",
             dir);
  ASSERT_EQ(r.exit_code, kExitOk) << r.err;
  EXPECT_NE(r.err.find("t.csv: " + std::to_string(reachable) + " targets in reach, " +
                       std::to_string(unreachable) + " out of reach"),
            std::string::npos)
      << r.err;
  const nlohmann::json report = nlohmann::json::parse(ReadFile(dir.Path("r.json")));
  EXPECT_EQ(report["in_reach_targets"], reachable);
  EXPECT_EQ(report["out_of_reach_targets"], unreachable);
  // The closed form reaches every in-reach target exactly and, out of reach, its error is d*:
  // a target in the wrong set, or a wrong d*, would show here.
  const nlohmann::json& row = report["solvers"][0];
  EXPECT_EQ(row["in_reach"]["count"], reachable);
  EXPECT_LT(row["in_reach"]["max_m"].get<double>(), 1e-9);
  EXPECT_EQ(row["out_of_reach_excess"]["count"], unreachable);
  EXPECT_LT(std::abs(row["out_of_reach_excess"]["max_m"].get<double>()), 1e-9);
  EXPECT_LT(std::abs(row["out_of_reach_excess"]["median_m"].get<double>()), 1e-9);
}

// Peak resident memory (KiB) of `deepik ARGS` run in `dir` (no shell: the figure is the command's
// own); the exit code in `exit_code`.
long PeakKib(const std::vector<std::string>& args, const TempDir& dir, int* exit_code) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    if (::chdir(dir.path().c_str()) != 0) ::_exit(127);
    const int null = ::open("/dev/null", O_WRONLY);
    ::dup2(null, STDOUT_FILENO);
    ::dup2(null, STDERR_FILENO);
    std::vector<char*> argv = {const_cast<char*>(DEEPIK_CLI)};
    for (const std::string& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
    argv.push_back(nullptr);
    ::execv(DEEPIK_CLI, argv.data());
    ::_exit(127);
  }
  int status = 0;
  rusage usage{};
  ::wait4(pid, &status, 0, &usage);
  *exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return usage.ru_maxrss;
}

// `rows` seeded rows of seed-arm joint values, and what fk must write for them, computed here row
// by row from the library (the all-at-once result).
void MakeFkFiles(int rows, std::string* input, std::string* expected) {
  const Chain chain = MakeSeedArm();
  std::mt19937_64 rng(rows);
  *input = "a,b,c,d\n";
  *expected = "x,y,z,qw,qx,qy,qz\n";
  for (int r = 0; r < rows; ++r) {
    const Eigen::VectorXd q = testing::RandomConfiguration(chain, &rng);
    std::vector<double> values(q.data(), q.data() + q.size());
    for (size_t i = 0; i < values.size(); ++i) *input += FormatDouble(values[i]) + (i + 1 < 4 ? "," : "\n");
    Eigen::VectorXd q_read(4);
    for (int i = 0; i < 4; ++i) q_read[i] = std::stod(FormatDouble(values[static_cast<size_t>(i)]));
    const Eigen::Isometry3d X_BT = TipPose(chain, q_read);
    Eigen::Quaterniond quat(X_BT.linear());
    if (quat.w() < 0) quat.coeffs() = -quat.coeffs();
    const Eigen::Vector3d& p = X_BT.translation();
    for (double v : {p.x(), p.y(), p.z(), quat.w(), quat.x(), quat.y()}) *expected += FormatDouble(v) + ",";
    *expected += FormatDouble(quat.z()) + "\n";
  }
}

TEST(CsvCliTest, FkStreamsLargeFilesInBoundedMemoryWithTheSameBytes) {
  TempDir dir;
  std::string small_input, small_expected, large_input, large_expected;
  MakeFkFiles(20000, &small_input, &small_expected);
  MakeFkFiles(140000, &large_input, &large_expected);  // several blocks of kCsvChunkRows
  WriteBytes(dir.Path("small.csv"), small_input);
  WriteBytes(dir.Path("large.csv"), large_input);
  int code = -1;
  const long small_kib = PeakKib({"fk", "seed", "-i", "small.csv", "-o", "small_p.csv"}, dir, &code);
  ASSERT_EQ(code, kExitOk);
  const long large_kib = PeakKib({"fk", "seed", "-i", "large.csv", "-o", "large_p.csv"}, dir, &code);
  ASSERT_EQ(code, kExitOk);
  EXPECT_EQ(ReadFile(dir.Path("small_p.csv")), small_expected);
  EXPECT_EQ(ReadFile(dir.Path("large_p.csv")), large_expected);
  // Holding every row costs ~75 bytes a row: 120,000 more rows would add ~9 MB.
  EXPECT_LT(large_kib - small_kib, 4000)
      << "peak " << small_kib << " KiB for 20k rows, " << large_kib << " KiB for 140k rows";
}

TEST(CsvCliTest, ABadRowAfterManyStreamedBlocksStillFailsTheWholeRun) {
  TempDir dir;
  std::string input, expected;
  MakeFkFiles(150000, &input, &expected);
  // Line 140,002: the 140,001st row, in the third block.
  size_t at = 0;
  for (int line = 1; line < 140002; ++line) at = input.find('\n', at) + 1;
  input.insert(at, "0,0,zero,0\n");
  WriteBytes(dir.Path("q.csv"), input);
  WriteBytes(dir.Path("p.csv"), "previous results\n");
  const CliResult r = RunCli("fk seed -i q.csv -o p.csv", dir);
  ExpectError(r, kExitInput,
              {"1 bad row in q.csv", "q.csv:140002: column 3 (c): expected a number, got 'zero'"});
  EXPECT_EQ(ReadFile(dir.Path("p.csv")), "previous results\n");
  EXPECT_EQ(Files(dir), (std::vector<std::string>{"p.csv", "q.csv"}));  // no temporary file left
}

TEST(CsvCliTest, SolveStreamsBlocksOnThreadsWithTheSameBytesAsOneSolveAtATime) {
  const IkModel model = IkModel::Load(kSeedModel);
  const std::unique_ptr<Solver> solver = MakeSolver("analytic", model);
  std::mt19937_64 rng(8);
  std::uniform_real_distribution<double> u(-2.5, 2.5);
  std::string input = "x,y,z\n";
  std::string expected =
      "shoulder_yaw,shoulder_pitch,elbow_yaw,elbow_pitch,x,y,z,qw,qx,qy,qz,position_error,angle_error,"
      "status\n";
  for (int i = 0; i < 75000; ++i) {  // two blocks
    const Eigen::Vector3d p(std::stod(FormatDouble(u(rng))), std::stod(FormatDouble(u(rng))),
                            std::stod(FormatDouble(u(rng))));
    input += FormatDouble(p.x()) + "," + FormatDouble(p.y()) + "," + FormatDouble(p.z()) + "\n";
    const SolveResult s = solver->Solve(IkTarget{p});
    for (int j = 0; j < 4; ++j) expected += FormatDouble(s.q[j]) + ",";
    expected += FormatDouble(s.p_reached.x()) + "," + FormatDouble(s.p_reached.y()) + "," +
                FormatDouble(s.p_reached.z()) + "," + FormatDouble(s.Q_reached.w()) + "," +
                FormatDouble(s.Q_reached.x()) + "," + FormatDouble(s.Q_reached.y()) + "," +
                FormatDouble(s.Q_reached.z()) + "," + FormatDouble(s.error) + ",," + ToString(s.status) +
                "\n";
  }
  TempDir dir;
  WriteBytes(dir.Path("t.csv"), input);
  const CliResult r = RunCli("solve -m '" + kSeedModel + "' -s analytic --threads 2 -i t.csv -o s.csv", dir);
  ASSERT_EQ(r.exit_code, kExitOk) << r.err;
  EXPECT_NE(r.err.find("solve: 75000 targets"), std::string::npos) << r.err;
  EXPECT_TRUE(ReadFile(dir.Path("s.csv")) == expected) << "the streamed output differs";
}

}  // namespace
}  // namespace deepik
