// The README's figures for the shipped models, checked at the precision it states: the test
// takes the command from the README itself, runs it, and compares what it measures with the text.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>

#include "cli_util.hpp"

namespace deepik {
namespace {

using testing::ReadFile;
using testing::RunCli;
using testing::TempDir;

// The paragraph after the README's "Network alone and refined" sentence: the command in its sh
// block and the figures in the text below it.
struct Claim {
  std::string command;  // after "build/deepik "
  double median_mm, p95_mm, p99_mm, share_1cm_percent;
  int limit_violations;
  double refined_tolerance_m, refined_max_nm, refined_median_nm;
};

Claim ReadClaim() {
  const std::string readme = ReadFile(std::string(DEEPIK_SOURCE_DIR) + "/README.md");
  const size_t at = readme.find("Network alone and refined, on 10,000 unseen in-reach targets");
  if (at == std::string::npos) throw std::runtime_error("README: the claim's paragraph is missing");
  const std::string text = readme.substr(at, 1200);
  std::smatch m;
  Claim c{};
  if (!std::regex_search(text, m, std::regex("\nbuild/deepik ([^\n]+)\n")))
    throw std::runtime_error("no command");
  c.command = m[1];
  const std::regex figures(
      "network alone: median ([0-9.]+) mm, p95 ([0-9.]+) mm, p99 ([0-9.]+) mm, ([0-9.]+) % within 1 cm, "
      "([0-9]+) limit violations");
  if (!std::regex_search(text, m, figures)) throw std::runtime_error("README: no network figures");
  c.median_mm = std::stod(m[1]);
  c.p95_mm = std::stod(m[2]);
  c.p99_mm = std::stod(m[3]);
  c.share_1cm_percent = std::stod(m[4]);
  c.limit_violations = std::stoi(m[5]);
  const std::regex refined(
      "reached to within ([0-9.e-]+) m, the refinement's tolerance[^;]*; measured: max ([0-9.]+) nm, "
      "median ([0-9.]+) nm");
  if (!std::regex_search(text, m, refined)) throw std::runtime_error("README: no refined figures");
  c.refined_tolerance_m = std::stod(m[1]);
  c.refined_max_nm = std::stod(m[2]);
  c.refined_median_nm = std::stod(m[3]);
  return c;
}

// Half a unit in the last digit the README prints: "3.85" -> 0.005.
double HalfLastDigit(double value) {
  const std::string text = [&] {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%g", value);
    return std::string(buffer);
  }();
  const size_t dot = text.find('.');
  const int decimals = dot == std::string::npos ? 0 : static_cast<int>(text.size() - dot - 1);
  return 0.5 * std::pow(10.0, -decimals);
}

TEST(ReadmeClaims, ShippedSeedModelFiguresAreWhatTheReadmesCommandMeasures) {
  const Claim claim = ReadClaim();
  TempDir dir;
  // The README's command runs from the repository root; here with the model's absolute path.
  std::string args =
      std::regex_replace(claim.command, std::regex("models/"), std::string(DEEPIK_SOURCE_DIR) + "/models/");
  const testing::CliResult r = RunCli(args + " --json report.json", dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json report = nlohmann::json::parse(ReadFile(dir.Path("report.json")));
  ASSERT_EQ(report["in_reach_targets"], 10000);
  const nlohmann::json& network = report["solvers"][0];
  const nlohmann::json& refined = report["solvers"][1];
  ASSERT_EQ(network["solver"], "network");
  ASSERT_EQ(refined["solver"], "refined");
  const nlohmann::json& n = network["in_reach"];
  const auto expect_printed = [](double measured, double claimed, const char* what) {
    EXPECT_NEAR(measured, claimed, HalfLastDigit(claimed) * (1 + 1e-9)) << what;
  };
  expect_printed(1e3 * n["median_m"].get<double>(), claim.median_mm, "network median (mm)");
  expect_printed(1e3 * n["p95_m"].get<double>(), claim.p95_mm, "network p95 (mm)");
  expect_printed(1e3 * n["p99_m"].get<double>(), claim.p99_mm, "network p99 (mm)");
  expect_printed(100 * n["share_within_1cm"].get<double>(), claim.share_1cm_percent, "share within 1 cm (%)");
  EXPECT_EQ(network["limit_violations"].get<int>(), claim.limit_violations);
  const nlohmann::json& f = refined["in_reach"];
  EXPECT_LE(f["max_m"].get<double>(), claim.refined_tolerance_m);
  expect_printed(1e9 * f["max_m"].get<double>(), claim.refined_max_nm, "refined max (nm)");
  expect_printed(1e9 * f["median_m"].get<double>(), claim.refined_median_nm, "refined median (nm)");
  EXPECT_EQ(refined["limit_violations"].get<int>(), 0);
}

// The words of a shell command split over lines with backslashes.
std::string Words(std::string command) {
  command = std::regex_replace(command, std::regex("\\\\\n"), " ");
  return std::regex_replace(std::regex_replace(command, std::regex("[ \t]+"), " "), std::regex("^ | $"), "");
}

// scripts/demo.sh trains the default model when it is missing with the README's command (the one
// that made the shipped file), not with an older recipe.
TEST(ReadmeClaims, DemoScriptTrainsTheDefaultModelWithTheReadmesCommand) {
  const std::string readme = ReadFile(std::string(DEEPIK_SOURCE_DIR) + "/README.md");
  const std::string demo = ReadFile(std::string(DEEPIK_SOURCE_DIR) + "/scripts/demo.sh");
  std::smatch m;
  const std::string section = readme.substr(readme.find("### The default model"));
  ASSERT_TRUE(std::regex_search(section, m, std::regex("```sh\n(build/deepik train [^`]*?)\n```")));
  const std::string documented = Words(m[1]);
  ASSERT_TRUE(std::regex_search(demo, m, std::regex("\n *(build/deepik train (?:[^\n\\\\]|\\\\\n)*)")));
  const std::string script =
      std::regex_replace(Words(m[1]), std::regex("\"\\$model\""), "models/seed-default.safetensors");
  EXPECT_EQ(script, documented);
}

// The README's table of shipped pose models: each row names the model file and the figures that
// `deepik eval --model FILE` (the command above the table: 10,000 unseen poses, seed 2024) prints.
TEST(ReadmeClaims, ShippedPoseModelFiguresAreWhatEvalMeasures) {
  const std::string readme = ReadFile(std::string(DEEPIK_SOURCE_DIR) + "/README.md");
  const size_t at = readme.find("### Shipped pose models");
  ASSERT_NE(at, std::string::npos) << "README: the pose models' section is missing";
  const std::string text = readme.substr(at, 4000);
  ASSERT_NE(text.find("\nbuild/deepik eval --model models/ARM-pose.safetensors\n"), std::string::npos);
  const std::regex row(
      "\\| [a-z0-9]+ [^|]*\\| `(models/[a-z0-9]+-pose\\.safetensors)` \\|[^|]*\\| ([0-9.]+) / ([0-9.]+) / "
      "([0-9.]+) \\| ([0-9.]+) / ([0-9.]+) / ([0-9.]+) \\|");
  int rows = 0;
  for (std::sregex_iterator it(text.begin(), text.end(), row), end; it != end; ++it, ++rows) {
    const std::smatch& m = *it;
    SCOPED_TRACE(m[1].str());
    TempDir dir;
    const testing::CliResult r = RunCli(
        "eval --model '" + std::string(DEEPIK_SOURCE_DIR) + "/" + m[1].str() + "' --json report.json", dir);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const nlohmann::json report = nlohmann::json::parse(ReadFile(dir.Path("report.json")));
    ASSERT_EQ(report["count"], 10000);
    EXPECT_EQ(report["limit_violations"], 0);
    const double kDeg = 180.0 / 3.14159265358979323846;
    const double measured[] = {1e3 * report["position_m"]["median"].get<double>(),
                               1e3 * report["position_m"]["p95"].get<double>(),
                               1e3 * report["position_m"]["p99"].get<double>(),
                               kDeg * report["angle_rad"]["median"].get<double>(),
                               kDeg * report["angle_rad"]["p95"].get<double>(),
                               kDeg * report["angle_rad"]["p99"].get<double>()};
    for (int k = 0; k < 6; ++k) {
      const double claimed = std::stod(m[2 + k]);
      EXPECT_NEAR(measured[k], claimed, HalfLastDigit(claimed) * (1 + 1e-9)) << "column " << k;
    }
  }
  EXPECT_EQ(rows, 3) << "expected rows for panda, ur5 and iiwa14";
}

// The README's web section quotes the default model's figures: its headline (the "Network alone
// and refined" claim above, itself measured) and the whole-split validation median of the file's
// last epoch, which the page's curve shows.
TEST(ReadmeClaims, WebSectionQuotesTheDefaultModelsFigures) {
  const std::string readme = ReadFile(std::string(DEEPIK_SOURCE_DIR) + "/README.md");
  std::smatch m;
  ASSERT_TRUE(
      std::regex_search(readme, m,
                        std::regex("out\\s+of\\s+reach\\s+\\(about\\s+([0-9]+)\\s+mm\\s+for\\s+the\\s+"
                                   "default\\s+model\\),\\s+not\\s+the\\s+headline\\s+figure\\s+\\(([0-9.]+)"
                                   "\\s+mm")))
      << "README: the web section's figures are missing";
  const int whole_split_mm = std::stoi(m[1]);
  const std::string headline = m[2];
  EXPECT_EQ(std::stod(headline), ReadClaim().median_mm) << "the headline must be the measured claim's";
  // The model file's metadata: 8-byte header length, then the header's JSON.
  const std::string bytes = ReadFile(testing::kSeedModel);
  uint64_t length = 0;
  for (int i = 7; i >= 0; --i)
    length = (length << 8) | static_cast<unsigned char>(bytes[static_cast<size_t>(i)]);
  const nlohmann::json header = nlohmann::json::parse(bytes.substr(8, length));
  const nlohmann::json history = nlohmann::json::parse(header["__metadata__"]["history"].get<std::string>());
  ASSERT_FALSE(history.empty());
  EXPECT_EQ(whole_split_mm, std::lround(1e3 * history.back()["validation_median"].get<double>()));
}

// demo.sh's estimate of the training time is the README's measured time of that command, rounded
// to whole minutes.
TEST(ReadmeClaims, DemoScriptsTrainingTimeIsTheReadmesMeasuredOne) {
  const std::string readme = ReadFile(std::string(DEEPIK_SOURCE_DIR) + "/README.md");
  const std::string demo = ReadFile(std::string(DEEPIK_SOURCE_DIR) + "/scripts/demo.sh");
  std::smatch m;
  ASSERT_TRUE(
      std::regex_search(readme, m, std::regex("was made by this command, in ([0-9]+) min ([0-9]+) s")));
  const int seconds = 60 * std::stoi(m[1]) + std::stoi(m[2]);
  ASSERT_TRUE(std::regex_search(demo, m, std::regex("training it \\(about ([0-9]+) minutes")));
  EXPECT_EQ(std::stoi(m[1]), std::lround(seconds / 60.0)) << "README measured " << seconds << " s";
}

}  // namespace
}  // namespace deepik
