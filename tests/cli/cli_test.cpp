// The `deepik` command end to end: arm info, fk, and a clear error for every kind of bad input.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

#include "cli_util.hpp"
#include "deepik/errors.hpp"

namespace deepik {
namespace {

using testing::CliResult;
using testing::ReadFile;
using testing::RobotFile;
using testing::RunCli;
using testing::RunShell;
using testing::TempDir;

void Write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

bool Exists(const std::string& path) { return std::filesystem::exists(path); }

// No file at all in `dir` but the ones the test made and the captured output.
int CountFiles(const TempDir& dir) {
  int count = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    if (entry.path().filename().string()[0] != '.') ++count;
  }
  return count;
}

TEST(CliTest, ArmInfoListsJointsDofAndReach) {
  TempDir dir;
  const CliResult r = RunCli("arm info seed", dir);
  ASSERT_EQ(r.exit_code, kExitOk) << r.err;
  EXPECT_NE(r.out.find("dof: 4"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("reach: 2 m"), std::string::npos) << r.out;
  for (const char* name : {"shoulder_yaw", "shoulder_pitch", "elbow_yaw", "elbow_pitch"}) {
    EXPECT_NE(r.out.find(name), std::string::npos) << name;
  }
  EXPECT_NE(r.out.find("-135.00"), std::string::npos) << r.out;  // elbow pitch limit in degrees
}

TEST(CliTest, ArmInfoReadsUrdfWithBaseAndTip) {
  TempDir dir;
  const CliResult r =
      RunCli("arm info '" + RobotFile("panda.urdf") + "' --base panda_link0 --tip panda_link8", dir);
  ASSERT_EQ(r.exit_code, kExitOk) << r.err;
  EXPECT_NE(r.out.find("dof: 7"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("panda_joint7"), std::string::npos) << r.out;
}

TEST(CliTest, FkWritesTipPosesInOrder) {
  TempDir dir;
  Write(dir.Path("q.csv"),
        "shoulder_yaw,shoulder_pitch,elbow_yaw,elbow_pitch\n0,0,0,0\n0,1.5707963267948966,0,0\n");
  const CliResult r = RunCli("fk seed --input q.csv --output p.csv", dir);
  ASSERT_EQ(r.exit_code, kExitOk) << r.err;
  std::istringstream lines(ReadFile(dir.Path("p.csv")));
  std::string header, first, second;
  std::getline(lines, header);
  std::getline(lines, first);
  std::getline(lines, second);
  EXPECT_EQ(header, "x,y,z,qw,qx,qy,qz");
  EXPECT_EQ(first, "0,0,2,1,0,0,0");
  double x, y, z;
  char comma;
  std::istringstream(second) >> x >> comma >> y >> comma >> z;
  EXPECT_NEAR(x, 2.0, 1e-15);
  EXPECT_NEAR(y, 0.0, 1e-15);
  EXPECT_NEAR(z, 0.0, 1e-15);
}

// A bad input: the given exit code, one message naming the problem, and no output file.
void ExpectRefused(const std::string& args, int exit_code, const std::vector<std::string>& message_parts,
                   const std::function<void(const TempDir&)>& prepare = nullptr) {
  TempDir dir;
  if (prepare) prepare(dir);
  const int files_before = CountFiles(dir);
  const CliResult r = RunCli(args, dir);
  EXPECT_EQ(r.exit_code, exit_code) << args << "\n" << r.err;
  for (const std::string& part : message_parts) EXPECT_NE(r.err.find(part), std::string::npos) << r.err;
  // Every error, usage errors included, starts alike (README, "Errors and exit codes").
  EXPECT_EQ(r.err.rfind("deepik: error: ", 0), 0u) << r.err;
  EXPECT_FALSE(Exists(dir.Path("p.csv"))) << args;
  EXPECT_EQ(CountFiles(dir), files_before) << "a temporary file was left behind: " << args;
}

auto WithInput(const std::string& text) {
  return [text](const TempDir& dir) { Write(dir.Path("q.csv"), text); };
}

TEST(CliTest, NanJointValueIsRefused) {
  ExpectRefused("fk seed -i q.csv -o p.csv", kExitInput, {"q.csv:3", "column 2 (b)", "finite"},
                WithInput("a,b,c,d\n0,0,0,0\n0,nan,0,0\n"));
}

TEST(CliTest, InfiniteJointValueIsRefused) {
  ExpectRefused("fk seed -i q.csv -o p.csv", kExitInput, {"q.csv:2", "column 4", "inf"},
                WithInput("a,b,c,d\n0,0,0,inf\n"));
}

TEST(CliTest, WrongColumnCountIsRefused) {
  ExpectRefused("fk seed -i q.csv -o p.csv", kExitInput, {"q.csv:3", "expected 4 columns, got 3"},
                WithInput("a,b,c,d\n0,0,0,0\n0,0,0\n"));
}

TEST(CliTest, TextInNumberFieldIsRefused) {
  ExpectRefused("fk seed -i q.csv -o p.csv", kExitInput, {"q.csv:2", "column 3", "'abc'"},
                WithInput("a,b,c,d\n0,0,abc,0\n"));
}

TEST(CliTest, MissingInputFileIsRefused) {
  ExpectRefused("fk seed -i missing.csv -o p.csv", kExitInput, {"missing.csv", "cannot open"});
}

TEST(CliTest, UnknownArmIsRefused) {
  ExpectRefused("fk warehouse_robot -i q.csv -o p.csv", kExitInput, {"unknown arm 'warehouse_robot'", "seed"},
                WithInput("a\n0\n"));
}

TEST(CliTest, MalformedUrdfIsRefused) {
  ExpectRefused("arm info bad.urdf", kExitInput, {"bad.urdf"}, [](const TempDir& dir) {
    Write(dir.Path("bad.urdf"), "<robot name='x'><link name='a'></robot");
  });
}

TEST(CliTest, MissingUrdfLinkIsRefused) {
  ExpectRefused("arm info '" + RobotFile("ur5.urdf") + "' --tip no_such_link", kExitInput,
                {"no_such_link", "its links are", "base_link", "tool0"});
}

TEST(CliTest, MalformedDhFileIsRefused) {
  ExpectRefused("arm info arm.json", kExitInput, {"arm.json", "malformed JSON"},
                [](const TempDir& dir) { Write(dir.Path("arm.json"), "{\"convention\": "); });
}

TEST(CliTest, LimitsWithLowerAboveUpperAreRefused) {
  ExpectRefused("fk arm.json -i q.csv -o p.csv", kExitInput, {"arm.json", "'elbow'", "lower <= upper"},
                [](const TempDir& dir) {
                  Write(
                      dir.Path("arm.json"),
                      R"({"convention":"standard","joints":[{"name":"elbow","a":1,"lower":1,"upper":-1}]})");
                  Write(dir.Path("q.csv"), "q\n0\n");
                });
}

TEST(CliTest, OutputEqualToInputIsRefused) {
  ExpectRefused("fk seed -i q.csv -o ./q.csv", kExitInput,
                {"--output ./q.csv is the same file as --input q.csv"}, WithInput("a,b,c,d\n0,0,0,0\n"));
}

TEST(CliTest, OutputThroughASymlinkKeepsTheLink) {
  TempDir dir;
  Write(dir.Path("q.csv"), "a,b,c,d\n0,0,0,0\n");
  Write(dir.Path("real.csv"), "old\n");
  std::filesystem::create_symlink(dir.Path("real.csv"), dir.Path("link.csv"));
  const CliResult r = RunCli("fk seed -i q.csv -o link.csv", dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(std::filesystem::is_symlink(dir.Path("link.csv")));
  EXPECT_EQ(ReadFile(dir.Path("real.csv")), "x,y,z,qw,qx,qy,qz\n0,0,2,1,0,0,0\n");
}

TEST(CliTest, OutputToADeviceWritesThroughIt) {
  // Through a link to /dev/null, so that even a regression could only replace the link.
  TempDir dir;
  Write(dir.Path("q.csv"), "a,b,c,d\n0,0,0,0\n");
  std::filesystem::create_symlink("/dev/null", dir.Path("sink"));
  const CliResult r = RunCli("fk seed -i q.csv -o sink", dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(std::filesystem::is_symlink(dir.Path("sink")));
  EXPECT_TRUE(std::filesystem::is_character_file("/dev/null"));
  EXPECT_EQ(CountFiles(dir), 2) << "a temporary file was left behind";  // q.csv and sink
}

// A signal while a command streams its output: `command` reads the pipe q.csv (header `header`,
// then 70,000 rows of `row`, more than one block), so it has written its first block to the
// temporary output and waits for more rows when the signal comes (no race with the end of the
// input). It dies of the signal, leaving neither the output nor a temporary file.
struct SignalCase {
  std::string name, command, header, row, signal;
  int exit_code;  // 128 + the signal's number
};
void PrintTo(const SignalCase& c, std::ostream* os) { *os << c.name; }

class SignalDuringOutput : public ::testing::TestWithParam<SignalCase> {};

TEST_P(SignalDuringOutput, LeavesNoTemporaryFile) {
  const SignalCase& c = GetParam();
  TempDir dir;
  const CliResult r =
      RunShell("ulimit -c 0; mkfifo q.csv; '" + std::string(DEEPIK_CLI) + "' " + c.command +
                   " -i q.csv -o p.csv 2>cmd.err & pid=$!; " + "exec 5>q.csv; { echo " + c.header +
                   "; for i in $(seq 70000); do echo " + c.row + "; done; } >&5; " +
                   "for i in $(seq 600); do ls p.csv.tmp.* >/dev/null 2>&1 && break; sleep 0.1; done; " +
                   "ls p.csv.tmp.* >/dev/null 2>&1 && echo temporary-seen; " + "kill -" + c.signal +
                   " $pid; wait $pid; echo \"status=$?\"; exec 5>&-",
               dir);
  EXPECT_NE(r.out.find("temporary-seen"), std::string::npos) << r.out << r.err;
  EXPECT_NE(r.out.find("status=" + std::to_string(c.exit_code)), std::string::npos) << r.out << r.err;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    EXPECT_EQ(entry.path().filename().string().find(".tmp."), std::string::npos) << entry.path();
  }
  EXPECT_FALSE(Exists(dir.Path("p.csv")));
}

INSTANTIATE_TEST_SUITE_P(
    FkAndSolve, SignalDuringOutput,
    ::testing::Values(SignalCase{"FkSigint", "fk seed", "a,b,c,d", "0,0,0,0", "INT", 130},
                      SignalCase{"SolveSigterm",
                                 "solve --model '" + std::string(DEEPIK_SOURCE_DIR) +
                                     "/models/seed-fast.safetensors' --solver network",
                                 "x,y,z", "0.5,0.5,1", "TERM", 143},
                      // Every other signal that ends a process by default.
                      SignalCase{"FkSighup", "fk seed", "a,b,c,d", "0,0,0,0", "HUP", 129},
                      SignalCase{"FkSigquit", "fk seed", "a,b,c,d", "0,0,0,0", "QUIT", 131},
                      SignalCase{"FkSigusr1", "fk seed", "a,b,c,d", "0,0,0,0", "USR1", 138},
                      SignalCase{"FkSigpipe", "fk seed", "a,b,c,d", "0,0,0,0", "PIPE", 141},
                      SignalCase{"FkSigalrm", "fk seed", "a,b,c,d", "0,0,0,0", "ALRM", 142}),
    [](const ::testing::TestParamInfo<SignalCase>& info) { return info.param.name; });

TEST(CliTest, UnknownOptionIsAUsageError) {
  ExpectRefused("fk seed -i q.csv -o p.csv --frobnicate", kExitUsage, {"--frobnicate"},
                WithInput("a,b,c,d\n0,0,0,0\n"));
}

TEST(CliTest, MissingSubcommandIsAUsageError) { ExpectRefused("model", kExitUsage, {"subcommand"}); }

TEST(CliTest, UnwritableOutputIsRefused) {
  ExpectRefused("fk seed -i q.csv -o /nonexistent/dir/p.csv", kExitInput, {"/nonexistent/dir/p.csv"},
                WithInput("a,b,c,d\n0,0,0,0\n"));
}

TEST(CliTest, AnExistingOutputIsKeptWhenTheInputIsBad) {
  TempDir dir;
  Write(dir.Path("q.csv"), "a,b,c,d\n0,0,x,0\n");
  Write(dir.Path("p.csv"), "previous results\n");
  const CliResult r = RunCli("fk seed -i q.csv -o p.csv", dir);
  EXPECT_EQ(r.exit_code, kExitInput);
  EXPECT_EQ(ReadFile(dir.Path("p.csv")), "previous results\n");
}

}  // namespace
}  // namespace deepik
