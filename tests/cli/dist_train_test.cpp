// Data-parallel training (c10d + Gloo) end to end, over the loopback interface: ranks started with
// torchrun's variables or `--nproc`, on ports the tests pick, tiny networks, seeded data. A job of
// 2 ranks with batch B/2 against one process with batch B; a lost rank and a stopped rank; resume
// bit for bit; the model a 2-rank job writes, solved and served; bad setups refused quickly.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "cli_util.hpp"
#include "deepik/errors.hpp"
#include "deepik/learn/model.hpp"
// After Eigen: httplib brings in resolv.h, whose _res macro breaks Eigen's headers.
#include <httplib.h>

namespace deepik {
namespace {

using testing::CliResult;
using testing::ReadFile;
using testing::RunCli;
using testing::RunShell;
using testing::TempDir;

const std::string kCli = "'" + std::string(DEEPIK_CLI) + "' ";

// A TCP port of the loopback interface that nothing listens on (the kernel's choice).
int FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  EXPECT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length), 0);
  ::close(fd);
  return ntohs(address.sin_port);
}

// The environment of rank `rank` of a job of `world` ranks whose master is 127.0.0.1:port.
std::string RankEnv(int rank, int world, int port) {
  return "RANK=" + std::to_string(rank) + " WORLD_SIZE=" + std::to_string(world) +
         " LOCAL_RANK=" + std::to_string(rank) +
         " MASTER_ADDR=127.0.0.1 MASTER_PORT=" + std::to_string(port) + " ";
}

// The largest absolute difference between the same weights of two model files.
double MaxWeightDifference(const IkModel& a, const IkModel& b) {
  double largest = 0;
  for (const auto& [name, tensor] : a.file().tensors) {
    if (tensor.dtype != "F32") continue;
    const std::vector<float> x = tensor.ToFloats(), y = b.file().tensors.at(name).ToFloats();
    EXPECT_EQ(x.size(), y.size()) << name;
    for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
      largest = std::max(largest, static_cast<double>(std::abs(x[i] - y[i])));
    }
  }
  return largest;
}

bool SameWeightBytes(const IkModel& a, const IkModel& b) {
  for (const auto& [name, tensor] : a.file().tensors) {
    if (tensor.bytes != b.file().tensors.at(name).bytes) return false;
  }
  return !a.file().tensors.empty();
}

nlohmann::json Training(const IkModel& model) { return nlohmann::json::parse(model.Metadata("training")); }

// Tiny planar2 runs: 2 hidden layers of 32, one libtorch thread per process.
const std::string kNet = "--width 32 --depth 2 --threads 1 --eval-samples 200 ";

// The averaged gradient of 2 ranks with batch B/2 is the gradient of batch B: after the first
// step, and a second one, the weights are those of one process with batch B, to float rounding.
TEST(DistributedTrainTest, TwoRanksWithHalfBatchesStepLikeOneProcessWithTheWholeBatch) {
  TempDir dir;
  // 256 training samples: one step per epoch with batch 256 (one process) or 2 x 128 (2 ranks).
  ASSERT_EQ(RunCli("dataset planar2 --sampler joints --count 320 --data-seed 5 -o d.dset", dir).exit_code,
            kExitOk);
  for (const int epochs : {1, 2}) {
    const std::string common =
        "train --data d.dset --final-lr-fraction 1 --epochs " + std::to_string(epochs) + " " + kNet;
    const std::string one = "one" + std::to_string(epochs) + ".safetensors",
                      two = "two" + std::to_string(epochs) + ".safetensors";
    const CliResult r1 = RunCli(common + "--batch 256 -o " + one, dir);
    ASSERT_EQ(r1.exit_code, kExitOk) << r1.err;
    const CliResult r2 = RunCli(common + "--batch 128 --nproc 2 -o " + two, dir);
    ASSERT_EQ(r2.exit_code, kExitOk) << r2.err;
    EXPECT_NE(r2.err.find("2 ranks"), std::string::npos) << r2.err;
    const IkModel a = IkModel::Load(dir.Path(one)), b = IkModel::Load(dir.Path(two));
    // Adam moves each weight by about the learning rate (1e-3) per step; float rounding of the
    // sums (each rank's mean of 128, then the all-reduce, against one mean of 256) differs by a
    // few float32 ulps of the gradient, which Adam's step turns into far less than 1e-6.
    const double difference = MaxWeightDifference(a, b);
    EXPECT_LT(difference, 1e-6) << epochs << " epochs";
    std::cout << "[ measured ] " << epochs << " step(s): largest weight difference " << difference << "\n";
    // The training loss of each step (the batch's mean loss) and the validation agree too.
    const std::vector<EpochRecord> h1 = a.History(), h2 = b.History();
    ASSERT_EQ(h1.size(), h2.size());
    for (size_t e = 0; e < h1.size(); ++e) {
      EXPECT_NEAR(h1[e].train_loss, h2[e].train_loss, 1e-6 * h1[e].train_loss);
      EXPECT_NEAR(h1[e].validation_loss, h2[e].validation_loss, 1e-5 * h1[e].validation_loss);
      EXPECT_EQ(h1[e].step, h2[e].step);
    }
    // The model file records the job's shape.
    EXPECT_EQ(Training(b).at("world_size"), 2);
    EXPECT_EQ(Training(b).at("per_rank_batch"), 128);
    EXPECT_EQ(Training(b).at("effective_batch"), 256);
    EXPECT_FALSE(Training(a).contains("world_size"));  // one process: the file as before
  }
}

// Over a short run the two jobs take the same steps on the same batches; only float rounding
// differs, and training amplifies it a little (Adam divides by the running gradient size). Measured
// here: 5e-5 rad between the answers after 94 steps; the bound, 1e-3 rad, leaves 20x for other CPUs
// and BLAS builds, and is far below what a different run gives (the same job with another --seed:
// answers up to 6 rad apart).
TEST(DistributedTrainTest, ShortRunsOfTwoRanksAndOneProcessGiveCloseModels) {
  TempDir dir;
  ASSERT_EQ(RunCli("dataset planar2 --sampler joints --count 2500 --data-seed 6 -o d.dset", dir).exit_code,
            kExitOk);
  const std::string common = "train --data d.dset --epochs 3 " + kNet;
  const CliResult r1 = RunCli(common + "--batch 64 -o one.safetensors", dir);
  ASSERT_EQ(r1.exit_code, kExitOk) << r1.err;
  const CliResult r2 = RunCli(common + "--batch 32 --nproc 2 -o two.safetensors", dir);
  ASSERT_EQ(r2.exit_code, kExitOk) << r2.err;
  const IkModel a = IkModel::Load(dir.Path("one.safetensors")),
                b = IkModel::Load(dir.Path("two.safetensors"));
  double largest = 0;
  for (int i = 0; i < 200; ++i) {
    const double angle = 0.0314 * i, radius = 0.3 + 1.5 * (i % 17) / 17.0;
    const Eigen::Vector3d target(radius * std::cos(angle), radius * std::sin(angle), 0);
    largest = std::max(largest, (a.Predict(target) - b.Predict(target)).cwiseAbs().maxCoeff());
  }
  std::cout << "[ measured ] after 3 epochs (94 steps): largest answer difference " << largest
            << " rad, weights " << MaxWeightDifference(a, b) << "\n";
  EXPECT_LT(largest, 1e-3);
}

// The text after "name=" in `text`, up to the end of its line.
std::string Field(const std::string& text, const std::string& name) {
  const size_t at = text.find(name + "=");
  if (at == std::string::npos) return "";
  const size_t begin = at + name.size() + 1;
  return text.substr(begin, text.find('\n', begin) - begin);
}

// Waits (in the shell) until FILE exists, at most 60 s.
std::string WaitForFile(const std::string& file) {
  return "for i in $(seq 6000); do [ -f " + file + " ] && break; sleep 0.01; done; ";
}

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// 6400 training samples, batch 2 x 32: 100 steps per epoch, a checkpoint every 20 steps.
const std::string kLongerJob = "train --data d.dset --epochs 2 --batch 32 --checkpoint-every 20 " + kNet;

// A rank killed mid-run ends the other at once (well within --dist-timeout) with a message naming
// it; rank 0's last checkpoint stays, and --resume with the same world size finishes the job with
// exactly the weights of the job that was never interrupted. A stop (SIGTERM) on rank 1 alone, and
// Ctrl-C (SIGINT) to the --nproc launcher, end every rank with rank 0's checkpoint (which resumes
// like any other: the checkpoint is written the same way).
TEST(DistributedTrainTest, ALostRankEndsTheJobAndResumeFinishesItBitForBit) {
  TempDir dir;
  ASSERT_EQ(RunCli("dataset planar2 --sampler joints --count 8000 --data-seed 7 -o d.dset", dir).exit_code,
            kExitOk);
  const std::string job = kLongerJob + "--dist-timeout 30 ";
  const CliResult reference = RunCli(job + "--nproc 2 -o ref.safetensors", dir);
  ASSERT_EQ(reference.exit_code, kExitOk) << reference.err;

  int port = FreePort();
  CliResult r = RunShell(RankEnv(0, 2, port) + kCli + job + "-o m.safetensors 2>r0.err & p0=$!; " +
                             RankEnv(1, 2, port) + kCli + job + "-o m.safetensors 2>r1.err & p1=$!; " +
                             WaitForFile("m.safetensors.ckpt") +
                             "kill -9 $p1; t0=$(date +%s%N); wait $p0; echo \"rank0=$?\"; "
                             "echo \"ms=$((($(date +%s%N) - t0) / 1000000))\"",
                         dir);
  const std::string r0 = ReadFile(dir.Path("r0.err"));
  EXPECT_EQ(Field(r.out, "rank0"), std::to_string(kExitDistributed)) << r0;
  EXPECT_LT(std::stoi(Field(r.out, "ms")), 30000) << r0;
  std::cout << "[ measured ] rank 0 ended " << Field(r.out, "ms") << " ms after rank 1 was killed\n";
  EXPECT_NE(r0.find("deepik: error: rank 0: the job failed during the gradient all-reduce of step "),
            std::string::npos)
      << r0;
  EXPECT_NE(r0.find("rank 1 stopped responding (killed, crashed, or its machine or network is down)"),
            std::string::npos)
      << r0;
  EXPECT_TRUE(std::filesystem::exists(dir.Path("m.safetensors.ckpt")));
  EXPECT_FALSE(std::filesystem::exists(dir.Path("m.safetensors")));
  CliResult resumed = RunCli(job + "--nproc 2 --resume -o m.safetensors", dir);
  ASSERT_EQ(resumed.exit_code, kExitOk) << resumed.err;
  const IkModel ref = IkModel::Load(dir.Path("ref.safetensors"));
  EXPECT_TRUE(SameWeightBytes(ref, IkModel::Load(dir.Path("m.safetensors"))));

  // SIGTERM to rank 1 alone stops both ranks at the same step; rank 0 saves the checkpoint.
  port = FreePort();
  r = RunShell(RankEnv(0, 2, port) + kCli + job + "-o s.safetensors 2>s0.err & p0=$!; " +
                   RankEnv(1, 2, port) + kCli + job + "-o s.safetensors 2>s1.err & p1=$!; " +
                   WaitForFile("s.safetensors.ckpt") +
                   "kill -TERM $p1; wait $p0; echo \"rank0=$?\"; wait $p1; echo \"rank1=$?\"",
               dir);
  const std::string s0 = ReadFile(dir.Path("s0.err"));
  EXPECT_EQ(Field(r.out, "rank0"), std::to_string(kExitInterrupted)) << s0;
  EXPECT_EQ(Field(r.out, "rank1"), std::to_string(kExitInterrupted)) << ReadFile(dir.Path("s1.err"));
  EXPECT_NE(s0.find("train: interrupted; checkpoint saved to s.safetensors.ckpt"), std::string::npos) << s0;
  EXPECT_FALSE(std::filesystem::exists(dir.Path("s.safetensors")));

  // Ctrl-C to the launcher reaches every rank.
  r = RunShell(kCli + job + "--nproc 2 -o c.safetensors 2>c.err & p=$!; " +
                   WaitForFile("c.safetensors.ckpt") + "kill -INT $p; wait $p; echo \"code=$?\"",
               dir);
  const std::string c = ReadFile(dir.Path("c.err"));
  EXPECT_EQ(Field(r.out, "code"), std::to_string(kExitInterrupted)) << c;
  EXPECT_NE(c.find("train: interrupted; checkpoint saved to c.safetensors.ckpt"), std::string::npos) << c;
  EXPECT_FALSE(std::filesystem::exists(dir.Path("c.safetensors")));
}

// A rank that hangs (stopped with SIGSTOP: alive, silent) ends the other within --dist-timeout.
TEST(DistributedTrainTest, AHungRankEndsTheJobWithinTheTimeout) {
  TempDir dir;
  ASSERT_EQ(RunCli("dataset planar2 --sampler joints --count 8000 --data-seed 7 -o d.dset", dir).exit_code,
            kExitOk);
  const std::string job = kLongerJob + "--dist-timeout 3 ";
  const int port = FreePort();
  const CliResult r = RunShell(RankEnv(0, 2, port) + kCli + job + "-o m.safetensors 2>r0.err & p0=$!; " +
                                   RankEnv(1, 2, port) + kCli + job + "-o m.safetensors 2>r1.err & p1=$!; " +
                                   WaitForFile("m.safetensors.ckpt") +
                                   "kill -STOP $p1; t0=$(date +%s%N); wait $p0; echo \"rank0=$?\"; "
                                   "echo \"ms=$((($(date +%s%N) - t0) / 1000000))\"; kill -9 $p1; wait $p1",
                               dir);
  const std::string r0 = ReadFile(dir.Path("r0.err"));
  EXPECT_EQ(Field(r.out, "rank0"), std::to_string(kExitDistributed)) << r0;
  const int ms = std::stoi(Field(r.out, "ms"));
  std::cout << "[ measured ] rank 0 ended " << ms << " ms after rank 1 hung (--dist-timeout 3)\n";
  EXPECT_GE(ms, 2500) << r0;   // it waited for the timeout...
  EXPECT_LT(ms, 20000) << r0;  // ...and not much longer (the diagnosis takes 2 s)
  EXPECT_NE(r0.find("rank 1 stopped responding"), std::string::npos) << r0;
  EXPECT_TRUE(std::filesystem::exists(dir.Path("m.safetensors.ckpt")));
}

// `--nproc 2` end to end: the model file it writes is an ordinary model for `solve` and `serve`;
// resuming its checkpoint as one process is refused.
TEST(DistributedTrainTest, ATwoRankModelIsSolvedAndServed) {
  TempDir dir;
  ASSERT_EQ(RunCli("dataset planar2 --sampler joints --count 2000 --data-seed 8 -o d.dset", dir).exit_code,
            kExitOk);
  const std::string train = "train --data d.dset --epochs 2 --batch 64 " + kNet;
  const CliResult trained = RunCli(train + "--nproc 2 -o m.safetensors", dir);
  ASSERT_EQ(trained.exit_code, kExitOk) << trained.err;
  for (const char* part :
       {"train: started 2 local ranks", "train: 2 ranks (master 127.0.0.1:", "64 per rank, 128 per step",
        "gradient all-reduce", "train: saved m.safetensors"}) {
    EXPECT_NE(trained.err.find(part), std::string::npos) << part << "\n" << trained.err;
  }
  const CliResult info = RunCli("model info m.safetensors", dir);
  ASSERT_EQ(info.exit_code, kExitOk) << info.err;
  EXPECT_NE(info.out.find("world size 2"), std::string::npos) << info.out;
  EXPECT_NE(info.out.find("per rank batch 64"), std::string::npos) << info.out;

  std::ofstream(dir.Path("t.csv")) << "x,y,z\n1.2,0.3,0\n-0.5,1,0\n";
  const CliResult solved = RunCli("solve --model m.safetensors -i t.csv -o s.csv", dir);
  ASSERT_EQ(solved.exit_code, kExitOk) << solved.err;
  EXPECT_NE(ReadFile(dir.Path("s.csv")).find("converged"), std::string::npos) << ReadFile(dir.Path("s.csv"));

  // serve: start on a free port, one request, stop with SIGINT.
  const int port = FreePort();
  ASSERT_EQ(RunShell(kCli + "serve --model m.safetensors --port " + std::to_string(port) +
                         " >serve.out 2>&1 & echo $! >serve.pid",
                     dir)
                .exit_code,
            0);
  const pid_t server = std::stoi(ReadFile(dir.Path("serve.pid")));
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(1);
  const auto start = std::chrono::steady_clock::now();
  httplib::Result answer = client.Post("/api/solve", R"({"target":[1.2,0.3,0]})", "application/json");
  while (!answer && SecondsSince(start) < 60) {  // until the server listens
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    answer = client.Post("/api/solve", R"({"target":[1.2,0.3,0]})", "application/json");
  }
  ASSERT_TRUE(answer) << ReadFile(dir.Path("serve.out"));
  EXPECT_EQ(answer->status, 200) << answer->body;
  const nlohmann::json body = nlohmann::json::parse(answer->body);
  EXPECT_EQ(body.at("status"), "converged") << answer->body;
  ::kill(server, SIGINT);
  const auto stopping = std::chrono::steady_clock::now();
  while (::kill(server, 0) == 0 && SecondsSince(stopping) < 30) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_NE(::kill(server, 0), 0) << "the server did not stop";
  EXPECT_NE(ReadFile(dir.Path("serve.out")).find("deepik: stopped"), std::string::npos)
      << ReadFile(dir.Path("serve.out"));

  // The checkpoint of a 2-rank job resumes only with 2 ranks.
  const CliResult one = RunCli(train + "--resume -o m.safetensors", dir);
  EXPECT_EQ(one.exit_code, kExitInput) << one.err;
  EXPECT_NE(one.err.find("cannot resume: the checkpoint was made by a job of 2 ranks, this is one process"),
            std::string::npos)
      << one.err;
  EXPECT_NE(one.err.find("--nproc 2, or WORLD_SIZE=2"), std::string::npos) << one.err;
}

// Bad setups end with a clear error in seconds, never a hang.
TEST(DistributedTrainTest, BadSetupsAreRefusedQuicklyWithClearErrors) {
  TempDir dir;
  ASSERT_EQ(RunCli("dataset planar2 --sampler joints --count 400 --data-seed 9 -o d.dset", dir).exit_code,
            kExitOk);
  const std::string train =
      "train --data d.dset --epochs 1 --batch 32 --dist-timeout 3 " + kNet + "-o m.safetensors ";
  // A port something listens on (not a deepik store).
  const int busy = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_ANY);
  socklen_t length = sizeof(address);
  ASSERT_EQ(::bind(busy, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  ASSERT_EQ(::listen(busy, 4), 0);
  ASSERT_EQ(::getsockname(busy, reinterpret_cast<sockaddr*>(&address), &length), 0);
  const int busy_port = ntohs(address.sin_port);

  struct Case {
    std::string before, after;  // environment, and options after the command
    int code;
    std::string message;
  };
  const std::vector<Case> cases = {
      {RankEnv(1, 2, FreePort()), "", kExitDistributed, "rank 1: cannot reach the master 127.0.0.1:"},
      {RankEnv(0, 2, FreePort()), "", kExitDistributed,
       "rank 0: rank 1 did not reach the start of the job within 3 s"},
      {RankEnv(0, 2, busy_port), "", kExitDistributed, "rank 0: cannot open the job's store at 127.0.0.1:"},
      {"RANK=2 WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=29500 ", "", kExitInput,
       "rank 2 is outside 0..1 for a world of size 2 (RANK and WORLD_SIZE disagree)"},
      {"WORLD_SIZE=2 ", "", kExitInput,
       "a job of 2 ranks needs this process's rank: --rank R or RANK (0..1)"},
      {"RANK=1 ", "", kExitInput, "rank 1 needs the size of its job: --world-size W or WORLD_SIZE"},
      {"RANK=x WORLD_SIZE=2 ", "", kExitInput, "RANK: expected a whole number in [0, 65535], got 'x'"},
      {RankEnv(0, 2, 29500), "--rank 1", kExitInput, "--rank 1 but RANK=0 in the environment"},
      {"RANK=0 WORLD_SIZE=2 ", "", kExitInput, "needs rank 0's address and a port: --master HOST:PORT"},
      {"RANK=0 WORLD_SIZE=2 ", "--nproc 2", kExitInput, "--nproc starts its own ranks, but RANK is set"},
      {"", "--rank 0 --world-size 2 --master 127.0.0.1", kExitInput, "--master: expected HOST:PORT"},
      {"", "--master 127.0.0.1:29500", kExitInput, "--master is for a job of several ranks"},
  };
  for (const Case& c : cases) {
    const auto start = std::chrono::steady_clock::now();
    const CliResult r = RunShell(c.before + kCli + train + c.after, dir);
    EXPECT_EQ(r.exit_code, c.code) << c.before << c.after << "\n" << r.err;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << c.before << c.after << "\n" << r.err;
    EXPECT_LT(SecondsSince(start), 30) << c.before << c.after;
    std::cout << "[ measured ] " << SecondsSince(start) << " s: " << c.message << "\n";
  }
  ::close(busy);

  // Ranks started with different options, or different world sizes: both refuse to start.
  struct Pair {
    std::string env1, options1;  // rank 1's differences
    std::string message;         // in both ranks' errors
  };
  for (const Pair& p :
       std::vector<Pair>{{"", "--seed 2", "the ranks were started differently (options hash "},
                         {"", "--lr 0.01", "options/learning_rate "},
                         {"WORLD_SIZE=3 ", "", "every rank needs the same WORLD_SIZE (or --world-size)"}}) {
    const int port = FreePort();
    const auto start = std::chrono::steady_clock::now();
    const CliResult r =
        RunShell(RankEnv(0, 2, port) + kCli + train + " 2>e0.err & p0=$!; " + RankEnv(1, 2, port) + p.env1 +
                     kCli + train + p.options1 +
                     " 2>e1.err & p1=$!; wait $p0; echo \"rank0=$?\"; wait $p1; echo \"rank1=$?\"",
                 dir);
    const std::string e0 = ReadFile(dir.Path("e0.err")), e1 = ReadFile(dir.Path("e1.err"));
    EXPECT_EQ(Field(r.out, "rank0"), std::to_string(kExitDistributed)) << p.options1 << p.env1 << "\n" << e0;
    EXPECT_EQ(Field(r.out, "rank1"), std::to_string(kExitDistributed)) << p.options1 << p.env1 << "\n" << e1;
    EXPECT_NE(e0.find(p.message), std::string::npos) << e0;
    EXPECT_NE(e1.find(p.message), std::string::npos) << e1;
    EXPECT_LT(SecondsSince(start), 30);
  }
  EXPECT_FALSE(std::filesystem::exists(dir.Path("m.safetensors")));
}

}  // namespace
}  // namespace deepik
