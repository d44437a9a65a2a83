#include "deepik/learn/blas_check.hpp"

#include <ATen/Parallel.h>
#include <dlfcn.h>

#include <climits>
#include <cstdlib>
#include <ostream>

namespace deepik {
namespace {

// The resolved path of the shared object that holds `address`, or empty.
std::string LibraryOf(void* address, void** base) {
  Dl_info info{};
  if (address == nullptr || dladdr(address, &info) == 0 || info.dli_fname == nullptr) return {};
  if (base != nullptr) *base = info.dli_fbase;
  char resolved[PATH_MAX];
  if (realpath(info.dli_fname, resolved) == nullptr) return info.dli_fname;
  return resolved;
}

}  // namespace

BlasInfo DetectBlas() {
  // Calling into libtorch keeps it a dependency of libdeepik (even with --as-needed), so the BLAS
  // it links is loaded by the time we look for sgemm_.
  (void)at::get_num_threads();

  BlasInfo result;
  void* blas_base = nullptr;
  result.library_path = LibraryOf(dlsym(RTLD_DEFAULT, "sgemm_"), &blas_base);
  if (result.library_path.empty()) return result;
  if (result.library_path.find("openblas") != std::string::npos) {
    result.is_openblas = true;
  } else {
    // OpenBLAS under another file name (e.g. a custom build installed as libblas.so.3).
    void* config_base = nullptr;
    LibraryOf(dlsym(RTLD_DEFAULT, "openblas_get_config"), &config_base);
    result.is_openblas = config_base != nullptr && config_base == blas_base;
  }
  return result;
}

bool WarnIfSlowBlas(std::ostream& err) {
  const BlasInfo blas = DetectBlas();
  if (blas.is_openblas) return true;
  const std::string what = blas.library_path.empty() ? std::string("an unknown BLAS (no sgemm_ found)")
                                                     : "the reference BLAS (" + blas.library_path + ")";
  err << "deepik: WARNING: libtorch is using " << what
      << ", which trains ~50x slower. Install OpenBLAS: sudo apt-get install libopenblas0-pthread\n";
  return false;
}

}  // namespace deepik
