// A `deepik serve` child process for tests: started with the given arguments, its first line of
// standard output (the address it prints) read, its port parsed, and killed when the test ends.
#pragma once

#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <regex>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace deepik::testing {

class ServeProcess {
 public:
  /// Starts `DEEPIK_CLI serve ARGS...` with its standard output on a pipe and reads its first line.
  /// port() is 0 when the child printed no address (the test then fails on its own assertion).
  explicit ServeProcess(std::vector<std::string> args) {
    int pipe_fds[2];
    if (::pipe(pipe_fds) != 0) return;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&actions, pipe_fds[0]);
    args.insert(args.begin(), {DEEPIK_CLI, "serve"});
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (posix_spawn(&pid_, DEEPIK_CLI, &actions, nullptr, argv.data(), environ) != 0) pid_ = 0;
    posix_spawn_file_actions_destroy(&actions);
    ::close(pipe_fds[1]);
    out_ = ::fdopen(pipe_fds[0], "r");
    char line[512] = {0};
    if (out_ != nullptr && std::fgets(line, sizeof line, out_) != nullptr) first_line_ = line;
    std::smatch match;
    if (std::regex_search(first_line_, match, std::regex(R"(http://127\.0\.0\.1:(\d+)/)")))
      port_ = std::stoi(match[1]);
  }
  ServeProcess(const ServeProcess&) = delete;
  ServeProcess& operator=(const ServeProcess&) = delete;
  ~ServeProcess() {  // stops the child whatever happens
    if (pid_ > 0 && ::kill(pid_, 0) == 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (out_ != nullptr) std::fclose(out_);
  }

  const std::string& first_line() const { return first_line_; }
  int port() const { return port_; }

  /// Sends SIGTERM and waits up to `limit` for the child to exit; returns its wait status, or -1
  /// when it was still running at the limit (the destructor then kills it).
  int TerminateAndWait(std::chrono::seconds limit) {
    if (pid_ <= 0 || ::kill(pid_, SIGTERM) != 0) return -1;
    int status = -1;
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = 0;
        return status;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return -1;
  }

 private:
  pid_t pid_ = 0;
  FILE* out_ = nullptr;
  std::string first_line_;
  int port_ = 0;
};

}  // namespace deepik::testing
