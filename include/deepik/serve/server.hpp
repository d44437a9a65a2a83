// `deepik serve`: an HTTP server with a JSON API for arms and trained models, and the Three.js page.
//
// The server offers one or more arms, each by a name: a model file (named after its file, without
// .safetensors; every solver), or an arm without a model (named after the arm or its file; the
// solvers that need no model, lm by default). Every request below may choose one with "model":
// name in its body or ?model=name in its query; without, it gets the first (GET /api/models). The
// solver a solve request gets without "solver" is the arm's default_solver: refined with a model,
// lm without.
//
// API (all answers are JSON; errors are 4xx with {"error": "..."}):
//   GET  /api/models     {"models":[{"name","arm","dof","has_model","solvers","default_solver"},...],
//                        "default":name}: what the server offers, the default first
//   GET  /api/arm        the arm: joints (name, type, axis, limits, origin), tip offset, the joint
//                        frames at q = 0, link lengths and reach (m, rad, base frame B, z up);
//                        "visuals": a URDF's boxes, cylinders and spheres, each {"shape", "link",
//                        "frame" (-1: base, i: joint i's moving frame), "origin" (pose in that
//                        frame), "size" (box: x,y,z; cylinder: radius,length,0; sphere: radius,0,0),
//                        "rgba" (or null)}; "meshes": a URDF arm's visual meshes (served with --arm),
//                        each {"link", "frame", "origin", "scale", "url", "format"}; "meshes_missing";
//                        "meshes_not_drawn" (mesh elements left out); "collision" (null: none):
//                        {"links", "pairs", "exact", "spheres": per link {"link", "frame", "origin",
//                        "spheres": [[x, y, z, r], ...]} or null}
//   GET  /api/scenes     {"scenes": [NAME, ...]}: the example scenes of robots/scenes/; GET
//                        /api/scenes/NAME answers that file as it is
//   GET  /api/meshes/ARM/K/NAME  the files "meshes" lists (and the buffers and images a glTF file
//                        names beside it); every other path is a 404
//   POST /api/collide    {"q": [...]} or {"qs": [[...], ...]}, "collision_model": "exact" (FCL
//                        through ServeOptions::exact_checker) or "spheres" -> {"in_collision",
//                        "min_distance", "link_a", "link_b", "collision_model"} (for "qs":
//                        {"results": [...]}), as `deepik collide`; "scene": {...} (exact only) adds
//                        its obstacles; 413 beyond max_targets rows or the
//                        work budget (10 ms a row exact, 0.1 ms spheres)
//   POST /api/solve      {"target":[x,y,z], "solver":"refined"} -> {"q":[...], "reached":[x,y,z],
//                        "position_error":e, "status":"converged"|"approximate"|"out of reach"|"failed",
//                        "micros":t, "solver":name}; batch form {"targets":[[x,y,z],...], "solver":...} ->
//                        {"results":[...one answer per target, in order...], "micros":total};
//                        "solutions":K (1..100) answers {"solutions":[answer,...], "exact", "starts",
//                        "micros", "solver"} per target; a target object's "q_start" is where the
//                        solver starts (solutions closest to it first); "avoid_limits", "posture"
//                        (one value per joint) with "posture_weight", and "start_weight" (needs a
//                        q_start) choose among the exact solutions as `deepik solve` does
//                        Collisions (lm, refined): "collisions": "off"|"self"|"all", "clearance": m,
//                        "scene": {"obstacles": [...]} (inline, docs/SCENES.md, at most 256; implies
//                        "all", replaces the served scene); defaults: collisions, clearance,
//                        scene_path below. Answers then carry "collisions", "clearance" and per
//                        answer "min_distance" (the sphere model's, m); status "in collision".
//                        /api/track: collisions off (a "scene" or "collisions" other than off: 400)
//   POST /api/track      {"targets":[...], "q_start":[...], "continue":false, "step_ratio":20,
//                        "step_floor":0.001} -> {"points":[{answer fields, "status":"tracked"|"out of
//                        reach"|"reconfiguration"|"failed", "solve_status", "joint_step",
//                        "step_bound" (null on a row solved afresh)}, ...], "summary":{...}}: TrackPath
//                        (deepik track); "continue":true tracks row 0 from q_start within the bound
//   POST /api/fk         {"q":[...]} -> {"frames":[{"p":[x,y,z],"quat":[w,x,y,z]},...], "tip":[x,y,z]}
//   GET  /api/model      the model's metadata: arm, network, training options, headline metrics,
//                        history (one record per epoch), the solvers on offer and the default
//                        one; without a model, network/training/metrics/path are null and the
//                        history empty
//   GET  /api/workspace  ?n=2000&seed=1: tip positions of n uniformly random joint values
//                        (FK, seeded): {"points":[[x,y,z],...]}
// Everything else is a file under the web root, only those the page loads: its own files and
// three.js's node_modules/three/build/ and examples/jsm/ (404 for the rest of node_modules/).
// A Range header is ignored on the API (an answer is a whole JSON document); a file honours one
// range (206) and answers several with the whole file (200). Bodies are read as JSON whatever their
// Content-Type (curl -d's form type included). A solve or track request asking for more than
// max_request_work_seconds of work (solver runs x solve_timeout_seconds) is refused with 413; a
// position target to a pose model (or a pose to a position model's network) is a 400.
//
// Connections: one thread reads every connection (poll) and hands a request to the worker pool
// only once its head and its whole body have arrived, so clients that send slowly hold no worker.
// Refused before any handler runs, with a JSON error and the connection closed: a head over 16 KiB
// (431), a Content-Length that is repeated with different values, signed, not a decimal number or
// beyond max_body_bytes (400 or 413), Transfer-Encoding (411), a request that does not arrive within
// request_timeout_seconds of its first byte (408), a path or query that is not UTF-8 or holds
// control characters such as %00 (400), a Host header that is empty, repeated or not text (400).
// Answers are written by the reading thread as fast as the client reads them, so a client that
// does not read holds no worker; one that takes nothing for write_timeout_seconds is disconnected.
#pragma once

#include <atomic>
#include <cstddef>
#include <iosfwd>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "deepik/geometry/robot_geometry.hpp"
#include "deepik/kinematics/arm_spec.hpp"

/// The library's interface: deepik_serve is built with hidden visibility (-fvisibility=hidden), so
/// that the symbols of its internals and of the templates it instantiates (JSON, httplib) are not
/// exported and cost no dynamic relocation when `deepik serve` loads it; what this header declares
/// is exported.
#define DEEPIK_SERVE_API __attribute__((visibility("default")))

namespace deepik {

class CollisionChecker;
struct Scene;

/// Makes the exact self-collision check (FCL on the meshes, deepik::geometry's ExactChecker) of
/// `geometry`'s link pairs `pairs`. `deepik serve` passes the geometry plugin's, so that the server
/// library itself links neither assimp nor FCL.
/// @throws InputError for a missing, unreadable or invalid mesh.
using ExactCheckerFactory = std::unique_ptr<CollisionChecker> (*)(const RobotGeometry& geometry,
                                                                  std::vector<std::pair<int, int>> pairs);

/// Makes the exact check of an ExactCheckerFactory's checker `exact` among `scene`'s obstacles,
/// sharing its meshes (ExactChecker::WithScene): how the server checks a request's scene without
/// reading a mesh again.
using ExactSceneFactory = std::unique_ptr<CollisionChecker> (*)(const CollisionChecker& exact,
                                                                const Scene& scene);

/// Options of `deepik serve`.
struct DEEPIK_SERVE_API ServeOptions {
  std::string model_path;          ///< a model file (safetensors); may be empty when one of the next is given
  std::string models_dir;          ///< a folder: every *.safetensors file in it, sorted by name
  ArmSpec arm;                     ///< an arm without a model (arm.arm empty: none)
  std::string host = "127.0.0.1";  ///< the address to listen on
  int port = 8080;                 ///< 0 picks a free port
  std::string web_root;            ///< the page's folder; empty = the source tree's web/ or the installed one
  int threads = 8;                 ///< worker threads that run complete requests
  size_t max_body_bytes = 64 * 1024;
  /// A request's head and body must arrive within this many seconds of its first byte (else 408).
  double request_timeout_seconds = 10;
  /// An idle kept-alive connection is closed after this many seconds.
  double keep_alive_timeout_seconds = 2;
  /// A client that takes no byte of its answer for this many seconds is disconnected.
  double write_timeout_seconds = 10;
  /// Open connections beyond this are closed at once (each costs a file descriptor).
  int max_connections = 512;
  int max_targets = 1000;            ///< per batch request and per tracked path
  int max_workspace_points = 20000;  ///< per /api/workspace request
  /// Time budget per target (s) of pose refinement, lm and the KDL restarts (`solve --timeout`).
  double solve_timeout_seconds = 0.005;
  /// The most work one solve or track request may ask for (s): its solver runs (targets x
  /// max(1, "solutions"), x 8 candidates at least with a posture objective) times
  /// solve_timeout_seconds. Beyond it the request is refused with 413 before any solve, so that
  /// one request holds a worker for a bounded time.
  double max_request_work_seconds = 10;
  /// Host names accepted in a request's Host header besides `host` and localhost (a guard against
  /// DNS rebinding: a web page that renames its own address to 127.0.0.1 cannot reach the API).
  std::vector<std::string> allowed_hosts;
  /// Where the served URDF arm's mesh references are looked up (`--package-path`).
  MeshSearchOptions mesh_search;
  /// The served URDF arm's self-collision matrix and sphere model (JSON); empty: a built-in arm's
  /// shipped ones (robots/collision/), else every pair not joined by a joint and no sphere model.
  std::string matrix_path, spheres_path;
  /// The exact check of POST /api/collide; null: it answers "collision_model": "spheres" only.
  ExactCheckerFactory exact_checker = nullptr;
  /// The exact check among obstacles of collision-aware solving; null (or no exact_checker): the
  /// sphere model alone judges the answers.
  ExactSceneFactory exact_with_scene = nullptr;
  /// Collision-aware solving (`--collisions`), the default of requests without "collisions":
  /// "off", "self", "all", or empty: self for an arm with collision geometry (a URDF arm served
  /// with --arm) and a sphere model, else off. An arm without them solves with collisions off
  /// unless a request asks for them (a 400).
  std::string collisions;
  /// m: the clearance of collision-aware solving (`--clearance`), the default of requests.
  double clearance = 0.0;
  /// Obstacles (a scene file, docs/SCENES.md; `--scene`, with collisions "all"): the scene of
  /// requests under "collisions": "all" that give none.
  std::string scene_path;

  /// True when valid; otherwise `error` (when not null) names the offending field.
  bool IsValid(std::string* error) const;
};

/// The server: the model and one solver of each kind that applies, built once; many requests can
/// run at once (solvers are thread-safe). Not copyable.
class DEEPIK_SERVE_API WebServer {
 public:
  /// Loads the models and the arm and builds their solvers.
  /// @throws InputError for a bad model file or arm, a --models folder without model files, or two
  ///         of them with the same name; std::invalid_argument for invalid options.
  explicit WebServer(const ServeOptions& options);
  ~WebServer();
  WebServer(const WebServer&) = delete;
  WebServer& operator=(const WebServer&) = delete;

  /// Binds the listening socket and returns the port (the chosen one when options.port is 0).
  /// @throws InputError when the address cannot be bound.
  int Bind();
  /// Serves until `stop` (polled every 50 ms, may be null) is set or Stop() is called. Bind()
  /// must have been called.
  void Run(const std::atomic<bool>* stop);
  /// Makes Run() return soon; safe from any thread.
  void Stop();

  /// The folder the page is served from.
  const std::string& web_root() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// `deepik serve`: starts the server, prints "deepik: serving http://HOST:PORT/ (Ctrl-C to stop)"
/// on `out` and serves until `stop` is set. Returns kExitOk.
/// @throws InputError for a bad model file or an address that cannot be bound.
DEEPIK_SERVE_API int RunServe(const ServeOptions& options, std::ostream& out, const std::atomic<bool>* stop);

}  // namespace deepik

/// RunServe for a program that loads this library on demand (dlopen + dlsym of this name): the
/// `deepik` command does, so that its other commands start without the HTTP server's libraries.
/// Throws what RunServe throws.
extern "C" DEEPIK_SERVE_API int deepik_run_serve(const deepik::ServeOptions* options, std::ostream* out,
                                                 const std::atomic<bool>* stop);
