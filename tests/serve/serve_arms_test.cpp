// `deepik serve` without a model (--arm) and with several (--models DIR): what GET /api/models
// lists, how a request chooses an arm or model ("model": name), and that the arm without a model
// is solved by lm to the target (checked by FK of the answer, independently of the server).
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "deepik/errors.hpp"
#include "deepik/kinematics/arm_spec.hpp"
#include "deepik/kinematics/fk.hpp"
#include "deepik/serve/server.hpp"
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
using testing::RobotFile;
using testing::TempDir;

ArmSpec PandaSpec() { return ArmSpec{RobotFile("panda.urdf"), "panda_link0", "panda_link8"}; }

ServeOptions Options() {
  ServeOptions options;
  options.port = 0;
  options.solve_timeout_seconds = 2.0;       // convergence, not speed, is tested here (slow builds too)
  options.max_request_work_seconds = 86400;  // the work budget has its own test (http_rules_test)
  return options;
}

// (status, parsed answer) of a GET or (with a body) a POST.
std::pair<int, Json> Call(int port, const std::string& path, const Json* body = nullptr) {
  httplib::Client client("127.0.0.1", port);
  client.set_read_timeout(30);
  const httplib::Result result = body == nullptr
                                     ? client.Get(path.c_str())
                                     : client.Post(path.c_str(), body->dump(), "application/json");
  if (!result) return {-1, Json()};
  return {result->status, Json::parse(result->body, nullptr, false)};
}

Eigen::VectorXd Q(const Json& answer) {
  const std::vector<double> q = answer.at("q").get<std::vector<double>>();
  return Eigen::Map<const Eigen::VectorXd>(q.data(), static_cast<Eigen::Index>(q.size()));
}

Json Names(const Json& models) {
  Json names = Json::array();
  for (const Json& m : models.at("models")) names.push_back(m.at("name"));
  return names;
}

TEST(ServeArmTest, AUrdfArmWithoutAModelIsSolvedByLm) {
  ServeOptions options = Options();
  options.arm = PandaSpec();
  OwnServer own(options);
  const Chain chain = LoadArm(PandaSpec());

  const auto [status, models] = Call(own.port, "/api/models");
  ASSERT_EQ(status, 200) << models;
  ASSERT_EQ(models.at("models").size(), 1u);
  const Json& entry = models.at("models").at(0);
  EXPECT_EQ(entry.at("name"), "panda");
  EXPECT_EQ(models.at("default"), "panda");
  EXPECT_FALSE(entry.at("has_model").get<bool>());
  EXPECT_EQ(entry.at("dof"), 7);
  EXPECT_EQ(entry.at("default_solver"), "lm");
  const std::vector<std::string> solvers = entry.at("solvers").get<std::vector<std::string>>();
  EXPECT_NE(std::find(solvers.begin(), solvers.end(), "lm"), solvers.end());
  for (const char* needs_model : {"network", "refined", "analytic"}) {
    EXPECT_EQ(std::find(solvers.begin(), solvers.end(), needs_model), solvers.end()) << needs_model;
  }

  const auto [model_status, model] = Call(own.port, "/api/model");
  ASSERT_EQ(model_status, 200);
  EXPECT_TRUE(model.at("path").is_null());
  EXPECT_TRUE(model.at("network").is_null());
  EXPECT_TRUE(model.at("history").empty());
  EXPECT_EQ(model.at("default_solver"), "lm");
  const auto [arm_status, arm] = Call(own.port, "/api/arm");
  ASSERT_EQ(arm_status, 200);
  EXPECT_EQ(arm.at("dof"), 7);

  // Position and full-pose targets made by FK of random joint values: reachable by construction.
  std::mt19937_64 rng(14);
  for (int i = 0; i < 5; ++i) {
    const Eigen::Isometry3d X = TipPose(chain, RandomConfiguration(chain, &rng));
    const Eigen::Vector3d p = X.translation();
    const Json position{{"target", {p.x(), p.y(), p.z()}}};
    const auto [s1, a1] = Call(own.port, "/api/solve", &position);
    ASSERT_EQ(s1, 200) << a1;
    EXPECT_EQ(a1.at("solver"), "lm");
    EXPECT_EQ(a1.at("status"), "converged") << a1;
    EXPECT_LT((TipPosition(chain, Q(a1)) - p).norm(), 1e-6);

    const Eigen::Quaterniond R(X.rotation());
    const Json pose{{"target", {{"p", {p.x(), p.y(), p.z()}}, {"quat", {R.w(), R.x(), R.y(), R.z()}}}}};
    const auto [s2, a2] = Call(own.port, "/api/solve", &pose);
    ASSERT_EQ(s2, 200) << a2;
    EXPECT_EQ(a2.at("status"), "converged") << a2;
    const Eigen::Isometry3d reached = TipPose(chain, Q(a2));
    EXPECT_LT((reached.translation() - p).norm(), 1e-6);
    EXPECT_LT(RotationAngleBetween(reached.rotation(), X.rotation()), 1e-6);
  }

  const Json refined{{"target", {0.3, 0.0, 0.5}}, {"solver", "refined"}};
  const auto [s3, a3] = Call(own.port, "/api/solve", &refined);
  EXPECT_EQ(s3, 400);
  EXPECT_NE(a3.at("error").get<std::string>().find("lm"), std::string::npos) << a3;
}

TEST(ServeArmTest, AFolderOfModelsAndAnArmAreChosenPerRequest) {
  TempDir dir;
  const std::string model = testing::ServeTestModelPath();
  std::filesystem::copy_file(model, dir.Path("b-seed.safetensors"));
  std::filesystem::copy_file(model, dir.Path("a-seed.safetensors"));
  testing::WriteBytes(dir.Path("notes.txt"), "not a model");  // only *.safetensors count
  ServeOptions options = Options();
  options.models_dir = dir.path().string();
  options.arm = ArmSpec{"planar2", "", ""};
  OwnServer own(options);

  const auto [status, models] = Call(own.port, "/api/models");
  ASSERT_EQ(status, 200) << models;
  // --arm first, then the folder's models sorted by name.
  EXPECT_EQ(Names(models), Json::array({"planar2", "a-seed", "b-seed"}));
  EXPECT_EQ(models.at("default"), "planar2");
  EXPECT_TRUE(models.at("models").at(1).at("has_model").get<bool>());
  EXPECT_EQ(models.at("models").at(1).at("default_solver"), "refined");

  // Each request gets the arm it names; none: the first.
  EXPECT_EQ(Call(own.port, "/api/arm").second.at("dof"), 2);
  EXPECT_EQ(Call(own.port, "/api/arm?model=a-seed").second.at("dof"), 4);
  EXPECT_EQ(Call(own.port, "/api/model?model=b-seed").second.at("path"), "b-seed.safetensors");
  const auto [ws_status, workspace] = Call(own.port, "/api/workspace?n=5&model=a-seed");
  ASSERT_EQ(ws_status, 200);
  EXPECT_EQ(workspace.at("points").size(), 5u);

  const Json seed_target{{"target", {0.6, -0.4, 1.1}}, {"model", "a-seed"}};
  const auto [s1, a1] = Call(own.port, "/api/solve", &seed_target);
  ASSERT_EQ(s1, 200) << a1;
  EXPECT_EQ(a1.at("solver"), "refined");
  EXPECT_EQ(a1.at("q").size(), 4u);
  const Chain seed = LoadArm(ArmSpec{"seed", "", ""});
  EXPECT_LT((TipPosition(seed, Q(a1)) - Eigen::Vector3d(0.6, -0.4, 1.1)).norm(), 1e-6);

  const Json fk{{"q", {0.0, 0.0}}};
  const auto [s2, a2] = Call(own.port, "/api/fk", &fk);
  ASSERT_EQ(s2, 200) << a2;
  EXPECT_EQ(a2.at("frames").size(), 3u);  // planar2: two joints and the tip
  const Json fk_seed{{"q", {0.0, 0.0}}, {"model", "a-seed"}};
  EXPECT_EQ(Call(own.port, "/api/fk", &fk_seed).first, 400);  // the seed arm has 4 joints

  const Json unknown{{"target", {0.6, -0.4, 1.1}}, {"model", "c-seed"}};
  const auto [s3, a3] = Call(own.port, "/api/solve", &unknown);
  EXPECT_EQ(s3, 400);
  EXPECT_EQ(a3.at("error"), "model: expected one of planar2, a-seed, b-seed, got 'c-seed'");
  const auto [s4, a4] = Call(own.port, "/api/arm?model=nope");
  EXPECT_EQ(s4, 400);
  EXPECT_NE(a4.at("error").get<std::string>().find("got 'nope'"), std::string::npos);
  const Json not_a_name{{"target", {0.6, -0.4, 1.1}}, {"model", 3}};
  EXPECT_EQ(Call(own.port, "/api/solve", &not_a_name).second.at("error"),
            "model: expected a string, got a number");
}

TEST(ServeArmTest, BadArmAndModelOptionsAreRefusedAtStart) {
  std::string error;
  EXPECT_FALSE(Options().IsValid(&error));
  EXPECT_NE(error.find("expected a model file, a folder of models or an arm"), std::string::npos) << error;

  TempDir empty;
  ServeOptions no_models = Options();
  no_models.models_dir = empty.path().string();
  try {
    WebServer server(no_models);
    ADD_FAILURE() << "an empty --models folder was accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("found none"), std::string::npos) << e.what();
  }

  TempDir twice;
  std::filesystem::copy_file(testing::ServeTestModelPath(), twice.Path("seed.safetensors"));
  ServeOptions same_name = Options();
  same_name.models_dir = twice.path().string();
  same_name.arm = ArmSpec{"seed", "", ""};
  try {
    WebServer server(same_name);
    ADD_FAILURE() << "two arms named 'seed' were accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("two arms or models named 'seed'"), std::string::npos) << e.what();
  }

  ServeOptions bad_arm = Options();
  bad_arm.arm = ArmSpec{"no-such-arm", "", ""};
  EXPECT_THROW(WebServer server(bad_arm), InputError);
}

}  // namespace
}  // namespace deepik
