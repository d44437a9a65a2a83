// `deepik serve`: the JSON API's answers, every refusal, many clients at once, and the command's
// start-up line and clean stop.
#include "deepik/serve/server.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "deepik/errors.hpp"
#include "deepik/kinematics/fk.hpp"
#include "deepik/learn/model.hpp"
#include "deepik/solve/many_solutions.hpp"
#include "deepik/solve/posture.hpp"
#include "serve/serve_process.hpp"
#include "serve/serve_test_util.hpp"
#include "test_util.hpp"

// After Eigen: httplib.h brings <resolv.h>, whose `_res` macro breaks Eigen's headers.
#include <httplib.h>
#undef _res

namespace deepik {
namespace {

using Json = nlohmann::json;
using testing::OwnServer;
using testing::RandomConfiguration;

std::string ModelPath() { return testing::ServeTestModelPath(); }

// One server for the whole suite, started in-process on a free loopback port.
class ServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    try {
      ServeOptions options;
      options.model_path = ModelPath();
      options.port = 0;
      // Pose answers must converge however slow the build (sanitizers) or busy the machine: the
      // default 5 ms budget is a speed target, measured by `bench`, not a property tested here.
      options.solve_timeout_seconds = 2.0;
      options.max_request_work_seconds = 86400;  // the work budget has its own test (http_rules_test)
      model_ = new IkModel(IkModel::Load(options.model_path));
      server_ = new WebServer(options);
      port_ = server_->Bind();
      runner_ = new std::thread([] { server_->Run(nullptr); });
    } catch (const std::exception& e) {
      setup_error_ = new std::string(e.what());
    }
  }
  static void TearDownTestSuite() {
    if (runner_ != nullptr) {
      server_->Stop();
      runner_->join();
    }
    delete runner_;
    delete server_;
    delete model_;
    delete setup_error_;
    runner_ = nullptr, server_ = nullptr, model_ = nullptr, setup_error_ = nullptr;
  }
  void SetUp() override {
    if (runner_ == nullptr) FAIL() << "cannot start the server: " << (setup_error_ ? *setup_error_ : "?");
  }

  static httplib::Client Client() {
    httplib::Client client("127.0.0.1", port_);
    client.set_keep_alive(true);
    client.set_tcp_nodelay(true);
    client.set_connection_timeout(5);
    client.set_read_timeout(30);
    return client;
  }

  // POSTs `body` and returns (status, parsed answer); the answer must be JSON.
  static std::pair<int, Json> Post(const std::string& path, const std::string& body) {
    httplib::Client client = Client();
    const httplib::Result result = client.Post(path.c_str(), body, "application/json");
    if (!result) return {-1, Json()};
    return {result->status, Json::parse(result->body, nullptr, false)};
  }
  static std::pair<int, Json> Get(const std::string& path) {
    httplib::Client client = Client();
    const httplib::Result result = client.Get(path.c_str());
    if (!result) return {-1, Json()};
    return {result->status, Json::parse(result->body, nullptr, false)};
  }

  static const Chain& chain() { return model_->chain(); }

  // The answer is what FK says about its q, and its error is the distance to the target.
  static void ExpectConsistent(const Json& answer, const Eigen::Vector3d& target) {
    ASSERT_TRUE(answer.is_object()) << answer;
    const std::vector<double> q_values = answer.at("q").get<std::vector<double>>();
    ASSERT_EQ(static_cast<int>(q_values.size()), chain().num_joints());
    const Eigen::VectorXd q = Eigen::Map<const Eigen::VectorXd>(q_values.data(), chain().num_joints());
    EXPECT_TRUE(chain().WithinLimits(q, 1e-12));
    const std::vector<double> reached = answer.at("reached").get<std::vector<double>>();
    ASSERT_EQ(reached.size(), 3u);
    const Eigen::Vector3d p_reached(reached[0], reached[1], reached[2]);
    EXPECT_LT((p_reached - TipPosition(chain(), q)).norm(), 1e-12);
    EXPECT_NEAR(answer.at("position_error").get<double>(), (p_reached - target).norm(), 1e-12);
    EXPECT_GE(answer.at("micros").get<double>(), 0.0);
    EXPECT_TRUE(answer.at("status").is_string());
  }

  // `n` targets made by FK of seeded random joint values (reachable by construction), as a JSON
  // list and as `points`.
  static Json ReachableTargets(uint64_t seed, int n, std::vector<Eigen::Vector3d>* points) {
    std::mt19937_64 rng(seed);
    Json targets = Json::array();
    for (int i = 0; i < n; ++i) {
      points->push_back(TipPosition(chain(), RandomConfiguration(chain(), &rng)));
      targets.push_back({points->back().x(), points->back().y(), points->back().z()});
    }
    return targets;
  }

  // An answer's joint values.
  static Eigen::VectorXd QOf(const Json& answer) {
    const std::vector<double> v = answer.at("q").get<std::vector<double>>();
    return Eigen::Map<const Eigen::VectorXd>(v.data(), static_cast<Eigen::Index>(v.size()));
  }

  static Json TargetBody(const Eigen::Vector3d& p, const std::string& solver = "") {
    Json body{{"target", {p.x(), p.y(), p.z()}}};
    if (!solver.empty()) body["solver"] = solver;
    return body;
  }

  static inline IkModel* model_ = nullptr;
  static inline WebServer* server_ = nullptr;
  static inline std::thread* runner_ = nullptr;
  static inline int port_ = 0;
  static inline std::string* setup_error_ = nullptr;
};

TEST_F(ServerTest, ArmDescribesTheChainAndItsFramesAtZero) {
  const auto [status, arm] = Get("/api/arm");
  ASSERT_EQ(status, 200);
  ASSERT_EQ(arm.at("dof").get<int>(), chain().num_joints());
  EXPECT_DOUBLE_EQ(arm.at("reach").get<double>(), chain().reach());
  for (int j = 0; j < chain().num_joints(); ++j) {
    const Json& joint = arm.at("joints").at(j);
    EXPECT_EQ(joint.at("name"), chain().joint(j).name);
    EXPECT_EQ(joint.at("type"), "revolute");
    EXPECT_DOUBLE_EQ(joint.at("lower").get<double>(), chain().joint(j).lower);
    EXPECT_DOUBLE_EQ(joint.at("upper").get<double>(), chain().joint(j).upper);
    EXPECT_EQ(joint.at("axis").size(), 3u);
  }
  const Json& frames = arm.at("frames_at_zero");
  ASSERT_EQ(static_cast<int>(frames.size()), chain().num_joints() + 1);
  const std::vector<double> tip = frames.back().at("p").get<std::vector<double>>();
  const Eigen::Vector3d p_tip = TipPosition(chain(), Eigen::VectorXd::Zero(chain().num_joints()));
  EXPECT_LT((Eigen::Vector3d(tip[0], tip[1], tip[2]) - p_tip).norm(), 1e-12);
  double total = 0;
  for (const Json& length : arm.at("link_lengths")) total += length.get<double>();
  EXPECT_NEAR(total, 2.0, 1e-12);  // the seed arm: two 1 m links
}

TEST_F(ServerTest, SolveReachesInReachTargetsWithEveryRefiningSolver) {
  std::mt19937_64 rng(77);
  for (const char* solver : {"refined", "analytic", "kdl-lma"}) {
    for (int i = 0; i < 20; ++i) {
      const Eigen::Vector3d target = TipPosition(chain(), RandomConfiguration(chain(), &rng));
      const auto [status, answer] = Post("/api/solve", TargetBody(target, solver).dump());
      ASSERT_EQ(status, 200) << answer;
      ExpectConsistent(answer, target);
      EXPECT_EQ(answer.at("solver"), solver);
      EXPECT_EQ(answer.at("status"), "converged") << solver << " " << answer;
      // KDL stops at its own tolerance (1e-5 m); deepik's solvers go to machine precision.
      EXPECT_LT(answer.at("position_error").get<double>(), std::string(solver) == "kdl-lma" ? 1e-4 : 1e-6)
          << solver;
    }
  }
}

TEST_F(ServerTest, SolveDefaultsToRefinedAndEveryOfferedSolverAnswers) {
  const Eigen::Vector3d target(0.6, -0.4, 1.1);
  const auto [status, answer] = Post("/api/solve", TargetBody(target).dump());
  ASSERT_EQ(status, 200);
  EXPECT_EQ(answer.at("solver"), "refined");
  ExpectConsistent(answer, target);

  const auto [model_status, info] = Get("/api/model");
  ASSERT_EQ(model_status, 200);
  const std::vector<std::string> solvers = info.at("solvers").get<std::vector<std::string>>();
  EXPECT_EQ(solvers, (std::vector<std::string>{"network", "refined", "lm", "analytic", "kdl-nr",
                                               "kdl-nr-restarts", "kdl-lma", "kdl-lma-restarts"}));
  for (const std::string& solver : solvers) {
    const auto [s, a] = Post("/api/solve", TargetBody(target, solver).dump());
    ASSERT_EQ(s, 200) << solver << " " << a;
    ExpectConsistent(a, target);
  }
}

TEST_F(ServerTest, OutOfReachTargetsStretchToTheClosestPoint) {
  const Eigen::Vector3d target(3.0, 0.0, 1.0);
  const auto [s1, analytic] = Post("/api/solve", TargetBody(target, "analytic").dump());
  const auto [s2, refined] = Post("/api/solve", TargetBody(target, "refined").dump());
  ASSERT_EQ(s1, 200);
  ASSERT_EQ(s2, 200);
  ExpectConsistent(analytic, target);
  ExpectConsistent(refined, target);
  EXPECT_EQ(analytic.at("status"), "out of reach");
  EXPECT_EQ(refined.at("status"), "out of reach");
  // The network alone cannot tell: a finite answer within the limits that misses is "approximate".
  const auto [s3, network] = Post("/api/solve", TargetBody(target, "network").dump());
  ASSERT_EQ(s3, 200);
  EXPECT_GT(network.at("position_error").get<double>(), 1.0);
  EXPECT_EQ(network.at("status"), "approximate");
  // The closest reachable point of a ball of radius 2: 2 * target / |target|.
  const std::vector<double> r = analytic.at("reached").get<std::vector<double>>();
  EXPECT_LT((Eigen::Vector3d(r[0], r[1], r[2]) - 2.0 * target.normalized()).norm(), 1e-9);
  EXPECT_NEAR(refined.at("position_error").get<double>(), analytic.at("position_error").get<double>(), 1e-6);
}

TEST_F(ServerTest, BatchAnswersEveryTargetInOrder) {
  std::vector<Eigen::Vector3d> points;
  Json targets = ReachableTargets(5, 50, &points);
  targets.push_back({3.0, 0.0, 1.0});
  points.emplace_back(3.0, 0.0, 1.0);
  const auto [status, answer] = Post("/api/solve", Json{{"targets", targets}, {"solver", "refined"}}.dump());
  ASSERT_EQ(status, 200) << answer;
  const Json& results = answer.at("results");
  ASSERT_EQ(results.size(), points.size());
  for (size_t i = 0; i < points.size(); ++i) {
    ExpectConsistent(results[i], points[i]);
    if (i + 1 < points.size()) EXPECT_LT(results[i].at("position_error").get<double>(), 1e-6);
  }
  EXPECT_EQ(results.back().at("status"), "out of reach");
}

// "solutions": K answers a list of distinct exact solutions; "q_start" orders them closest first.
TEST_F(ServerTest, SolutionsAnswerAListOfDistinctExactSolutions) {
  std::mt19937_64 rng(6);
  const Eigen::Vector3d p = TipPosition(chain(), RandomConfiguration(chain(), &rng));
  const Eigen::VectorXd q_start = RandomConfiguration(chain(), &rng);
  const Json target{{"p", {p.x(), p.y(), p.z()}},
                    {"q_start", std::vector<double>(q_start.data(), q_start.data() + q_start.size())}};
  for (const char* solver : {"refined", "lm"}) {
    const auto [status, answer] =
        Post("/api/solve", Json{{"target", target}, {"solver", solver}, {"solutions", 5}}.dump());
    ASSERT_EQ(status, 200) << answer;
    EXPECT_EQ(answer.at("exact"), true);
    const Json& list = answer.at("solutions");
    ASSERT_EQ(list.size(), 5u) << answer;
    double previous_distance = 0;
    std::vector<Eigen::VectorXd> qs;
    for (const Json& s : list) {
      ExpectConsistent(s, p);
      EXPECT_EQ(s.at("status"), "converged");
      EXPECT_LT(s.at("position_error").get<double>(), 1e-8);
      const std::vector<double> v = s.at("q").get<std::vector<double>>();
      qs.push_back(Eigen::Map<const Eigen::VectorXd>(v.data(), chain().num_joints()));
      const double distance = JointDistance(chain(), qs.back(), q_start);
      EXPECT_GE(distance, previous_distance - 1e-12);
      previous_distance = distance;
    }
    for (size_t i = 0; i < qs.size(); ++i) {
      for (size_t k = 0; k < i; ++k) EXPECT_GE(JointDistance(chain(), qs[i], qs[k]), 0.1 - 1e-12);
    }
  }
  for (const Json& bad : {Json(0), Json(101), Json("3"), Json(2.5)}) {
    const auto [status, answer] = Post("/api/solve", Json{{"target", target}, {"solutions", bad}}.dump());
    EXPECT_EQ(status, 400) << bad;
  }
  const auto [status, answer] =
      Post("/api/solve", Json{{"target", {{"p", {0.1, 0.2, 1.0}}, {"q_start", {0.0, 0.0}}}}}.dump());
  EXPECT_EQ(status, 400) << answer;
}

// The posture objectives of `deepik solve` as request fields: with avoid_limits the answers sit
// farther from the joint limits on average, and every one still reaches its target (FK here).
TEST_F(ServerTest, AvoidLimitsMovesAnswersAwayFromTheLimitsAndStillReachesTheTargets) {
  std::vector<Eigen::Vector3d> points;
  const Json targets = ReachableTargets(11, 20, &points);
  double mean_distance[2] = {0, 0};
  std::vector<double> cost[2];
  PostureOptions avoid;
  avoid.avoid_limits = 1.0;
  for (int weighted = 0; weighted < 2; ++weighted) {
    Json body{{"targets", targets}, {"solver", "lm"}};
    if (weighted) body["avoid_limits"] = 1.0;
    const auto [status, answer] = Post("/api/solve", body.dump());
    ASSERT_EQ(status, 200) << answer;
    const Json& results = answer.at("results");
    ASSERT_EQ(results.size(), points.size());
    for (size_t i = 0; i < points.size(); ++i) {
      ExpectConsistent(results[i], points[i]);
      EXPECT_EQ(results[i].at("status"), "converged") << results[i];
      const Eigen::VectorXd q = QOf(results[i]);
      EXPECT_LT((TipPosition(chain(), q) - points[i]).norm(), 1e-8) << "target " << i;
      mean_distance[weighted] += DistanceToNearestLimit(chain(), q) / points.size();
      cost[weighted].push_back(PostureCost(chain(), q, avoid));
    }
  }
  EXPECT_GT(mean_distance[1], mean_distance[0])
      << "without " << mean_distance[0] << " rad, with avoid_limits " << mean_distance[1] << " rad";
  // Target by target, the objective is never worse: the plain answer is one of the candidates.
  for (size_t i = 0; i < points.size(); ++i) EXPECT_LE(cost[1][i], cost[0][i] + 1e-9) << "target " << i;

  // posture + posture_weight: the answer comes closer to the posture than without it.
  const Eigen::Vector3d p = points[0];
  std::mt19937_64 rng(12);
  const Eigen::VectorXd posture = RandomConfiguration(chain(), &rng);
  const std::vector<double> posture_values(posture.data(), posture.data() + posture.size());
  const Json plain{{"target", {p.x(), p.y(), p.z()}}, {"solver", "lm"}};
  Json weighted = plain;
  weighted["posture"] = posture_values;
  weighted["posture_weight"] = 1.0;
  const auto [s1, a1] = Post("/api/solve", plain.dump());
  const auto [s2, a2] = Post("/api/solve", weighted.dump());
  ASSERT_EQ(s1, 200);
  ASSERT_EQ(s2, 200) << a2;
  ExpectConsistent(a2, p);
  EXPECT_EQ(a2.at("status"), "converged");
  EXPECT_LE(JointDistance(chain(), QOf(a2), posture), JointDistance(chain(), QOf(a1), posture) + 1e-9);

  // Refused, each naming its field.
  const Json target{{"p", {p.x(), p.y(), p.z()}}};
  const std::vector<std::pair<Json, std::string>> bad = {
      {Json{{"target", target}, {"avoid_limits", -1}}, "avoid_limits"},
      {Json{{"target", target}, {"avoid_limits", "1"}}, "avoid_limits"},
      {Json{{"target", target}, {"avoid_limits", 1e9}}, "avoid_limits"},
      {Json{{"target", target}, {"posture_weight", 1}}, "posture"},
      {Json{{"target", target}, {"posture", {0, 0}}, {"posture_weight", 1}}, "posture"},
      {Json{{"target", target}, {"posture", posture_values}, {"posture_weight", nullptr}}, "posture_weight"},
      {Json{{"target", target}, {"start_weight", 1}}, "start_weight"},
      {Json{{"target", target}, {"avoid_limits", 1}, {"solver", "network"}}, "avoid_limits"},
      {Json{{"target", target}, {"avoid_limit", 1}}, "avoid_limit"},
  };
  for (const auto& [body, field] : bad) {
    const auto [status, answer] = Post("/api/solve", body.dump());
    EXPECT_EQ(status, 400) << body;
    EXPECT_NE(answer.at("error").get<std::string>().find(field), std::string::npos)
        << body << " -> " << answer;
  }
  // start_weight with a q_start in the target is accepted and stays exact.
  Json with_start = target;
  with_start["q_start"] = posture_values;
  const auto [s3, a3] = Post("/api/solve", Json{{"target", with_start}, {"start_weight", 1.0}}.dump());
  ASSERT_EQ(s3, 200) << a3;
  EXPECT_EQ(a3.at("status"), "converged");
  EXPECT_LT((TipPosition(chain(), QOf(a3)) - p).norm(), 1e-8);
}

// The figure-eight demo path of the page (web/js/demo.js), beyond the reach at its lobes: tracked
// without a jump (each step recomputed here from the answers' q against the row's bound), every
// tracked row on its target by FK, the rows beyond the reach "out of reach"; then the path continued
// from its last q keeps the bound at the seam.
TEST_F(ServerTest, TrackFollowsTheDemoPathWithoutJumps) {
  const double r = chain().reach();
  Json targets = Json::array();
  std::vector<Eigen::Vector3d> points;
  for (double t = 0; t < 2 * M_PI; t += 0.05) {
    points.emplace_back(1.2 * r * std::sin(t), 0.6 * r * std::sin(2 * t), 0.6 * r + 0.4 * r * std::cos(t));
    targets.push_back({points.back().x(), points.back().y(), points.back().z()});
  }
  // Full-turn joints through atan2 of the difference, independently of the library's MaxJointStep.
  const auto step = [&](const Eigen::VectorXd& a, const Eigen::VectorXd& b) {
    double largest = 0;
    for (int j = 0; j < chain().num_joints(); ++j) {
      double d = a[j] - b[j];
      if (chain().joint(j).upper - chain().joint(j).lower >= 2 * M_PI - 1e-9)
        d = std::atan2(std::sin(d), std::cos(d));
      largest = std::max(largest, std::abs(d));
    }
    return largest;
  };
  const auto [status, answer] = Post("/api/track", Json{{"targets", targets}}.dump());
  ASSERT_EQ(status, 200) << answer;
  EXPECT_EQ(answer.at("solver"), "refined");
  const Json& rows = answer.at("points");
  ASSERT_EQ(rows.size(), points.size());
  EXPECT_TRUE(rows[0].at("step_bound").is_null());
  int beyond = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    const Eigen::VectorXd q = QOf(rows[i]);
    ASSERT_TRUE(chain().WithinLimits(q, 1e-12)) << i;
    const std::string row_status = rows[i].at("status");
    if (row_status == "tracked") EXPECT_LT((TipPosition(chain(), q) - points[i]).norm(), 1e-8) << i;
    if (points[i].norm() > r + 1e-9) {
      ++beyond;
      EXPECT_EQ(row_status, "out of reach") << i;
    }
    if (i == 0) continue;
    const double s = step(q, QOf(rows[i - 1]));
    EXPECT_NEAR(s, rows[i].at("joint_step").get<double>(), 1e-12) << i;
    EXPECT_LE(s, rows[i].at("step_bound").get<double>() * (1 + 1e-9)) << "row " << i << " jumps";
  }
  EXPECT_GT(beyond, 0);
  EXPECT_EQ(answer.at("summary").at("rows"), rows.size());

  // Continued from the last row: row 0 is bounded too.
  const Eigen::VectorXd last = QOf(rows.back());
  const Json next{{"targets", Json::array({targets[0], targets[1]})},
                  {"q_start", std::vector<double>(last.data(), last.data() + last.size())},
                  {"continue", true},
                  {"solver", "lm"}};
  const auto [s2, continued] = Post("/api/track", next.dump());
  ASSERT_EQ(s2, 200) << continued;
  const Json& row0 = continued.at("points").at(0);
  ASSERT_TRUE(row0.at("step_bound").is_number()) << continued;
  EXPECT_LE(step(QOf(row0), last), row0.at("step_bound").get<double>() * (1 + 1e-9));
}

TEST_F(ServerTest, TrackRefusesBadInputNamingTheField) {
  std::string many = "{\"targets\":[";
  for (int i = 0; i < 1001; ++i) many += std::string(i ? "," : "") + "[1,0,1]";
  many += "]}";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"{}", "targets"},
      {R"({"targets":[]})", "targets"},
      {R"({"targets":"path"})", "targets"},
      {R"({"targets":[[1,0]]})", "targets[0]"},
      {R"({"targets":[[1,0,1],[1,0,"1"]]})", "targets[1][2]"},
      {R"({"targets":[{"p":[1,0,1],"q_start":[0,0,0,0]}]})", "targets[0].q_start"},
      {R"({"targets":[[1,0,1]],"q_start":[0,0]})", "q_start"},
      {R"({"targets":[[1,0,1]],"q_start":[0,9,0,0]})", "q_start"},
      {R"({"targets":[[1,0,1]],"continue":true})", "continue"},
      {R"({"targets":[[1,0,1]],"q_start":[0,0,0,0],"continue":1})", "continue"},
      {R"({"targets":[[1,0,1]],"step_ratio":0})", "step_ratio"},
      {R"({"targets":[[1,0,1]],"step_ratio":"20"})", "step_ratio"},
      {R"({"targets":[[1,0,1]],"step_floor":-1})", "step_floor"},
      {R"({"targets":[[1,0,1]],"solver":"magic"})", "solver"},
      {R"({"targets":[{"p":[1,0,1],"quat":[1,0,0,0]}],"solver":"analytic"})", "analytic"},
      {R"({"targets":[[1,0,1]],"steps":3})", "steps"},
      {R"({"target":[1,0,1]})", "target"},
  };
  for (const auto& [body, field] : cases) {
    const auto [status, answer] = Post("/api/track", body);
    EXPECT_EQ(status, 400) << body;
    ASSERT_TRUE(answer.is_object()) << body;
    EXPECT_NE(answer.at("error").get<std::string>().find(field), std::string::npos)
        << body << " -> " << answer;
  }
  EXPECT_EQ(Post("/api/track", many).first, 413);
  EXPECT_EQ(Post("/api/track", "not json").first, 400);
  EXPECT_EQ(Post("/api/track", R"({"targets":[[1,0,1]]})").first, 200);
}

TEST_F(ServerTest, PoseTargetsGetTheCsvAnswerFields) {
  std::mt19937_64 rng(12);
  for (const char* solver : {"lm", "refined"}) {
    for (int i = 0; i < 6; ++i) {
      const Eigen::Isometry3d X = TipPose(chain(), RandomConfiguration(chain(), &rng));
      Eigen::Quaterniond Q(X.linear());
      if (i % 2 == 1) Q.coeffs() = -Q.coeffs();  // either sign
      const Eigen::Vector3d p = X.translation();
      const Json body{{"target", {{"p", {p.x(), p.y(), p.z()}}, {"quat", {Q.w(), Q.x(), Q.y(), Q.z()}}}},
                      {"solver", solver}};
      const auto [status, answer] = Post("/api/solve", body.dump());
      ASSERT_EQ(status, 200) << answer;
      ExpectConsistent(answer, p);
      EXPECT_EQ(answer.at("status"), "converged") << solver << " " << answer;
      const std::vector<double> q_values = answer.at("q").get<std::vector<double>>();
      const Eigen::VectorXd q = Eigen::Map<const Eigen::VectorXd>(q_values.data(), chain().num_joints());
      const Eigen::Matrix3d R = TipPose(chain(), q).linear();
      const std::vector<double> w_xyz = answer.at("reached_quat").get<std::vector<double>>();
      ASSERT_EQ(w_xyz.size(), 4u);
      const Eigen::Matrix3d R_reached =
          Eigen::Quaterniond(w_xyz[0], w_xyz[1], w_xyz[2], w_xyz[3]).toRotationMatrix();
      EXPECT_LT((R_reached - R).norm(), 1e-9);
      // The angle error from the trace, independently of the server's formula.
      const double angle =
          std::acos(std::max(-1.0, std::min(1.0, 0.5 * ((X.linear().transpose() * R).trace() - 1.0))));
      EXPECT_NEAR(answer.at("angle_error").get<double>(), angle, 1e-7);
      EXPECT_LE(answer.at("angle_error").get<double>(), 1e-9);
      EXPECT_FALSE(answer.contains("error")) << answer;  // "error" is for refusals only
    }
  }
}

TEST_F(ServerTest, BatchesMixPositionsAndPosesAndBadPosesAreRefused) {
  const Eigen::Isometry3d X = TipPose(chain(), Eigen::VectorXd::Constant(chain().num_joints(), 0.3));
  const Eigen::Vector3d p = X.translation();
  const Eigen::Quaterniond Q(X.linear());
  const Json pose{{"p", {p.x(), p.y(), p.z()}}, {"quat", {Q.w(), Q.x(), Q.y(), Q.z()}}};
  const Json body{{"targets", {{p.x(), p.y(), p.z()}, pose}}, {"solver", "lm"}};
  const auto [status, answer] = Post("/api/solve", body.dump());
  ASSERT_EQ(status, 200) << answer;
  const Json& results = answer.at("results");
  ASSERT_EQ(results.size(), 2u);
  EXPECT_TRUE(results[0].at("angle_error").is_null());
  EXPECT_TRUE(results[1].at("angle_error").is_number());
  for (const Json& r : results) EXPECT_EQ(r.at("status"), "converged") << r;

  const Json free_turn{{"target",
                        {{"p", {p.x(), p.y(), p.z()}},
                         {"quat", {Q.w(), Q.x(), Q.y(), Q.z()}},
                         {"bounds", "rx=free,ry=free,rz=free"}}},
                       {"solver", "lm"}};
  const auto [free_status, free_answer] = Post("/api/solve", free_turn.dump());
  ASSERT_EQ(free_status, 200) << free_answer;
  EXPECT_EQ(free_answer.at("status"), "converged");

  const std::vector<std::pair<Json, std::string>> refused = {
      {Json{{"target", {{"p", {p.x(), p.y(), p.z()}}, {"quat", {1.1, 0, 0, 0}}}}},
       "target.quat: expected a unit quaternion"},
      {Json{{"target", {{"p", {p.x(), p.y(), p.z()}}, {"quat", {1, 0, 0}}}}},
       "target.quat: expected 4 numbers"},
      {Json{{"target", {{"p", {p.x(), p.y(), p.z()}}, {"rot", {1, 0, 0, 0}}}}}, "unknown field 'rot'"},
      {Json{{"target", {{"quat", {1, 0, 0, 0}}}}}, "expected a field 'p'"},
      {Json{{"target", {{"p", {p.x(), p.y(), p.z()}}, {"bounds", "w=1"}}}}, "target.bounds"},
      {Json{{"target", pose}, {"solver", "analytic"}}, "analytic solves position-only targets"},
      {Json{{"targets", {pose, {{"p", {0, 0, 1}}, {"quat", {0, 0, 0, 0}}}}}}, "targets[1].quat"},
  };
  for (const auto& [request, part] : refused) {
    const auto [s, a] = Post("/api/solve", request.dump());
    EXPECT_EQ(s, 400) << request;
    EXPECT_NE(a.at("error").get<std::string>().find(part), std::string::npos) << a << " lacks " << part;
  }
}

TEST_F(ServerTest, FkGivesEveryFrameAndTheTip) {
  std::mt19937_64 rng(9);
  const Eigen::VectorXd q = RandomConfiguration(chain(), &rng);
  const auto [status, answer] =
      Post("/api/fk", Json{{"q", std::vector<double>(q.data(), q.data() + q.size())}}.dump());
  ASSERT_EQ(status, 200) << answer;
  std::vector<Eigen::Isometry3d> X_BF;
  JointFrames(chain(), q, &X_BF);
  ASSERT_EQ(answer.at("frames").size(), X_BF.size());
  for (size_t i = 0; i < X_BF.size(); ++i) {
    const std::vector<double> p = answer.at("frames")[i].at("p").get<std::vector<double>>();
    EXPECT_LT((Eigen::Vector3d(p[0], p[1], p[2]) - X_BF[i].translation()).norm(), 1e-12);
    const std::vector<double> w = answer.at("frames")[i].at("quat").get<std::vector<double>>();
    const Eigen::Quaterniond quat(w[0], w[1], w[2], w[3]);
    EXPECT_LT(RotationAngleBetween(quat.toRotationMatrix(), X_BF[i].rotation()), 1e-9);
  }
  const std::vector<double> tip = answer.at("tip").get<std::vector<double>>();
  EXPECT_LT((Eigen::Vector3d(tip[0], tip[1], tip[2]) - TipPosition(chain(), q)).norm(), 1e-12);
}

TEST_F(ServerTest, ModelHasHistoryAndHeadlineMetrics) {
  const auto [status, info] = Get("/api/model");
  ASSERT_EQ(status, 200);
  EXPECT_EQ(info.at("arm"), "seed");
  EXPECT_EQ(info.at("history").size(), model_->History().size());
  ASSERT_FALSE(info.at("history").empty());
  EXPECT_GT(info.at("history")[0].at("validation_median").get<double>(), 0.0);
  EXPECT_TRUE(info.at("metrics").is_object());
  EXPECT_TRUE(info.at("network").is_object());
}

TEST_F(ServerTest, WorkspaceIsSeededFkWithinTheReach) {
  const auto [s1, a] = Get("/api/workspace?n=500&seed=3");
  const auto [s2, b] = Get("/api/workspace?n=500&seed=3");
  ASSERT_EQ(s1, 200);
  ASSERT_EQ(s2, 200);
  ASSERT_EQ(a.at("points").size(), 500u);
  EXPECT_EQ(a, b);
  for (const Json& p : a.at("points")) {
    EXPECT_LE(Eigen::Vector3d(p[0].get<double>(), p[1].get<double>(), p[2].get<double>()).norm(),
              chain().reach() + 1e-4);
  }
  EXPECT_EQ(Get("/api/workspace").second.at("points").size(), 2000u);
  for (const char* bad : {"n=0", "n=-5", "n=abc", "n=2.5", "n=100000000", "seed=x", "n=", "n=1e3", "n=%00",
                          "n=%205", "n=%2B5", "n=99999999999999999999", "seed=-1", "seed=%ff"}) {
    const auto [status, answer] = Get(std::string("/api/workspace?") + bad);
    EXPECT_EQ(status, 400) << bad;
    EXPECT_TRUE(answer.contains("error")) << bad;
  }
}

TEST_F(ServerTest, BadRequestsGet4xxWithAJsonErrorAndTheServerLivesOn) {
  std::string many = "{\"targets\":[";
  for (int i = 0; i < 1001; ++i) many += std::string(i ? "," : "") + "[1,0,1]";
  many += "]}";
  const std::string oversized = "{\"target\":[1,0,1],\"pad\":\"" + std::string(70 * 1024, 'x') + "\"}";
  const std::string deep = std::string(20000, '[') + std::string(20000, ']');
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"/api/solve", ""},
      {"/api/solve", "{"},
      {"/api/solve", "not json"},
      {"/api/solve", "[1,0,1]"},
      {"/api/solve", "null"},
      {"/api/solve", "{}"},
      {"/api/solve", R"({"target":[1,0]})"},
      {"/api/solve", R"({"target":[1,0,1,0]})"},
      {"/api/solve", R"({"target":[]})"},
      {"/api/solve", R"({"target":"1,0,1"})"},
      {"/api/solve", R"({"target":{"x":1,"y":0,"z":1}})"},
      {"/api/solve", R"({"target":["1",0,1]})"},
      {"/api/solve", R"({"target":[null,0,1]})"},
      {"/api/solve", R"({"target":[true,0,1]})"},
      {"/api/solve", R"({"target":[[1],0,1]})"},
      {"/api/solve", R"({"target":[NaN,0,1]})"},
      {"/api/solve", R"({"target":[Infinity,0,1]})"},
      {"/api/solve", R"({"target":[1e400,0,1]})"},
      {"/api/solve", R"({"target":[1e9,0,1]})"},
      {"/api/solve", R"({"target":[1,0,1],"solver":"magic"})"},
      {"/api/solve", R"({"target":[1,0,1],"solver":3})"},
      {"/api/solve", R"({"target":[1,0,1],"solver":null})"},
      {"/api/solve", R"({"target":[1,0,1],"targte":[1,0,1]})"},
      {"/api/solve", R"({"target":[1,0,1],"targets":[[1,0,1]]})"},
      {"/api/solve", R"({"targets":[]})"},
      {"/api/solve", R"({"targets":[1,0,1]})"},
      {"/api/solve", R"({"targets":[[1,0,1],[1,0]]})"},
      {"/api/solve", R"({"targets":[[1,0,1],["a",0,1]]})"},
      {"/api/solve", R"({"targets":"all"})"},
      {"/api/solve", many},
      {"/api/solve", oversized},
      {"/api/solve", deep},
      {"/api/fk", R"({"q":[0,0,0]})"},
      {"/api/fk", R"({"q":[0,0,0,"0"]})"},
      {"/api/fk", R"({"q":[0,0,0,null]})"},
      {"/api/fk", R"({})"},
      {"/api/fk", R"({"q":[0,0,0,0],"extra":1})"},
      {"/api/fk", "]"},
      {"/api/nowhere", "{}"},
      {"/api/arm", "{}"},
  };
  for (const auto& [path, body] : cases) {
    const auto [status, answer] = Post(path, body);
    const std::string label = path + " " + body.substr(0, 80);
    EXPECT_GE(status, 400) << label;
    EXPECT_LT(status, 500) << label;
    ASSERT_TRUE(answer.is_object()) << label;
    EXPECT_TRUE(answer.contains("error") && answer.at("error").is_string()) << label << " -> " << answer;
  }
  EXPECT_EQ(Post("/api/solve", many).first, 413);
  EXPECT_EQ(Post("/api/solve", oversized).first, 413);
  EXPECT_EQ(Get("/api/nowhere").first, 404);
  EXPECT_TRUE(Get("/api/nowhere").second.contains("error"));
  // Still serving.
  EXPECT_EQ(Get("/api/arm").first, 200);
  EXPECT_EQ(Post("/api/solve", R"({"target":[1,0,1]})").first, 200);
}

TEST_F(ServerTest, ServesThePageAndThreeJsLocally) {
  httplib::Client client = Client();
  const httplib::Result page = client.Get("/");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_NE(page->body.find("importmap"), std::string::npos);
  const httplib::Result app = client.Get("/app.js");
  ASSERT_TRUE(app);
  EXPECT_EQ(app->status, 200);
  EXPECT_NE(app->get_header_value("Content-Type").find("javascript"), std::string::npos);
  const httplib::Result three = client.Get("/node_modules/three/build/three.module.js");
  ASSERT_TRUE(three);
  EXPECT_EQ(three->status, 200) << "run `npm ci` in web/ (scripts/setup.sh does)";
  const httplib::Result escape = client.Get("/../CMakeLists.txt");
  ASSERT_TRUE(escape);
  EXPECT_EQ(escape->status, 404);
}

// At least 10,000 solves from 8 clients at once on loopback, within 60 s, with no error.
TEST_F(ServerTest, LoadTenThousandSolvesFromEightClients) {
  constexpr int kClients = 8;
  constexpr int kRequests = 10000;
  std::mt19937_64 rng(2024);
  std::vector<std::string> bodies;
  std::vector<Eigen::Vector3d> targets;
  for (int i = 0; i < 256; ++i) {
    targets.push_back(TipPosition(chain(), RandomConfiguration(chain(), &rng)));
    bodies.push_back(TargetBody(targets.back(), "refined").dump());
  }
  std::atomic<int> next{0}, done{0}, errors{0};
  std::string first_error;
  std::mutex error_mutex;
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&] {
      httplib::Client client = Client();
      // No wall-clock deadline (a shared machine may be slow): ctest's timeout bounds the test, and
      // the throughput is reported, not asserted (docs/BENCHMARKS.md).
      for (int i = next++; i < kRequests; i = next++) {
        const size_t k = static_cast<size_t>(i) % bodies.size();
        const httplib::Result result = client.Post("/api/solve", bodies[k], "application/json");
        std::string problem;
        if (!result) {
          problem = "no answer: " + httplib::to_string(result.error());
        } else if (result->status != 200) {
          problem = "status " + std::to_string(result->status) + ": " + result->body;
        } else {
          const Json answer = Json::parse(result->body, nullptr, false);
          if (!answer.is_object() || !answer.contains("position_error") ||
              answer.at("position_error").get<double>() > 1e-6) {
            problem = "bad answer: " + result->body;
          }
        }
        if (!problem.empty()) {
          ++errors;
          std::lock_guard<std::mutex> lock(error_mutex);
          if (first_error.empty()) first_error = problem;
        }
        ++done;
      }
    });
  }
  for (std::thread& t : clients) t.join();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double throughput = done.load() / seconds;
  std::printf(
      "[ load     ] %d solve requests (refined) from %d clients in %.2f s: %.0f requests/s, %d errors\n",
      done.load(), kClients, seconds, throughput, errors.load());
  EXPECT_EQ(errors.load(), 0) << first_error;
  EXPECT_EQ(done.load(), kRequests);
}

TEST_F(ServerTest, AForeignHostHeaderIsRefusedAgainstDnsRebinding) {
  httplib::Client client = Client();
  const httplib::Result foreign =
      client.Get("/api/arm", {{"Host", "attacker.example:" + std::to_string(port_)}});
  ASSERT_TRUE(foreign);
  EXPECT_EQ(foreign->status, 403);
  EXPECT_NE(Json::parse(foreign->body).at("error").get<std::string>().find("--allow-host"),
            std::string::npos);
  for (const std::string host : {"localhost:" + std::to_string(port_), "127.0.0.1:" + std::to_string(port_),
                                 std::string("LOCALHOST")}) {
    const httplib::Result ok = client.Get("/api/arm", {{"Host", host}});
    ASSERT_TRUE(ok) << host;
    EXPECT_EQ(ok->status, 200) << host;
  }
}

TEST(ServeBindTest, ASecondServerOnTheSamePortIsRefused) {
  ServeOptions options;
  options.model_path = ModelPath();
  options.port = 0;
  OwnServer first(options);
  options.port = first.port;
  WebServer second(options);
  try {
    (void)second.Bind();
    FAIL() << "a second server bound port " << first.port;
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("address already in use"), std::string::npos) << e.what();
  }
}

TEST(ServeBindTest, AllowHostAcceptsTheNamedHost) {
  ServeOptions options;
  options.model_path = ModelPath();
  options.port = 0;
  options.allowed_hosts = {"robot.lan"};
  OwnServer own(options);
  httplib::Client client("127.0.0.1", own.port);
  const httplib::Result named = client.Get("/api/arm", {{"Host", "robot.lan:" + std::to_string(own.port)}});
  ASSERT_TRUE(named);
  EXPECT_EQ(named->status, 200);
  const httplib::Result other = client.Get("/api/arm", {{"Host", "other.lan"}});
  ASSERT_TRUE(other);
  EXPECT_EQ(other->status, 403);
}

// The command: prints its address, answers, and stops cleanly on SIGTERM.
TEST(ServeCommandTest, PrintsItsAddressAndStopsOnSigterm) {
  testing::ServeProcess serve({"--model", ModelPath(), "--port", "0", "--threads", "3"});
  ASSERT_TRUE(std::regex_search(serve.first_line(),
                                std::regex(R"(serving http://127\.0\.0\.1:(\d+)/ \(Ctrl-C to stop\))")))
      << serve.first_line();
  httplib::Client client("127.0.0.1", serve.port());
  const httplib::Result arm = client.Get("/api/arm");
  ASSERT_TRUE(arm);
  EXPECT_EQ(arm->status, 200);

  const int status = serve.TerminateAndWait(std::chrono::seconds(10));
  ASSERT_TRUE(status != -1 && WIFEXITED(status)) << "did not stop within 10 s of SIGTERM";
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

// Nothing to serve is a usage error (exit 2, README "Errors and exit codes"), said before loading.
TEST(ServeCommandTest, NoModelAndNoArmIsAUsageError) {
  const std::string command = std::string(DEEPIK_CLI) + " serve --port 0 2>&1";
  FILE* pipe = ::popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string output;
  char chunk[256];
  while (std::fgets(chunk, sizeof chunk, pipe) != nullptr) output += chunk;
  const int status = ::pclose(pipe);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 2) << output;
  EXPECT_NE(output.find("--model FILE, --models DIR or --arm ARM"), std::string::npos) << output;
}

}  // namespace
}  // namespace deepik
