#include "deepik/data/csv.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string_view>
#include <system_error>

#include "deepik/errors.hpp"

namespace deepik {
namespace {

std::string_view Trim(std::string_view text) {
  const size_t first = text.find_first_not_of(" \t\r");
  if (first == std::string_view::npos) return {};
  const size_t last = text.find_last_not_of(" \t\r");
  return text.substr(first, last - first + 1);
}

// The fields between commas ("a,,b," has four), trimmed.
void SplitFields(std::string_view line, std::vector<std::string_view>* fields) {
  fields->clear();
  size_t start = 0;
  while (true) {
    const size_t comma = line.find(',', start);
    fields->push_back(Trim(line.substr(start, comma == std::string_view::npos ? comma : comma - start)));
    if (comma == std::string_view::npos) return;
    start = comma + 1;
  }
}

// True when the whole (trimmed) field reads as a number, NaN and infinity included.
bool ReadsAsNumber(std::string_view field, double* value) {
  if (field.empty()) return false;
  const char* begin = field.data();
  const char* end = field.data() + field.size();
  if (*begin == '+') ++begin;
  const auto [stop, error] = std::from_chars(begin, end, *value);
  return error == std::errc() && stop == end;
}

// Parses one field; returns an empty string on success, else what is wrong with it.
std::string ParseNumber(std::string_view field, double max_magnitude, double* value) {
  if (field.empty()) return "expected a number, got an empty field";
  if (!ReadsAsNumber(field, value)) return "expected a number, got '" + std::string(field) + "'";
  if (!std::isfinite(*value)) return "expected a finite number, got '" + std::string(field) + "'";
  if (std::abs(*value) > max_magnitude) {
    return "expected a value within +-" + FormatDouble(max_magnitude) + ", got '" + std::string(field) + "'";
  }
  return "";
}

std::string Joined(const std::vector<std::string>& names) {
  std::string text;
  for (const std::string& name : names) text += (text.empty() ? "" : ",") + name;
  return text;
}

// A line as quoted in a message: at most 60 characters.
std::string Quoted(std::string_view line) {
  line = Trim(line);
  return "'" + std::string(line.substr(0, 60)) + (line.size() > 60 ? "...'" : "'");
}

constexpr std::string_view kUtf8ByteOrderMark = "\xEF\xBB\xBF";

}  // namespace

NumericCsvReader::NumericCsvReader(std::string path, const CsvColumns& columns)
    : path_(std::move(path)), spec_(columns) {
  std::error_code error;
  if (std::filesystem::is_directory(path_, error)) {
    throw InputError(path_ + ": cannot read: it is a directory, not a CSV file");
  }
  errno = 0;
  in_.open(path_, std::ios::binary);
  if (!in_) {
    throw InputError(path_ + ": cannot open the file" +
                     (errno != 0 ? std::string(" (") + std::strerror(errno) + ")" : ""));
  }
  std::string line;
  while (std::getline(in_, line)) {
    ++line_number_;
    if (line_number_ == 1 && line.compare(0, kUtf8ByteOrderMark.size(), kUtf8ByteOrderMark) == 0) {
      line.erase(0, kUtf8ByteOrderMark.size());
    }
    if (!Trim(line).empty()) break;
  }
  if (in_.bad()) throw InputError(path_ + ": reading failed (" + std::strerror(errno) + ")");
  if (Trim(line).empty()) throw InputError(path_ + ": expected a header line, got an empty file");
  std::vector<std::string_view> fields;
  SplitFields(line, &fields);
  for (std::string_view field : fields) header_.emplace_back(field);
  const std::string where = path_ + ":" + std::to_string(line_number_) + ": ";
  double number = 0;
  const bool numbers = std::any_of(fields.begin(), fields.end(),
                                   [&](std::string_view f) { return ReadsAsNumber(f, &number); });
  const std::string no_header =
      numbers ? " (a row of numbers: the first line must be the header, or the first row would be lost)" : "";
  if (!spec_.names.empty()) {
    if (header_ != spec_.names) {
      throw InputError(where + "expected the header " + Joined(spec_.names) + ", got " + Quoted(line) +
                       no_header);
    }
  } else if (!spec_.one_of.empty()) {
    if (std::find(spec_.one_of.begin(), spec_.one_of.end(), header_) == spec_.one_of.end()) {
      std::string expected;
      for (const std::vector<std::string>& names : spec_.one_of) {
        expected += (expected.empty() ? "" : " or ") + Joined(names);
      }
      throw InputError(where + "expected the header " + expected + ", got " + Quoted(line) + no_header);
    }
  } else if (numbers) {
    throw InputError(where + "expected a header line of column names, got " + Quoted(line) + no_header);
  }
  columns_ = !spec_.names.empty() ? static_cast<int>(spec_.names.size())
             : spec_.count >= 0   ? spec_.count
                                  : static_cast<int>(header_.size());
  if (static_cast<int>(header_.size()) != columns_) {
    throw InputError(where + "header: expected " + std::to_string(columns_) + " columns, got " +
                     std::to_string(header_.size()) + " (" + Quoted(line) + ")");
  }
}

void NumericCsvReader::Report(int64_t line, const std::string& message) {
  ++problem_count_;
  if (problems_.size() < 10) problems_.push_back(path_ + ":" + std::to_string(line) + ": " + message);
}

void NumericCsvReader::ThrowProblems() const {
  std::string message =
      std::to_string(problem_count_) + " bad row" + (problem_count_ > 1 ? "s" : "") + " in " + path_;
  for (const std::string& problem : problems_) message += "\n  " + problem;
  if (problem_count_ > static_cast<int64_t>(problems_.size())) message += "\n  ...";
  throw InputError(message);
}

bool NumericCsvReader::ParseRow(const std::string& line, NumericRows* rows) {
  std::vector<std::string_view>& fields = fields_;
  SplitFields(line, &fields);
  if (static_cast<int>(fields.size()) != columns_) {
    Report(line_number_,
           "expected " + std::to_string(columns_) + " columns, got " + std::to_string(fields.size()));
    return false;
  }
  const size_t first = rows->values.size();
  rows->values.resize(first + fields.size());
  for (size_t c = 0; c < fields.size(); ++c) {
    const std::string problem = ParseNumber(fields[c], spec_.max_magnitude, &rows->values[first + c]);
    if (!problem.empty()) {
      rows->values.resize(first);
      std::string column = "column " + std::to_string(c + 1);
      if (c < header_.size() && !header_[c].empty()) column += " (" + header_[c] + ")";
      Report(line_number_, column + ": " + problem);
      return false;
    }
  }
  rows->line_numbers.push_back(line_number_);
  return true;
}

bool NumericCsvReader::ReadChunk(size_t max_rows, NumericRows* rows) {
  rows->columns = columns_;
  rows->values.clear();
  rows->line_numbers.clear();
  std::string line;
  while ((problem_count_ > 0 || rows->size() < std::max<size_t>(max_rows, 1)) && std::getline(in_, line)) {
    ++line_number_;
    if (Trim(line).empty()) continue;
    // After a bad row no rows are handed out: the caller must not commit anything.
    if (!ParseRow(line, rows) || problem_count_ > 0) {
      rows->values.clear();
      rows->line_numbers.clear();
    }
  }
  if (in_.bad()) throw InputError(path_ + ": reading failed (" + std::strerror(errno) + ")");
  if (problem_count_ > 0) ThrowProblems();
  return rows->size() > 0;
}

NumericCsv ReadNumericCsv(const std::string& path, const CsvColumns& columns) {
  NumericCsvReader reader(path, columns);
  NumericCsv table;
  table.header = reader.header();
  NumericRows rows;
  while (reader.ReadChunk(65536, &rows)) {
    for (size_t i = 0; i < rows.size(); ++i) {
      table.rows.emplace_back(rows.row(i), rows.row(i) + rows.columns);
      table.line_numbers.push_back(rows.line_numbers[i]);
    }
  }
  return table;
}

NumericCsv ReadNumericCsv(const std::string& path, int expected_columns) {
  CsvColumns columns;
  columns.count = expected_columns;
  return ReadNumericCsv(path, columns);
}

namespace {

bool UnderSystemFolder(const std::string& path) {
  return path.rfind("/dev/", 0) == 0 || path.rfind("/proc/", 0) == 0;
}

}  // namespace

namespace {

// The temporary files being written now, for RemovePendingTemporaryFiles() in a signal handler: a
// fixed table of C strings (no allocation, no lock), each owned by its AtomicFileWriter.
constexpr int kMaxPendingTemporaryFiles = 64;
std::atomic<const char*> g_pending[kMaxPendingTemporaryFiles];

void RegisterPending(const char* path) {
  for (std::atomic<const char*>& slot : g_pending) {
    const char* expected = nullptr;
    if (slot.compare_exchange_strong(expected, path)) return;
  }  // table full: this file is still removed by the writer, just not by a signal handler
}

void UnregisterPending(const char* path) {
  for (std::atomic<const char*>& slot : g_pending) {
    const char* expected = path;
    if (slot.compare_exchange_strong(expected, nullptr)) return;
  }
}

}  // namespace

void RemovePendingTemporaryFiles() noexcept {
  for (std::atomic<const char*>& slot : g_pending) {
    if (const char* path = slot.load()) ::unlink(path);
  }
}

AtomicFileWriter::AtomicFileWriter(std::string path) : path_(std::move(path)), target_(path_) {
  namespace fs = std::filesystem;
  std::error_code error;
  const fs::file_status status = fs::status(path_, error);  // follows links
  const bool exists = !error && fs::exists(status);
  if (UnderSystemFolder(path_) || (exists && !fs::is_regular_file(status))) {
    if (exists && fs::is_directory(status)) throw InputError(path_ + ": cannot write: it is a directory");
    out_.open(path_, std::ios::binary);  // a device or pipe: write through, never replace it
    if (!out_) throw InputError(path_ + ": cannot write (" + std::strerror(errno) + ")");
    return;
  }
  if (exists && fs::is_symlink(fs::symlink_status(path_, error))) {
    target_ = fs::canonical(path_, error).string();  // keep the link: replace the file it names
    if (error) target_ = path_;
  }
  temp_path_ = target_ + ".tmp." + std::to_string(::getpid());
  RegisterPending(temp_path_.c_str());
  out_.open(temp_path_, std::ios::binary | std::ios::trunc);
  if (!out_) {
    UnregisterPending(temp_path_.c_str());
    throw InputError(path_ + ": cannot write (cannot create " + temp_path_ + ")");
  }
}

AtomicFileWriter::~AtomicFileWriter() {
  if (!committed_) {
    out_.close();
    if (!temp_path_.empty()) std::remove(temp_path_.c_str());
  }
  if (!temp_path_.empty()) UnregisterPending(temp_path_.c_str());
}

void AtomicFileWriter::Commit() {
  out_.flush();
  const bool written = static_cast<bool>(out_);
  out_.close();
  if (!written || out_.fail()) throw InputError(path_ + ": writing failed");
  if (!temp_path_.empty() && std::rename(temp_path_.c_str(), target_.c_str()) != 0) {
    throw InputError(path_ + ": cannot rename " + temp_path_ + " into place");
  }
  committed_ = true;
}

void CheckDistinctFiles(const std::string& input_path, const std::string& output_path) {
  std::error_code error;
  if (std::filesystem::equivalent(input_path, output_path, error) && !error) {
    throw InputError("--output " + output_path + " is the input file " + input_path +
                     ": writing it would destroy the input; choose another output");
  }
}

std::string FormatDouble(double value) {
  char buffer[64];
  const auto [end, error] = std::to_chars(buffer, buffer + sizeof(buffer), value);
  return error == std::errc() ? std::string(buffer, end) : std::string("nan");
}

}  // namespace deepik
