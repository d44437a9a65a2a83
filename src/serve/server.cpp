#include "deepik/serve/server.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>
#include <ostream>
#include <random>
#include <thread>
#include <vector>

#include "deepik/errors.hpp"
#include "deepik/kinematics/fk.hpp"
#include "deepik/solve/collision_solver.hpp"
#include "deepik/solve/many_solutions.hpp"
#include "deepik/solve/solve_request.hpp"
#include "deepik/solve/solvers.hpp"
#include "deepik/solve/track.hpp"
#include "serve/http_engine.hpp"
#include "serve/request_parsing.hpp"
#include "serve/served_arm.hpp"

namespace deepik {
namespace {

using serve::ApiError;
using serve::Json;
using serve::JsonText;
using serve::ServedArm;

void Reply(httplib::Response& response, int status, const Json& body) {
  response.status = status;
  response.set_content(JsonText(body), "application/json");
}

// The query parameter `key` as an integer in lo..hi; `fallback` when the request has none.
long IntegerParam(const httplib::Request& request, const char* key, long fallback, long lo, long hi) {
  if (!request.has_param(key)) return fallback;
  return serve::ParseIntegerParam(key, request.get_param_value(key), lo, hi);
}

// The decoded path and query must be text: a %00 or a stray byte names no file or value, and would
// reach stat() (which stops at NUL) or a JSON answer.
std::string TargetProblem(const httplib::Request& request) {
  const auto check = [](const std::string& what, const std::string& text) -> std::string {
    const size_t at = serve::BadTextAt(text);
    if (at == std::string::npos) return "";
    char byte[8];
    std::snprintf(byte, sizeof byte, "0x%02x", static_cast<unsigned char>(text[at]));
    return what + ": expected UTF-8 text without control characters, got byte " + byte + " at " +
           std::to_string(at);
  };
  std::string problem = check("request path", request.path);
  for (auto it = request.params.begin(); problem.empty() && it != request.params.end(); ++it) {
    problem = check("query parameter name", it->first);
    if (problem.empty()) problem = check("query parameter '" + it->first + "'", it->second);
  }
  return problem;
}

// Runs an API handler, turning refusals into 4xx and anything unexpected into 500.
template <typename F>
void Guarded(httplib::Response& response, F&& handler) {
  try {
    Reply(response, 200, handler());
  } catch (const ApiError& e) {
    Reply(response, e.status, Json{{"error", e.message}});
  } catch (const std::exception& e) {
    Reply(response, 500, Json{{"error", std::string("internal error: ") + e.what()}});
  }
}

// Other methods and paths under /api/: a JSON 404 that names the method as well as the path.
void HandleUnknownEndpoint(const httplib::Request& req, httplib::Response& res) {
  Reply(res, 404, Json{{"error", "no such endpoint: " + req.method + " " + req.path}});
}

// httplib's own refusals (no such file, body too large, ...) in the API's form; a body a handler
// already wrote is kept.
void HandleHttpError(const httplib::Request& req, httplib::Response& res) {
  if (!res.body.empty()) return;
  std::string message = "HTTP error " + std::to_string(res.status);
  if (res.status == 413) message = "request body too large";
  if (res.status == 404) message = "not found: " + req.path;
  Reply(res, res.status, Json{{"error", message}});
}

// Anything a handler lets escape (Guarded stops std::exception) is still a JSON 500.
void HandleException(const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
  std::string message = "internal error";
  try {
    std::rethrow_exception(ep);
  } catch (const std::exception& e) {
    message += std::string(": ") + e.what();
  } catch (...) {
  }
  Reply(res, 500, Json{{"error", message}});
}

bool IsApiPath(const std::string& path) { return path == "/api" || path.rfind("/api/", 0) == 0; }

// The files the page loads, and no others of the web root: its own (everything outside
// node_modules/ but the npm manifests) and three.js's build/ and examples/jsm/ (the import map of
// index.html: "three" and "three/addons/").
bool StaticPathServed(const std::string& request_path) {
  // As the file system reads it: "//x" and "/./x" are "/x" ("..", httplib refuses).
  std::string path;
  for (size_t start = 0; start <= request_path.size();) {
    size_t end = request_path.find('/', start);
    if (end == std::string::npos) end = request_path.size();
    const std::string segment = request_path.substr(start, end - start);
    if (!segment.empty() && segment != ".") path += "/" + segment;
    start = end + 1;
  }
  if (path.empty() || request_path.back() == '/') path += "/";  // a folder: its index.html
  static const char* const kPackageFolders[] = {"/node_modules/three/build/",
                                                "/node_modules/three/examples/jsm/"};
  for (const char* folder : kPackageFolders) {
    if (path.rfind(folder, 0) == 0) return true;
  }
  return path.rfind("/node_modules", 0) != 0 && path != "/package.json" && path != "/package-lock.json";
}

// The source tree's web/ (a build), then share/deepik/web beside the running program (an install,
// wherever its prefix), then the configured install location.
std::string DefaultWebRoot() {
  namespace fs = std::filesystem;
  std::error_code ec;
  std::vector<fs::path> candidates = {DEEPIK_WEB_DIR};
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) candidates.push_back(exe.parent_path().parent_path() / "share" / "deepik" / "web");
  candidates.push_back(DEEPIK_INSTALLED_WEB_DIR);
  for (const fs::path& dir : candidates) {
    if (fs::exists(dir / "index.html", ec)) return dir.string();
  }
  return DEEPIK_WEB_DIR;
}

}  // namespace

bool ServeOptions::IsValid(std::string* error) const {
  std::string message;
  if (model_path.empty() && models_dir.empty() && arm.arm.empty())
    message = "model_path, models_dir, arm: expected a model file, a folder of models or an arm";
  else if (host.empty())
    message = "host: expected an address";
  else if (port < 0 || port > 65535)
    message = "port: expected 0..65535, got " + std::to_string(port);
  else if (!kThreadRange.Contains(threads))
    message = kThreadRange.Refusal("threads", threads);
  else if (!(request_timeout_seconds > 0 && request_timeout_seconds <= 3600))
    message = "request_timeout_seconds: expected 0..3600 (more than 0), got " +
              Json(request_timeout_seconds).dump();
  else if (!(keep_alive_timeout_seconds > 0 && keep_alive_timeout_seconds <= 3600))
    message = "keep_alive_timeout_seconds: expected 0..3600 (more than 0), got " +
              Json(keep_alive_timeout_seconds).dump();
  else if (!(write_timeout_seconds > 0 && write_timeout_seconds <= 3600))
    message =
        "write_timeout_seconds: expected 0..3600 (more than 0), got " + Json(write_timeout_seconds).dump();
  else if (max_connections < 1 || max_connections > 100000)
    message = "max_connections: expected 1..100000, got " + std::to_string(max_connections);
  else if (max_body_bytes < 1024)
    message = "max_body_bytes: expected at least 1024";
  else if (max_targets < 1)
    message = "max_targets: expected at least 1";
  else if (max_workspace_points < 1)
    message = "max_workspace_points: expected at least 1";
  else if (!SolveRequest::kTimeoutSeconds.Contains(solve_timeout_seconds))
    message = SolveRequest::kTimeoutSeconds.Refusal("solve_timeout_seconds", solve_timeout_seconds);
  else if (!(max_request_work_seconds >= 1e-3 && max_request_work_seconds <= 86400))
    message = "max_request_work_seconds: expected 1e-3..86400, got " + Json(max_request_work_seconds).dump();
  else if (!collisions.empty() && collisions != "off" && collisions != "self" && collisions != "all")
    message = "collisions: expected off, self or all, got '" + collisions + "'";
  else if (!CollisionSolveOptions::kClearance.Contains(clearance))
    message = CollisionSolveOptions::kClearance.Refusal("clearance", clearance);
  else if (!scene_path.empty() && collisions != "all")
    message = "scene_path: expected collisions \"all\" with a scene";
  if (error != nullptr) *error = message;
  return message.empty();
}

struct WebServer::Impl {
  ServeOptions options;
  std::vector<std::unique_ptr<ServedArm>> arms;  // the first is the default
  std::string models_json;                       // the answer of /api/models
  SolverSettings settings;
  serve::CollisionDefaults collision_defaults;
  std::map<std::string, std::string> example_scenes;  // GET /api/scenes/NAME
  serve::HttpServer http;
  std::thread listener;
  std::atomic<bool> stop_requested{false};
  std::atomic<int> listen_fd{-1};
  bool bound = false;

  explicit Impl(const ServeOptions& o)
      : options(o),
        settings(serve::ServeSolverSettings(o)),
        http(serve::EngineLimits{o.max_body_bytes, o.request_timeout_seconds, o.keep_alive_timeout_seconds,
                                 o.write_timeout_seconds, o.max_connections, o.threads, kKeepAliveMaxCount}) {
  }

  static constexpr size_t kKeepAliveMaxCount = 1000;  // requests per connection

  // The arm a request names ("model": name in a body, ?model=name in a query); the first without.
  const ServedArm& ArmNamed(const std::string& name) const {
    for (const auto& arm : arms) {
      if (arm->name == name) return *arm;
    }
    std::string known;
    for (const auto& arm : arms) known += (known.empty() ? "" : ", ") + arm->name;
    throw ApiError{400, "model: expected one of " + known + ", got '" + name + "'"};
  }

  const ServedArm& ArmFor(const Json& body) const {
    if (!body.contains("model")) return *arms.front();
    const Json& name = body["model"];
    if (!name.is_string()) throw ApiError{400, "model: expected a string, got " + serve::TypeName(name)};
    return ArmNamed(name.get<std::string>());
  }

  const ServedArm& ArmFor(const httplib::Request& request) const {
    return request.has_param("model") ? ArmNamed(request.get_param_value("model")) : *arms.front();
  }

  // The solver a body names ("solver"; the arm's default without) for the arm it names.
  const Solver& SolverFor(const ServedArm& arm, const Json& body) const {
    std::string name = arm.default_solver;
    if (body.contains("solver")) {
      const Json& s = body["solver"];
      if (!s.is_string()) throw ApiError{400, "solver: expected a string, got " + serve::TypeName(s)};
      name = s.get<std::string>();
    }
    const auto it = arm.solvers.find(name);
    if (it == arm.solvers.end()) {
      std::string known;
      for (const std::string& k : arm.solver_names) known += (known.empty() ? "" : ", ") + k;
      throw ApiError{400, "solver: expected one of " + known + ", got '" + name + "'"};
    }
    return *it->second;
  }

  // Routing. Each path's handler is a const member, so the request threads can share `this`.

  void Route() {
    ConfigureConnections();
    RouteApi();
    RouteErrors();
    MountWebRoot();
  }
  // The host part of a Host header ("name:port", "[v6]:port" or "name"), lower case.
  static std::string HostName(const std::string& header) {
    std::string name = header;
    if (!name.empty() && name.front() == '[') {
      name = name.substr(1, name.find(']') == std::string::npos ? std::string::npos : name.find(']') - 1);
    } else if (name.find(':') != std::string::npos) {
      name = name.substr(0, name.find(':'));
    }
    return serve::Lowercase(name);
  }

  // Browsers always send Host; a page whose own name resolves to this machine (DNS rebinding)
  // sends its name, not ours, and is refused. Clients that send no Host (HTTP/1.0) are no browsers.
  bool HostAllowed(const httplib::Request& request) const {
    if (!request.has_header("Host")) return true;
    const std::string name = HostName(request.get_header_value("Host"));
    if (name == "localhost" || name == HostName(options.host)) return true;
    for (const std::string& allowed : options.allowed_hosts) {
      if (name == HostName(allowed)) return true;
    }
    // Listening on every address: any address of the machine, as a number, names it.
    const bool wildcard = options.host == "0.0.0.0" || options.host == "::";
    return wildcard && name.find_first_not_of("0123456789.:abcdef") == std::string::npos;
  }

  void ConfigureConnections() {
    // SO_REUSEADDR only (restart over TIME_WAIT); httplib's default SO_REUSEPORT would let a second
    // server share the port and take half of the connections.
    http.set_socket_options([this](socket_t sock) {
      int yes = 1;
      ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
      listen_fd = sock;  // for the backlog, see Bind()
    });
    http.set_pre_routing_handler([this](const httplib::Request& request, httplib::Response& response) {
      const std::string problem = TargetProblem(request);
      if (!problem.empty()) {
        Reply(response, 400, Json{{"error", problem}});
        return httplib::Server::HandlerResponse::Handled;
      }
      if (!HostAllowed(request)) {
        Reply(response, 403,
              Json{{"error", "Host '" + request.get_header_value("Host") +
                                 "' is not this server's address; start deepik serve with --allow-host NAME "
                                 "to accept it"}});
        return httplib::Server::HandlerResponse::Handled;
      }
      if (!IsApiPath(request.path) && !StaticPathServed(request.path)) {
        Reply(response, 404, Json{{"error", "not found: " + request.path}});
        return httplib::Server::HandlerResponse::Handled;
      }
      return httplib::Server::HandlerResponse::Unhandled;
    });
    http.set_payload_max_length(options.max_body_bytes);
    http.set_tcp_nodelay(true);  // small JSON answers: no Nagle delay on kept-alive connections
    // Timeouts, threads and keep-alive are the engine's (HttpServer); httplib only announces these
    // two in its Keep-Alive header.
    http.set_keep_alive_max_count(kKeepAliveMaxCount);
    http.set_keep_alive_timeout(static_cast<time_t>(std::ceil(options.keep_alive_timeout_seconds)));
  }

  void RouteApi() {
    http.Get("/api/arm", Callback(&Impl::HandleArm));
    http.Get("/api/model", Callback(&Impl::HandleModel));
    http.Get("/api/models", Callback(&Impl::HandleModels));
    http.Get("/api/workspace", Callback(&Impl::HandleWorkspace));
    http.Post("/api/solve", Callback(&Impl::HandleSolve));
    http.Post("/api/fk", Callback(&Impl::HandleFk));
    http.Post("/api/track", Callback(&Impl::HandleTrack));
    http.Post("/api/collide", Callback(&Impl::HandleCollide));
    http.Get("/api/meshes/.*", Callback(&Impl::HandleMesh));
    http.Get("/api/scenes", Callback(&Impl::HandleScenes));
    http.Get("/api/scenes/.*", Callback(&Impl::HandleScene));
    // Last: httplib takes the first route that matches, so these get only what the ones above do not.
    http.Get("/api/.*", HandleUnknownEndpoint);
    http.Post("/api/.*", HandleUnknownEndpoint);
    http.Put("/api/.*", HandleUnknownEndpoint);
    http.Delete("/api/.*", HandleUnknownEndpoint);
    http.Patch("/api/.*", HandleUnknownEndpoint);
  }

  void RouteErrors() {
    http.set_error_handler(HandleHttpError);
    http.set_exception_handler(HandleException);
  }

  void MountWebRoot() {
    http.set_mount_point("/", options.web_root);
    http.set_file_extension_and_mimetype_mapping("mjs", "text/javascript");
    http.set_file_extension_and_mimetype_mapping("js", "text/javascript");
    http.set_file_extension_and_mimetype_mapping("json", "application/json");
  }

  using MemberHandler = void (Impl::*)(const httplib::Request&, httplib::Response&) const;

  // `http` is a member, so it never calls the callback after `this` is gone.
  httplib::Server::Handler Callback(MemberHandler handler) const {
    return
        [this, handler](const httplib::Request& req, httplib::Response& res) { (this->*handler)(req, res); };
  }

  // The arm and the model never change while serving: their answers are built once at start-up.
  // The prebuilt `answer` of the arm the request names; 400 for an unknown name.
  void ReplyPrebuilt(const httplib::Request& req, httplib::Response& res,
                     std::string ServedArm::*answer) const {
    try {
      res.set_content(ArmFor(req).*answer, "application/json");
    } catch (const ApiError& e) {
      Reply(res, e.status, Json{{"error", e.message}});
    }
  }

  void HandleArm(const httplib::Request& req, httplib::Response& res) const {
    ReplyPrebuilt(req, res, &ServedArm::arm_json);
  }

  void HandleModel(const httplib::Request& req, httplib::Response& res) const {
    ReplyPrebuilt(req, res, &ServedArm::model_json);
  }

  void HandleModels(const httplib::Request&, httplib::Response& res) const {
    res.set_content(models_json, "application/json");
  }

  void HandleWorkspace(const httplib::Request& req, httplib::Response& res) const {
    Guarded(res, [&] { return Workspace(req); });
  }

  void HandleSolve(const httplib::Request& req, httplib::Response& res) const {
    Guarded(res, [&] { return Solve(serve::ParseBody(req.body)); });
  }

  void HandleFk(const httplib::Request& req, httplib::Response& res) const {
    Guarded(res, [&] { return Fk(serve::ParseBody(req.body)); });
  }

  void HandleTrack(const httplib::Request& req, httplib::Response& res) const {
    Guarded(res, [&] { return Track(serve::ParseBody(req.body)); });
  }

  void HandleCollide(const httplib::Request& req, httplib::Response& res) const {
    Guarded(res, [&] {
      const Json body = serve::ParseBody(req.body);
      const ServedArm& arm = ArmFor(body);
      return serve::Collide(body, arm.collision.get(), arm.chain, options.max_targets,
                            options.max_request_work_seconds);
    });
  }

  // GET /api/meshes/<arm>/<mesh>/<file>: only the files listed for a served arm (its visual meshes
  // and the buffers and images their glTF files name), looked up by the exact decoded path.
  void HandleMesh(const httplib::Request& req, httplib::Response& res) const {
    for (const auto& arm : arms) {
      const auto found = arm->meshes.files.find(req.path);
      if (found == arm->meshes.files.end()) continue;
      std::string bytes, error;
      if (!serve::ReadServedFile(found->second, &bytes, &error)) {
        Reply(res, 500, Json{{"error", error}});
        return;
      }
      res.set_header("Cache-Control", "max-age=3600");
      res.set_content(std::move(bytes), serve::MeshMimeType(found->second));
      return;
    }
    Reply(res, 404, Json{{"error", "not found: " + req.path}});
  }

  // GET /api/scenes: the example scenes' names; GET /api/scenes/NAME: one, as its file says.
  void HandleScenes(const httplib::Request&, httplib::Response& res) const {
    Json names = Json::array();
    for (const auto& entry : example_scenes) names.push_back(entry.first);
    Reply(res, 200, Json{{"scenes", names}});
  }

  void HandleScene(const httplib::Request& req, httplib::Response& res) const {
    const auto found = example_scenes.find(req.path.substr(std::string("/api/scenes/").size()));
    if (found == example_scenes.end()) {
      Reply(res, 404, Json{{"error", "not found: " + req.path}});
      return;
    }
    res.set_content(found->second, "application/json");
  }

  // The API's answers, from parsed requests; a request they refuse throws ApiError.

  // The CSV's answer fields: q, the reached position and orientation (w, x, y, z), position_error
  // (m), angle_error (rad; null for a position-only target) and status. "error" is only ever the
  // message of a refusal.
  static Json Answer(const SolveResult& result, double micros, const std::string& solver) {
    Json answer = ResultFields(result);
    answer["status"] = ToString(result.status);
    // Collision-aware answers: the sphere model's smallest signed distance (m; negative: overlap).
    if (!std::isnan(result.collision_distance))
      answer["min_distance"] =
          std::isfinite(result.collision_distance) ? Json(result.collision_distance) : Json(nullptr);
    answer["micros"] = micros;
    answer["solver"] = solver;
    return answer;
  }

  // q, the reached pose and the errors of a result (Answer() without status, time and solver).
  static Json ResultFields(const SolveResult& result) {
    const Eigen::Quaterniond& Q = result.Q_reached;
    return Json{{"q", std::vector<double>(result.q.data(), result.q.data() + result.q.size())},
                {"reached", serve::Vec3(result.p_reached)},
                {"reached_quat", Json::array({Q.w(), Q.x(), Q.y(), Q.z()})},
                {"position_error", result.error},
                {"angle_error", std::isnan(result.angle_error) ? Json(nullptr) : Json(result.angle_error)}};
  }

  // The request's work budget (ServeOptions::max_request_work_seconds): 413 beyond it.
  void CheckWork(long solver_runs) const {
    const double seconds = static_cast<double>(solver_runs) * options.solve_timeout_seconds;
    if (seconds <= options.max_request_work_seconds) return;
    const long most = static_cast<long>(options.max_request_work_seconds / options.solve_timeout_seconds);
    throw ApiError{413, "request too large: " + std::to_string(solver_runs) +
                            " solver runs (targets x solutions, x 8 with a posture objective) of " +
                            JsonText(Json(options.solve_timeout_seconds * 1e3)) +
                            " ms each exceed the server's " + "work budget of " +
                            JsonText(Json(options.max_request_work_seconds)) + " s per request (at most " +
                            std::to_string(most) + " runs); split it into smaller requests"};
  }

  static double MicrosSince(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count();
  }

  // The solver a request gets: `base`, or its collision-aware form (ClearSolver) when the
  // request's "collisions", "clearance" and "scene" (or the server's defaults) ask for one; `held`
  // keeps that alive while the request runs.
  const Solver& CollisionAware(const ServedArm& arm, const Solver& base, const Json& body,
                               serve::CollisionChoice* choice, std::shared_ptr<const Solver>* held) const {
    *choice = serve::ParseCollisionChoice(body, collision_defaults, arm.collision.get(), base);
    if (choice->mode == CollisionMode::kOff) return base;
    *held = arm.clear->Get(base, *choice);
    return **held;
  }

  // "collisions" (the mode) and, when not off, "clearance" (m), added to an answer.
  static void AddCollisionFields(const serve::CollisionChoice& choice, Json* answer) {
    (*answer)["collisions"] = ToString(choice.mode);
    if (choice.mode != CollisionMode::kOff) (*answer)["clearance"] = choice.clearance;
  }

  Json Solve(const Json& body) const {
    const ServedArm& arm = ArmFor(body);
    const Solver& base = SolverFor(arm, body);
    const serve::ParsedSolve request =
        serve::ParseSolveRequest(body, base, arm.model.get(), options.max_targets);
    serve::CollisionChoice choice;
    std::shared_ptr<const Solver> held;
    const Solver& solver = CollisionAware(arm, base, body, &choice, &held);
    const serve::ParsedTargets& parsed = request.targets;
    CheckWork(serve::SolverRuns(parsed.targets.size(), request.answer));
    Json answer;
    if (parsed.single) {
      answer = SolveTarget(solver, parsed.targets[0], request.answer, parsed.starts[0]);
    } else {
      Json results = Json::array();
      const auto start = std::chrono::steady_clock::now();
      for (size_t i = 0; i < parsed.targets.size(); ++i)
        results.push_back(SolveTarget(solver, parsed.targets[i], request.answer, parsed.starts[i]));
      answer = Json{{"results", results}, {"micros", MicrosSince(start)}, {"solver", solver.name()}};
    }
    AddCollisionFields(choice, &answer);
    return answer;
  }

  // One target's answer: Answer(), or with `solutions` > 0 {"solutions": [Answer(), ...], "exact":
  // true when they are exact solutions (else the one entry is the solver's unconverged answer),
  // "starts", "micros", "solver"}.
  // With a q_start (a target object's "q_start": joint values within the limits), the solver
  // starts there and the solutions come closest to it first (TRAC-IK's Distance mode).
  // With a posture objective, the exact solutions found (8 candidates at least, as `deepik solve`)
  // are improved and ranked by it; without "solutions" the answer is then the best one alone.
  Json SolveTarget(const Solver& solver, const IkTarget& target, const serve::SolveAnswerOptions& request,
                   const std::optional<Eigen::VectorXd>& q_start) const {
    const auto start = std::chrono::steady_clock::now();
    const Eigen::VectorXd* q0 = q_start ? &*q_start : nullptr;
    const bool ranked = request.posture.active();
    if (request.solutions == 0 && !ranked) {
      const SolveResult result = solver.Solve(target, q0);
      return Answer(result, MicrosSince(start), solver.name());
    }
    ManySolutionsOptions many;
    many.solutions = std::max(1, request.solutions);
    many.order = SolutionOrder::kClosestToStart;
    many.posture = request.posture;
    many.candidates = ranked ? serve::kPostureCandidates : 0;
    const ManySolutions found = SolveMany(solver, target, many, settings, q0);
    const double micros = MicrosSince(start);
    if (request.solutions == 0) return Answer(found.solutions.front(), micros, solver.name());
    Json list = Json::array();
    for (const SolveResult& r : found.solutions) list.push_back(Answer(r, micros, solver.name()));
    return Json{{"solutions", list},
                {"exact", found.exact()},
                {"starts", found.starts},
                {"micros", micros},
                {"solver", solver.name()}};
  }

  // POST /api/track: TrackPath over "targets" (as /api/solve's, without q_start) from an optional
  // "q_start" (joint values within the limits); "continue": true (needs q_start) tracks row 0 from
  // q_start within the step bound, as a path continued where an earlier one ended; "step_ratio"
  // and "step_floor" as `deepik track`; "collisions", "clearance", "scene" as /api/solve. Answers
  // one row per target: ResultFields(), "status" (tracked, out of reach, reconfiguration, in
  // collision, failed), "solve_status", "joint_step" and
  // "step_bound" (rad; null on a row solved afresh), then a "summary".
  Json Track(const Json& body) const {
    const ServedArm& arm = ArmFor(body);
    const Solver& base = SolverFor(arm, body);
    const serve::ParsedTrack request =
        serve::ParseTrackRequest(body, base, arm.model.get(), options.max_targets);
    // As /api/solve: the collision-aware solver keeps every row clear (TrackPath warm-starts it
    // from the previous row and marks a row reached only in collision).
    serve::CollisionChoice choice;
    std::shared_ptr<const Solver> held;
    const Solver& solver = CollisionAware(arm, base, body, &choice, &held);
    CheckWork(static_cast<long>(request.path.size()));
    const auto start = std::chrono::steady_clock::now();
    const std::vector<TrackPoint> points = TrackPath(solver, request.path, settings, request.track,
                                                     request.q_start ? &*request.q_start : nullptr);
    const TrackOptions& track = request.track;
    Json rows = Json::array();
    for (const TrackPoint& point : points) {
      Json row = ResultFields(point.result);
      row["status"] = ToString(point.status);
      row["solve_status"] = ToString(point.result.status);
      row["joint_step"] = point.joint_step;
      row["step_bound"] = std::isfinite(point.step_bound) ? Json(point.step_bound) : Json(nullptr);
      rows.push_back(std::move(row));
    }
    const TrackSummary summary = SummarizeTrack(points);
    Json answer{{"points", rows},
                {"summary",
                 {{"rows", summary.rows},
                  {"tracked", summary.tracked},
                  {"out_of_reach", summary.out_of_reach},
                  {"in_collision", summary.in_collision},
                  {"reconfigurations", summary.reconfigurations},
                  {"reconfiguration_rows", summary.reconfiguration_rows},
                  {"max_joint_step", summary.max_joint_step}}},
                {"step_ratio", track.step_ratio},
                {"step_floor", track.step_floor},
                {"micros", MicrosSince(start)},
                {"solver", solver.name()}};
    AddCollisionFields(choice, &answer);
    return answer;
  }

  Json Fk(const Json& body) const {
    serve::CheckKeys(body, {"q", "model"});
    const Chain& chain = ArmFor(body).chain;
    if (!body.contains("q")) throw ApiError{400, "expected a field 'q' (joint values, rad or m)"};
    const Eigen::VectorXd q =
        serve::ParseVector(body["q"], static_cast<size_t>(chain.num_joints()), serve::kMaxJointValue, "q");
    std::vector<Eigen::Isometry3d> X_BF;
    JointFrames(chain, q, &X_BF);
    Json frames = Json::array();
    for (const Eigen::Isometry3d& X : X_BF) frames.push_back(serve::PoseJson(X));
    return Json{{"frames", frames}, {"tip", serve::Vec3(X_BF.back().translation())}};
  }

  Json Workspace(const httplib::Request& request) const {
    const long n = IntegerParam(request, "n", 2000, 1, options.max_workspace_points);
    const long seed = IntegerParam(request, "seed", 1, 0, 1L << 40);
    std::mt19937_64 rng(static_cast<uint64_t>(seed));
    const Chain& c = ArmFor(request).chain;
    Eigen::VectorXd q(c.num_joints());
    Json points = Json::array();
    for (long k = 0; k < n; ++k) {
      for (int j = 0; j < c.num_joints(); ++j) {
        q[j] = std::uniform_real_distribution<double>(c.joint(j).lower, c.joint(j).upper)(rng);
      }
      const Eigen::Vector3d p = TipPosition(c, q);
      // Four significant decimals (0.1 mm) keep the answer small; it is for drawing.
      points.push_back(Json::array(
          {std::round(p.x() * 1e4) / 1e4, std::round(p.y() * 1e4) / 1e4, std::round(p.z() * 1e4) / 1e4}));
    }
    return Json{{"points", points}, {"seed", seed}};
  }
};

WebServer::WebServer(const ServeOptions& options) {
  std::string error;
  if (!options.IsValid(&error)) throw std::invalid_argument("serve options: " + error);
  impl_ = std::make_unique<Impl>(options);
  if (impl_->options.web_root.empty()) impl_->options.web_root = DefaultWebRoot();
  impl_->collision_defaults = serve::CollisionDefaults::FromOptions(impl_->options);
  impl_->example_scenes = serve::LoadExampleScenes();
  impl_->arms = serve::LoadServedArms(impl_->options);
  const bool explicit_mode = !options.collisions.empty() && options.collisions != "off";
  const bool any_can = std::any_of(impl_->arms.begin(), impl_->arms.end(), [](const auto& arm) {
    return arm->collision != nullptr && arm->collision->spheres() != nullptr;
  });
  if (explicit_mode && !any_can) {
    throw InputError(
        "--collisions " + options.collisions +
        ": no served arm has collision geometry and a sphere model (serve a URDF arm with --arm: "
        "panda, ur5, iiwa14 or a .urdf file, and --spheres for one without a shipped model); use "
        "--collisions off");
  }
  impl_->models_json = serve::ModelsJson(impl_->arms);
  impl_->Route();
}

WebServer::~WebServer() {
  if (impl_ && impl_->listener.joinable()) {
    impl_->http.stop();
    impl_->listener.join();
  }
}

const std::string& WebServer::web_root() const { return impl_->options.web_root; }

int WebServer::Bind() {
  const ServeOptions& o = impl_->options;
  int port = o.port;
  if (port == 0) {
    port = impl_->http.bind_to_any_port(o.host);
    if (port < 0) throw InputError("serve: cannot listen on " + o.host + " (any port)");
  } else {
    errno = 0;
    if (!impl_->http.bind_to_port(o.host, port)) {
      const int error = errno;
      throw InputError("serve: cannot listen on " + o.host + ":" + std::to_string(port) + ": " +
                       (error == EADDRINUSE ? std::string("address already in use")
                        : error != 0        ? std::string(std::strerror(error))
                                            : std::string("not an address of this machine")));
    }
  }
  // httplib's listen() backlog is 5 (compiled into libcpp-httplib): a burst of connections beyond it
  // waits for the client's SYN retry (1 s and more). listen() again on the bound socket raises it.
  if (impl_->listen_fd >= 0) ::listen(impl_->listen_fd, SOMAXCONN);
  impl_->bound = true;
  return port;
}

void WebServer::Run(const std::atomic<bool>* stop) {
  if (!impl_->bound) throw std::logic_error("WebServer::Run: call Bind() first");
  impl_->listener = std::thread([this] { impl_->http.listen_after_bind(); });
  while (!impl_->stop_requested.load() && (stop == nullptr || !stop->load())) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  impl_->http.stop();
  impl_->listener.join();
}

void WebServer::Stop() { impl_->stop_requested.store(true); }

int RunServe(const ServeOptions& options, std::ostream& out, const std::atomic<bool>* stop) {
  if (options.model_path.empty() && options.models_dir.empty() && options.arm.arm.empty()) {
    throw InputError("serve: expected --model FILE, --models DIR or --arm ARM (an arm without a model)");
  }
  if (options.arm.arm.empty() && (!options.arm.base_link.empty() || !options.arm.tip_link.empty())) {
    throw InputError("serve: --base and --tip apply with --arm only");
  }
  if (!options.scene_path.empty() && options.collisions != "all")
    throw InputError("--scene: expected --collisions all with a scene");
  WebServer server(options);
  const int port = server.Bind();
  std::error_code ec;
  if (!std::filesystem::exists(std::filesystem::path(server.web_root()) / "index.html", ec)) {
    out << "deepik: warning: no page in '" << server.web_root()
        << "' (use --web-root); serving the API only\n";
  }
  const std::string host =
      options.host.find(':') != std::string::npos ? "[" + options.host + "]" : options.host;
  out << "deepik: serving http://" << host << ":" << port << "/ (Ctrl-C to stop)" << std::endl;
  server.Run(stop);
  out << "deepik: stopped" << std::endl;
  return kExitOk;
}

}  // namespace deepik

extern "C" int deepik_run_serve(const deepik::ServeOptions* options, std::ostream* out,
                                const std::atomic<bool>* stop) {
  return deepik::RunServe(*options, *out, stop);
}
