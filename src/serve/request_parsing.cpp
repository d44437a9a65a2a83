#include "serve/request_parsing.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>

#include "deepik/errors.hpp"
#include "deepik/learn/model.hpp"
#include "deepik/solve/solvers.hpp"

namespace deepik::serve {
namespace {

// A solver that runs the served model: its network answers for the target, or starts there.
bool RunsModel(const Solver& solver) { return solver.needs_model(); }

// An optional number field within `range`, refused in the library's words ("FIELD: expected a
// number in [MIN, MAX], got VALUE", as the command line and Python say it).
double RangeField(const Json& body, const char* key, double fallback, const NumberRange& range) {
  if (!body.contains(key)) return fallback;
  const Json& x = body[key];
  if (!x.is_number())
    throw ApiError{400, std::string(key) + ": expected a number in " + range.Text() + ", got " + JsonText(x)};
  const double value = x.get<double>();
  if (!range.Contains(value)) throw ApiError{400, range.Refusal(key, value)};
  return value;
}

// A target object's optional "q_start": one value per joint, within the limits.
std::optional<Eigen::VectorXd> ParseStart(const Json& value, const std::string& field, const Chain& chain) {
  if (!value.is_object() || !value.contains("q_start")) return std::nullopt;
  return ParseJoints(value["q_start"], field + ".q_start", chain);
}

// A list of 1..max_targets targets for `solver`, each with its optional q_start. Every target is
// checked before any is solved: a bad one refuses the whole request at once.
ParsedTargets ParseTargetList(const Json& list, const Solver& solver, const IkModel* model, int max_targets) {
  if (!list.is_array()) {
    throw ApiError{400,
                   "targets: expected an array of targets ([x,y,z] or {\"p\": ..., \"quat\": ...}), got " +
                       TypeName(list)};
  }
  if (list.empty()) throw ApiError{400, "targets: expected at least one target"};
  if (list.size() > static_cast<size_t>(max_targets)) {
    throw ApiError{413, "targets: expected at most " + std::to_string(max_targets) + " targets, got " +
                            std::to_string(list.size())};
  }
  ParsedTargets parsed;
  parsed.targets.resize(list.size());
  parsed.starts.assign(list.size(), std::nullopt);
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string field = "targets[" + std::to_string(i) + "]";
    parsed.targets[i] = ParseTarget(list[i], field);
    parsed.starts[i] = ParseStart(list[i], field, solver.chain());
    CheckTargetForSolver(parsed.targets[i], solver, model, field);
  }
  return parsed;
}

// "solutions": K (1..kMaxApiSolutions) asks for up to K distinct exact solutions per target; 0 when
// absent (one answer).
int ParseSolutions(const Json& body, const Solver& solver) {
  if (!body.contains("solutions")) return 0;
  const Json& k = body["solutions"];
  if (!k.is_number_integer() || k.get<int64_t>() < 1 || k.get<int64_t>() > kMaxApiSolutions) {
    throw ApiError{400, "solutions: expected an integer 1.." + std::to_string(kMaxApiSolutions) + ", got " +
                            JsonText(k)};
  }
  if (!solver.exact()) {
    throw ApiError{400,
                   "solutions: expected an exact solver (refined, lm, kdl-*), got solver " + solver.name()};
  }
  return k.get<int>();
}

// The posture objective of `solve --avoid-limits W --posture q --posture-weight W --start-weight W`:
// "avoid_limits", "posture" (one value per joint), "posture_weight", "start_weight" (weights
// in SolveRequest::kWeight; start_weight needs a q_start in every target).
PostureOptions ParsePosture(const Json& body, const Solver& solver) {
  const Chain& chain = solver.chain();
  PostureOptions posture;
  posture.avoid_limits = RangeField(body, "avoid_limits", 0.0, kWeightRange);
  posture.posture_weight = RangeField(body, "posture_weight", 0.0, kWeightRange);
  posture.start_weight = RangeField(body, "start_weight", 0.0, kWeightRange);
  if (body.contains("posture")) {
    posture.posture =
        ParseVector(body["posture"], static_cast<size_t>(chain.num_joints()), kMaxJointValue, "posture");
  } else if (posture.posture_weight > 0) {
    throw ApiError{400, "posture: expected " + std::to_string(chain.num_joints()) +
                            " joint values with posture_weight, got none"};
  }
  if (posture.active() && !solver.exact()) {
    throw ApiError{
        400,
        "avoid_limits, posture_weight, start_weight: expected an exact solver (refined, lm, kdl-*), "
        "got solver " +
            solver.name()};
  }
  return posture;
}

}  // namespace

std::string TypeName(const Json& value) {
  if (value.is_null()) return "null";
  if (value.is_boolean()) return "a boolean";
  if (value.is_string()) return "a string";
  if (value.is_array()) return "an array";
  if (value.is_object()) return "an object";
  return "a number";
}

std::string JsonText(const Json& value) { return value.dump(-1, ' ', false, Json::error_handler_t::replace); }

Json Vec3(const Eigen::Vector3d& v) { return Json::array({v.x(), v.y(), v.z()}); }

Json PoseJson(const Eigen::Isometry3d& X) {
  const Eigen::Quaterniond quat(X.rotation());
  return Json{{"p", Vec3(X.translation())}, {"quat", Json::array({quat.w(), quat.x(), quat.y(), quat.z()})}};
}

size_t BadTextAt(const std::string& text) {
  const auto* bytes = reinterpret_cast<const unsigned char*>(text.data());
  for (size_t i = 0; i < text.size();) {
    const unsigned char lead = bytes[i];
    if (lead < 0x20 || lead == 0x7f) return i;
    if (lead < 0x80) {
      ++i;
      continue;
    }
    // The length of the sequence and the range of its second byte (no overlong forms, no
    // surrogates, nothing beyond U+10FFFF).
    size_t length = 0;
    unsigned char lo = 0x80, hi = 0xbf;
    if (lead >= 0xc2 && lead <= 0xdf) {
      length = 2;
    } else if (lead >= 0xe0 && lead <= 0xef) {
      length = 3;
      if (lead == 0xe0) lo = 0xa0;
      if (lead == 0xed) hi = 0x9f;
    } else if (lead >= 0xf0 && lead <= 0xf4) {
      length = 4;
      if (lead == 0xf0) lo = 0x90;
      if (lead == 0xf4) hi = 0x8f;
    } else {
      return i;
    }
    if (i + length > text.size() || bytes[i + 1] < lo || bytes[i + 1] > hi) return i;
    for (size_t k = 2; k < length; ++k) {
      if (bytes[i + k] < 0x80 || bytes[i + k] > 0xbf) return i;
    }
    i += length;
  }
  return std::string::npos;
}

std::string Lowercase(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

std::string PercentDecoded(const std::string& text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && std::isxdigit(static_cast<unsigned char>(text[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(text[i + 2]))) {
      out += static_cast<char>(std::stoi(text.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

Json ParseBody(const std::string& text) {
  // The JSON parser stops at a NUL as at the end of its input; JSON text holds none (not even in a
  // string), so one anywhere is a malformed body, not a body that ends early.
  const size_t nul = text.find('\0');
  if (nul != std::string::npos) {
    throw ApiError{400, "malformed JSON body: a NUL byte at offset " + std::to_string(nul)};
  }
  Json body = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) throw ApiError{400, "malformed JSON body"};
  if (!body.is_object()) throw ApiError{400, "expected a JSON object, got " + TypeName(body)};
  return body;
}

void CheckKeys(const Json& body, std::initializer_list<const char*> known) {
  for (auto it = body.begin(); it != body.end(); ++it) {
    bool found = false;
    for (const char* k : known) found = found || it.key() == k;
    if (!found) throw ApiError{400, "unknown field '" + it.key() + "'"};
  }
}

long ParseIntegerParam(const char* key, const std::string& text, long lo, long hi) {
  // Digits with an optional minus only: std::stol alone also takes " 5", "+5" and the "1" of "1e3".
  const size_t first_digit = text.empty() || text[0] != '-' ? 0 : 1;
  const bool digits = text.size() > first_digit && text.size() - first_digit <= 18 &&
                      text.find_first_not_of("0123456789", first_digit) == std::string::npos;
  const long value = digits ? std::stol(text) : 0;
  if (!digits || value < lo || value > hi) {
    throw ApiError{400, std::string(key) + ": expected an integer in " + std::to_string(lo) + ".." +
                            std::to_string(hi) + ", got '" + text + "'"};
  }
  return value;
}

double NumberField(const Json& body, const char* key, double fallback, double lo, double hi) {
  if (!body.contains(key)) return fallback;
  const Json& x = body[key];
  char range[64];
  std::snprintf(range, sizeof range, "%g..%g", lo, hi);
  if (!x.is_number() || !(x.get<double>() >= lo && x.get<double>() <= hi))
    throw ApiError{
        400, std::string(key) + ": expected a number in " + std::string(range) + ", got " + JsonText(x)};
  return x.get<double>();
}

Eigen::VectorXd ParseVector(const Json& value, size_t size, double limit, const std::string& field) {
  if (!value.is_array())
    throw ApiError{
        400, field + ": expected an array of " + std::to_string(size) + " numbers, got " + TypeName(value)};
  if (value.size() != size) {
    throw ApiError{
        400, field + ": expected " + std::to_string(size) + " numbers, got " + std::to_string(value.size())};
  }
  Eigen::VectorXd v(static_cast<Eigen::Index>(size));
  for (size_t i = 0; i < size; ++i) {
    const Json& x = value[i];
    const std::string where = field + "[" + std::to_string(i) + "]";
    if (!x.is_number()) throw ApiError{400, where + ": expected a number, got " + TypeName(x)};
    const double d = x.get<double>();
    if (!std::isfinite(d)) throw ApiError{400, where + ": expected a finite number"};
    if (std::abs(d) > limit) {
      throw ApiError{400,
                     where + ": expected a value within +-" + Json(limit).dump() + ", got " + Json(d).dump()};
    }
    v[static_cast<Eigen::Index>(i)] = d;
  }
  return v;
}

Eigen::VectorXd ParseJoints(const Json& value, const std::string& field, const Chain& chain) {
  Eigen::VectorXd q = ParseVector(value, static_cast<size_t>(chain.num_joints()), kMaxJointValue, field);
  if (!chain.WithinLimits(q)) throw ApiError{400, field + ": expected joint values within the limits"};
  return q;
}

IkTarget ParseTarget(const Json& value, const std::string& field) {
  if (!value.is_object()) return IkTarget(Eigen::Vector3d(ParseVector(value, 3, kMaxCoordinate, field)));
  for (auto it = value.begin(); it != value.end(); ++it) {
    if (it.key() != "p" && it.key() != "quat" && it.key() != "bounds" && it.key() != "q_start") {
      throw ApiError{400, field + ": unknown field '" + it.key() + "' (expected p, quat, bounds, q_start)"};
    }
  }
  if (!value.contains("p")) throw ApiError{400, field + ": expected a field 'p' ([x, y, z], m)"};
  IkTarget target(Eigen::Vector3d(ParseVector(value["p"], 3, kMaxCoordinate, field + ".p")));
  if (value.contains("quat")) {
    const Eigen::VectorXd w_xyz = ParseVector(value["quat"], 4, 2.0, field + ".quat");
    const Eigen::Quaterniond Q(w_xyz[0], w_xyz[1], w_xyz[2], w_xyz[3]);
    const double norm = Q.coeffs().norm();
    if (!(std::abs(norm - 1.0) <= kTypedQuaternionNormTolerance)) {
      throw ApiError{400, field + ".quat: expected a unit quaternion [w, x, y, z] (norm within " +
                              FormatDouble(kTypedQuaternionNormTolerance) + " of 1, normalised), got norm " +
                              Json(norm).dump()};
    }
    target.Q_BT = Q.normalized();
  }
  if (value.contains("bounds")) {
    const Json& b = value["bounds"];
    if (!b.is_string())
      throw ApiError{400, field + ".bounds: expected a string such as \"rz=free\", got " + TypeName(b)};
    try {
      target.bounds = ParseAxisBounds(b.get<std::string>());
    } catch (const InputError& e) {
      throw ApiError{400, field + ".bounds: " + e.what()};
    }
  }
  return target;
}

void CheckTargetForSolver(const IkTarget& target, const Solver& solver, const IkModel* model,
                          const std::string& field) {
  if ((target.has_orientation() || target.has_bounds()) && solver.position_only()) {
    throw ApiError{400, "solver: analytic solves position-only targets"};
  }
  if (model == nullptr || !RunsModel(solver)) return;
  if (model->target() == TargetKind::kPose && !target.Q_BT) {
    throw ApiError{400, field +
                            ": the model is a pose model: it takes pose targets {\"p\": [x,y,z], \"quat\": "
                            "[w,x,y,z]}, got a position; send a quat, or use solver lm (or a position model) "
                            "for positions"};
  }
  if (model->target() == TargetKind::kPosition && target.Q_BT && !solver.exact()) {
    throw ApiError{400,
                   field +
                       ": the model is a position model: its network takes position targets [x,y,z], got a "
                       "pose; use solver refined or lm (or a pose model) for poses"};
  }
}

ParsedSolve ParseSolveRequest(const Json& body, const Solver& solver, const IkModel* model, int max_targets) {
  CheckKeys(body, {"target", "targets", "solver", "solutions", "model", "avoid_limits", "posture",
                   "posture_weight", "start_weight", "collisions", "clearance", "scene"});
  const bool single = body.contains("target"), batch = body.contains("targets");
  if (single == batch)
    throw ApiError{400,
                   "expected exactly one of 'target' ([x,y,z] or {\"p\": [x,y,z], \"quat\": [w,x,y,z]}) or "
                   "'targets' (a list of them)"};
  ParsedSolve parsed;
  parsed.answer = SolveAnswerOptions{ParseSolutions(body, solver), ParsePosture(body, solver)};
  if (single) {
    const Json& value = body["target"];
    parsed.targets.single = true;
    parsed.targets.targets.push_back(ParseTarget(value, "target"));
    CheckTargetForSolver(parsed.targets.targets[0], solver, model, "target");
    parsed.targets.starts.push_back(ParseStart(value, "target", solver.chain()));
  } else {
    parsed.targets = ParseTargetList(body["targets"], solver, model, max_targets);
  }
  for (size_t i = 0; i < parsed.targets.starts.size(); ++i) {
    if (parsed.answer.posture.start_weight > 0 && !parsed.targets.starts[i]) {
      throw ApiError{400, "start_weight: expected a q_start in " +
                              (single ? std::string("target") : "targets[" + std::to_string(i) + "]")};
    }
  }
  return parsed;
}

ParsedTrack ParseTrackRequest(const Json& body, const Solver& solver, const IkModel* model, int max_targets) {
  CheckKeys(body, {"targets", "q_start", "continue", "solver", "model", "step_ratio", "step_floor",
                   "collisions", "clearance", "scene"});
  if (!body.contains("targets"))
    throw ApiError{400, "expected a field 'targets' (the path: a list of targets)"};
  ParsedTargets list = ParseTargetList(body["targets"], solver, model, max_targets);
  for (size_t i = 0; i < list.starts.size(); ++i) {
    if (list.starts[i])
      throw ApiError{400,
                     "targets[" + std::to_string(i) + "].q_start: a path has one q_start, at its top level"};
  }
  ParsedTrack parsed;
  parsed.path = std::move(list.targets);
  if (body.contains("q_start")) parsed.q_start = ParseJoints(body["q_start"], "q_start", solver.chain());
  TrackOptions& track = parsed.track;
  track.step_ratio = NumberField(body, "step_ratio", track.step_ratio, 1e-6, 1e6);
  track.step_floor = NumberField(body, "step_floor", track.step_floor, 0.0, 10.0);
  if (body.contains("continue")) {
    if (!body["continue"].is_boolean())
      throw ApiError{400, "continue: expected true or false, got " + JsonText(body["continue"])};
    track.continue_from_start = body["continue"].get<bool>();
    if (track.continue_from_start && !parsed.q_start)
      throw ApiError{400, "continue: expected a q_start to continue from"};
  }
  return parsed;
}

long SolverRuns(size_t targets, const SolveAnswerOptions& answer) {
  const long per_target = std::max(1, answer.solutions);
  const long candidates =
      answer.posture.active() ? std::max<long>(per_target, kPostureCandidates) : per_target;
  return static_cast<long>(targets) * candidates;
}

}  // namespace deepik::serve
