// The BLAS guard: on this machine libtorch must run on OpenBLAS.
#include "deepik/learn/blas_check.hpp"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <sstream>

namespace deepik {
namespace {

// Meant to fail when libopenblas0-pthread is missing: training would then be ~50x slower.
TEST(BlasCheckTest, LibtorchUsesOpenBlas) {
  const BlasInfo blas = DetectBlas();
  ASSERT_FALSE(blas.library_path.empty()) << "no library provides sgemm_";
  EXPECT_TRUE(std::filesystem::exists(blas.library_path)) << blas.library_path;
  EXPECT_TRUE(blas.is_openblas) << "libtorch's BLAS is " << blas.library_path
                                << "; install OpenBLAS: sudo apt-get install libopenblas0-pthread";
}

TEST(BlasCheckTest, NoWarningWithOpenBlas) {
  std::ostringstream err;
  EXPECT_TRUE(WarnIfSlowBlas(err));
  EXPECT_EQ(err.str(), "");
}

TEST(BlasCheckTest, TorchMatmulRuns) {
  torch::manual_seed(0);
  const torch::Tensor a = torch::randn({512, 512}, torch::kFloat32);
  const torch::Tensor b = torch::randn({512, 512}, torch::kFloat32);
  const torch::Tensor c = torch::matmul(a, b);
  ASSERT_EQ(c.sizes(), torch::IntArrayRef({512, 512}));
  EXPECT_TRUE(torch::isfinite(c).all().item<bool>());
  // One entry against a plain dot product.
  const double expected = (a[3] * b.select(1, 5)).sum().item<double>();
  EXPECT_NEAR(c[3][5].item<double>(), expected, 1e-3);
}

}  // namespace
}  // namespace deepik
