// Option values that cannot be meant are usage errors before any work starts (train's are parsed
// by the command itself: no libtorch runs here; train_cli_test checks what a resumed run may use).
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "cli_util.hpp"
#include "deepik/errors.hpp"

namespace deepik {
namespace {

using testing::CliResult;
using testing::kSeedModel;
using testing::RunCli;
using testing::TempDir;

bool Empty(const TempDir& dir) {
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    if (entry.path().filename().string()[0] != '.') return false;
  }
  return true;
}

struct Case {
  std::string args;
  std::string message;  // a part of the message
};

TEST(OptionsCliTest, AbsurdValuesAreUsageErrorsBeforeAnyWork) {
  const std::string m = "-m '" + kSeedModel + "'";
  const std::vector<Case> cases = {
      {"train planar2 --lr 1e300 -o m.safetensors", "--lr: expected a number in [1e-10, 1], got '1e300'"},
      {"train planar2 --lr -1 -o m.safetensors", "--lr: expected a number in [1e-10, 1], got '-1'"},
      {"train planar2 --lr nan -o m.safetensors", "--lr: expected a number in [1e-10, 1], got 'nan'"},
      {"train planar2 --lr inf -o m.safetensors", "--lr"},
      {"train planar2 --epochs 0 -o m.safetensors",
       "--epochs: expected a whole number in [1, 1000000], got '0'"},
      {"train planar2 --batch 0 -o m.safetensors", "--batch: expected a whole number in [1, 16777216]"},
      {"train planar2 --threads 0 -o m.safetensors", "--threads: expected a whole number in [1, 256]"},
      {"train planar2 --width 0 -o m.safetensors", "--width"},
      {"train planar2 --final-lr-fraction 2 -o m.safetensors", "--final-lr-fraction"},
      {"train planar2 --time-limit -5 -o m.safetensors", "--time-limit"},
      {"train planar2 --eval-samples 0 -o m.safetensors", "--eval-samples"},
      {"train planar2 --count 0 -o m.safetensors", "--count: expected a whole number in [1, 50000000]"},
      {"train planar2 --margin nan -o m.safetensors", "--margin"},
      {"experiment seed --seconds 0", "--seconds"},
      {"eval " + m + " --in-reach -1", "--in-reach: expected a whole number in [0, 1000000], got '-1'"},
      {"eval " + m + " --in-reach 1000000000000", "--in-reach: expected a whole number in [0, 1000000]"},
      {"eval " + m + " --out-of-reach 5000000", "--out-of-reach"},
      {"eval " + m + " --threads 0", "--threads: expected a whole number in [1, 256], got '0'"},
      {"bench " + m + " --count -5", "--count: expected a whole number in [1, 1000000], got '-5'"},
      {"bench " + m + " --threads 0", "--threads"},
      {"bench " + m + " --repetitions 0", "--repetitions"},
      {"solve " + m + " -i t.csv -o s.csv --threads 0", "--threads: expected a whole number in [1, 256]"},
      // Seeds: digits in [0, 2^64 - 1], never wrapped or clamped to 18446744073709551615.
      {"eval " + m + " --seed -1", "--seed: expected a whole number in [0, 18446744073709551615], got '-1'"},
      {"eval " + m + " --seed 18446744073709551616",
       "--seed: expected a whole number in [0, 18446744073709551615]"},
      {"eval " + m + " --seed 1e23",
       "--seed: expected a whole number in [0, 18446744073709551615], got '1e23'"},
      {"eval " + m + " --seed 2^64", "--seed: expected a whole number"},
      {"bench " + m + " --seed -1", "--seed: expected a whole number in [0, 18446744073709551615]"},
      {"train planar2 --seed -1 -o m.safetensors",
       "--seed: expected a whole number in [0, 18446744073709551615]"},
      {"train planar2 --data-seed 1e23 -o m.safetensors", "--data-seed: expected a whole number"},
      // Joint values: the field, the range and the value; no internal type.
      {"solve " + m + " -i t.csv -o s.csv --posture 0,nan,0,0 --posture-weight 1",
       "--posture: expected a number in [-1000, 1000], got 'nan'"},
      {"solve " + m + " -i t.csv -o s.csv --posture 0,1e300,0,0",
       "--posture: expected a number in [-1000, 1000], got '1e300'"},
      {"track seed -i t.csv -o s.csv --start inf,0,0,0",
       "--start: expected a number in [-1000, 1000], got 'inf'"},
      // eval: some targets, and outputs checked before the work.
      {"eval " + m + " --in-reach 0 --out-of-reach 0", "--in-reach, --out-of-reach: expected some targets"},
      {"eval " + m + " --json .", "--json: expected a file, got the folder '.'"},
      {"eval " + m + " --json no/such/folder/r.json", "--json: expected a file in an existing folder"},
      {"eval " + m + " --plots " + m.substr(3), "--plots: expected an existing folder"},
      {"eval " + m + " --plots missing", "--plots: expected an existing folder, got 'missing'"},
      // bench: a model or an arm, not both (the arm was silently ignored).
      {"bench " + m + " --arm panda", "--model, --arm: expected a model or an arm, not both"},
      {"bench " + m + " --arm panda --pose", "--model, --arm: expected a model or an arm, not both"},
      {"bench --arm panda", "--model: expected a model file (--arm needs --pose or --collision-free)"},
  };
  for (const Case& c : cases) {
    TempDir dir;
    const CliResult r = RunCli(c.args, dir);
    EXPECT_EQ(r.exit_code, kExitUsage) << c.args << "\n" << r.err;
    EXPECT_EQ(r.err.rfind("deepik: error: ", 0), 0u) << c.args << "\n" << r.err;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << c.args << "\n" << r.err;
    EXPECT_TRUE(r.out.empty()) << c.args << "\n" << r.out;
    EXPECT_TRUE(Empty(dir)) << "files were written: " << c.args;
  }
}

TEST(OptionsCliTest, TheLimitsThemselvesAreAccepted) {
  TempDir dir;
  const CliResult r = RunCli("bench -m '" + kSeedModel +
                                 "' --solvers analytic --count 1 --warmup 0 --repetitions 1 "
                                 "--threads 256",
                             dir);
  EXPECT_EQ(r.exit_code, kExitOk) << r.err;
  EXPECT_NE(r.out.find("| analytic |"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace deepik
