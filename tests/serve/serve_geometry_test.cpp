// `deepik serve --arm` with a URDF arm's body (issue 22): GET /api/meshes/ serves exactly the
// visual mesh files /api/arm lists (byte for byte) and nothing else, whatever the path's tricks;
// POST /api/collide answers what `deepik collide` writes for the same rows (exact, through the
// geometry layer's ExactChecker as the command's plugin makes it, and spheres), and refuses bad
// requests with 400 and too many rows with 413.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iomanip>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "cli_util.hpp"
#include "deepik/geometry/exact_checker.hpp"
#include "deepik/kinematics/arm_spec.hpp"
#include "deepik/serve/server.hpp"
#include "serve/raw_client.hpp"
#include "serve/serve_test_util.hpp"
#include "test_util.hpp"

namespace deepik {
namespace {

using Json = nlohmann::json;
using testing::OwnServer;
using testing::TempDir;

std::unique_ptr<CollisionChecker> MakeExact(const RobotGeometry& geometry,
                                            std::vector<std::pair<int, int>> pairs) {
  return std::make_unique<ExactChecker>(geometry, std::move(pairs));
}

ServeOptions PandaOptions() {
  ServeOptions options;
  options.port = 0;
  options.arm = ArmSpec{"panda"};
  options.exact_checker = MakeExact;
  return options;
}

testing::Answer Get(int port, const std::string& raw_path) {
  return testing::Exchange(port,
                           "GET " + raw_path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
}

testing::Answer Post(int port, const std::string& path, const Json& body) {
  const std::string text = body.dump();
  return testing::Exchange(port, "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: " +
                                     std::to_string(text.size()) + "\r\nConnection: close\r\n\r\n" + text);
}

std::string FileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(ServeGeometryTest, ServesTheListedMeshesByteForByte) {
  OwnServer served(PandaOptions());
  const Json arm = Get(served.port, "/api/arm").json();
  ASSERT_EQ(arm.at("meshes").size(), 11u);  // panda_link0..7, hand, two fingers
  EXPECT_TRUE(arm.at("meshes_missing").empty());
  EXPECT_EQ(arm.at("meshes_not_drawn"), 0);
  const std::string robots = DEEPIK_ROBOTS_DIR;
  for (const Json& mesh : arm.at("meshes")) {
    const std::string url = mesh.at("url");
    const testing::Answer answer = Get(served.port, url);
    ASSERT_EQ(answer.status, 200) << url;
    EXPECT_NE(answer.head.find("model/vnd.collada+xml"), std::string::npos) << url;
    // The URL's file name is the visual mesh's: robots/meshes/panda/visual/NAME.
    const std::string name = url.substr(url.rfind('/') + 1);
    EXPECT_EQ(answer.body, FileBytes(robots + "/meshes/panda/visual/" + name)) << url;
  }
}

TEST(ServeGeometryTest, NoOtherPathIsReadThroughTheMeshes) {
  OwnServer served(PandaOptions());
  ASSERT_EQ(Get(served.port, "/api/meshes/0/1/link1.dae").status, 200);
  for (const std::string path :
       {"/api/meshes/0/1/../../../../../../etc/passwd", "/api/meshes/0/1/%2e%2e/%2e%2e/%2e%2e/CMakeLists.txt",
        "/api/meshes/0/1/..%2f..%2f..%2fpanda.urdf", "/api/meshes/0/1/link1.dae/../../2/link2.dae",
        "/api/meshes/0/1/./link1.dae", "/api/meshes/0/1//link1.dae", "/api/meshes/0/1/LINK1.DAE",
        "/api/meshes/0/1/link1.dae/", "/api/meshes/0/1/link2.dae", "/api/meshes/0/1/link1.stl",
        "/api/meshes/0/1/%6cink1.dae%20", "/api/meshes/1/1/link1.dae", "/api/meshes/0/99/link1.dae",
        "/api/meshes/0/1", "/api/meshes/", "/api/meshes/0/1/%2fetc%2fpasswd",
        "/api/meshes/0/1/robots/panda.urdf", "/api/meshes/0/1/..\\..\\panda.urdf",
        "/api/meshes/%2e%2e/%2e%2e/README.md"}) {
    const testing::Answer answer = Get(served.port, path);
    EXPECT_TRUE(answer.status == 404 || answer.status == 400) << path << " -> " << answer.status;
    EXPECT_EQ(answer.body.find("<COLLADA"), std::string::npos) << path;
  }
  // The URL-encoded name of a listed file is the file (the browser's encoding is undone first).
  EXPECT_EQ(Get(served.port, "/api/meshes/0/1/%6cink1.dae").status, 200);
  // A NUL is refused before any lookup.
  EXPECT_EQ(Get(served.port, "/api/meshes/0/1/link1.dae%00.png").status, 400);
}

TEST(ServeGeometryTest, GltfBuffersAreServedBesideTheirMesh) {
  ServeOptions options = PandaOptions();
  options.arm = ArmSpec{"ur5"};
  OwnServer served(options);
  const Json arm = Get(served.port, "/api/arm").json();
  ASSERT_EQ(arm.at("meshes").size(), 7u);
  const std::string url = arm.at("meshes")[0].at("url");  // base: model.gltf and gltf_buffer_N.bin
  EXPECT_EQ(arm.at("meshes")[0].at("format"), "gltf");
  EXPECT_EQ(Get(served.port, url).status, 200);
  const std::string folder = url.substr(0, url.rfind('/') + 1);
  const testing::Answer buffer = Get(served.port, folder + "gltf_buffer_0.bin");
  ASSERT_EQ(buffer.status, 200);
  EXPECT_EQ(buffer.body, FileBytes(std::string(DEEPIK_ROBOTS_DIR) +
                                   "/meshes/ur_description/meshes/ur5/visual/base/gltf_buffer_0.bin"));
  EXPECT_EQ(Get(served.port, folder + "gltf_buffer_99.bin").status, 404);
  EXPECT_EQ(Get(served.port, folder + "../shoulder/model.gltf").status, 404);
}

// Seeded uniform rows of the panda, written as `deepik collide`'s input.
std::vector<Eigen::VectorXd> PandaRows(int count) {
  const Chain chain = LoadArm(ArmSpec{"panda"});
  std::mt19937_64 rng(5);
  std::vector<Eigen::VectorXd> rows;
  for (int r = 0; r < count; ++r) {
    Eigen::VectorXd q(chain.num_joints());
    for (int j = 0; j < chain.num_joints(); ++j)
      q[j] = std::uniform_real_distribution<double>(chain.joint(j).lower, chain.joint(j).upper)(rng);
    rows.push_back(q);
  }
  return rows;
}

TEST(ServeGeometryTest, CollideAnswersAsTheCommand) {
  OwnServer served(PandaOptions());
  const std::vector<Eigen::VectorXd> rows = PandaRows(40);
  TempDir dir;
  std::ofstream input(dir.Path("q.csv"));
  input << "q1,q2,q3,q4,q5,q6,q7\n" << std::setprecision(17);
  Json qs = Json::array();
  for (const Eigen::VectorXd& q : rows) {
    qs.push_back(std::vector<double>(q.data(), q.data() + q.size()));
    for (int j = 0; j < q.size(); ++j) input << (j ? "," : "") << q[j];
    input << "\n";
  }
  input.close();
  int colliding = 0;
  for (const std::string model : {"exact", "spheres"}) {
    const testing::CliResult cli = testing::RunCli("collide panda -i q.csv -o out.csv --model " + model, dir);
    ASSERT_EQ(cli.exit_code, 0) << cli.err;
    const auto csv = testing::CsvFields(testing::ReadFile(dir.Path("out.csv")));
    const testing::Answer answer =
        Post(served.port, "/api/collide", Json{{"qs", qs}, {"collision_model", model}});
    ASSERT_EQ(answer.status, 200) << answer.body;
    const Json results = answer.json().at("results");
    ASSERT_EQ(results.size(), rows.size());
    for (size_t r = 0; r < rows.size(); ++r) {
      const auto& line = csv[r + 1];
      const Json& got = results[r];
      EXPECT_EQ(got.at("in_collision").get<bool>(), line[0] == "1") << model << " row " << r;
      EXPECT_NEAR(got.at("min_distance").get<double>(), std::stod(line[1]), 1e-12) << model << " row " << r;
      EXPECT_EQ(got.at("link_a"), line[2]) << model << " row " << r;
      EXPECT_EQ(got.at("link_b"), line[3]) << model << " row " << r;
      colliding += got.at("in_collision").get<bool>();
    }
    // One row alone ("q") is the same answer as in the batch.
    const Json one = Post(served.port, "/api/collide", Json{{"q", qs[3]}, {"collision_model", model}}).json();
    EXPECT_EQ(one.at("min_distance"), results[3].at("min_distance"));
  }
  EXPECT_GT(colliding, 0);  // both kinds of answer compared
  EXPECT_LT(colliding, 80);
}

TEST(ServeGeometryTest, CollideRefusesBadRequests) {
  ServeOptions options = PandaOptions();
  options.max_targets = 10;
  OwnServer served(options);
  const Json zeros = std::vector<double>(7, 0.0);
  const auto refused = [&](const Json& body, int status, const std::string& words) {
    const testing::Answer answer = Post(served.port, "/api/collide", body);
    EXPECT_EQ(answer.status, status) << body.dump() << " -> " << answer.body;
    EXPECT_NE(answer.json().value("error", "").find(words), std::string::npos) << answer.body;
  };
  refused(Json::object(), 400, "expected a field 'q'");
  refused(Json{{"q", zeros}, {"qs", Json::array({zeros})}}, 400, "not both");
  refused(Json{{"q", std::vector<double>(6, 0.0)}}, 400, "q");
  refused(Json{{"q", Json::array({0, 0, 0, "x", 0, 0, 0})}}, 400, "q");
  refused(Json{{"q", Json::array({0, 0, 0, 1e300, 0, 0, 0})}}, 400, "q");
  refused(Json{{"q", zeros}, {"collision_model", "fcl"}}, 400, "collision_model");
  refused(Json{{"q", zeros}, {"colour", 1}}, 400, "colour");
  refused(Json{{"qs", Json::array()}}, 400, "qs");
  refused(Json{{"qs", Json(std::vector<Json>(11, zeros))}}, 413, "at most 10");
  refused(Json{{"q", zeros}, {"model", "ur5"}}, 400, "model");
  // The work budget: 10 ms a row for the exact check (FCL's distance), 0.1 ms for the spheres.
  ServeOptions budget = PandaOptions();
  budget.max_request_work_seconds = 0.05;
  OwnServer small(budget);
  const Json six = std::vector<Json>(6, zeros);
  const testing::Answer exact = Post(small.port, "/api/collide", Json{{"qs", six}});
  EXPECT_EQ(exact.status, 413);
  EXPECT_NE(exact.body.find("at most 5 configurations"), std::string::npos) << exact.body;
  EXPECT_EQ(Post(small.port, "/api/collide", Json{{"qs", six}, {"collision_model", "spheres"}}).status, 200);
  // An arm without collision geometry, and a server without the exact check.
  ServeOptions seed;
  seed.port = 0;
  seed.arm = ArmSpec{"seed"};
  OwnServer seed_served(seed);
  const testing::Answer none = Post(seed_served.port, "/api/collide", Json{{"q", {0, 0, 0, 0}}});
  EXPECT_EQ(none.status, 400);
  EXPECT_NE(none.body.find("no collision geometry"), std::string::npos);
  ServeOptions no_plugin = PandaOptions();
  no_plugin.exact_checker = nullptr;
  OwnServer plain(no_plugin);
  EXPECT_EQ(Post(plain.port, "/api/collide", Json{{"q", zeros}}).status, 400);
  EXPECT_EQ(Get(plain.port, "/api/arm").json().at("collision").at("exact"), false);
  // A URDF with a missing mesh: the exact check is not offered, and asking for it names the mesh.
  ServeOptions missing = PandaOptions();
  missing.arm = ArmSpec{std::string(DEEPIK_SOURCE_DIR) + "/tests/web/box_arm.urdf"};
  OwnServer box(missing);
  const Json box_arm = Get(box.port, "/api/arm").json();
  EXPECT_EQ(box_arm.at("collision").at("exact"), false);
  EXPECT_TRUE(box_arm.at("collision").at("spheres").is_null());
  const testing::Answer refused_exact =
      Post(box.port, "/api/collide", Json{{"q", std::vector<double>(7, 0.0)}});
  EXPECT_EQ(refused_exact.status, 400);
  EXPECT_NE(refused_exact.body.find("forearm_cover.dae"), std::string::npos) << refused_exact.body;
  EXPECT_EQ(Post(plain.port, "/api/collide", Json{{"q", zeros}, {"collision_model", "spheres"}}).status, 200);
}

}  // namespace
}  // namespace deepik
