// The server's JSON API with arbitrary requests: a real WebServer on 127.0.0.1 (port 0) in this
// process, so its request parsing, validation and solvers run as they do in `deepik serve`.
// The first byte picks the endpoint: POST /api/solve, /api/fk or /api/track with the rest as the
// body, or GET /api/workspace with the rest split at the first '&' into the values of n and seed.
// Every answer must be 200, 400 or 413 with a JSON object (an "error" text when not 200): a 500
// is an exception that escaped the validation, a lost connection a crash or a hang.
#include <atomic>
#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <thread>

#include "deepik/serve/server.hpp"
#include "fuzz_util.hpp"

// After Eigen and the server's header (httplib.h's <resolv.h> defines `_res`).
#include <httplib.h>

namespace {

struct Fixture {
  std::unique_ptr<deepik::WebServer> server;
  std::thread runner;
  std::unique_ptr<httplib::Client> client;
};

Fixture* fixture = nullptr;

void StopServer() {
  fixture->client.reset();
  fixture->server->Stop();
  fixture->runner.join();
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  deepik::ServeOptions options;
  options.model_path = DEEPIK_FUZZ_MODEL;
  options.port = 0;
  options.threads = 2;
  options.max_targets = 8;  // bounded work per input; the limit itself is checked (413)
  options.max_workspace_points = 100;
  fixture = new Fixture;
  fixture->server = std::make_unique<deepik::WebServer>(options);
  const int port = fixture->server->Bind();
  fixture->runner = std::thread([] { fixture->server->Run(nullptr); });
  fixture->client = std::make_unique<httplib::Client>("127.0.0.1", port);
  fixture->client->set_keep_alive(true);
  fixture->client->set_tcp_nodelay(true);  // headers and body in two writes: no Nagle delay
  fixture->client->set_read_timeout(30);
  std::atexit(StopServer);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const std::string rest(reinterpret_cast<const char*>(data + 1), size - 1);
  const int endpoint = data[0] % 4;
  const std::string what = endpoint == 0   ? "POST /api/solve"
                           : endpoint == 1 ? "POST /api/fk"
                           : endpoint == 3 ? "POST /api/track"
                                           : "GET /api/workspace";
  httplib::Client& client = *fixture->client;
  const httplib::Result result = [&] {
    if (endpoint == 0) return client.Post("/api/solve", rest, "application/json");
    if (endpoint == 1) return client.Post("/api/fk", rest, "application/json");
    if (endpoint == 3) return client.Post("/api/track", rest, "application/json");
    const size_t amp = rest.find('&');
    httplib::Params params{{"n", rest.substr(0, amp)}};
    if (amp != std::string::npos) params.emplace("seed", rest.substr(amp + 1));
    return client.Get("/api/workspace", params, httplib::Headers{});
  }();
  if (!result) deepik_fuzz::Fail(what + ": no answer (" + httplib::to_string(result.error()) + ")");
  const int status = result->status;
  if (status != 200 && status != 400 && status != 413) {
    deepik_fuzz::Fail(what + ": status " + std::to_string(status) + ": " + result->body);
  }
  const nlohmann::json answer = nlohmann::json::parse(result->body, nullptr, false);
  if (!answer.is_object()) deepik_fuzz::Fail(what + ": the answer is not a JSON object: " + result->body);
  if (status != 200 && !(answer.contains("error") && answer["error"].is_string())) {
    deepik_fuzz::Fail(what + ": a refusal without an error text: " + result->body);
  }
  return 0;
}
