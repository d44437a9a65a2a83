// Helpers shared by the tests: seeded random configurations and temporary folders.
#pragma once

#include <unistd.h>

#include <Eigen/Core>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "deepik/kinematics/chain.hpp"
#include "deepik/kinematics/dh.hpp"

namespace deepik::testing {

/// Uniform random joint values within the chain's limits.
template <typename Rng>
Eigen::VectorXd RandomConfiguration(const Chain& chain, Rng* rng) {
  Eigen::VectorXd q(chain.num_joints());
  for (int i = 0; i < chain.num_joints(); ++i) {
    std::uniform_real_distribution<double> u(chain.joint(i).lower, chain.joint(i).upper);
    q[i] = u(*rng);
  }
  return q;
}

/// A fresh, empty folder under the system's temporary directory, removed when it goes out of scope.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "deepik_test_XXXXXX").string();
    path_ = ::mkdtemp(pattern.data());
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string Path(const std::string& name) const { return (path_ / name).string(); }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

/// The whole content of a file, as bytes.
inline std::string ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

/// Replaces a file's content with `bytes`.
inline void WriteBytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// A Puma 560 from its standard DH table (a DH arm unlike the built-in ones).
inline Chain MakePumaDh() {
  const double a[] = {0, 0.4318, 0.0203, 0, 0, 0};
  const double d[] = {0, 0, 0.15005, 0.4318, 0, 0};
  const double h = 3.14159265358979323846 / 2;  // 90 deg
  const double alpha[] = {h, 0, -h, h, -h, 0};
  const double lower[] = {-2.79, -3.93, -0.79, -1.92, -1.75, -4.64};
  const double upper[] = {2.79, 0.79, 3.93, 2.97, 1.75, 4.64};
  std::vector<DhRow> rows;
  for (int i = 0; i < 6; ++i) {
    rows.push_back(DhRow{"j" + std::to_string(i + 1), JointType::kRevolute, a[i], alpha[i], d[i], 0.0,
                         lower[i], upper[i]});
  }
  return ChainFromDh("puma_dh", DhConvention::kStandard, rows);
}

inline std::string RobotFile(const std::string& file) { return std::string(DEEPIK_ROBOTS_DIR) + "/" + file; }

}  // namespace deepik::testing
