// Files on the command line: "-" for standard input and output, outputs that never overwrite an
// input, and output files replaced whole through unpredictable temporary files.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "cli_util.hpp"
#include "deepik/errors.hpp"

namespace deepik {
namespace {

namespace fs = std::filesystem;
using testing::CliResult;
using testing::ReadFile;
using testing::RunCli;
using testing::RunShell;
using testing::TempDir;

const std::string kCli = "'" + std::string(DEEPIK_CLI) + "'";
const std::string kJoints = "shoulder_yaw,shoulder_pitch,elbow_yaw,elbow_pitch\n0,0,0,0\n";
const std::string kPoses = "x,y,z,qw,qx,qy,qz\n0,0,2,1,0,0,0\n";

void Write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

// The names in `dir` (the captured .stdout/.stderr excluded).
std::vector<std::string> Names(const TempDir& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir.path())) {
    const std::string name = entry.path().filename().string();
    if (name != ".stdout" && name != ".stderr") names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

// `-o /dev/stdout`, `-o -` and no -o all write to the standard output where it stands: between
// what the shell wrote before and after, even when it is a file (no reopening, no truncation).
TEST(StandardStreams, OutputIsWrittenInOrderWhenStdoutIsAFile) {
  for (const std::string output : {"-o /dev/stdout", "-o -", "--output=-", ""}) {
    SCOPED_TRACE(output);
    TempDir dir;
    Write(dir.Path("q.csv"), kJoints);
    const CliResult r =
        RunShell("{ echo BEFORE; " + kCli + " fk seed -i q.csv " + output + "; echo AFTER; } > log", dir);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(ReadFile(dir.Path("log")), "BEFORE\n" + kPoses + "AFTER\n");
    EXPECT_NE(r.err.find("fk: 1 row -> "), std::string::npos) << r.err;
    EXPECT_EQ(Names(dir), (std::vector<std::string>{"log", "q.csv"})) << "no file named '-'";
  }
}

// `-i -` reads the standard input from where it stands: a line read before by the shell is not
// read again.
TEST(StandardStreams, InputDashIsStdinFromWhereItStands) {
  TempDir dir;
  Write(dir.Path("in.txt"), "a line for the shell\n" + kJoints);
  const CliResult r = RunShell("{ read skipped; " + kCli + " fk seed -i - -o p.csv; } < in.txt", dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFile(dir.Path("p.csv")), kPoses);
  // A pipe, into solve and out to a pipe; and a bad row names "stdin".
  const CliResult solved =
      RunShell("printf 'x,y,z\\n0,0,2\\n' | " + kCli + " solve --arm seed -i - | cat > s.csv", dir);
  ASSERT_EQ(solved.exit_code, 0) << solved.err;
  const auto rows = testing::CsvFields(ReadFile(dir.Path("s.csv")));
  ASSERT_EQ(rows.size(), 2u) << ReadFile(dir.Path("s.csv"));
  EXPECT_EQ(rows[1].back(), "converged");
  const CliResult bad = RunShell("printf 'x,y,z\\n0,0,oops\\n' | " + kCli + " solve --arm seed -i -", dir);
  EXPECT_EQ(bad.exit_code, kExitInput);
  EXPECT_NE(bad.err.find("stdin:2: column 3 (z)"), std::string::npos) << bad.err;
}

// An input error after output began: what reached stdout stays (it cannot be taken back), and
// the exit code says the output is incomplete.
TEST(StandardStreams, ABadRowOnStdoutEndsWithAnInputError) {
  TempDir dir;
  Write(dir.Path("q.csv"), kJoints + "0,0,0,x\n");
  const CliResult r = RunCli("fk seed -i q.csv", dir);
  EXPECT_EQ(r.exit_code, kExitInput);
  EXPECT_NE(r.err.find("q.csv:3: column 4"), std::string::npos) << r.err;
}

// A command refuses any output that is the same file as any input it reads, through symbolic and
// hard links, before it writes anything: the input is left as it was.
struct SameFileCase {
  std::string name, prepare, args;
};
void PrintTo(const SameFileCase& c, std::ostream* os) { *os << c.name; }
class OutputIsAnInput : public ::testing::TestWithParam<SameFileCase> {};

TEST_P(OutputIsAnInput, IsRefusedAndTheInputKept) {
  const SameFileCase& c = GetParam();
  TempDir dir;
  fs::copy_file(testing::RobotFile("panda.urdf"), dir.Path("arm.urdf"));
  fs::copy_file(std::string(DEEPIK_SOURCE_DIR) + "/models/seed-fast.safetensors", dir.Path("m.safetensors"));
  Write(dir.Path("q.csv"), kJoints);
  Write(dir.Path("t.csv"), "x,y,z\n0,0,2\n");
  Write(dir.Path("dh.json"),
        R"({"name": "one", "convention": "standard", "joints": [{"type": "revolute", "a": 1, "alpha": 0,)"
        R"( "d": 0, "theta": 0, "lower": -1, "upper": 1}]})");
  const std::map<std::string, std::string> before = {{"arm.urdf", ReadFile(dir.Path("arm.urdf"))},
                                                     {"m.safetensors", ReadFile(dir.Path("m.safetensors"))},
                                                     {"q.csv", ReadFile(dir.Path("q.csv"))},
                                                     {"t.csv", ReadFile(dir.Path("t.csv"))},
                                                     {"dh.json", ReadFile(dir.Path("dh.json"))}};
  if (!c.prepare.empty()) {
    ASSERT_EQ(RunShell(c.prepare, dir).exit_code, 0);
  }
  const CliResult r = RunCli(c.args, dir);
  EXPECT_EQ(r.exit_code, kExitInput) << r.err;
  EXPECT_NE(r.err.find("is the same file as"), std::string::npos) << r.err;
  for (const auto& [name, bytes] : before) EXPECT_EQ(ReadFile(dir.Path(name)), bytes) << name;
  for (const std::string& name : Names(dir)) EXPECT_EQ(name.find(".tmp."), std::string::npos) << name;
}

INSTANTIATE_TEST_SUITE_P(
    EveryInput, OutputIsAnInput,
    ::testing::Values(
        SameFileCase{"FkArmUrdf", "", "fk arm.urdf -i q.csv -o arm.urdf"},
        SameFileCase{"FkArmThroughSymlink", "ln -s arm.urdf out.csv", "fk arm.urdf -i q.csv -o out.csv"},
        SameFileCase{"FkInputThroughHardLink", "ln q.csv hard.csv", "fk seed -i q.csv -o hard.csv"},
        SameFileCase{"FkDhTable", "", "fk dh.json -i q.csv -o dh.json"},
        SameFileCase{"DatasetDhTable", "", "dataset dh.json --count 10 -o dh.json"},
        SameFileCase{"SolveModel", "", "solve -m m.safetensors -i t.csv -o m.safetensors"},
        SameFileCase{"SolveArm", "ln -s arm.urdf link.urdf", "solve --arm arm.urdf -i t.csv -o link.urdf"},
        SameFileCase{"TrackModel", "", "track -m m.safetensors -i t.csv -o m.safetensors"},
        SameFileCase{"EvalTargetsAsJson", "", "eval -m m.safetensors --targets t.csv --json t.csv"},
        SameFileCase{"ExportModel", "", "export -m m.safetensors -o m.safetensors"},
        SameFileCase{"StdinIsTheOutput", "", "fk seed -i - -o q.csv < q.csv"}));

// The temporary file is created with O_EXCL under a name that cannot be guessed: a symbolic link
// planted under the old predictable name OUT.tmp.PID (the PID is known: exec keeps it) is neither
// followed nor replaced, and its target is untouched.
TEST(TemporaryFiles, APlantedLinkIsNeverFollowed) {
  TempDir dir;
  Write(dir.Path("q.csv"), kJoints);
  Write(dir.Path("victim"), "precious\n");
  const CliResult r =
      RunShell("sh -c 'ln -s victim p.csv.tmp.$$ && exec " + kCli + " fk seed -i q.csv -o p.csv'", dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFile(dir.Path("victim")), "precious\n");
  EXPECT_EQ(ReadFile(dir.Path("p.csv")), kPoses);
  EXPECT_FALSE(fs::is_symlink(dir.Path("p.csv")));
}

// An output name of 254 characters works: the temporary name is shortened to fit 255 bytes.
TEST(TemporaryFiles, ALongOutputNameWorks) {
  TempDir dir;
  Write(dir.Path("q.csv"), kJoints);
  const std::string name = std::string(250, 'o') + ".csv";
  const CliResult r = RunCli("fk seed -i q.csv -o " + name, dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFile(dir.Path(name)), kPoses);
  EXPECT_EQ(Names(dir).size(), 2u);
}

// A bad last row on tmpfs (/dev/shm, under /dev) keeps the previous output whole.
TEST(TemporaryFiles, ABadLastRowKeepsThePreviousOutputOnTmpfs) {
  if (!fs::is_directory("/dev/shm")) GTEST_SKIP() << "no /dev/shm";
  TempDir dir;
  const std::string shm = "/dev/shm/deepik_files_test_" + std::to_string(::getpid());
  fs::create_directories(shm);
  Write(shm + "/p.csv", "the previous output\n");
  Write(dir.Path("q.csv"), kJoints + "0,0,0,0\n0,0,nan,0\n");
  const CliResult r = RunCli("fk seed -i q.csv -o " + shm + "/p.csv", dir);
  const std::string kept = ReadFile(shm + "/p.csv");
  std::vector<std::string> left;
  for (const auto& entry : fs::directory_iterator(shm)) left.push_back(entry.path().filename().string());
  fs::remove_all(shm);
  EXPECT_EQ(r.exit_code, kExitInput) << r.err;
  EXPECT_EQ(kept, "the previous output\n");
  EXPECT_EQ(left, std::vector<std::string>{"p.csv"});
}

// Symbolic links are written through, a dangling one included: the file it names is created and
// the link stays a link.
TEST(TemporaryFiles, ADanglingLinkIsWrittenThrough) {
  TempDir dir;
  Write(dir.Path("q.csv"), kJoints);
  fs::create_directory(dir.Path("sub"));
  fs::create_symlink("sub/target.csv", dir.Path("link.csv"));
  const CliResult r = RunCli("fk seed -i q.csv -o link.csv", dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(fs::is_symlink(dir.Path("link.csv")));
  EXPECT_EQ(ReadFile(dir.Path("sub/target.csv")), kPoses);
  // The same through a link to an existing file, whose mode is kept.
  fs::permissions(dir.Path("sub/target.csv"), fs::perms::owner_read | fs::perms::owner_write);
  Write(dir.Path("q.csv"), "shoulder_yaw,shoulder_pitch,elbow_yaw,elbow_pitch\n0,0,0,0\n0,0,0,0\n");
  ASSERT_EQ(RunCli("fk seed -i q.csv -o link.csv", dir).exit_code, 0);
  EXPECT_TRUE(fs::is_symlink(dir.Path("link.csv")));
  EXPECT_EQ(ReadFile(dir.Path("sub/target.csv")), kPoses + "0,0,2,1,0,0,0\n");
  EXPECT_EQ(fs::status(dir.Path("sub/target.csv")).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
  EXPECT_EQ(Names(dir), (std::vector<std::string>{"link.csv", "q.csv", "sub"}));
}

// A full disk is an input error that names the output, not a silent truncation.
TEST(TemporaryFiles, AFullDeviceIsAClearError) {
  if (!fs::exists("/dev/full")) GTEST_SKIP() << "no /dev/full";
  TempDir dir;
  Write(dir.Path("q.csv"), kJoints);
  const CliResult r = RunCli("fk seed -i q.csv -o /dev/full", dir);
  EXPECT_EQ(r.exit_code, kExitInput);
  EXPECT_NE(r.err.find("/dev/full: writing failed (No space left on device)"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace deepik
