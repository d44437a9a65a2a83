// Start-up guard against libtorch running on the slow reference BLAS.
#pragma once

#include <iosfwd>
#include <string>

namespace deepik {

/// Which BLAS library serves sgemm_ in this process (the one libtorch calls).
struct BlasInfo {
  std::string library_path;  ///< resolved path of the library providing sgemm_, or empty
  bool is_openblas = false;  ///< true when that library is OpenBLAS
};

/// Looks up the BLAS library loaded into this process.
BlasInfo DetectBlas();

/// Writes a loud warning to `err` naming the package to install (libopenblas0-pthread) when the
/// BLAS is not OpenBLAS. Returns true when the BLAS is fine.
bool WarnIfSlowBlas(std::ostream& err);

}  // namespace deepik
