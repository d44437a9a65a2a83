#include "deepik/data/csv.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <random>
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

// A stream buffer over a file descriptor it does not own: standard input read where it stands, or
// an output file created with open(2) flags that std::ofstream cannot give (O_EXCL, O_NOFOLLOW).
class FdBuffer : public std::streambuf {
 public:
  explicit FdBuffer(int fd) : fd_(fd), buffer_(1 << 16) {
    setg(buffer_.data(), buffer_.data(), buffer_.data());
    setp(buffer_.data(), buffer_.data() + buffer_.size());
  }
  int error() const { return error_; }

 protected:
  int_type underflow() override {
    ssize_t n;
    do {
      n = ::read(fd_, buffer_.data(), buffer_.size());
    } while (n < 0 && errno == EINTR);
    if (n <= 0) {
      if (n < 0) error_ = errno;
      return traits_type::eof();
    }
    setg(buffer_.data(), buffer_.data(), buffer_.data() + n);
    return traits_type::to_int_type(buffer_[0]);
  }
  int_type overflow(int_type c) override {
    if (sync() != 0) return traits_type::eof();
    if (!traits_type::eq_int_type(c, traits_type::eof())) {
      *pptr() = traits_type::to_char_type(c);
      pbump(1);
    }
    return traits_type::not_eof(c);
  }
  int sync() override {
    const char* at = pbase();
    while (at < pptr()) {
      const ssize_t n = ::write(fd_, at, static_cast<size_t>(pptr() - at));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        error_ = n < 0 ? errno : EIO;
        return -1;
      }
      at += n;
    }
    setp(buffer_.data(), buffer_.data() + buffer_.size());
    return 0;
  }

 private:
  int fd_;
  std::vector<char> buffer_;
  int error_ = 0;
};

}  // namespace

NumericCsvReader::NumericCsvReader(std::string path, const CsvColumns& columns)
    : path_(path == kStandardStream ? std::string("stdin") : path), spec_(columns) {
  if (path == kStandardStream) {
    stdin_buffer_ = std::make_unique<FdBuffer>(STDIN_FILENO);
    stdin_ = std::make_unique<std::istream>(stdin_buffer_.get());
  } else {
    std::error_code error;
    if (std::filesystem::is_directory(path_, error)) {
      throw InputError(path_ + ": cannot read: it is a directory, not a CSV file");
    }
    errno = 0;
    file_.open(path_, std::ios::binary);
    if (!file_) {
      throw InputError(path_ + ": cannot open the file" +
                       (errno != 0 ? std::string(" (") + std::strerror(errno) + ")" : ""));
    }
  }
  std::istream& input = in();
  std::string line;
  while (std::getline(input, line)) {
    ++line_number_;
    if (line_number_ == 1 && line.compare(0, kUtf8ByteOrderMark.size(), kUtf8ByteOrderMark) == 0) {
      line.erase(0, kUtf8ByteOrderMark.size());
    }
    if (!Trim(line).empty()) break;
  }
  if (input.bad()) throw InputError(path_ + ": reading failed (" + std::strerror(errno) + ")");
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
  std::istream& input = in();
  std::string line;
  while ((problem_count_ > 0 || rows->size() < std::max<size_t>(max_rows, 1)) && std::getline(input, line)) {
    ++line_number_;
    if (Trim(line).empty()) continue;
    // After a bad row no rows are handed out: the caller must not commit anything.
    if (!ParseRow(line, rows) || problem_count_ > 0) {
      rows->values.clear();
      rows->line_numbers.clear();
    }
  }
  if (input.bad()) throw InputError(path_ + ": reading failed (" + std::strerror(errno) + ")");
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

bool SameFile(const struct stat& a, const struct stat& b) {
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

// Standard output (1) or error (2) when `path` names one of them: "-", or a path under /dev or
// /proc that is the same file (/dev/stdout, /dev/fd/2, /proc/self/fd/1); else 0.
int StandardStreamOf(const std::string& path) {
  if (path == kStandardStream) return STDOUT_FILENO;
  if (path.rfind("/dev/", 0) != 0 && path.rfind("/proc/", 0) != 0) return 0;
  struct stat named {
  }, stream{};
  if (::stat(path.c_str(), &named) != 0) return 0;
  for (const int fd : {STDOUT_FILENO, STDERR_FILENO}) {
    if (::fstat(fd, &stream) == 0 && SameFile(named, stream)) return fd;
  }
  return 0;
}

// `path` with its last component's symbolic links followed (a chain of up to 40), whether or not
// the file they end at exists.
std::string FollowLinks(std::string path) {
  namespace fs = std::filesystem;
  for (int hop = 0; hop < 40; ++hop) {
    std::error_code error;
    if (!fs::is_symlink(fs::symlink_status(path, error))) return path;
    const fs::path link = fs::read_symlink(path, error);
    if (error) return path;
    path = (link.is_absolute() ? link : fs::path(path).parent_path() / link).lexically_normal().string();
  }
  throw InputError(path + ": cannot write: too many levels of symbolic links");
}

// Ten characters from a non-deterministic source, so that a temporary name cannot be guessed.
std::string RandomSuffix() {
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::random_device device;
  std::uniform_int_distribution<int> pick(0, 35);
  std::string text(10, 'x');
  for (char& c : text) c = kAlphabet[pick(device)];
  return text;
}

constexpr size_t kMaxFileName = 255;  // bytes in one path component (NAME_MAX on Linux)

}  // namespace

void RemovePendingTemporaryFiles() noexcept {
  for (std::atomic<const char*>& slot : g_pending) {
    if (const char* path = slot.load()) ::unlink(path);
  }
}

AtomicFileWriter::AtomicFileWriter(std::string path) : path_(std::move(path)), target_(path_) {
  if (const int stream = StandardStreamOf(path_)) {
    out_ = stream == STDOUT_FILENO ? &std::cout : &std::cerr;
    return;
  }
  target_ = FollowLinks(path_);
  struct stat status {};
  if (::stat(target_.c_str(), &status) == 0) {
    if (S_ISDIR(status.st_mode)) throw InputError(path_ + ": cannot write: it is a directory");
    if (!S_ISREG(status.st_mode)) {
      OpenDirect();
      return;
    }
  }
  OpenTemporary();
}

void AtomicFileWriter::OpenDirect() {
  fd_ = ::open(target_.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd_ < 0) throw InputError(path_ + ": cannot write (" + std::strerror(errno) + ")");
  buffer_ = std::make_unique<FdBuffer>(fd_);
  own_stream_ = std::make_unique<std::ostream>(buffer_.get());
  out_ = own_stream_.get();
}

void AtomicFileWriter::OpenTemporary() {
  namespace fs = std::filesystem;
  const fs::path target(target_);
  std::string name = target.filename().string();
  const std::string suffix_lead = ".tmp.";
  name = name.substr(0, std::min(name.size(), kMaxFileName - suffix_lead.size() - 10));
  int error = 0;
  for (int attempt = 0; attempt < 100 && fd_ < 0; ++attempt) {
    temp_path_ = (target.parent_path() / (name + suffix_lead + RandomSuffix())).string();
    // O_EXCL: never an existing file, and never through a link planted under this name.
    fd_ = ::open(temp_path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
    error = errno;
    if (fd_ < 0 && error != EEXIST) break;
  }
  if (fd_ < 0) {
    const std::string folder = target.parent_path().empty() ? "." : target.parent_path().string();
    temp_path_.clear();
    throw InputError(path_ + ": cannot write (cannot create a temporary file in " + folder + ": " +
                     std::strerror(error) + ")");
  }
  RegisterPending(temp_path_.c_str());
  struct stat previous {};
  if (::stat(target_.c_str(), &previous) == 0) ::fchmod(fd_, previous.st_mode & 07777);  // keep its mode
  buffer_ = std::make_unique<FdBuffer>(fd_);
  own_stream_ = std::make_unique<std::ostream>(buffer_.get());
  out_ = own_stream_.get();
}

AtomicFileWriter::~AtomicFileWriter() {
  if (fd_ >= 0) ::close(fd_);
  if (!temp_path_.empty()) {
    if (!committed_) ::unlink(temp_path_.c_str());
    UnregisterPending(temp_path_.c_str());
  }
}

void AtomicFileWriter::Commit() {
  out_->flush();
  bool written = static_cast<bool>(*out_);
  int error = 0;
  if (buffer_ != nullptr) {
    error = static_cast<FdBuffer*>(buffer_.get())->error();
    if (::close(fd_) != 0 && written) {
      written = false;
      error = errno;
    }
    fd_ = -1;
  }
  if (!written) {
    throw InputError(path_ + ": writing failed" +
                     (error != 0 ? std::string(" (") + std::strerror(error) + ")" : ""));
  }
  if (!temp_path_.empty() && std::rename(temp_path_.c_str(), target_.c_str()) != 0) {
    throw InputError(path_ + ": cannot rename " + temp_path_ + " into place (" + std::strerror(errno) + ")");
  }
  committed_ = true;
}

namespace {

// The file `path` names, following links; "-" is the standard stream `standard_fd`. False when it
// does not exist.
bool StatNamed(const std::string& path, int standard_fd, struct stat* status) {
  if (path == kStandardStream) return ::fstat(standard_fd, status) == 0;
  return ::stat(path.c_str(), status) == 0;
}

}  // namespace

void CheckOutputsAreNotInputs(const std::vector<NamedPath>& inputs, const std::vector<NamedPath>& outputs) {
  for (const NamedPath& output : outputs) {
    struct stat written {};
    if (!StatNamed(output.path, STDOUT_FILENO, &written) || !S_ISREG(written.st_mode)) continue;
    for (const NamedPath& input : inputs) {
      struct stat read {};
      if (StatNamed(input.path, STDIN_FILENO, &read) && SameFile(read, written)) {
        throw InputError(output.option + " " + output.path + " is the same file as " + input.option + " " +
                         input.path + ": writing it would destroy the input; choose another output");
      }
    }
  }
}

void CheckDistinctFiles(const std::string& input_path, const std::string& output_path) {
  CheckOutputsAreNotInputs({{"the input", input_path}}, {{"--output", output_path}});
}

std::string FormatDouble(double value) {
  char buffer[64];
  const auto [end, error] = std::to_chars(buffer, buffer + sizeof(buffer), value);
  return error == std::errc() ? std::string(buffer, end) : std::string("nan");
}

}  // namespace deepik
