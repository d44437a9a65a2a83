#include "deepik/data/csv.hpp"

#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <system_error>

#include "deepik/errors.hpp"

namespace deepik {
namespace {

std::vector<std::string> SplitFields(const std::string& line) {
  std::vector<std::string> fields;
  std::string field;
  std::istringstream stream(line);
  while (std::getline(stream, field, ',')) fields.push_back(field);
  if (!line.empty() && line.back() == ',') fields.emplace_back();
  return fields;
}

std::string Trim(const std::string& text) {
  const size_t first = text.find_first_not_of(" \t\r");
  if (first == std::string::npos) return "";
  const size_t last = text.find_last_not_of(" \t\r");
  return text.substr(first, last - first + 1);
}

// Parses one field; returns an empty string on success, else what is wrong with it.
std::string ParseNumber(const std::string& text, double* value) {
  const std::string field = Trim(text);
  if (field.empty()) return "expected a number, got an empty field";
  const char* begin = field.data();
  if (*begin == '+') ++begin;
  const auto [end, error] = std::from_chars(begin, field.data() + field.size(), *value);
  if (error != std::errc() || end != field.data() + field.size()) {
    return "expected a number, got '" + field + "'";
  }
  if (!std::isfinite(*value)) return "expected a finite number, got '" + field + "'";
  return "";
}

}  // namespace

NumericCsv ReadNumericCsv(const std::string& path, int expected_columns) {
  std::ifstream in(path);
  if (!in) throw InputError(path + ": cannot open the file");
  NumericCsv table;
  std::vector<std::string> problems;
  int problem_count = 0;
  auto report = [&](int line, const std::string& message) {
    ++problem_count;
    if (problems.size() < 10) problems.push_back(path + ":" + std::to_string(line) + ": " + message);
  };
  std::string line;
  int line_number = 0;
  bool have_header = false;
  while (std::getline(in, line)) {
    ++line_number;
    if (Trim(line).empty()) continue;
    std::vector<std::string> fields = SplitFields(line);
    if (!have_header) {
      for (std::string& field : fields) field = Trim(field);
      table.header = fields;
      have_header = true;
      if (expected_columns >= 0 && static_cast<int>(fields.size()) != expected_columns) {
        report(line_number, "header: expected " + std::to_string(expected_columns) + " columns, got " +
                                std::to_string(fields.size()));
      }
      continue;
    }
    const int columns = expected_columns >= 0 ? expected_columns : static_cast<int>(table.header.size());
    if (static_cast<int>(fields.size()) != columns) {
      report(line_number,
             "expected " + std::to_string(columns) + " columns, got " + std::to_string(fields.size()));
      continue;
    }
    std::vector<double> row(fields.size());
    bool ok = true;
    for (size_t c = 0; c < fields.size() && ok; ++c) {
      const std::string problem = ParseNumber(fields[c], &row[c]);
      if (!problem.empty()) {
        std::string column = "column " + std::to_string(c + 1);
        if (c < table.header.size() && !table.header[c].empty()) column += " (" + table.header[c] + ")";
        report(line_number, column + ": " + problem);
        ok = false;
      }
    }
    if (ok) {
      table.rows.push_back(std::move(row));
      table.line_numbers.push_back(line_number);
    }
  }
  if (!have_header) throw InputError(path + ": expected a header line, got an empty file");
  if (problem_count > 0) {
    std::string message =
        std::to_string(problem_count) + " bad row" + (problem_count > 1 ? "s" : "") + " in " + path;
    for (const std::string& problem : problems) message += "\n  " + problem;
    if (problem_count > static_cast<int>(problems.size())) message += "\n  ...";
    throw InputError(message);
  }
  return table;
}

namespace {

bool UnderSystemFolder(const std::string& path) {
  return path.rfind("/dev/", 0) == 0 || path.rfind("/proc/", 0) == 0;
}

}  // namespace

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
  out_.open(temp_path_, std::ios::binary | std::ios::trunc);
  if (!out_) throw InputError(path_ + ": cannot write (cannot create " + temp_path_ + ")");
}

AtomicFileWriter::~AtomicFileWriter() {
  if (!committed_) {
    out_.close();
    if (!temp_path_.empty()) std::remove(temp_path_.c_str());
  }
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
