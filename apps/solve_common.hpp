// What `solve`, `track`, `eval` and `bench` share (apps/solve_commands.cpp, apps/eval_commands.cpp):
// target files, the arm or model a command works on, and the solver settings' options.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli.hpp"
#include "deepik/data/csv.hpp"
#include "deepik/learn/model.hpp"
#include "deepik/solve/solve_request.hpp"

namespace deepik::cli {

// Caps of eval's and bench's target counts (README, "Evaluation"): beyond them a run would take
// hours, so the value is a typo.
inline constexpr int64_t kMaxEvalTargets = 1'000'000;

/// Writes `text` to `path` whole or not at all.
void WriteTextFile(const std::string& path, const std::string& text);

/// Target files (`solve -i`, `track -i`, `eval --targets`): header x,y,z (positions) or
/// x,y,z,qw,qx,qy,qz (poses), coordinates within +-kMaxTargetCoordinate. With `chain`, the header
/// may go on with start columns start_<joint> for every joint in chain order.
NumericCsvReader OpenTargetFile(const std::string& path, const Chain* chain = nullptr);

/// True when the file's header is a pose header.
bool IsPoseHeader(const NumericCsvReader& reader);

/// Rows of a target file as targets; a quaternion whose norm is off by more than 1e-6 is a bad row
/// (recorded in `problems` with file and line, and the row skipped), others are normalised. With
/// `starts`, the values after the target's columns are the row's start configuration.
void RowsToTargets(const NumericRows& rows, const std::string& path, const Vector6d& bounds, bool pose,
                   std::vector<IkTarget>* targets, std::vector<std::string>* problems, int64_t* problem_count,
                   std::vector<Eigen::VectorXd>* starts = nullptr);

/// The bad rows RowsToTargets found, as one InputError.
[[noreturn]] void ThrowBadQuaternions(const std::string& path, const std::vector<std::string>& problems,
                                      int64_t count);

/// The request's settings that --timeout (ms), --position-tolerance and --angle-tolerance give.
SolveRequest SettingsRequest(const SolveSettingsOptions& options);

/// --timeout, --position-tolerance, --angle-tolerance (ranges: SolveRequest's) and --bounds.
void AddSettingsOptions(CLI::App* command, SolveSettingsOptions* settings);

/// The arm a command works on: a model's, or one named by --arm (for the solvers that need no model).
struct ArmAndModel {
  std::shared_ptr<const IkModel> model;  ///< shared with the solvers made from it (no copy)
  std::optional<Chain> arm;
  const Chain& chain() const { return model ? model->chain() : *arm; }
};

/// @throws InputError unless exactly one of model_path and arm is given, or when it cannot load.
ArmAndModel LoadArmOrModel(const std::string& model_path, const ArmSpec& arm, const std::string& command);

void AddEvalCommand(CLI::App& app, CommandSet* set);   // eval
void AddBenchCommand(CLI::App& app, CommandSet* set);  // bench

}  // namespace deepik::cli
