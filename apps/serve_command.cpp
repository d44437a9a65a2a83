// `deepik serve`: the web page and the JSON API for models and arms. The server is a library of
// its own (deepik_serve, with cpp-httplib and OpenSSL), loaded only when `serve` runs, so that
// every other command starts without those libraries.
#include <dlfcn.h>
#include <unistd.h>

#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "cli.hpp"
#include "collision_options.hpp"
#include "deepik/data/option_range.hpp"
#include "deepik/serve/server.hpp"
#include "deepik/solve/solve_request.hpp"
#include "geometry/geometry_commands.hpp"

namespace deepik::cli {
namespace {

constexpr const char* kServeLibrary = "libdeepik_serve.so.0";

using RunServeEntry = int (*)(const ServeOptions*, std::ostream*, const std::atomic<bool>*);

// Beside the command (the build tree), in <libdir> beside an installed command, then wherever the
// dynamic loader finds libraries (as it found the core).
RunServeEntry LoadServer() {
  std::vector<char> exe(4096);
  const ssize_t n = ::readlink("/proc/self/exe", exe.data(), exe.size() - 1);
  const std::string path(exe.data(), n > 0 ? static_cast<size_t>(n) : 0);
  const std::string dir = path.substr(0, path.rfind('/') == std::string::npos ? 0 : path.rfind('/'));
  std::string tried;
  for (const std::string& candidate :
       {dir + "/" + kServeLibrary, dir + "/../" DEEPIK_INSTALL_LIBDIR "/" + std::string(kServeLibrary),
        std::string(kServeLibrary)}) {
    void* handle = ::dlopen(candidate.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
      const char* why = ::dlerror();
      tried += "\n  " + candidate + ": " + (why ? why : "not loadable");
      continue;
    }
    auto entry = reinterpret_cast<RunServeEntry>(::dlsym(handle, "deepik_run_serve"));
    if (entry == nullptr) throw std::runtime_error(candidate + " is not deepik's server library");
    return entry;
  }
  throw std::runtime_error("cannot load the server library (" + std::string(kServeLibrary) +
                           "); tried:" + tried);
}

}  // namespace

void AddServeCommand(CLI::App& app, CommandSet* set) {
  auto serve = std::make_shared<ServeOptions>();
  CLI::App* command = app.add_subcommand(
      "serve", "serve the web page and a JSON API for a model, a folder of models or an arm without one");
  command->add_option("--model,-m", serve->model_path,
                      "model file (with --models: a file, or the name of one in the folder; the default)");
  command->add_option("--models", serve->models_dir,
                      "a folder: every model file (*.safetensors) in it, chosen on the page (default: "
                      "seed-default when it has one)");
  AddArmOption(command, &serve->arm);
  command->add_option("--port,-p", serve->port, "TCP port (0: any free port)")->capture_default_str();
  command->add_option("--host", serve->host, "address to listen on")->capture_default_str();
  command
      ->add_option("--threads", serve->threads, "worker threads that run requests (slow clients hold none)")
      ->capture_default_str()
      ->check(WholeNumberIn(kThreadRange));
  command
      ->add_option_function<double>(
          "--timeout", [serve](double ms) { serve->solve_timeout_seconds = 1e-3 * ms; },
          "time budget per target (ms) of pose refinement, lm and the KDL restarts (default 5)")
      ->check(NumberIn(SolveRequest::kTimeoutSeconds.min * 1e3, SolveRequest::kTimeoutSeconds.max * 1e3));
  command
      ->add_option("--work-budget", serve->max_request_work_seconds,
                   "the most work one solve or track request may ask for (s): targets x solutions x "
                   "--timeout; beyond it 413")
      ->capture_default_str()
      ->check(NumberIn(1e-3, 86400));
  command->add_option("--web-root", serve->web_root, "the page's folder (default: deepik's web/)");
  command->add_option("--allow-host", serve->allowed_hosts,
                      "also accept requests whose Host header names this (repeatable; default: only the "
                      "--host address and localhost, against DNS rebinding)");
  command->add_option("--package-path", serve->mesh_search.package_paths,
                      "a folder holding ROS packages, for the --arm URDF's package://NAME/... meshes "
                      "(repeatable; searched before ROS_PACKAGE_PATH)");
  command->add_option("--matrix", serve->matrix_path,
                      "self-collision matrix of the --arm URDF for /api/collide (default: the shipped one of "
                      "a built-in arm)");
  command->add_option("--spheres", serve->spheres_path,
                      "sphere model of the --arm URDF for /api/collide and the page (default: the shipped "
                      "one of a built-in arm)");
  // A request's "collisions", "clearance" and "scene" override these (README "Web page and API").
  AddCollisionModeOptions(command, &serve->collisions, &serve->clearance,
                          "self for an arm served with --arm that has collision geometry and a sphere model "
                          "(panda, ur5, iiwa14), else off; a request's \"collisions\" overrides it");
  command->add_option(
      "--scene", serve->scene_path,
      "obstacles (JSON, docs/SCENES.md), with --collisions all; a request's \"scene\" replaces "
      "it");
  serve->exact_checker = MakeExactChecker;
  serve->exact_with_scene = MakeExactWithScene;
  // Nothing to serve is a usage error (exit 2), found while parsing, before the server loads.
  command->callback([serve] {
    if (serve->model_path.empty() && serve->models_dir.empty() && serve->arm.arm.empty())
      throw CLI::RequiredError(
          "serve: expected --model FILE, --models DIR or --arm ARM (an arm without a model)");
  });
  const std::atomic<bool>* stop = set->stop;
  set->commands.push_back(
      {command, [serve, stop] { return LoadServer()(serve.get(), &std::cout, stop); }, true});
}

}  // namespace deepik::cli
