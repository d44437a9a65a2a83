// Helpers shared by the server tests: the model they load and a server on a thread of its own.
#pragma once

#include <cstdlib>
#include <string>
#include <thread>

#include "deepik/serve/server.hpp"

namespace deepik::testing {

/// The trained model the server tests load (DEEPIK_TEST_MODEL in the environment overrides it).
inline std::string ServeTestModelPath() {
  const char* override_path = std::getenv("DEEPIK_TEST_MODEL");
  return override_path != nullptr ? override_path : DEEPIK_TEST_MODEL;
}

/// A server's options for the test model on a free loopback port.
inline ServeOptions ServeTestOptions() {
  ServeOptions options;
  options.model_path = ServeTestModelPath();
  options.port = 0;
  return options;
}

/// A server of its own, on its own thread, stopped when the test ends.
struct OwnServer {
  explicit OwnServer(const ServeOptions& options) : server(options), port(server.Bind()) {
    runner = std::thread([this] { server.Run(nullptr); });
  }
  ~OwnServer() {
    server.Stop();
    runner.join();
  }
  WebServer server;
  int port;
  std::thread runner;
};

}  // namespace deepik::testing
