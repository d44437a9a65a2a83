// Numeric CSV files with a header line, and output files that appear whole or not at all.
#pragma once

#include <cstdint>
#include <fstream>
#include <limits>
#include <memory>
#include <streambuf>
#include <string>
#include <string_view>
#include <vector>

namespace deepik {

/// What a numeric CSV file must hold: its header and its values.
struct CsvColumns {
  /// Columns of every row; negative = as many as the header has. Ignored when `names` is given.
  int count = -1;
  /// When non-empty, the header must be exactly these names (after trimming blanks), in order.
  std::vector<std::string> names;
  /// When non-empty (and `names` is empty), the header must be one of these (e.g. a position or a
  /// pose header); rows are as wide as the header found. Decided from the header line as it is
  /// read, so the input is read once (a pipe works).
  std::vector<std::vector<std::string>> one_of;
  /// Values with a larger magnitude are bad fields (e.g. 1e4 m for targets, as the JSON API).
  double max_magnitude = std::numeric_limits<double>::infinity();
};

/// Rows per block when a command streams a CSV file: large enough to amortise the per-block work
/// (thread start-up in `solve`), small enough to keep memory in the megabytes.
inline constexpr size_t kCsvChunkRows = 65536;

/// Coordinates beyond this (m) are refused in target files, as in the JSON API: no arm is
/// kilometres long, and huge values only probe the solvers' numerics.
inline constexpr double kMaxTargetCoordinate = 1e4;

/// Quaternions typed by hand (target files) are accepted when their norm is within this of 1, and
/// normalised: (0.707, 0, 0.707, 0) is a quarter turn. Beyond it a row is refused, since a norm that
/// far off is more likely a wrong column than rounding.
inline constexpr double kTypedQuaternionNormTolerance = 1e-2;

/// A numeric table read from a CSV file: a header line, then one row of numbers per line.
struct NumericCsv {
  std::vector<std::string> header;
  std::vector<std::vector<double>> rows;
  std::vector<int64_t> line_numbers;  ///< 1-based line of each row in the file
};

/// A block of consecutive good rows, row-major.
struct NumericRows {
  int columns = 0;
  std::vector<double> values;         ///< size() x columns values
  std::vector<int64_t> line_numbers;  ///< 1-based line of each row in the file
  size_t size() const { return line_numbers.size(); }
  const double* row(size_t i) const { return values.data() + i * static_cast<size_t>(columns); }
};

/// The path that names standard input (for a reader) or standard output (for a writer): "-".
inline constexpr std::string_view kStandardStream = "-";

/// Reads a numeric CSV file a block of rows at a time, so that files of any length are handled in
/// bounded memory. The rules (shared by ReadNumericCsv):
/// - the first non-empty line is the header; a UTF-8 byte order mark before it is skipped. A header
///   with a number among its fields is refused (a file without a header line would otherwise lose
///   its first row), as is one that differs from `CsvColumns::names` or has the wrong column count;
/// - every later non-empty line is a row of finite numbers within `max_magnitude`, with the
///   header's column count; '\r' line ends and blanks around fields are accepted.
/// Bad rows are reported all together (file, line and column of up to 10, and their count) once
/// the whole file has been read: after the first bad row ReadChunk() returns no more rows, reads on
/// to the end and throws, so a caller that writes each block as it comes never commits a partial
/// result (write through AtomicFileWriter and commit after the last block).
class NumericCsvReader {
 public:
  /// Opens the file and reads the header. The path "-" reads standard input (from where it stands,
  /// never reopened; messages call it "stdin").
  /// @throws InputError naming the file when it is missing, a directory, unreadable, empty, or its
  ///         header is refused (see the class comment).
  NumericCsvReader(std::string path, const CsvColumns& columns);

  /// The header's fields, trimmed, without a byte order mark.
  const std::vector<std::string>& header() const { return header_; }
  /// The column count of every row.
  int columns() const { return columns_; }

  /// Replaces `rows` with the next good rows, at most `max_rows` (>= 1). Returns false, with
  /// `rows` empty, at the end of a file without bad rows.
  /// @throws InputError listing the bad rows (file, line, column, what is wrong) at the end of a
  ///         file that has any; no rows are returned from the first bad row on.
  bool ReadChunk(size_t max_rows, NumericRows* rows);

 private:
  // Parses one line into `rows`; false (and a problem recorded) when it is bad.
  bool ParseRow(const std::string& line, NumericRows* rows);
  void Report(int64_t line, const std::string& message);
  [[noreturn]] void ThrowProblems() const;

  std::istream& in() { return stdin_ ? *stdin_ : file_; }

  std::string path_;
  CsvColumns spec_;
  std::ifstream file_;
  std::unique_ptr<std::streambuf> stdin_buffer_;  // reads file descriptor 0 for "-"
  std::unique_ptr<std::istream> stdin_;           // over stdin_buffer_; null for a file
  std::vector<std::string> header_;
  int columns_ = 0;
  int64_t line_number_ = 0;
  int64_t problem_count_ = 0;
  std::vector<std::string> problems_;     // the first 10, with file and line
  std::vector<std::string_view> fields_;  // of the current line; kept to reuse its storage
};

/// Reads a whole CSV file by the rules of NumericCsvReader (for small files: every row is kept).
/// @throws InputError as NumericCsvReader does.
NumericCsv ReadNumericCsv(const std::string& path, const CsvColumns& columns);

/// Reads a CSV file whose rows all have `expected_columns` finite numbers (any column count when
/// negative), by the rules of NumericCsvReader.
NumericCsv ReadNumericCsv(const std::string& path, int expected_columns);

/// Removes every temporary file an AtomicFileWriter is writing now. Async-signal-safe: for the
/// command's signal handlers, so that an interrupted command leaves no temporary file behind.
void RemovePendingTemporaryFiles() noexcept;

/// Writes an output that appears whole or not at all: the content goes to a temporary sibling
/// that is renamed over `path` on Commit(), so that readers and interrupted runs never see a
/// half-written file, and the previous file stays until the new one is complete. Without Commit()
/// the temporary file is removed and `path` is untouched.
/// - The temporary file is created with O_EXCL under an unpredictable name
///   (`NAME.tmp.` + 10 random characters, NAME shortened when the whole would pass 255 bytes) in
///   the folder of the file that receives the content, so a file or link planted there is never
///   followed or overwritten.
/// - A symbolic link is written through: the file it names (following a chain of links) is
///   replaced, and the link stays. A link to a file that does not exist yet (dangling) is written
///   through too: the file it names is created, as the shell's `>` does.
/// - "-" is standard output, written in order where it stands and never reopened; so is a path
///   under /dev or /proc that is standard output or standard error (/dev/stdout, /dev/fd/1). These
///   and any other path that is not a regular file (a device such as /dev/null, a pipe) are
///   written directly, never replaced: what was written before an error stays written there.
/// - A regular file anywhere (tmpfs such as /dev/shm included) goes through the temporary file.
class AtomicFileWriter {
 public:
  /// @throws InputError when `path` is a directory or the temporary file cannot be created.
  explicit AtomicFileWriter(std::string path);
  ~AtomicFileWriter();
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;

  std::ostream& stream() { return *out_; }
  /// Flushes, closes and renames into place.
  /// @throws InputError when writing (a full disk, a closed pipe) or renaming fails.
  void Commit();

 private:
  void OpenDirect();
  void OpenTemporary();

  std::string path_;       // as given, for messages
  std::string target_;     // the regular file that receives the content (links resolved)
  std::string temp_path_;  // empty when writing directly
  int fd_ = -1;            // the file written (-1 for standard output and error)
  std::unique_ptr<std::streambuf> buffer_;
  std::unique_ptr<std::ostream> own_stream_;
  std::ostream* out_ = nullptr;
  bool committed_ = false;
};

/// One file a command reads or writes, as named on its command line.
struct NamedPath {
  std::string option;  ///< e.g. "--model"
  std::string path;    ///< "-": standard input (an input) or standard output (an output)
};

/// Refuses any output that is the same file as any input (same device and inode, so through
/// symbolic and hard links; "-" compares standard input or output). Outputs that do not exist yet
/// are distinct from everything.
/// @throws InputError naming both options and paths.
void CheckOutputsAreNotInputs(const std::vector<NamedPath>& inputs, const std::vector<NamedPath>& outputs);

/// Refuses an output path that names the input file (directly or through links), before the
/// output would destroy the input.
/// @throws InputError naming both options.
void CheckDistinctFiles(const std::string& input_path, const std::string& output_path);

/// The shortest decimal text that reads back as exactly `value`.
std::string FormatDouble(double value);

}  // namespace deepik
