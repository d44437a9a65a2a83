// `deepik serve`'s rules for what a request may ask (issue 26, items 7-9): ranges (none on the API,
// at most one on a file), only the page's files, a work budget per request, clients that do not
// read their answers, Host headers, JSON bodies whatever their Content-Type, and targets a model
// cannot take. Over raw sockets, so that the exact bytes are tested.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "deepik/errors.hpp"
#include "deepik/serve/server.hpp"
#include "serve/raw_client.hpp"
#include "serve/serve_test_util.hpp"

namespace deepik {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;
using testing::Answer;
using testing::Exchange;
using testing::OwnServer;
using testing::RawClient;

ServeOptions Options() { return testing::ServeTestOptions(); }

std::string Get(const std::string& target, const std::string& headers = "") {
  return "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + headers + "\r\n";
}

std::string Post(const std::string& target, const std::string& body,
                 const std::string& type = "application/json") {
  return "POST " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: " + type +
         "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

std::string ErrorOf(const Answer& answer) {
  const Json json = answer.json();
  return json.is_object() && json.contains("error") && json["error"].is_string()
             ? json["error"].get<std::string>()
             : "(no error: " + answer.body + ")";
}

// A folder of its own, removed at the end.
struct TempDir {
  TempDir() : path(fs::temp_directory_path() / ("deepik_http_rules_" + std::to_string(::getpid()))) {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  void Write(const std::string& name, const std::string& text) const {
    fs::create_directories((path / name).parent_path());
    std::ofstream(path / name, std::ios::binary) << text;
  }
  fs::path path;
};

// A web root with the page's kinds of files and a package the page does not load.
class StaticFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root.Write("index.html", std::string(1000, 'i'));
    root.Write("js/app.js", "export const x = 1;\n");
    root.Write("package.json", "{}");
    root.Write("node_modules/three/build/three.module.js", std::string(5000, 't'));
    root.Write("node_modules/three/examples/jsm/loaders/STLLoader.js", "export class STLLoader {}\n");
    root.Write("node_modules/onnxruntime-web/dist/ort.wasm", std::string(5000, 'o'));
    root.Write("node_modules/three/package.json", "{}");
    ServeOptions options = Options();
    options.web_root = root.path.string();
    own = std::make_unique<OwnServer>(options);
  }
  TempDir root;
  std::unique_ptr<OwnServer> own;
};

TEST_F(StaticFilesTest, OnlyThePagesFilesAreServed) {
  for (const char* path : {"/", "/index.html", "/js/app.js", "/node_modules/three/build/three.module.js",
                           "/node_modules/three/examples/jsm/loaders/STLLoader.js"}) {
    EXPECT_EQ(Exchange(own->port, Get(path)).status, 200) << path;
  }
  for (const char* path :
       {"/package.json", "/node_modules/onnxruntime-web/dist/ort.wasm",
        "//node_modules/onnxruntime-web/dist/ort.wasm", "/./node_modules/onnxruntime-web/dist/ort.wasm",
        "/%6eode_modules/onnxruntime-web/dist/ort.wasm", "/node_modules/three/package.json",
        "/node_modules/"}) {
    const Answer answer = Exchange(own->port, Get(path));
    EXPECT_EQ(answer.status, 404) << path << ": " << answer.head;
  }
}

TEST_F(StaticFilesTest, AFileHonoursOneRangeAndAnswersSeveralWithTheWholeFile) {
  const Answer one =
      Exchange(own->port, Get("/node_modules/three/build/three.module.js", "Range: bytes=10-19\r\n"));
  EXPECT_EQ(one.status, 206) << one.head;
  EXPECT_EQ(one.body, std::string(10, 't'));
  // 50 ranges of the whole file would be 250 kB of multipart: the whole file once instead.
  std::string many = "Range: bytes=0-";
  for (int i = 0; i < 49; ++i) many += ",0-";
  const Answer whole = Exchange(own->port, Get("/node_modules/three/build/three.module.js", many + "\r\n"));
  EXPECT_EQ(whole.status, 200) << whole.head;
  EXPECT_EQ(whole.body.size(), 5000u);
  EXPECT_EQ(whole.head.find("multipart"), std::string::npos);
}

TEST(ApiRangeTest, TheApiIgnoresRangeAndAnswersWholeJson) {
  OwnServer own(Options());
  const Answer models = Exchange(own.port, Get("/api/models", "Range: bytes=5-10\r\n"));
  EXPECT_EQ(models.status, 200) << models.head;
  EXPECT_TRUE(models.json().is_object()) << models.body;
  std::string many = "Range: bytes=0-";
  for (int i = 0; i < 200; ++i) many += ",0-";
  const Answer workspace = Exchange(own.port, Get("/api/workspace?n=100", many + "\r\n"));
  EXPECT_EQ(workspace.status, 200) << workspace.head;
  ASSERT_TRUE(workspace.json().is_object()) << workspace.body.substr(0, 200);
  EXPECT_EQ(workspace.json()["points"].size(), 100u);
  const Answer fk = Exchange(own.port,
                             "POST /api/fk HTTP/1.1\r\nHost: 127.0.0.1\r\nRange: bytes=0-3\r\n"
                             "Content-Length: 17\r\n\r\n{\"q\":[0,0,0,0]}  ");
  EXPECT_EQ(fk.status, 200) << fk.head;
  EXPECT_TRUE(fk.json().contains("tip")) << fk.body;
}

TEST(RequestRulesTest, HostHeadersThatAreEmptyRepeatedOrNotTextGet400) {
  OwnServer own(Options());
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"GET /api/models HTTP/1.1\r\nHost:\r\n\r\n", "empty"},
      {"GET /api/models HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: evil.example\r\n\r\n", "one header, got 2"},
      {"GET /api/models HTTP/1.1\r\nHost: 127.0.0.1" + std::string(1, '\0') + "evil\r\n\r\n", "control"}};
  for (const auto& [request, part] : cases) {
    const Answer answer = Exchange(own.port, request);
    EXPECT_EQ(answer.status, 400) << part << ": " << answer.head;
    EXPECT_NE(ErrorOf(answer).find(part), std::string::npos) << ErrorOf(answer);
  }
  EXPECT_EQ(Exchange(own.port, Get("/api/models")).status, 200);
}

TEST(RequestRulesTest, JsonBodiesUpTo64KiBWorkWithCurlsFormTypeAndANulAfterThemIsRefused) {
  OwnServer own(Options());
  // curl -d sends application/x-www-form-urlencoded; httplib alone refuses such a body over 8 KiB.
  const std::string padded = "{\"q\":[0,0,0,0]" + std::string(60 * 1024, ' ') + "}";
  const Answer form = Exchange(own.port, Post("/api/fk", padded, "application/x-www-form-urlencoded"));
  EXPECT_EQ(form.status, 200) << form.head << form.body.substr(0, 200);
  EXPECT_TRUE(form.json().contains("tip"));
  const Answer nul = Exchange(own.port, Post("/api/fk", std::string("{\"q\":[0,0,0,0]}\0", 16)));
  EXPECT_EQ(nul.status, 400) << nul.body;
  EXPECT_NE(ErrorOf(nul).find("NUL"), std::string::npos) << ErrorOf(nul);
}

TEST(RequestRulesTest, ATargetTheModelCannotTakeIsA400ThatSaysWhichItTakes) {
  ServeOptions options = Options();
  options.model_path = std::string(DEEPIK_SOURCE_DIR) + "/models/panda-pose.safetensors";
  OwnServer pose(options);
  const Answer position = Exchange(pose.port, Post("/api/solve", R"({"target":[0.4,0.1,0.5]})"));
  EXPECT_EQ(position.status, 400) << position.body;
  EXPECT_NE(ErrorOf(position).find("pose model"), std::string::npos) << ErrorOf(position);
  const Answer batch =
      Exchange(pose.port, Post("/api/solve", R"({"targets":[[0.4,0.1,0.5]],"solver":"network"})"));
  EXPECT_EQ(batch.status, 400) << batch.body;
  EXPECT_NE(ErrorOf(batch).find("targets[0]"), std::string::npos) << ErrorOf(batch);
  // lm needs no model: a position is fine there.
  EXPECT_EQ(Exchange(pose.port, Post("/api/solve", R"({"target":[0.4,0.1,0.5],"solver":"lm"})")).status, 200);

  OwnServer position_model(Options());
  const Answer pose_target =
      Exchange(position_model.port,
               Post("/api/solve", R"({"target":{"p":[1,0,1],"quat":[1,0,0,0]},"solver":"network"})"));
  EXPECT_EQ(pose_target.status, 400) << pose_target.body;
  EXPECT_NE(ErrorOf(pose_target).find("position model"), std::string::npos) << ErrorOf(pose_target);
}

TEST(RequestRulesTest, ARequestBeyondTheWorkBudgetIs413BeforeAnySolve) {
  ServeOptions options = Options();
  options.solve_timeout_seconds = 0.005;
  options.max_request_work_seconds = 1;  // 200 runs of 5 ms
  OwnServer own(options);
  Json targets = Json::array();
  for (int i = 0; i < 50; ++i) targets.push_back({1.0, 0.0, 1.0});
  const auto start = Clock::now();
  const Answer greedy = Exchange(
      own.port, Post("/api/solve", Json{{"targets", targets}, {"solutions", 5}}.dump()));  // 250 runs
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  EXPECT_EQ(greedy.status, 413) << greedy.body;
  EXPECT_NE(ErrorOf(greedy).find("work budget"), std::string::npos) << ErrorOf(greedy);
  EXPECT_LT(seconds, 0.5);
  // 40 x 5 = 200 runs: within the budget.
  targets.erase(targets.begin() + 40, targets.end());
  EXPECT_EQ(
      Exchange(own.port, Post("/api/solve", Json{{"targets", targets}, {"solutions", 5}}.dump())).status,
      200);
  // A path is one run per row.
  for (int i = 0; i < 200; ++i) targets.push_back({1.0, 0.0, 1.0});
  EXPECT_EQ(Exchange(own.port, Post("/api/track", Json{{"targets", targets}}.dump())).status, 413);
}

TEST(SlowReaderTest, TwentyClientsThatDoNotReadDoNotDelayANormalRequest) {
  ServeOptions options = Options();
  options.threads = 4;  // fewer workers than clients that do not read
  OwnServer own(options);
  const std::string normal = Get("/api/models");
  // The median of 5 normal requests (a shared machine may stall any one of them).
  const auto median_seconds = [&] {
    std::vector<double> times;
    for (int i = 0; i < 5; ++i) {
      const auto start = Clock::now();
      EXPECT_EQ(Exchange(own.port, normal).status, 200);
      times.push_back(std::chrono::duration<double>(Clock::now() - start).count());
    }
    std::sort(times.begin(), times.end());
    return times[2];
  };
  const double alone = median_seconds();
  // 20 clients ask for a large answer (20,000 points, ~500 kB) with a tiny receive window, and read
  // nothing.
  std::vector<std::unique_ptr<RawClient>> stalled;
  for (int i = 0; i < 20; ++i) {
    stalled.push_back(std::make_unique<RawClient>(own.port, 4096));
    ASSERT_TRUE(stalled.back()->connected());
    ASSERT_TRUE(stalled.back()->Send(Get("/api/workspace?n=20000")));
  }
  // Their answers are computed (a worker's work) once their first bytes arrive; from then on they
  // only wait to be read.
  const auto computing = Clock::now();
  for (const auto& client : stalled) {
    while (client->Waiting() && Clock::now() - computing < std::chrono::seconds(60)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ASSERT_FALSE(client->Waiting()) << "an answer was not computed within 60 s";
  }
  const double beside = median_seconds();
  std::printf(
      "[ readers  ] a normal request (median of 5): %.2f ms alone, %.2f ms beside 20 clients that do not "
      "read\n",
      alone * 1e3, beside * 1e3);
  EXPECT_LT(beside, alone + 0.1);
}

TEST(ModelsFolderTest, TheDefaultIsTheSeedDefaultModelOrTheOneNamedByModel) {
  TempDir dir;
  const fs::path model = testing::ServeTestModelPath();
  fs::copy_file(model, dir.path / "a-first.safetensors");  // a file of its own (not the same as the next)
  fs::create_symlink(model, dir.path / "seed-default.safetensors");
  ServeOptions options = Options();
  options.model_path.clear();
  options.models_dir = dir.path.string();
  {
    OwnServer own(options);
    const Json models = Exchange(own.port, Get("/api/models")).json();
    EXPECT_EQ(models.value("default", ""), "seed-default") << models;
    EXPECT_EQ(models["models"].size(), 2u);
  }
  options.model_path = "a-first";  // a name in the folder
  {
    OwnServer own(options);
    const Json models = Exchange(own.port, Get("/api/models")).json();
    EXPECT_EQ(models.value("default", ""), "a-first") << models;
    EXPECT_EQ(models["models"].size(), 2u) << "the folder's copy is not served twice";
  }
}

TEST(ModelsFolderTest, AFileNameThatIsNotTextOrADanglingLinkIsAClearInputError) {
  ServeOptions options = Options();
  options.model_path.clear();
  {
    TempDir dir;
    fs::create_symlink(testing::ServeTestModelPath(), dir.path / "ok.safetensors");
    fs::create_symlink(testing::ServeTestModelPath(), dir.path / "bad\xff.safetensors");
    options.models_dir = dir.path.string();
    try {
      WebServer server(options);
      ADD_FAILURE() << "a file name that is not UTF-8 was served";
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find("not UTF-8"), std::string::npos) << e.what();
    }
  }
  {
    TempDir dir;
    fs::create_symlink(testing::ServeTestModelPath(), dir.path / "ok.safetensors");
    fs::create_symlink(dir.path / "gone.safetensors.missing", dir.path / "gone.safetensors");
    options.models_dir = dir.path.string();
    try {
      WebServer server(options);
      ADD_FAILURE() << "a dangling link was accepted";
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find("symbolic link"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("gone.safetensors"), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace deepik
