// Error kinds shared by the library and the command line.
#pragma once

#include <stdexcept>
#include <string>

namespace deepik {

/// Bad input data from outside the program: a file that is missing, malformed, truncated or
/// for another arm; a value that is NaN or out of range. The message names the file and, where
/// it applies, the line, column or joint. The command line exits with kExitInput.
class InputError : public std::runtime_error {
 public:
  explicit InputError(const std::string& message) : std::runtime_error(message) {}
};

/// A data-parallel training job (`deepik train` with several ranks) failed as a job: a rank was lost,
/// hung past the timeout or failed; the master is unreachable or its port in use; the ranks disagree
/// on their options or world size. The message names the rank(s) concerned. The command line exits
/// with kExitDistributed.
class DistributedError : public std::runtime_error {
 public:
  explicit DistributedError(const std::string& message) : std::runtime_error(message) {}
};

/// Exit codes of the `deepik` command.
enum ExitCode : int {
  kExitOk = 0,
  kExitUsage = 2,          ///< bad command line (unknown option, missing argument)
  kExitInput = 3,          ///< bad input (files, values, arm descriptions): InputError, std::invalid_argument
  kExitInternal = 4,       ///< a bug or an environment failure: anything else
  kExitDistributed = 5,    ///< a distributed training job failed as a job: DistributedError
  kExitInterrupted = 130,  ///< stopped by SIGINT/SIGTERM after saving what could be saved
};

}  // namespace deepik
