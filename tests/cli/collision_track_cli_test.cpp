// `deepik track` with collisions (issue 23): --collisions, --clearance and --scene as `solve` takes
// them; a path beside a box tracked clear (every output row checked by a second exact check, FCL,
// and its joint step against its bound), the same path without collisions hitting the box, and
// the rows whose target lies inside a box marked `in collision`.
#include <gtest/gtest.h>

#include <Eigen/Geometry>

#include "cli_util.hpp"
#include "deepik/data/csv.hpp"
#include "deepik/errors.hpp"
#include "deepik/geometry/exact_checker.hpp"
#include "deepik/kinematics/fk.hpp"

namespace deepik::testing {
namespace {

constexpr const char* kReady = "0,-0.3,0,-2.2,0,2.0,0.8";  // Ready(): the hand points down
constexpr int kStatus = 16, kStep = 17, kBound = 18;       // output columns after panda's 7 joints

struct Panda {
  RobotGeometry geometry = LoadRobotGeometry(ArmSpec{"panda"}, {}, true);
  CollisionMatrix matrix = LoadCollisionMatrix(RobotFile("collision/panda.matrix.json"), geometry);
  std::vector<std::pair<int, int>> pairs = CheckedPairs(geometry, &matrix);
};

Eigen::VectorXd Ready() {
  Eigen::VectorXd q(7);
  q << 0, -0.3, 0, -2.2, 0, 2.0, 0.8;
  return q;
}

// Poses of the ready tip moved along y from y0 in `rows` steps of dy (m), as a track input.
std::string Line(const Chain& chain, double y0, double dy, int rows) {
  const Eigen::Isometry3d X = TipPose(chain, Ready());
  const Eigen::Quaterniond Q(X.linear());
  std::string text = "x,y,z,qw,qx,qy,qz\n";
  for (int i = 0; i < rows; ++i) {
    const Eigen::Vector3d p = X.translation() + Eigen::Vector3d(0, y0 + dy * i, 0);
    for (double v : {p.x(), p.y(), p.z(), Q.w(), Q.x(), Q.y(), Q.z()}) text += FormatDouble(v) + ",";
    text.back() = '\n';
  }
  return text;
}

// A table 1 cm under the base and one cube.
std::string TableAndCube(const Eigen::Vector3d& centre, double edge) {
  return R"({"obstacles": [{"name": "table", "shape": "box", "size": [2.0, 2.0, 0.02], "position": [0, 0, -0.02]},
    {"name": "cube", "shape": "box", "size": [)" +
         FormatDouble(edge) + "," + FormatDouble(edge) + "," + FormatDouble(edge) + R"(], "position": [)" +
         FormatDouble(centre.x()) + "," + FormatDouble(centre.y()) + "," + FormatDouble(centre.z()) + "]}]}";
}

// The output rows of `track`, and how many of their joints the exact check finds in collision.
std::vector<std::vector<std::string>> Rows(const TempDir& dir, const std::string& file,
                                           const ExactChecker& judge, int* colliding) {
  std::vector<std::string> header;
  const auto rows = CsvRows(ReadFile(dir.Path(file)), &header);
  EXPECT_EQ(header.size(), 19u);
  *colliding = 0;
  for (const auto& row : rows) *colliding += judge.InCollision(JointsOfRow(row, 7));
  return rows;
}

TEST(CollisionTrackCli, HelpOffersTheCollisionOptions) {
  const TempDir dir;
  const CliResult r = RunCli("track --help", dir);
  EXPECT_NE(r.out.find("default: self when the arm has collision geometry"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("--clearance"), std::string::npos);
  EXPECT_NE(r.out.find("--scene"), std::string::npos);
  EXPECT_NE(r.out.find("in collision"), std::string::npos);
}

// A 10 cm cube where the upper arm sweeps while the hand moves 0.5 m along y.
TEST(CollisionTrackCli, PathBesideABoxIsTrackedClear) {
  TempDir dir;
  const Panda panda;
  WriteBytes(dir.Path("line.csv"), Line(panda.geometry.chain, -0.25, 0.0125, 41));
  WriteBytes(dir.Path("scene.json"), TableAndCube(Eigen::Vector3d(0.1, 0.0, 0.55), 0.1));
  const Scene scene = LoadScene(dir.Path("scene.json"));
  const ExactChecker judge(panda.geometry, panda.pairs, MeshLimits{}, &scene);
  const std::string common = "track panda -i line.csv --start " + std::string(kReady) + " --timeout 5000 ";

  const CliResult off = RunCli(common + "--collisions off -o off.csv", dir);
  ASSERT_EQ(off.exit_code, 0) << off.err;
  int colliding = 0;
  EXPECT_EQ(Rows(dir, "off.csv", judge, &colliding).size(), 41u);
  EXPECT_GE(colliding, 5);  // the control: the cube is in the way

  const CliResult r = RunCli(common + "--collisions all --scene scene.json --clearance 0.01 -o q.csv", dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("collisions: all, clearance 0.01 m"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("41 tracked, 0 out of reach, 0 in collision"), std::string::npos) << r.err;
  const auto rows = Rows(dir, "q.csv", judge, &colliding);
  ASSERT_EQ(rows.size(), 41u);
  EXPECT_EQ(colliding, 0);
  for (size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(rows[i][kStatus], "tracked") << "row " << i;
    EXPECT_GE(judge.Check(JointsOfRow(rows[i], 7)).min_distance, 0.01 - 1e-9) << "row " << i;
    if (i > 0) EXPECT_LE(std::stod(rows[i][kStep]), std::stod(rows[i][kBound])) << "row " << i;
  }
}

// A 4 cm cube around the middle target of 9 poses 2.5 cm apart: that row (and its neighbours
// whose hand, 20 cm wide, reaches the cube) is `in collision`, every row's joints stay clear, and
// the last row is tracked again.
TEST(CollisionTrackCli, RowInsideABoxIsMarked) {
  TempDir dir;
  const Panda panda;
  WriteBytes(dir.Path("line.csv"), Line(panda.geometry.chain, -0.1, 0.025, 9));
  WriteBytes(dir.Path("scene.json"), TableAndCube(TipPosition(panda.geometry.chain, Ready()), 0.04));
  const Scene scene = LoadScene(dir.Path("scene.json"));
  const ExactChecker judge(panda.geometry, panda.pairs, MeshLimits{}, &scene);
  const CliResult r = RunCli("track panda -i line.csv -o q.csv --start " + std::string(kReady) +
                                 " --timeout 300 --collisions all --scene scene.json",
                             dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  int colliding = 0;
  const auto rows = Rows(dir, "q.csv", judge, &colliding);
  ASSERT_EQ(rows.size(), 9u);
  EXPECT_EQ(colliding, 0);
  EXPECT_EQ(rows[0][kStatus], "tracked");
  EXPECT_EQ(rows[4][kStatus], "in collision");
  EXPECT_EQ(rows[8][kStatus], "tracked");  // resumed beyond the cube
  int marked = 0;
  for (size_t i = 1; i < rows.size(); ++i) {
    EXPECT_LE(std::stod(rows[i][kStep]), std::stod(rows[i][kBound])) << "row " << i;
    marked += rows[i][kStatus] == "in collision";
  }
  EXPECT_NE(r.err.find(std::to_string(marked) + " in collision"), std::string::npos) << r.err;
}

TEST(CollisionTrackCli, BadCollisionOptionsAreRefusedAsBySolve) {
  TempDir dir;
  WriteBytes(dir.Path("t.csv"), "x,y,z\n0.4,0.2,0.5\n");
  WriteBytes(dir.Path("scene.json"), TableAndCube(Eigen::Vector3d(0.1, 0.0, 0.55), 0.1));
  for (const auto& [args, message] : std::vector<std::pair<std::string, std::string>>{
           {"track panda --scene scene.json", "--scene: expected --collisions all"},
           {"track seed --collisions all", "the arm has no collision geometry"},
           {"track panda -s kdl-nr --collisions self", "expected solver lm or refined"}}) {
    const CliResult r = RunCli(args + " -i t.csv -o q.csv", dir);
    EXPECT_EQ(r.exit_code, deepik::kExitInput) << args << "\n" << r.err;
    EXPECT_NE(r.err.find(message), std::string::npos) << args << "\n" << r.err;
  }
  EXPECT_EQ(RunCli("track panda --clearance -1 -i t.csv -o q.csv", dir).exit_code, deepik::kExitUsage);
}

}  // namespace
}  // namespace deepik::testing
