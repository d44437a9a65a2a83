// The range of an option's values, defined once: the library's IsValid, the command line's
// --help and checks (apps/cli.hpp: NumberIn, WholeNumberIn), Python and the JSON API all read the
// same constant and print it the same way ("[1e-10, 1]").
#pragma once

#include <cmath>
#include <cstdint>
#include <string>

#include "deepik/data/csv.hpp"

namespace deepik {

/// A closed range [min, max] of a real option (finite bounds: NaN and infinities are never inside).
struct NumberRange {
  double min = 0;
  double max = 0;
  constexpr bool Contains(double value) const { return value >= min && value <= max; }
  /// "[1e-10, 1]", with FormatDouble's shortest round-trip digits.
  std::string Text() const { return "[" + FormatDouble(min) + ", " + FormatDouble(max) + "]"; }
  /// "FIELD: expected a number in [min, max], got VALUE": the one wording of a refusal.
  std::string Refusal(const std::string& field, double value) const {
    return field + ": expected a number in " + Text() + ", got " + FormatDouble(value);
  }
};

/// A closed range [min, max] of a whole-number option.
struct WholeRange {
  int64_t min = 0;
  int64_t max = 0;
  constexpr bool Contains(int64_t value) const { return value >= min && value <= max; }
  std::string Text() const { return "[" + std::to_string(min) + ", " + std::to_string(max) + "]"; }
  /// "FIELD: expected a whole number in [min, max], got VALUE".
  std::string Refusal(const std::string& field, int64_t value) const {
    return field + ": expected a whole number in " + Text() + ", got " + std::to_string(value);
  }
};

/// Every thread-count option (solve, eval, bench, train, train --nproc, serve, Python): more
/// threads than any machine gives is a typo.
inline constexpr WholeRange kThreadRange{1, 256};

}  // namespace deepik
