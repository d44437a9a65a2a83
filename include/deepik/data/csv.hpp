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
/// file is removed and `path` is untouched. A symbolic link is written through (the temporary
/// file goes beside the file it names, and the link stays); a path that is not a regular file
/// (a device such as /dev/null, a pipe, anything under /dev or /proc) is written directly,
/// never replaced.
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
  std::string path_;       // as given, for messages
  std::string target_;     // the regular file that receives the content (links resolved)
  std::string temp_path_;  // empty when writing directly
  std::ofstream out_;
  bool committed_ = false;
};

/// Refuses an output path that names the input file (directly or through links), before the
/// output would destroy the input.
/// @throws InputError naming both options.
void CheckDistinctFiles(const std::string& input_path, const std::string& output_path);

/// The shortest decimal text that reads back as exactly `value`.
std::string FormatDouble(double value);

}  // namespace deepik
