// Two `train` runs on the same output files: the second is refused, and the first finishes intact.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "cli_util.hpp"
#include "deepik/errors.hpp"

namespace deepik {
namespace {

using testing::CliResult;
using testing::RunCli;
using testing::RunShell;
using testing::TempDir;

TEST(TrainLockTest, ASecondRunOnTheSameOutputIsRefused) {
  TempDir dir;
  const std::string cli = "'" + std::string(DEEPIK_CLI) + "' ";
  const std::string train =
      "train planar2 --sampler joints --count 60000 --epochs 40 --width 64 --threads 1 --eval-samples 200 ";
  // The first run holds the lock once its lock file exists (waited for with a deadline); the second
  // run starts while it trains, then the first is stopped with SIGINT.
  const CliResult r = RunShell(
      cli + train +
          "-o m.safetensors 2>first.err & pid=$!; "
          "for i in $(seq 3000); do [ -f m.safetensors.lock ] && break; sleep 0.1; done; " +
          cli + train +
          "-o m.safetensors; echo \"second=$?\" >&2; kill -INT $pid; wait $pid; echo \"first=$?\" >&2",
      dir);
  EXPECT_NE(r.err.find("deepik: error: m.safetensors is being written by another deepik process (pid "),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("second=3"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("first=130"), std::string::npos) << r.err;  // interrupted, checkpoint saved
  EXPECT_TRUE(std::filesystem::exists(dir.Path("m.safetensors.ckpt")));
  EXPECT_FALSE(std::filesystem::exists(dir.Path("m.safetensors.lock"))) << "the lock file is removed";
  // Another output is free to train at the same time; here, alone, it runs to the end.
  const CliResult other = RunCli(
      "train planar2 --sampler joints --count 2000 --epochs 1 --threads 1 --eval-samples 50 -o "
      "other.safetensors",
      dir);
  EXPECT_EQ(other.exit_code, kExitOk) << other.err;
}

}  // namespace
}  // namespace deepik
