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
#include <nlohmann/json.hpp>
#include <ostream>
#include <random>
#include <thread>
#include <vector>

#include "deepik/errors.hpp"
#include "deepik/kinematics/fk.hpp"
#include "deepik/learn/model.hpp"
#include "deepik/solve/solvers.hpp"

// After Eigen: httplib.h brings <resolv.h>, whose `_res` macro breaks Eigen's headers.
#include <httplib.h>
#undef _res

namespace deepik {
namespace {

using Json = nlohmann::json;

// Coordinates and joint values beyond these are refused: no arm is kilometres long, and huge
// values only probe the solvers' numerics.
constexpr double kMaxCoordinate = 1e4;  // m
constexpr double kMaxJointValue = 1e3;  // rad or m

// A request the API refuses: answered with `status` and {"error": message}.
struct ApiError {
  int status;
  std::string message;
};

Json Vec3(const Eigen::Vector3d& v) { return Json::array({v.x(), v.y(), v.z()}); }

Json PoseJson(const Eigen::Isometry3d& X) {
  const Eigen::Quaterniond quat(X.rotation());
  return Json{{"p", Vec3(X.translation())}, {"quat", Json::array({quat.w(), quat.x(), quat.y(), quat.z()})}};
}

std::string TypeName(const Json& value) {
  if (value.is_null()) return "null";
  if (value.is_boolean()) return "a boolean";
  if (value.is_string()) return "a string";
  if (value.is_array()) return "an array";
  if (value.is_object()) return "an object";
  return "a number";
}

// An array of exactly `size` finite numbers, each within +-limit.
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

Json ParseBody(const httplib::Request& request) {
  Json body = Json::parse(request.body, nullptr, /*allow_exceptions=*/false);
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

Json ParseJsonText(const std::string& text) {
  if (text.empty()) return nullptr;
  Json value = Json::parse(text, nullptr, false);
  return value.is_discarded() ? Json(text) : value;
}

// The query parameter `key` as an integer in lo..hi; `fallback` when the request has none.
long IntegerParam(const httplib::Request& request, const char* key, long fallback, long lo, long hi) {
  if (!request.has_param(key)) return fallback;
  const std::string text = request.get_param_value(key);
  size_t used = 0;
  long value = 0;
  try {
    value = std::stol(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != text.size() || value < lo || value > hi) {
    throw ApiError{400, std::string(key) + ": expected an integer in " + std::to_string(lo) + ".." +
                            std::to_string(hi) + ", got '" + text + "'"};
  }
  return value;
}

void Reply(httplib::Response& response, int status, const Json& body) {
  response.status = status;
  response.set_content(body.dump(), "application/json");
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
  if (model_path.empty())
    message = "model_path: expected a model file";
  else if (host.empty())
    message = "host: expected an address";
  else if (port < 0 || port > 65535)
    message = "port: expected 0..65535, got " + std::to_string(port);
  else if (threads < 1 || threads > 256)
    message = "threads: expected 1..256, got " + std::to_string(threads);
  else if (max_body_bytes < 1024)
    message = "max_body_bytes: expected at least 1024";
  else if (max_targets < 1)
    message = "max_targets: expected at least 1";
  else if (max_workspace_points < 1)
    message = "max_workspace_points: expected at least 1";
  if (error != nullptr) *error = message;
  return message.empty();
}

struct WebServer::Impl {
  ServeOptions options;
  IkModel model;
  std::map<std::string, std::unique_ptr<Solver>> solvers;
  std::vector<std::string> solver_names;  // in SolverNames() order
  std::string arm_json, model_json;
  httplib::Server http;
  std::thread listener;
  std::atomic<bool> stop_requested{false};
  bool bound = false;

  Impl(const ServeOptions& o, IkModel m) : options(o), model(std::move(m)) {}

  const Chain& chain() const { return model.chain(); }

  // Start-up: everything the request threads share is built here, then only read.

  void BuildSolvers() {
    for (const std::string& name : SolverNames()) {
      try {
        solvers[name] = MakeSolver(name, model);
        solver_names.push_back(name);
      } catch (const InputError&) {
        // Not applicable to this arm (the closed form exists for the seed arm only).
      }
    }
  }

  void BuildArmJson() {
    const Chain& c = chain();
    const int n = c.num_joints();
    Json joints = Json::array();
    for (const Joint& joint : c.joints()) {
      const Eigen::Quaterniond quat(joint.X_PJ.rotation());
      joints.push_back({{"name", joint.name},
                        {"type", ToString(joint.type)},
                        {"axis", Vec3(joint.axis_J)},
                        {"lower", joint.lower},
                        {"upper", joint.upper},
                        {"continuous", joint.continuous},
                        {"origin", PoseJson(joint.X_PJ)}});
    }
    Eigen::VectorXd home = Eigen::VectorXd::Zero(n);
    home = home.cwiseMax(c.lower_limits()).cwiseMin(c.upper_limits());
    std::vector<Eigen::Isometry3d> X_BF;
    JointFrames(c, Eigen::VectorXd::Zero(n), &X_BF);
    Json frames = Json::array(), lengths = Json::array();
    Eigen::Vector3d previous = Eigen::Vector3d::Zero();
    for (const Eigen::Isometry3d& X : X_BF) {
      frames.push_back(PoseJson(X));
      lengths.push_back((X.translation() - previous).norm());
      previous = X.translation();
    }
    Json arm{{"name", c.name()},
             {"dof", n},
             {"reach", c.reach()},
             {"joints", joints},
             {"tip", PoseJson(c.X_LT())},
             {"frames_at_zero", frames},
             {"link_lengths", lengths},
             {"home", std::vector<double>(home.data(), home.data() + n)},
             {"units", {{"length", "m"}, {"angle", "rad"}, {"frame", "base, z up"}}}};
    arm_json = arm.dump();
  }

  void BuildModelJson() {
    const Json history = Json::parse(HistoryToJson(model.History()));
    Json info{{"path", std::filesystem::path(options.model_path).filename().string()},
              {"arm", chain().name()},
              {"dof", chain().num_joints()},
              {"network", ParseJsonText(NetworkOptionsToJson(model.network()))},
              {"training", ParseJsonText(model.Metadata("training"))},
              {"metrics", ParseJsonText(model.Metadata("metrics"))},
              {"history", history},
              {"solvers", solver_names},
              {"default_solver", "refined"}};
    model_json = info.dump();
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
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    return name;
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
    http.set_socket_options([](socket_t sock) {
      int yes = 1;
      ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    });
    http.set_pre_routing_handler([this](const httplib::Request& request, httplib::Response& response) {
      if (HostAllowed(request)) return httplib::Server::HandlerResponse::Unhandled;
      Reply(response, 403,
            Json{{"error", "Host '" + request.get_header_value("Host") +
                               "' is not this server's address; start deepik serve with --allow-host NAME "
                               "to accept it"}});
      return httplib::Server::HandlerResponse::Handled;
    });
    http.set_payload_max_length(options.max_body_bytes);
    http.set_tcp_nodelay(true);  // small JSON answers: no Nagle delay on kept-alive connections
    http.set_keep_alive_max_count(1000);
    http.set_keep_alive_timeout(2);
    http.set_read_timeout(10);
    http.set_write_timeout(10);
    const int threads = options.threads;
    http.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
  }

  void RouteApi() {
    http.Get("/api/arm", Callback(&Impl::HandleArm));
    http.Get("/api/model", Callback(&Impl::HandleModel));
    http.Get("/api/workspace", Callback(&Impl::HandleWorkspace));
    http.Post("/api/solve", Callback(&Impl::HandleSolve));
    http.Post("/api/fk", Callback(&Impl::HandleFk));
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
  void HandleArm(const httplib::Request&, httplib::Response& res) const {
    res.set_content(arm_json, "application/json");
  }

  void HandleModel(const httplib::Request&, httplib::Response& res) const {
    res.set_content(model_json, "application/json");
  }

  void HandleWorkspace(const httplib::Request& req, httplib::Response& res) const {
    Guarded(res, [&] { return Workspace(req); });
  }

  void HandleSolve(const httplib::Request& req, httplib::Response& res) const {
    Guarded(res, [&] { return Solve(ParseBody(req)); });
  }

  void HandleFk(const httplib::Request& req, httplib::Response& res) const {
    Guarded(res, [&] { return Fk(ParseBody(req)); });
  }

  // The API's answers, from parsed requests; a request they refuse throws ApiError.

  const Solver& SolverFor(const Json& body) const {
    std::string name = "refined";
    if (body.contains("solver")) {
      const Json& s = body["solver"];
      if (!s.is_string()) throw ApiError{400, "solver: expected a string, got " + TypeName(s)};
      name = s.get<std::string>();
    }
    const auto it = solvers.find(name);
    if (it == solvers.end()) {
      std::string known;
      for (const std::string& k : solver_names) known += (known.empty() ? "" : ", ") + k;
      throw ApiError{400, "solver: expected one of " + known + ", got '" + name + "'"};
    }
    return *it->second;
  }

  static Json Answer(const SolveResult& result, double micros, const std::string& solver) {
    return Json{{"q", std::vector<double>(result.q.data(), result.q.data() + result.q.size())},
                {"reached", Vec3(result.p_reached)},
                {"error", result.error},
                {"status", ToString(result.status)},
                {"micros", micros},
                {"solver", solver}};
  }

  static double MicrosSince(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count();
  }

  Json Solve(const Json& body) const {
    CheckKeys(body, {"target", "targets", "solver"});
    const bool single = body.contains("target"), batch = body.contains("targets");
    if (single == batch)
      throw ApiError{400, "expected exactly one of 'target' ([x,y,z]) or 'targets' ([[x,y,z],...])"};
    const Solver& solver = SolverFor(body);
    return single ? SolveOne(solver, body["target"]) : SolveBatch(solver, body["targets"]);
  }

  static Json SolveOne(const Solver& solver, const Json& value) {
    IkTarget target;
    target.p_BT = ParseVector(value, 3, kMaxCoordinate, "target");
    const auto start = std::chrono::steady_clock::now();
    const SolveResult result = solver.Solve(target);
    return Answer(result, MicrosSince(start), solver.name());
  }

  // Every target is checked before any is solved: a bad one refuses the whole batch at once.
  Json SolveBatch(const Solver& solver, const Json& list) const {
    if (!list.is_array()) throw ApiError{400, "targets: expected an array of [x,y,z], got " + TypeName(list)};
    if (list.empty()) throw ApiError{400, "targets: expected at least one target"};
    if (list.size() > static_cast<size_t>(options.max_targets)) {
      throw ApiError{413, "targets: expected at most " + std::to_string(options.max_targets) +
                              " targets, got " + std::to_string(list.size())};
    }
    std::vector<IkTarget> targets(list.size());
    for (size_t i = 0; i < list.size(); ++i) {
      targets[i].p_BT = ParseVector(list[i], 3, kMaxCoordinate, "targets[" + std::to_string(i) + "]");
    }
    Json results = Json::array();
    const auto start = std::chrono::steady_clock::now();
    for (const IkTarget& target : targets) {
      const auto one = std::chrono::steady_clock::now();
      const SolveResult result = solver.Solve(target);
      results.push_back(Answer(result, MicrosSince(one), solver.name()));
    }
    return Json{{"results", results}, {"micros", MicrosSince(start)}, {"solver", solver.name()}};
  }

  Json Fk(const Json& body) const {
    CheckKeys(body, {"q"});
    if (!body.contains("q")) throw ApiError{400, "expected a field 'q' (joint values, rad or m)"};
    const Eigen::VectorXd q =
        ParseVector(body["q"], static_cast<size_t>(chain().num_joints()), kMaxJointValue, "q");
    std::vector<Eigen::Isometry3d> X_BF;
    JointFrames(chain(), q, &X_BF);
    Json frames = Json::array();
    for (const Eigen::Isometry3d& X : X_BF) frames.push_back(PoseJson(X));
    return Json{{"frames", frames}, {"tip", Vec3(X_BF.back().translation())}};
  }

  Json Workspace(const httplib::Request& request) const {
    const long n = IntegerParam(request, "n", 2000, 1, options.max_workspace_points);
    const long seed = IntegerParam(request, "seed", 1, 0, 1L << 40);
    std::mt19937_64 rng(static_cast<uint64_t>(seed));
    const Chain& c = chain();
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
  impl_ = std::make_unique<Impl>(options, IkModel::Load(options.model_path));
  if (impl_->options.web_root.empty()) impl_->options.web_root = DefaultWebRoot();
  impl_->BuildSolvers();
  impl_->BuildArmJson();
  impl_->BuildModelJson();
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
