// Numeric CSV files with a header line, and output files that appear whole or not at all.
#pragma once

#include <fstream>
#include <string>
#include <vector>

namespace deepik {

/// A numeric table read from a CSV file: a header line, then one row of numbers per line.
struct NumericCsv {
  std::vector<std::string> header;
  std::vector<std::vector<double>> rows;
  std::vector<int> line_numbers;  ///< 1-based line of each row in the file
};

/// Reads a CSV file whose rows all have `expected_columns` finite numbers (any column count when
/// negative). Empty lines and a trailing newline are skipped; '\r' line ends are accepted.
/// @throws InputError naming the file, the line and the column of every bad row (up to 10 are
///         listed): a missing file, no header, a wrong column count, text in a number field, NaN
///         or infinity.
NumericCsv ReadNumericCsv(const std::string& path, int expected_columns);

/// Writes a file through a temporary sibling that is renamed over `path` on Commit(), so that
/// readers and interrupted runs never see a half-written file. Without Commit() the temporary
/// file is removed and `path` is untouched.
class AtomicFileWriter {
 public:
  /// @throws InputError when the temporary file cannot be created.
  explicit AtomicFileWriter(std::string path);
  ~AtomicFileWriter();
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;

  std::ofstream& stream() { return out_; }
  /// Flushes, closes and renames into place.
  /// @throws InputError when writing or renaming fails.
  void Commit();

 private:
  std::string path_;
  std::string temp_path_;
  std::ofstream out_;
  bool committed_ = false;
};

/// The shortest decimal text that reads back as exactly `value`.
std::string FormatDouble(double value);

}  // namespace deepik
