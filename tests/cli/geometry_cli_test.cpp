// The collision commands end to end: collide (exact and spheres agree as they must), the errors
// of bad input, and arm info's collision section.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>

#include "cli_util.hpp"
#include "deepik/data/random.hpp"
#include "deepik/geometry/mesh.hpp"
#include "deepik/geometry/sphere_fit.hpp"
#include "deepik/kinematics/builtin_arms.hpp"

namespace deepik::testing {
namespace {

// Seeded uniform configurations of the built-in arm, as a joint CSV.
void WriteConfigurations(const std::string& arm, int count, const std::string& path) {
  const Chain chain = MakeBuiltinArm(arm);
  std::mt19937_64 rng(11);
  Eigen::VectorXd q(chain.num_joints());
  std::string text;
  for (int j = 0; j < chain.num_joints(); ++j) text += (j ? ",q" : "q") + std::to_string(j);
  text += "\n";
  for (int r = 0; r < count; ++r) {
    UniformConfiguration(chain, &rng, q);
    for (int j = 0; j < chain.num_joints(); ++j) text += (j ? "," : "") + std::to_string(q[j]);
    text += "\n";
  }
  WriteBytes(path, text);
}

// The sphere model contains the meshes, so on every row it is in collision when the exact check
// is, and its distance is never larger than the exact one.
TEST(CollideCli, SpheresAreConservativeAgainstTheExactCheck) {
  TempDir dir;
  WriteConfigurations("panda", 100, dir.Path("q.csv"));
  const CliResult exact = RunCli("collide panda -i q.csv -o exact.csv", dir);
  ASSERT_EQ(exact.exit_code, 0) << exact.err;
  const CliResult spheres = RunCli("collide panda --model spheres -i q.csv -o spheres.csv", dir);
  ASSERT_EQ(spheres.exit_code, 0) << spheres.err;
  const auto e = CsvFields(ReadFile(dir.Path("exact.csv"))), s = CsvFields(ReadFile(dir.Path("spheres.csv")));
  ASSERT_EQ(e.size(), 101u);
  ASSERT_EQ(s.size(), 101u);
  EXPECT_EQ(e[0], (std::vector<std::string>{"in_collision", "min_distance", "link_a", "link_b"}));
  int colliding = 0;
  for (size_t r = 1; r < e.size(); ++r) {
    const bool in_e = e[r][0] == "1", in_s = s[r][0] == "1";
    colliding += in_e;
    EXPECT_TRUE(!in_e || in_s) << "row " << r << ": FCL finds " << e[r][2] << "-" << e[r][3];
    EXPECT_GE(std::stod(e[r][1]), 0.0);
    EXPECT_LE(std::stod(s[r][1]), std::stod(e[r][1]) + 1e-9) << "row " << r;
    EXPECT_FALSE(e[r][2].empty());
  }
  EXPECT_GT(colliding, 0);  // uniform panda configurations do collide sometimes
}

TEST(CollideCli, BadInputGetsClearErrors) {
  TempDir dir;
  WriteConfigurations("ur5", 3, dir.Path("q.csv"));
  // ur5.urdf names its meshes package://ur_description/...: without a search path, an input error.
  const std::string urdf = RobotFile("ur5.urdf");
  CliResult r = RunShell(
      "env -u ROS_PACKAGE_PATH '" + std::string(DEEPIK_CLI) + "' collide '" + urdf + "' -i q.csv -o out.csv",
      dir);
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("package://ur_description/meshes/ur5/"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--package-path"), std::string::npos) << r.err;
  r = RunCli("collide '" + urdf + "' --package-path '" + RobotFile("meshes") + "' -i q.csv -o out.csv", dir);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("no self-collision matrix"), std::string::npos) << r.err;
  // A spheres file with a negative radius or an unknown link.
  WriteBytes(dir.Path("neg.json"), R"({"links":[{"link":"shoulder_link","spheres":[[0,0,0,-1]]}]})");
  r = RunCli("collide ur5 --model spheres --spheres neg.json -i q.csv -o out.csv", dir);
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("radius > 0"), std::string::npos) << r.err;
  WriteBytes(dir.Path("unknown.json"), R"({"links":[{"link":"elbow","spheres":[[0,0,0,1]]}]})");
  r = RunCli("collide ur5 --model spheres --spheres unknown.json -i q.csv -o out.csv", dir);
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("unknown link 'elbow'"), std::string::npos) << r.err;
  // An arm without geometry, a bad model name.
  r = RunCli("collide seed -i q.csv -o out.csv", dir);
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("no collision geometry"), std::string::npos) << r.err;
  r = RunCli("collide ur5 --model boxes -i q.csv -o out.csv", dir);
  EXPECT_EQ(r.exit_code, 2);
}

TEST(CollideCli, AMeshThatIsNotAMeshIsAnInputError) {
  TempDir dir;
  std::string urdf = ReadFile(RobotFile("iiwa14.urdf"));
  std::filesystem::create_directories(dir.Path("meshes/iiwa14"));
  for (const auto& entry : std::filesystem::directory_iterator(RobotFile("meshes/iiwa14")))
    std::filesystem::copy(entry.path(), dir.Path("meshes/iiwa14/" + entry.path().filename().string()));
  WriteBytes(dir.Path("meshes/iiwa14/link_3.dae"), "<?xml version=\"1.0\"?><not-collada/>");
  WriteBytes(dir.Path("iiwa14.urdf"), urdf);
  WriteConfigurations("iiwa14", 2, dir.Path("q.csv"));
  const CliResult r = RunCli("collide iiwa14.urdf -i q.csv -o out.csv", dir);
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("link_3.dae"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir.Path("out.csv")));
}

// `spheres --close-overshoot`: the refit link meets the close target above its close points (the
// table's "near other links" column and the file's close_overshoot_mm agree) and still covers every
// vertex; the other links keep the shipped spheres; a close target above the target is refused.
TEST(SpheresCli, CloseFitMeetsItsTargetAndIsConservative) {
  TempDir dir;
  const CliResult r = RunCli(
      "spheres ur5 --link wrist_3_link --overshoot 8 --close-overshoot 3 --close-samples 200 --max-spheres "
      "1000 "
      "-o close.json",
      dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("surface points within 10 mm"), std::string::npos) << r.err;
  const nlohmann::json out = nlohmann::json::parse(ReadFile(dir.Path("close.json")));
  const nlohmann::json shipped =
      nlohmann::json::parse(ReadFile(std::string(DEEPIK_SOURCE_DIR) + "/robots/collision/ur5.spheres.json"));
  int refit = 0;
  for (size_t i = 0; i < out["links"].size(); ++i) {
    const auto& link = out["links"][i];
    if (link["link"] != "wrist_3_link") {
      EXPECT_EQ(link["spheres"], shipped["links"][i]["spheres"]) << link["link"];
      continue;
    }
    ++refit;
    ASSERT_TRUE(link.contains("close_overshoot_mm")) << link.dump();
    EXPECT_GT(link["close_overshoot_mm"].get<double>(), 0.0);
    EXPECT_LE(link["close_overshoot_mm"].get<double>(), 3.0 + 0.01);
    EXPECT_LE(link["overshoot_mm"].get<double>(), 8.0 + 0.01);
  }
  EXPECT_EQ(refit, 1);
  const size_t row = r.out.find("| wrist_3_link |");
  ASSERT_NE(row, std::string::npos) << r.out;
  EXPECT_NE(r.out.substr(row, r.out.find('\n', row) - row).find("| none |"), std::string::npos) << r.out;
  // Every vertex inside a sphere, checked here too.
  const RobotGeometry geometry = LoadRobotGeometry(ArmSpec{"ur5", "", ""}, {}, true);
  const SphereSet set = LoadSphereSet(dir.Path("close.json"), geometry);
  const TriangleMesh surface =
      LinkSurface(geometry.links[static_cast<size_t>(geometry.FindLink("wrist_3_link"))]);
  for (const LinkSpheres& link : set.links)
    if (link.link == "wrist_3_link") EXPECT_LE(WorstVertexExcess(surface, link.spheres), 0.0);

  const CliResult above =
      RunCli("spheres ur5 --link wrist_3_link --overshoot 8 --close-overshoot 9 -o x.json", dir);
  EXPECT_EQ(above.exit_code, 3);
  EXPECT_NE(above.err.find("--close-overshoot 9 is above --overshoot 8"), std::string::npos) << above.err;
  EXPECT_FALSE(std::filesystem::exists(dir.Path("x.json")));
}

// `spheres --link` refits the chosen links only: every other link keeps the shipped model's spheres
// exactly, the chosen one gets a new fit within its sphere budget that still covers its vertices.
TEST(SpheresCli, RefitsOnlyTheChosenLinks) {
  TempDir dir;
  const CliResult r =
      RunCli("spheres panda --link panda_leftfinger --overshoot 10 --max-spheres 4 -o out.json", dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("| panda_leftfinger | 96 |"), std::string::npos) << r.out;
  const nlohmann::json shipped = nlohmann::json::parse(
      ReadFile(std::string(DEEPIK_SOURCE_DIR) + "/robots/collision/panda.spheres.json"));
  const nlohmann::json out = nlohmann::json::parse(ReadFile(dir.Path("out.json")));
  ASSERT_EQ(out["links"].size(), shipped["links"].size());
  int refit = 0;
  for (const auto& link : out["links"]) {
    const auto same = [&](const nlohmann::json& kept) { return kept["link"] == link["link"]; };
    const auto it = std::find_if(shipped["links"].begin(), shipped["links"].end(), same);
    ASSERT_NE(it, shipped["links"].end()) << link["link"];
    if (link["link"] == "panda_leftfinger") {
      ++refit;
      EXPECT_LE(link["spheres"].size(), 4u);
      EXPECT_NE(link["spheres"], (*it)["spheres"]);
    } else {
      EXPECT_EQ(link["spheres"], (*it)["spheres"]) << link["link"];
    }
  }
  EXPECT_EQ(refit, 1);
  // Every vertex of the refit link is inside a sphere (the table's last column).
  const size_t row = r.out.find("| panda_leftfinger |");
  ASSERT_NE(row, std::string::npos);
  EXPECT_NE(r.out.substr(row, r.out.find('\n', row) - row).find("| none |"), std::string::npos) << r.out;

  const CliResult unknown = RunCli("spheres panda --link elbow -o bad.json", dir);
  EXPECT_NE(unknown.exit_code, 0);
  EXPECT_NE(unknown.err.find("--link elbow: no such link"), std::string::npos) << unknown.err;
  const CliResult no_link = RunCli("spheres panda --spheres out.json -o bad.json", dir);
  EXPECT_NE(no_link.exit_code, 0);
  EXPECT_NE(no_link.err.find("needs --link"), std::string::npos) << no_link.err;
  EXPECT_FALSE(std::filesystem::exists(dir.Path("bad.json")));
}

TEST(ArmInfoCli, ReportsTheCollisionGeometry) {
  TempDir dir;
  CliResult r = RunCli("arm info panda", dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("collision geometry"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("11 of 12 links, 11 meshes (11 found)"), std::string::npos) << r.out;
  r = RunCli("arm info iiwa14", dir);
  EXPECT_NE(r.out.find("visual geometry stands in"), std::string::npos) << r.out;
  r = RunCli("arm info seed", dir);
  EXPECT_NE(r.out.find("collision geometry: none"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace deepik::testing

namespace deepik::testing {
namespace {

// The kinematics-only path never loads assimp or FCL: the command and the core do not link them;
// the geometry plugin does (the control that the check can see them).
TEST(GeometryPlugin, OnlyThePluginLoadsAssimpAndFcl) {
  TempDir dir;
  const std::string cli = DEEPIK_CLI;
  const std::string plugin = cli.substr(0, cli.rfind('/')) + "/deepik_geometry_commands.so";
  const CliResult command = RunShell("ldd '" + cli + "'", dir);
  ASSERT_EQ(command.exit_code, 0);
  EXPECT_EQ(command.out.find("libassimp"), std::string::npos) << command.out;
  EXPECT_EQ(command.out.find("libfcl"), std::string::npos) << command.out;
  const CliResult loaded = RunShell("ldd '" + plugin + "'", dir);
  ASSERT_EQ(loaded.exit_code, 0);
  EXPECT_NE(loaded.out.find("libassimp"), std::string::npos) << loaded.out;
  EXPECT_NE(loaded.out.find("libfcl"), std::string::npos) << loaded.out;
}

}  // namespace
}  // namespace deepik::testing
