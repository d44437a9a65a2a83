// Collision-free IK through the JSON API (issue 23): POST /api/solve with "collisions",
// "clearance" and "scene" keeps the panda clear of an obstacle beside the target, checked by two
// routes the solver does not take (FK of the answer here, and the exact check of POST /api/collide
// as well as an ExactChecker built here from the files); a target inside the obstacle is answered
// `in collision`; bad fields are refused with 400 naming them, in bounded time; the meshes are
// read once however many scenes the requests bring.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "deepik/errors.hpp"
#include "deepik/geometry/exact_checker.hpp"
#include "deepik/geometry/scene.hpp"
#include "deepik/kinematics/arm_spec.hpp"
#include "deepik/kinematics/fk.hpp"
#include "deepik/serve/server.hpp"
#include "serve/raw_client.hpp"
#include "serve/serve_test_util.hpp"

namespace deepik {
namespace {

using Json = nlohmann::json;
using testing::OwnServer;

std::atomic<int> exact_checkers_made{0};  // meshes read: one per ExactChecker built from files

std::unique_ptr<CollisionChecker> MakeExact(const RobotGeometry& geometry,
                                            std::vector<std::pair<int, int>> pairs) {
  ++exact_checkers_made;
  return std::make_unique<ExactChecker>(geometry, std::move(pairs));
}

std::unique_ptr<CollisionChecker> WithScene(const CollisionChecker& exact, const Scene& scene) {
  return dynamic_cast<const ExactChecker&>(exact).WithScene(scene);
}

ServeOptions PandaOptions() {
  ServeOptions options;
  options.port = 0;
  options.arm = ArmSpec{"panda"};
  options.exact_checker = MakeExact;
  options.exact_with_scene = WithScene;
  // Time enough that the seeded starts, not the clock (a loaded machine), decide the answers.
  options.solve_timeout_seconds = 0.05;
  return options;
}

testing::Answer Post(int port, const std::string& path, const std::string& text) {
  return testing::Exchange(port, "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: " +
                                     std::to_string(text.size()) + "\r\nConnection: close\r\n\r\n" + text);
}
testing::Answer Post(int port, const std::string& path, const Json& body) {
  return Post(port, path, body.dump());
}
testing::Answer Get(int port, const std::string& raw_path) {
  return testing::Exchange(port,
                           "GET " + raw_path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
}

// A post 10 cm square and 60 cm tall in front of the arm, standing on the base's plane.
const char* const kPostScene =
    R"({"obstacles": [{"name": "post", "shape": "box", "size": [0.1, 0.1, 0.6], "position": [0.5, 0.0, 0.3]}]})";

Eigen::VectorXd JointValues(const Json& q) {
  const std::vector<double> values = q.get<std::vector<double>>();
  return Eigen::Map<const Eigen::VectorXd>(values.data(), static_cast<Eigen::Index>(values.size()));
}

TEST(ServeClearTest, TargetBesideAnObstacleIsReachedWithTheClearanceKept) {
  OwnServer served(PandaOptions());
  const Json scene = Json::parse(kPostScene);
  constexpr double kClearance = 0.02;
  const Chain chain = LoadArm(ArmSpec{"panda"});
  // The exact check built here from the files (not through the server's WithScene route).
  const RobotGeometry geometry = LoadRobotGeometry(ArmSpec{"panda"}, MeshSearchOptions{}, false);
  const CollisionMatrix matrix =
      LoadCollisionMatrix(std::string(DEEPIK_ROBOTS_DIR) + "/collision/panda.matrix.json", geometry);
  const Scene parsed = ParseScene(kPostScene, "test");
  const ExactChecker exact(geometry, CheckedPairs(geometry, &matrix), MeshLimits{}, &parsed);
  // 12 cm from the post's faces (the hand is about 10 cm wide), on three sides and at two heights.
  for (const Eigen::Vector3d p : {Eigen::Vector3d(0.5, 0.17, 0.3), Eigen::Vector3d(0.5, 0.15, 0.45),
                                  Eigen::Vector3d(0.5, -0.16, 0.25)}) {
    SCOPED_TRACE(p.transpose());
    const Json body{{"target", {p.x(), p.y(), p.z()}}, {"scene", scene}, {"clearance", kClearance}};
    const testing::Answer answer = Post(served.port, "/api/solve", body);
    ASSERT_EQ(answer.status, 200) << answer.body;
    const Json result = answer.json();
    EXPECT_EQ(result.at("collisions"), "all");
    EXPECT_EQ(result.at("clearance"), kClearance);
    ASSERT_EQ(result.at("status"), "converged") << answer.body;
    const Eigen::VectorXd q = JointValues(result.at("q"));
    // Route 1: FK here puts the tip on the target.
    EXPECT_LT((TipPosition(chain, q) - p).norm(), 1e-5);
    // Route 2: the server's exact check with the scene, and one built here from the files.
    const Json collide =
        Post(served.port, "/api/collide", Json{{"q", result.at("q")}, {"scene", scene}}).json();
    EXPECT_FALSE(collide.at("in_collision").get<bool>()) << collide.dump();
    EXPECT_GE(collide.at("min_distance").get<double>(), kClearance) << collide.dump();
    const CollisionReport report = exact.Check(q);
    EXPECT_FALSE(report.in_collision);
    EXPECT_GE(report.min_distance, kClearance);
    EXPECT_NEAR(report.min_distance, collide.at("min_distance").get<double>(), 1e-12);
    // The answer's own distance is the sphere model's (conservative spheres around the meshes).
    EXPECT_GT(result.at("min_distance").get<double>(), 0.0);
  }
}

TEST(ServeClearTest, TargetInsideAnObstacleIsInCollision) {
  OwnServer served(PandaOptions());
  const Json scene = Json::parse(kPostScene);
  for (const Json& target : {Json{0.5, 0.0, 0.3}, Json{0.5, 0.0, 0.55}}) {
    const testing::Answer answer =
        Post(served.port, "/api/solve", Json{{"target", target}, {"scene", scene}});
    ASSERT_EQ(answer.status, 200) << answer.body;
    const Json result = answer.json();
    EXPECT_EQ(result.at("status"), "in collision") << answer.body;
    EXPECT_LT(result.at("min_distance").get<double>(), 0.0);     // the spheres overlap the post
    EXPECT_LT(result.at("position_error").get<double>(), 1e-5);  // the target is reached, in collision
    const Json collide =
        Post(served.port, "/api/collide", Json{{"q", result.at("q")}, {"scene", scene}}).json();
    EXPECT_TRUE(collide.at("in_collision").get<bool>()) << collide.dump();
    // Without the scene the same target converges: the obstacle made the difference.
    const Json free = Post(served.port, "/api/solve", Json{{"target", target}}).json();
    EXPECT_EQ(free.at("status"), "converged") << free.dump();
    EXPECT_EQ(free.at("collisions"), "self");  // the default for an arm with a body and spheres
  }
}

// /api/track with a scene: a path passing 12 cm beside the post is tracked with every row clear
// (the server's exact check with the scene) and reaching its target (FK here); the same path
// through the post has rows marked `in collision`, counted in the summary, and no row in collision
// that is called tracked.
TEST(ServeClearTest, TrackKeepsThePathClearAndMarksRowsInsideAnObstacle) {
  OwnServer served(PandaOptions());
  const Json scene = Json::parse(kPostScene);
  const Chain chain = LoadArm(ArmSpec{"panda"});
  const auto path = [](double y) {
    Json targets = Json::array();
    for (int k = 0; k <= 10; ++k) targets.push_back({0.5, y, 0.2 + 0.03 * k});
    return targets;
  };
  const auto clear = [&](const Json& q) {
    return !Post(served.port, "/api/collide", Json{{"q", q}, {"scene", scene}})
                .json()
                .at("in_collision")
                .get<bool>();
  };
  const testing::Answer beside =
      Post(served.port, "/api/track", Json{{"targets", path(0.17)}, {"scene", scene}});
  ASSERT_EQ(beside.status, 200) << beside.body;
  const Json rows = beside.json().at("points");
  EXPECT_EQ(beside.json().at("collisions"), "all");
  EXPECT_EQ(beside.json().at("summary").at("tracked"), 11) << beside.body;
  for (size_t k = 0; k < rows.size(); ++k) {
    SCOPED_TRACE(k);
    EXPECT_EQ(rows[k].at("status"), "tracked");
    const Eigen::Vector3d p(0.5, 0.17, 0.2 + 0.03 * static_cast<double>(k));
    EXPECT_LT((TipPosition(chain, JointValues(rows[k].at("q"))) - p).norm(), 1e-5);
    EXPECT_TRUE(clear(rows[k].at("q")));
  }
  const testing::Answer through =
      Post(served.port, "/api/track", Json{{"targets", path(0.0)}, {"scene", scene}});
  ASSERT_EQ(through.status, 200) << through.body;
  const Json through_json = through.json();  // kept: the loop below walks into it
  const Json summary = through_json.at("summary");
  EXPECT_GT(summary.at("in_collision").get<int>(), 0) << through.body;
  int marked = 0;
  for (const Json& row : through_json.at("points")) {
    marked += row.at("status") == "in collision";
    if (row.at("status") == "tracked") EXPECT_TRUE(clear(row.at("q"))) << row.dump();
  }
  EXPECT_EQ(marked, summary.at("in_collision").get<int>());
  // Without the scene the same path is tracked through where the post was.
  const Json free =
      Post(served.port, "/api/track", Json{{"targets", path(0.0)}, {"collisions", "off"}}).json();
  EXPECT_EQ(free.at("summary").at("in_collision"), 0);
  EXPECT_EQ(free.at("collisions"), "off");
}

TEST(ServeClearTest, ScenesAreBuiltOnTheMeshesReadOnce) {
  exact_checkers_made = 0;
  OwnServer served(PandaOptions());
  // A page dragging the post: a new scene every request, one reading of the meshes in all.
  for (int k = 0; k < 6; ++k) {
    Json scene = Json::parse(kPostScene);
    scene["obstacles"][0]["position"][1] = -0.3 + 0.1 * k;
    const testing::Answer answer =
        Post(served.port, "/api/solve", Json{{"target", {0.3, 0.3, 0.5}}, {"scene", scene}});
    ASSERT_EQ(answer.status, 200) << answer.body;
  }
  EXPECT_EQ(exact_checkers_made.load(), 1);
}

TEST(ServeClearTest, BadCollisionFieldsAreRefusedNamingTheField) {
  ServeOptions options = PandaOptions();
  options.model_path = testing::ServeTestModelPath();  // a seed-arm model: no collision geometry
  OwnServer served(options);
  const Json target = {0.4, 0.1, 0.4};
  const Json post = Json::parse(kPostScene);
  const auto refused = [&](const std::string& body, int status, const std::string& words) {
    const auto start = std::chrono::steady_clock::now();
    const testing::Answer answer = Post(served.port, "/api/solve", body);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    EXPECT_EQ(answer.status, status) << body.substr(0, 200) << " -> " << answer.body;
    EXPECT_NE(answer.json().value("error", "").find(words), std::string::npos) << answer.body;
    EXPECT_LT(seconds, 2.0) << body.substr(0, 200);
  };
  const auto with = [&](const Json& fields) {
    Json body{{"model", "panda"}, {"target", target}};
    body.update(fields);
    return body.dump();
  };
  const auto obstacle = [](const Json& item) { return Json{{"obstacles", Json::array({item})}}; };
  const Json box{{"shape", "box"}, {"size", {0.1, 0.1, 0.1}}, {"position", {0.5, 0, 0.3}}};
  Json negative = box, unknown = box, nan_text = box;
  negative["size"][1] = -0.1;
  unknown["shape"] = "cone";
  nan_text["position"][0] = "nan";
  refused(with({{"scene", obstacle(negative)}}), 400, "scene: obstacles[0].size[1]: expected a size > 0");
  refused(with({{"scene", obstacle(unknown)}}), 400, "scene: obstacles[0].shape: unknown shape \"cone\"");
  refused(with({{"scene", obstacle(nan_text)}}), 400, "scene: obstacles[0].position[0]: expected a number");
  // JSON has no NaN or infinity: a bare NaN, or 1e999, makes the body no JSON.
  for (const char* bad : {"NaN", "1e999"}) {
    std::string raw = with({{"scene", obstacle(box)}});
    refused(raw.replace(raw.find("0.5"), 3, bad), 400, "malformed JSON body");
  }
  refused(with({{"scene", "table"}}), 400, "scene: expected a scene object");
  refused(with({{"scene", obstacle(box)}, {"collisions", "self"}}), 400,
          "scene: expected \"collisions\": \"all\"");
  // Too many obstacles: over the request's limit (400), or over the body limit (413), at once.
  Json many = Json::array();
  for (int k = 0; k < 257; ++k)
    many.push_back({{"shape", "sphere"}, {"radius", 0.01}, {"position", {1, 1, 1}}});
  refused(with({{"scene", {{"obstacles", many}}}}), 400, "scene.obstacles: expected at most 256");
  std::string huge = "{\"model\": \"panda\", \"target\": [0.4, 0.1, 0.4], \"scene\": {\"obstacles\": [";
  for (int k = 0; k < 100000; ++k)
    huge += std::string(k ? "," : "") + R"({"shape":"sphere","radius":0.01,"position":[1,1,1]})";
  refused(huge + "]}}", 413, "too large");
  refused(with({{"collisions", "sideways"}}), 400, "collisions: expected \"off\", \"self\" or \"all\"");
  refused(with({{"collisions", 1}}), 400, "collisions: expected");
  refused(with({{"clearance", -0.01}}), 400, "clearance: expected a number in 0..1");
  refused(with({{"clearance", "1cm"}}), 400, "clearance");
  refused(with({{"collisions", "self"}, {"solver", "kdl-nr"}}), 400,
          "collisions: expected solver lm or refined");
  // The seed arm has no collision geometry: asking for collisions is refused, the default is off.
  const Json seed{{"target", {0.5, 0.2, 0.1}}, {"solver", "lm"}};
  Json all = seed;
  all["collisions"] = "all";
  refused(all.dump(), 400, "collisions: the arm has no collision geometry");
  Json with_scene = seed;
  with_scene["scene"] = post;
  refused(with_scene.dump(), 400, "scene: the arm has no collision geometry");
  const Json plain = Post(served.port, "/api/solve", seed).json();
  EXPECT_EQ(plain.at("collisions"), "off");
  EXPECT_FALSE(plain.contains("min_distance"));
  // /api/track refuses a bad scene the same way.
  Json track{{"model", "panda"},
             {"targets", Json::array({target, {0.4, 0.12, 0.4}})},
             {"scene", obstacle(negative)}};
  const testing::Answer bad_track = Post(served.port, "/api/track", track);
  EXPECT_EQ(bad_track.status, 400);
  EXPECT_NE(bad_track.body.find("scene: obstacles[0].size[1]"), std::string::npos) << bad_track.body;
  // /api/collide checks a request's scene exactly, and refuses a bad one the same way.
  const Json zeros = std::vector<double>(7, 0.0);
  const testing::Answer collide = Post(served.port, "/api/collide",
                                       Json{{"model", "panda"}, {"q", zeros}, {"scene", obstacle(negative)}});
  EXPECT_EQ(collide.status, 400);
  EXPECT_NE(collide.body.find("scene: obstacles[0].size[1]"), std::string::npos) << collide.body;
}

TEST(ServeClearTest, ServerOptionsChooseTheDefaults) {
  ServeOptions options = PandaOptions();
  options.collisions = "all";
  options.clearance = 0.01;
  options.scene_path = std::string(DEEPIK_ROBOTS_DIR) + "/scenes/table-boxes.json";
  OwnServer served(options);
  const Json answer = Post(served.port, "/api/solve", Json{{"target", {0.3, -0.2, 0.5}}}).json();
  EXPECT_EQ(answer.at("collisions"), "all");
  EXPECT_EQ(answer.at("clearance"), 0.01);
  EXPECT_EQ(answer.at("status"), "converged") << answer.dump();
  // The served scene is checked: the table box is under the base, box-front-left at (0.5, 0.3).
  const Json inside = Post(served.port, "/api/solve", Json{{"target", {0.5, 0.3, 0.14}}}).json();
  EXPECT_EQ(inside.at("status"), "in collision") << inside.dump();
  // A request's own scene replaces it (here: none), and "off" turns the checks off.
  const Json empty = Post(served.port, "/api/solve",
                          Json{{"target", {0.5, 0.3, 0.14}}, {"scene", {{"obstacles", Json::array()}}}})
                         .json();
  EXPECT_EQ(empty.at("status"), "converged") << empty.dump();
  const Json off =
      Post(served.port, "/api/solve", Json{{"target", {0.5, 0.3, 0.14}}, {"collisions", "off"}}).json();
  EXPECT_EQ(off.at("collisions"), "off");
  EXPECT_EQ(off.at("status"), "converged");
  // Bad server options are refused before serving.
  ServeOptions bad = PandaOptions();
  bad.collisions = "self";
  bad.scene_path = options.scene_path;
  EXPECT_THROW(WebServer{bad}, std::invalid_argument);
  bad = PandaOptions();
  bad.clearance = -1;
  EXPECT_THROW(WebServer{bad}, std::invalid_argument);
  ServeOptions seed;
  seed.port = 0;
  seed.arm = ArmSpec{"seed"};
  seed.collisions = "self";
  EXPECT_THROW(WebServer{seed}, InputError);
}

TEST(ServeClearTest, ExampleScenesAreServedReadOnly) {
  OwnServer served(PandaOptions());
  const Json list = Get(served.port, "/api/scenes").json();
  EXPECT_NE(std::find(list.at("scenes").begin(), list.at("scenes").end(), "table-boxes"),
            list.at("scenes").end());
  const testing::Answer scene = Get(served.port, "/api/scenes/table-boxes");
  ASSERT_EQ(scene.status, 200);
  std::ifstream file(std::string(DEEPIK_ROBOTS_DIR) + "/scenes/table-boxes.json", std::ios::binary);
  std::ostringstream bytes;
  bytes << file.rdbuf();
  EXPECT_EQ(scene.body, bytes.str());
  EXPECT_EQ(ParseScene(scene.body, "answer").obstacles.size(), 4u);
  for (const std::string path : {"/api/scenes/../panda.urdf", "/api/scenes/table-boxes.json", "/api/scenes/",
                                 "/api/scenes/%2e%2e%2fpanda", "/api/scenes/TABLE-BOXES"}) {
    const testing::Answer answer = Get(served.port, path);
    EXPECT_TRUE(answer.status == 404 || answer.status == 400) << path << " -> " << answer.status;
  }
  EXPECT_EQ(Post(served.port, "/api/scenes/table-boxes", Json::object()).status, 404);
}

}  // namespace
}  // namespace deepik
