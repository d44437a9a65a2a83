// ReadNumericCsv on arbitrary file content. The first byte picks the expected column count
// (-1 = any, 0..6); the rest is the file.
#include <cmath>

#include "deepik/data/csv.hpp"
#include "fuzz_util.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const int expected_columns = static_cast<int>(data[0] % 8) - 1;
  const std::string& path = deepik_fuzz::ScratchPath(".csv");
  deepik_fuzz::WriteFile(path, data + 1, size - 1);
  deepik_fuzz::ExpectOnlyInputErrors([&] {
    const deepik::NumericCsv table = deepik::ReadNumericCsv(path, expected_columns);
    // A table that is returned keeps the promises of csv.hpp.
    const size_t columns =
        expected_columns >= 0 ? static_cast<size_t>(expected_columns) : table.header.size();
    if (expected_columns >= 0 && table.header.size() != columns) deepik_fuzz::Fail("header width");
    if (table.line_numbers.size() != table.rows.size()) deepik_fuzz::Fail("one line number per row");
    int previous_line = 1;  // the header is on line 1 or later
    for (size_t r = 0; r < table.rows.size(); ++r) {
      if (table.rows[r].size() != columns) deepik_fuzz::Fail("row " + std::to_string(r) + " width");
      for (double v : table.rows[r]) {
        if (!std::isfinite(v)) deepik_fuzz::Fail("non-finite value returned");
      }
      if (table.line_numbers[r] <= previous_line)
        deepik_fuzz::Fail("line numbers not increasing after the header");
      previous_line = table.line_numbers[r];
    }
  });
  return 0;
}
