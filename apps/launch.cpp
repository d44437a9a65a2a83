// `deepik train --nproc K`: starts K ranks of a data-parallel job on this machine, as torchrun
// would (each a copy of this command line with RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR and
// MASTER_PORT set), forwards SIGINT and SIGTERM to them and waits for them all.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstring>
#include <ostream>
#include <thread>

#include "cli.hpp"
#include "deepik/errors.hpp"

extern char** environ;

namespace deepik::cli {
namespace {

using Clock = std::chrono::steady_clock;

// The last SIGINT or SIGTERM the launcher received, and how many.
volatile std::sig_atomic_t g_signal = 0;
volatile std::sig_atomic_t g_signal_count = 0;

void RecordSignal(int signal) {
  g_signal = signal;
  g_signal_count = g_signal_count + 1;
}

// A port on the loopback interface that nothing listens on now (the kernel's choice).
int FreeLoopbackPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("--nproc: cannot open a socket: " + std::string(std::strerror(errno)));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof(address);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    const std::string why = std::strerror(errno);
    ::close(fd);
    throw std::runtime_error("--nproc: cannot find a free port: " + why);
  }
  ::close(fd);
  return ntohs(address.sin_port);
}

// The environment of rank `rank`: this one with the job's variables set.
std::vector<std::string> RankEnvironment(const LocalLaunch& launch, int rank, int port) {
  const std::vector<std::pair<std::string, std::string>> job = {
      {"RANK", std::to_string(rank)},       {"WORLD_SIZE", std::to_string(launch.nproc)},
      {"LOCAL_RANK", std::to_string(rank)}, {"LOCAL_WORLD_SIZE", std::to_string(launch.nproc)},
      {"MASTER_ADDR", launch.master_addr},  {"MASTER_PORT", std::to_string(port)}};
  std::vector<std::string> environment;
  bool glog_set = false;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string entry = *e;
    const std::string name = entry.substr(0, entry.find('='));
    bool replaced = false;
    for (const auto& [key, value] : job) replaced = replaced || name == key;
    glog_set = glog_set || name == "GLOG_minloglevel";
    if (!replaced) environment.push_back(entry);
  }
  for (const auto& [key, value] : job) environment.push_back(key + "=" + value);
  // libtorch's own log lines (glog) would repeat, less clearly, the errors deepik reports.
  if (!glog_set) environment.push_back("GLOG_minloglevel=3");
  return environment;
}

std::vector<char*> Pointers(std::vector<std::string>& texts) {
  std::vector<char*> pointers;
  for (std::string& text : texts) pointers.push_back(text.data());
  pointers.push_back(nullptr);
  return pointers;
}

std::string Describe(int status) {
  if (WIFSIGNALED(status)) return "was killed by signal " + std::to_string(WTERMSIG(status));
  return "exited with code " + std::to_string(WEXITSTATUS(status));
}

int ExitCode(int status) { return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status); }

}  // namespace

int RunLocalRanks(const LocalLaunch& launch, std::ostream& log) {
  const int port = launch.master_port > 0 ? launch.master_port : FreeLoopbackPort();
  struct sigaction action {};
  action.sa_handler = RecordSignal;
  sigemptyset(&action.sa_mask);
  ::sigaction(SIGINT, &action, nullptr);
  ::sigaction(SIGTERM, &action, nullptr);

  std::vector<std::string> arguments = launch.arguments;
  std::vector<char*> argv = Pointers(arguments);
  std::vector<pid_t> pids;
  const pid_t launcher = ::getpid();
  for (int rank = 0; rank < launch.nproc; ++rank) {
    std::vector<std::string> environment = RankEnvironment(launch, rank, port);
    std::vector<char*> envp = Pointers(environment);
    const pid_t pid = ::fork();
    if (pid < 0) {
      for (const pid_t started : pids) ::kill(started, SIGTERM);
      throw std::runtime_error("--nproc: cannot start rank " + std::to_string(rank) + ": " +
                               std::strerror(errno));
    }
    if (pid == 0) {
      // A rank whose launcher dies is told to stop (it then saves a checkpoint if it is rank 0).
      ::prctl(PR_SET_PDEATHSIG, SIGTERM);
      if (::getppid() != launcher) ::_exit(kExitInternal);
      ::execve("/proc/self/exe", argv.data(), envp.data());
      ::_exit(kExitInternal);
    }
    pids.push_back(pid);
  }
  log << "train: started " << launch.nproc << " local ranks (master " << launch.master_addr << ":" << port
      << "); Ctrl-C stops them all, with a checkpoint\n"
      << std::flush;

  // Every rank ends by itself: done, interrupted, or with an error within the timeout when another
  // rank fails. A rank still running long after another failed is stopped, then killed.
  std::vector<int> status(pids.size(), -1);
  size_t running = pids.size();
  int first_failure = -1;
  int forwarded = 0;
  Clock::time_point terminate_at = Clock::time_point::max(), kill_at = Clock::time_point::max();
  while (running > 0) {
    int wait_status = 0;
    const pid_t pid = ::waitpid(-1, &wait_status, WNOHANG);
    if (pid > 0) {
      for (size_t r = 0; r < pids.size(); ++r) {
        if (pids[r] != pid) continue;
        status[r] = wait_status;
        --running;
        const int code = ExitCode(wait_status);
        if (code != kExitOk)
          log << "train: rank " << r << " (pid " << pid << ") " << Describe(wait_status) << "\n";
        if (code != kExitOk && code != kExitInterrupted && first_failure < 0) {
          first_failure = static_cast<int>(r);
          terminate_at = Clock::now() + std::chrono::milliseconds(
                                            static_cast<int64_t>((launch.timeout_seconds + 15) * 1000));
        }
      }
      continue;
    }
    if (g_signal_count != forwarded) {
      forwarded = g_signal_count;
      for (size_t r = 0; r < pids.size(); ++r) {
        if (status[r] == -1) ::kill(pids[r], g_signal);
      }
    }
    const auto now = Clock::now();
    if (now > terminate_at) {
      log << "train: stopping the ranks still running " << launch.timeout_seconds + 15 << " s after rank "
          << first_failure << " failed\n";
      for (size_t r = 0; r < pids.size(); ++r) {
        if (status[r] == -1) ::kill(pids[r], SIGTERM);
      }
      terminate_at = Clock::time_point::max();
      kill_at = now + std::chrono::seconds(15);
    }
    if (now > kill_at) {
      for (size_t r = 0; r < pids.size(); ++r) {
        if (status[r] == -1) ::kill(pids[r], SIGKILL);
      }
      kill_at = Clock::time_point::max();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (first_failure >= 0) return ExitCode(status[static_cast<size_t>(first_failure)]);
  for (const int s : status) {
    if (ExitCode(s) != kExitOk) return kExitInterrupted;
  }
  return kExitOk;
}

}  // namespace deepik::cli
