// Collision-free IK from the command line (issue 23): --collisions, --clearance and --scene on
// `solve`, the status `in collision`, the default stated in --help, and bad scenes refused with
// the field named, never a crash.
#include <gtest/gtest.h>

#include "cli_util.hpp"
#include "deepik/errors.hpp"

namespace deepik::testing {
namespace {

// Targets above the example scene's table and clear of its boxes.
constexpr const char* kTargets = "x,y,z\n0.4,0.2,0.5\n0.45,0.0,0.3\n";

TEST(CollisionCli, HelpStatesTheDefault) {
  const TempDir dir;
  const CliResult r = RunCli("solve --help", dir);
  EXPECT_NE(r.out.find("default: self when the arm has collision geometry"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("--clearance"), std::string::npos);
  EXPECT_NE(r.out.find("--scene"), std::string::npos);
}

TEST(CollisionCli, SceneAndClearanceSolveClear) {
  TempDir dir;
  WriteBytes(dir.Path("t.csv"), kTargets);
  const CliResult r = RunCli("solve --arm panda --collisions all --scene " + std::string(DEEPIK_ROBOTS_DIR) +
                                 "/scenes/table-boxes.json --clearance 0.01 --timeout 1000 -i t.csv -o s.csv",
                             dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("scene: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("(4 obstacles)"), std::string::npos) << r.err;
  const auto rows = CsvFields(ReadFile(dir.Path("s.csv")));
  ASSERT_EQ(rows.size(), 3u);
  for (size_t i = 1; i < rows.size(); ++i) EXPECT_EQ(rows[i].back(), "converged");
}

// A target inside a sphere obstacle: reached only in collision.
TEST(CollisionCli, TargetInsideAnObstacleIsInCollision) {
  TempDir dir;
  WriteBytes(dir.Path("t.csv"), "x,y,z\n0.45,0.2,0.45\n");
  WriteBytes(dir.Path("scene.json"),
             R"({"obstacles": [{"shape": "sphere", "radius": 0.12, "position": [0.45, 0.2, 0.45]}]})");
  const CliResult r = RunCli("solve --arm panda --collisions all --scene scene.json -i t.csv -o s.csv", dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto rows = CsvFields(ReadFile(dir.Path("s.csv")));
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1].back(), "in collision");
  EXPECT_LE(std::stod(rows[1][14]), 1e-6);  // the answer reaches the target
  EXPECT_NE(r.err.find("(0 converged)"), std::string::npos) << r.err;
}

TEST(CollisionCli, BadInputGetsClearErrors) {
  TempDir dir;
  WriteBytes(dir.Path("t.csv"), kTargets);
  const auto refusal = [&dir](const std::string& scene, const std::string& options) {
    WriteBytes(dir.Path("bad.json"), scene);
    return RunCli("solve --arm panda -i t.csv -o s.csv --scene bad.json " + options, dir);
  };
  const std::string box = R"({"shape": "box", "size": [1, 1, 1], "position": [0, 0, 0]})";
  struct Case {
    std::string scene, options, message;
  };
  const std::string many = [] {
    std::string text = R"({"obstacles": [)";
    for (int i = 0; i < 100000; ++i)
      text += std::string(i ? "," : "") + R"({"shape":"sphere","radius":1,"position":[0,0,0]})";
    return text + "]}";
  }();
  for (const Case& c : std::vector<Case>{
           {R"({"obstacles": [{"shape": "box", "size": [1, -1, 1], "position": [0, 0, 0]}]})",
            "--collisions all", "obstacles[0].size[1]: expected a size > 0, got -1"},
           {R"({"obstacles": [{"shape": "box", "size": [1, 1, 1], "position": [0, null, 0]}]})",
            "--collisions all", "obstacles[0].position[1]: expected a number"},
           {R"({"obstacles": [{"shape": "cone", "position": [0, 0, 0]}]})", "--collisions all",
            "obstacles[0].shape: unknown shape \"cone\""},
           {many, "--collisions all", "obstacles: expected at most 10000, got 100000"},
           {R"({"obstacles": [)" + box + "]}", "--collisions self", "--scene: expected --collisions all"},
       }) {
    const CliResult r = refusal(c.scene, c.options);
    EXPECT_EQ(r.exit_code, deepik::kExitInput) << c.message << "\n" << r.err;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << r.err;
  }
  // An arm without collision geometry, asked explicitly: refused; by default: off.
  const CliResult seed = RunCli("solve --arm seed --collisions all -i t.csv -o s.csv", dir);
  EXPECT_EQ(seed.exit_code, deepik::kExitInput);
  EXPECT_NE(seed.err.find("the arm has no collision geometry"), std::string::npos) << seed.err;
  EXPECT_EQ(RunCli("solve --arm seed -i t.csv -o s.csv", dir).exit_code, 0);
  const CliResult kdl = RunCli("solve --arm panda -s kdl-nr --collisions self -i t.csv -o s.csv", dir);
  EXPECT_EQ(kdl.exit_code, deepik::kExitInput);
  EXPECT_NE(kdl.err.find("expected solver lm or refined"), std::string::npos) << kdl.err;
  const CliResult clearance = RunCli("solve --arm panda --clearance -1 -i t.csv -o s.csv", dir);
  EXPECT_EQ(clearance.exit_code, deepik::kExitUsage) << clearance.err;
}

// `bench --collision-free`: the table of the four rows, the goals, the scene named; bad
// combinations refused before any work.
TEST(CollisionCli, CollisionFreeBenchRunsAndRefusesBadCombinations) {
  const TempDir dir;
  const std::string scene = std::string(DEEPIK_ROBOTS_DIR) + "/scenes/table-boxes.json";
  const CliResult r = RunCli("bench --arm iiwa14 --collision-free --count 8 --seed 3 --scene " + scene, dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* text :
       {"| lm (collision-aware) | ", "| lm+check | ", "| kdl-nr-restarts+check | ",
        "collisions all: self + scene", "8 FK poses of uniform configurations clear by FCL",
        "Goals (issue 23):", "load average before"})
    EXPECT_NE(r.out.find(text), std::string::npos) << text << "\n" << r.out;
  const CliResult help = RunCli("bench --help", dir);
  EXPECT_NE(help.out.find("--collision-free"), std::string::npos) << help.out;
  struct Case {
    std::string options, message;
    int code;
  };
  for (const Case& c : std::vector<Case>{
           {"--arm panda --scene " + scene, "expected --collision-free with them", deepik::kExitUsage},
           {"--arm panda --pose --collision-free", "expected one protocol, not both", deepik::kExitUsage},
           {"--arm panda --collision-free --solvers lm", "expected no --solvers", deepik::kExitUsage},
           {"--arm seed --collision-free", "the arm has no collision geometry", deepik::kExitInput},
       }) {
    const CliResult bad = RunCli("bench " + c.options, dir);
    EXPECT_EQ(bad.exit_code, c.code) << c.options << "\n" << bad.err;
    EXPECT_NE(bad.err.find(c.message), std::string::npos) << bad.err;
  }
}

}  // namespace
}  // namespace deepik::testing
