// Training when its surroundings fail (issue 26): a master port where another service listens (one
// that answers other bytes, one that never answers), a disk that fills while checkpointing, memory
// that runs out, and outputs that are devices. Real sockets on 127.0.0.1 (ports the kernel picks),
// real resource limits (ulimit in a child shell), tiny seeded runs.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "cli_util.hpp"
#include "deepik/errors.hpp"
#include "deepik/learn/distributed.hpp"

namespace deepik {
namespace {

using testing::CliResult;
using testing::ReadFile;
using testing::RunCli;
using testing::RunShell;
using testing::TempDir;

using Clock = std::chrono::steady_clock;

// A TCP service on 127.0.0.1 (a port the kernel picks) that is not a job store: to each connection
// it sends `answer` once the client has sent something (nothing when empty, and it keeps the
// connection open until the end).
class Stranger {
 public:
  explicit Stranger(std::string answer) : answer_(std::move(answer)) {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(address);
    EXPECT_EQ(::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
    EXPECT_EQ(::listen(listener_, 8), 0);
    EXPECT_EQ(::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length), 0);
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~Stranger() {
    stop_ = true;
    thread_.join();
    for (const int fd : connections_) ::close(fd);
    ::close(listener_);
  }
  int port() const { return port_; }

 private:
  void Serve() {
    while (!stop_) {
      pollfd p{listener_, POLLIN, 0};
      if (::poll(&p, 1, 20) != 1) continue;
      const int fd = ::accept(listener_, nullptr, nullptr);
      if (fd < 0) continue;
      connections_.push_back(fd);
      if (answer_.empty()) continue;
      pollfd q{fd, POLLIN, 0};
      if (::poll(&q, 1, 5000) == 1) {
        char buffer[256];
        if (::recv(fd, buffer, sizeof(buffer), 0) > 0) {
          (void)!::send(fd, answer_.data(), answer_.size(), MSG_NOSIGNAL);
        }
      }
    }
  }

  std::string answer_;
  int listener_ = -1, port_ = 0;
  std::atomic<bool> stop_{false};
  std::vector<int> connections_;
  std::thread thread_;
};

DistributedOptions RankOneOf(int port, double timeout_seconds) {
  DistributedOptions o;
  o.rank = 1;
  o.world_size = 2;
  o.master_addr = "127.0.0.1";
  o.master_port = port;
  o.timeout_seconds = timeout_seconds;
  return o;
}

// Joins as rank 1 of a job whose master is `stranger`; returns the error's message and the time it
// took (s).
std::pair<std::string, double> JoinStranger(const Stranger& stranger, double timeout_seconds) {
  const auto start = Clock::now();
  std::string message = "(joined)";
  try {
    DistributedGroup::Join(RankOneOf(stranger.port(), timeout_seconds));
  } catch (const InputError& e) {
    message = e.what();
  } catch (const std::exception& e) {
    message = std::string("not an InputError: ") + e.what();
  }
  return {message, std::chrono::duration<double>(Clock::now() - start).count()};
}

TEST(DistributedBootstrap, AServiceAnsweringOtherBytesIsRefusedAtOnceNamingThem) {
  const Stranger http("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
  const auto [message, seconds] = JoinStranger(http, 60);
  EXPECT_NE(message.find("rank 1: the master 127.0.0.1:" + std::to_string(http.port()) +
                         " is not a training job's store"),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("HTTP/1.1 400 Bad Request\\x0d\\x0a"), std::string::npos) << message;
  EXPECT_NE(message.find("MASTER_PORT"), std::string::npos) << message;
  EXPECT_LT(seconds, 5.0);
}

TEST(DistributedBootstrap, AStoreLikeByteFollowedByMoreIsRefused) {
  // One byte a store could send, then a length that c10d's client would try to allocate.
  const Stranger liar(std::string("\x01\xff\xff\xff\xff\xff\xff\xff\x7f", 9));
  const auto [message, seconds] = JoinStranger(liar, 60);
  EXPECT_NE(message.find("bytes no job store sends ('\\x01\\xff"), std::string::npos) << message;
  EXPECT_LT(seconds, 5.0);
}

TEST(DistributedBootstrap, AListenerThatNeverAnswersIsRefusedAfterTheDeadline) {
  const Stranger silent("");
  const auto [message, seconds] = JoinStranger(silent, 2);  // the deadline: min(timeout, 10 s)
  EXPECT_NE(message.find("accepted the connection but did not answer the job store's first query within 2 s"),
            std::string::npos)
      << message;
  EXPECT_GE(seconds, 1.9);
  EXPECT_LT(seconds, 8.0);
}

TEST(DistributedBootstrap, TheCommandLineExitsWithTheInputCodeAndOneLine) {
  TempDir dir;
  const Stranger http("SSH-2.0-OpenSSH_9.2\r\n");
  const CliResult r = RunCli(
      "train seed --sampler workspace --count 500 --epochs 1 --width 8 --depth 1 "
      "--rank 1 --world-size 2 --master 127.0.0.1:" +
          std::to_string(http.port()) + " -o m.safetensors",
      dir);
  EXPECT_EQ(r.exit_code, kExitInput) << r.err;
  EXPECT_NE(r.err.find("deepik: error: rank 1: the master 127.0.0.1:" + std::to_string(http.port()) +
                       " is not a training job's store: it answered the job store's first query with bytes "
                       "no job store sends ('SSH-2.0-OpenSSH_9.2\\x0d\\x0a')"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(r.err.find("bad_alloc"), std::string::npos) << r.err;
}

// The files of a directory whose name contains `part`.
std::vector<std::string> FilesContaining(const TempDir& dir, const std::string& part) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    const std::string name = entry.path().filename().string();
    if (name.find(part) != std::string::npos) names.push_back(name);
  }
  return names;
}

const std::string kTiny =
    "train seed --sampler workspace --count 3000 --data-seed 2 --width 16 --depth 1 --batch 256 --threads 1 "
    "--eval-samples 100 --seed 5 ";

TEST(TrainDiskFull, ACheckpointThatCannotBeWrittenIsAClearErrorAndTheLastGoodOneStays) {
  TempDir dir;
  // A run that a time limit ends after its first epoch (the time limit is not part of what a resume
  // must match): its checkpoint is the last good one.
  const CliResult first = RunCli(kTiny + "--epochs 3 --time-limit 0.001 -o m.safetensors", dir);
  ASSERT_EQ(first.exit_code, kExitOk) << first.err;
  ASSERT_NE(first.err.find("time limit after 1 epochs"), std::string::npos) << first.err;
  const std::string checkpoint = ReadFile(dir.Path("m.safetensors.ckpt"));
  ASSERT_GT(checkpoint.size(), 4096u);
  // A file-size limit below the checkpoint's size, with SIGXFSZ ignored: writes past it fail with
  // EFBIG, as on a full disk (without root, and without filling one).
  const std::string limit_kib = std::to_string(checkpoint.size() / 2048);
  const CliResult full = RunShell("trap '' XFSZ; ulimit -f " + limit_kib + "; '" + std::string(DEEPIK_CLI) +
                                      "' " + kTiny + "--epochs 3 --resume -o m.safetensors",
                                  dir);
  EXPECT_EQ(full.exit_code, kExitInput) << full.err;
  EXPECT_NE(full.err.find("deepik: error: cannot write the checkpoint m.safetensors.ckpt ("),
            std::string::npos)
      << full.err;
  EXPECT_NE(full.err.find("File too large; training stopped and no model file was written; the last good "
                          "checkpoint is kept"),
            std::string::npos)
      << full.err;
  EXPECT_EQ(ReadFile(dir.Path("m.safetensors.ckpt")), checkpoint);
  EXPECT_TRUE(FilesContaining(dir, ".tmp").empty()) << FilesContaining(dir, ".tmp").front();
  // The kept checkpoint resumes.
  const CliResult resumed = RunCli(kTiny + "--epochs 3 --resume -o m.safetensors", dir);
  EXPECT_EQ(resumed.exit_code, kExitOk) << resumed.err;
  EXPECT_NE(resumed.err.find("epoch 3/3"), std::string::npos) << resumed.err;
}

TEST(TrainDiskFull, AFreshRunWhoseFirstCheckpointFailsSaysToStartAgainAndLeavesNothing) {
  TempDir dir;
  const CliResult r = RunShell(
      "trap '' XFSZ; ulimit -f 4; '" + std::string(DEEPIK_CLI) + "' " + kTiny + "--epochs 2 -o m.safetensors",
      dir);
  EXPECT_EQ(r.exit_code, kExitInput) << r.err;
  EXPECT_NE(r.err.find("File too large; training stopped and no model file was written; free some space (or "
                       "choose another --checkpoint) and start again"),
            std::string::npos)
      << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir.Path("m.safetensors.ckpt")));
  EXPECT_FALSE(std::filesystem::exists(dir.Path("m.safetensors")));
  EXPECT_TRUE(FilesContaining(dir, ".tmp").empty());
}

TEST(TrainOutOfMemory, SaysWhatWasTooBigAndTheMemoryItNeeded) {
  TempDir dir;
  // 32 layers of 8192: 3 x 8192 + 31 x 8192^2 + ... = 2.08e9 weights, 5 x 4 bytes each with their
  // gradients, Adam's two moments and the best epoch's copy: 38.8 GiB; 3 GB of address space for
  // the whole process (libtorch's own mappings included) cannot hold even the weights.
  const CliResult r = RunShell("ulimit -v 3000000; '" + std::string(DEEPIK_CLI) +
                                   "' train seed --sampler workspace --count 2000 --epochs 1 --width 8192 "
                                   "--depth 32 --threads 1 -o m.safetensors",
                               dir);
  EXPECT_EQ(r.exit_code, kExitInput) << r.err;
  EXPECT_NE(r.err.find("deepik: error: training ran out of memory: an allocation of "), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("It needs about 38.8 GiB for the network (32 x 8192, 2.08e+09 weights"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("the largest is the network: use a smaller --width or --depth"), std::string::npos)
      << r.err;
  EXPECT_EQ(r.err.find("frame #"), std::string::npos) << r.err;  // no libtorch stack trace
  EXPECT_EQ(r.err.find("internal error"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir.Path("m.safetensors")));
}

TEST(TrainDeviceOutput, WritesNoSideFilesBesideADevice) {
  TempDir dir;
  const CliResult r = RunCli(kTiny + "--epochs 1 -o /dev/null", dir);
  EXPECT_EQ(r.exit_code, kExitOk) << r.err;
  for (const char* side : {"/dev/null.ckpt", "/dev/null.ckpt.data", "/dev/null.log.csv", "/dev/null.lock"}) {
    EXPECT_FALSE(std::filesystem::exists(side)) << side;
  }
  EXPECT_NE(r.err.find("no checkpoint and no log"), std::string::npos) << r.err;
  // Side files named explicitly are written where they are named.
  const CliResult named = RunCli(kTiny + "--epochs 1 --checkpoint c.ckpt --log h.csv -o /dev/null", dir);
  EXPECT_EQ(named.exit_code, kExitOk) << named.err;
  EXPECT_TRUE(std::filesystem::exists(dir.Path("c.ckpt")));
  EXPECT_TRUE(std::filesystem::exists(dir.Path("c.ckpt.data")));
  EXPECT_NE(ReadFile(dir.Path("h.csv")).find("epoch,step,train_loss"), std::string::npos);
  // Nothing to resume from without a checkpoint.
  const CliResult resume = RunCli(kTiny + "--epochs 1 --resume -o /dev/null", dir);
  EXPECT_EQ(resume.exit_code, kExitInput) << resume.err;
  EXPECT_NE(resume.err.find("--resume needs a checkpoint"), std::string::npos) << resume.err;
}

}  // namespace
}  // namespace deepik
