// `deepik serve`: the web page and the JSON API for models and arms.
#include <iostream>
#include <memory>

#include "cli.hpp"
#include "deepik/serve/server.hpp"

namespace deepik::cli {

void AddServeCommand(CLI::App& app, CommandSet* set) {
  auto serve = std::make_shared<ServeOptions>();
  CLI::App* command = app.add_subcommand(
      "serve", "serve the web page and a JSON API for a model, a folder of models or an arm without one");
  command->add_option("--model,-m", serve->model_path, "model file");
  command->add_option("--models", serve->models_dir,
                      "a folder: every model file (*.safetensors) in it, chosen on the page");
  AddArmOption(command, &serve->arm);
  command->add_option("--port,-p", serve->port, "TCP port (0: any free port)")->capture_default_str();
  command->add_option("--host", serve->host, "address to listen on")->capture_default_str();
  command
      ->add_option("--threads", serve->threads,
                   "worker threads that run requests (1..256; slow clients hold none)")
      ->capture_default_str();
  command
      ->add_option_function<double>(
          "--timeout", [serve](double ms) { serve->solve_timeout_seconds = 1e-3 * ms; },
          "time budget per target (ms) of pose refinement, lm and the KDL restarts (default 5)")
      ->check(NumberIn(1e-3, 6e4));
  command->add_option("--web-root", serve->web_root, "the page's folder (default: deepik's web/)");
  command->add_option("--allow-host", serve->allowed_hosts,
                      "also accept requests whose Host header names this (repeatable; default: only the "
                      "--host address and localhost, against DNS rebinding)");
  const std::atomic<bool>* stop = set->stop;
  set->commands.push_back({command, [serve, stop] { return RunServe(*serve, std::cout, stop); }, true});
}

}  // namespace deepik::cli
