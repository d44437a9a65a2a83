// Runs the built `deepik` command and captures what it printed and its exit code.
#pragma once

#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "test_util.hpp"

namespace deepik::testing {

/// The shipped default model of the seed arm.
inline const std::string kSeedModel = std::string(DEEPIK_SOURCE_DIR) + "/models/seed-default.safetensors";

struct CliResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

/// Runs shell text in `dir`, capturing its standard output and error.
inline CliResult RunShell(const std::string& command_text, const TempDir& dir) {
  const std::string out = dir.Path(".stdout"), err = dir.Path(".stderr");
  const std::string command =
      "cd '" + dir.path().string() + "' && { " + command_text + " ; } >'" + out + "' 2>'" + err + "'";
  const int status = std::system(command.c_str());
  CliResult result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  result.out = ReadFile(out);
  result.err = ReadFile(err);
  return result;
}

/// Runs `deepik ARGS` (ARGS is shell text) in `dir`.
inline CliResult RunCli(const std::string& args, const TempDir& dir) {
  return RunShell("'" + std::string(DEEPIK_CLI) + "' " + args, dir);
}

/// The fields of every line of a CSV text (no quoting; a trailing comma ends in an empty field).
inline std::vector<std::vector<std::string>> CsvFields(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    std::vector<std::string> fields;
    std::istringstream row(line);
    for (std::string field; std::getline(row, field, ',');) fields.push_back(field);
    if (!line.empty() && line.back() == ',') fields.push_back("");
    rows.push_back(fields);
  }
  return rows;
}

/// The rows of a CSV text after its header line (which goes to `header`), as fields.
inline std::vector<std::vector<std::string>> CsvRows(const std::string& text,
                                                     std::vector<std::string>* header) {
  std::vector<std::vector<std::string>> rows = CsvFields(text);
  if (!rows.empty()) {
    *header = rows.front();
    rows.erase(rows.begin());
  }
  return rows;
}

/// The first n fields of a CSV row as joint values.
inline Eigen::VectorXd JointsOfRow(const std::vector<std::string>& row, int n) {
  Eigen::VectorXd q(n);
  for (int j = 0; j < n; ++j) q[j] = std::stod(row[j]);
  return q;
}

}  // namespace deepik::testing
