// The JSON API's requests, read and checked: every field's type, range and meaning in one place,
// so that a handler receives values it can pass to the library as they are. A request the API
// refuses throws ApiError (a 4xx and its message). Nothing here knows HTTP.
#pragma once

#include <Eigen/Core>
#include <Eigen/Geometry>
#include <cstddef>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "deepik/kinematics/chain.hpp"
#include "deepik/solve/posture.hpp"
#include "deepik/solve/solve_request.hpp"
#include "deepik/solve/solver.hpp"
#include "deepik/solve/track.hpp"

namespace deepik {
class IkModel;
}

namespace deepik::serve {

using Json = nlohmann::json;

// Coordinates and joint values beyond these are refused: no arm is kilometres long, and huge
// values only probe the solvers' numerics.
// The ranges are the library's (SolveRequest), so the API refuses what the command line and
// Python refuse, in the same words.
constexpr double kMaxCoordinate = 1e4;                            // m
constexpr double kMaxJointValue = SolveRequest::kJointValue.max;  // rad or m
constexpr NumberRange kWeightRange = SolveRequest::kWeight;  // avoid_limits, posture_weight, start_weight
constexpr int kMaxApiSolutions = 100;                        // "solutions": K (the work budget's share)
constexpr int kPostureCandidates = SolveRequest::kDefaultRankedCandidates;  // ranked by a posture objective

/// A request the API refuses: answered with `status` and {"error": message}.
struct ApiError {
  int status;
  std::string message;
};

/// "a number", "an array", ... (for "expected X, got Y").
std::string TypeName(const Json& value);

/// The compact JSON text of `value`; bytes that are not UTF-8 (a client's, quoted in an error)
/// become U+FFFD instead of making dump() throw.
std::string JsonText(const Json& value);

/// [x, y, z] and {"p": [x, y, z], "quat": [w, x, y, z]}: positions and poses as the API writes them.
Json Vec3(const Eigen::Vector3d& v);
Json PoseJson(const Eigen::Isometry3d& X);

/// Where `text` stops being UTF-8 text without control characters (U+0000..U+001F, U+007F), or npos.
size_t BadTextAt(const std::string& text);

/// `text` with the ASCII letters in lower case (header names, host names, file extensions).
std::string Lowercase(std::string text);

/// `text` with every %XX (two hex digits) replaced by that byte, as httplib decodes paths for
/// routing; anything else (a lone %, %G1) kept as it is.
std::string PercentDecoded(const std::string& text);

/// A request body: a JSON object and nothing after it (a NUL or other byte after the object is
/// refused, as is a body that is not an object).
Json ParseBody(const std::string& text);

/// Refuses a field of `body` not in `known`.
void CheckKeys(const Json& body, std::initializer_list<const char*> known);

/// A query parameter's text as an integer in lo..hi (digits with an optional minus only).
long ParseIntegerParam(const char* key, const std::string& text, long lo, long hi);

/// body[key]: a finite number in lo..hi; `fallback` when absent.
double NumberField(const Json& body, const char* key, double fallback, double lo, double hi);

/// An array of exactly `size` finite numbers, each within +-limit.
Eigen::VectorXd ParseVector(const Json& value, size_t size, double limit, const std::string& field);

/// Joint values of `chain` within its limits (`field` names them in errors).
Eigen::VectorXd ParseJoints(const Json& value, const std::string& field, const Chain& chain);

/// A target: [x, y, z] (a position), or {"p": [x, y, z], "quat": [w, x, y, z], "bounds": "rz=free",
/// "q_start": [...]} with "quat" (a unit quaternion within 1e-6, either sign; normalised) and
/// "bounds" (free or bounded axes, as `deepik solve --bounds`) optional.
IkTarget ParseTarget(const Json& value, const std::string& field);

/// Refuses a target `solver` cannot take: an orientation for analytic; for the solvers that run
/// the served `model` (network, refined; null: none), a position-only target on a pose model, and
/// a pose target on a position model's network (400s that say which model takes which target).
void CheckTargetForSolver(const IkTarget& target, const Solver& solver, const IkModel* model,
                          const std::string& field);

/// How each target of a solve request is answered: "solutions" (0: one answer) and the posture
/// objective (inactive: none).
struct SolveAnswerOptions {
  int solutions = 0;
  PostureOptions posture;
};

/// The targets of a solve or track request, each with its optional q_start.
struct ParsedTargets {
  std::vector<IkTarget> targets;
  std::vector<std::optional<Eigen::VectorXd>> starts;
  bool single = false;  // "target" (one answer object) rather than "targets" (a list)
};

/// POST /api/solve's body for `solver` (chosen by the caller from "model" and "solver") and the
/// served `model` (null: none): the
/// targets ("target" or a list "targets" of 1..max_targets, each checked before any is solved) and
/// how to answer them.
struct ParsedSolve {
  ParsedTargets targets;
  SolveAnswerOptions answer;
};
ParsedSolve ParseSolveRequest(const Json& body, const Solver& solver, const IkModel* model, int max_targets);

/// POST /api/track's body for `solver`: the path, its optional q_start and the track options.
struct ParsedTrack {
  std::vector<IkTarget> path;
  std::optional<Eigen::VectorXd> q_start;
  TrackOptions track;
};
ParsedTrack ParseTrackRequest(const Json& body, const Solver& solver, const IkModel* model, int max_targets);

/// How many solver runs a request asks for, at most: targets x max(1, K) (x kPostureCandidates
/// when a posture objective ranks candidates). The server refuses a request whose runs times the
/// per-target time budget exceed its work budget (ServeOptions::max_request_work_seconds).
long SolverRuns(size_t targets, const SolveAnswerOptions& answer);

}  // namespace deepik::serve
