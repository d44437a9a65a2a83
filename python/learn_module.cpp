// deepik._learn: `deepik train` from Python (links libtorch; deepik/__init__.py imports it only when
// deepik.train is called). It runs the command's own RunTrain, so that options, checks, messages,
// progress (on stderr) and files are the command's.
#include <pybind11/pybind11.h>

#include <atomic>
#include <csignal>
#include <iostream>
#include <optional>
#include <ostream>
#include <streambuf>
#include <string>
#include <utility>

#include "../apps/commands.hpp"
#include "deepik/errors.hpp"
#include "deepik/learn/blas_check.hpp"
#include "input_error.hpp"

namespace py = pybind11;

namespace deepik::python {
namespace {

std::atomic<bool> g_stop_requested{false};

void RequestStop(int) { g_stop_requested.store(true); }

// SIGINT and SIGTERM set the stop flag while training runs (Python's own handler cannot run while
// the GIL is released), as in the command: the trainer saves a checkpoint and returns.
class StopOnSignals {
 public:
  StopOnSignals() {
    g_stop_requested.store(false);
    struct sigaction action {};
    action.sa_handler = RequestStop;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, &old_int_);
    sigaction(SIGTERM, &action, &old_term_);
  }
  ~StopOnSignals() {
    sigaction(SIGINT, &old_int_, nullptr);
    sigaction(SIGTERM, &old_term_, nullptr);
  }
  StopOnSignals(const StopOnSignals&) = delete;
  StopOnSignals& operator=(const StopOnSignals&) = delete;

 private:
  struct sigaction old_int_ {
  }, old_term_{};
};

// An output stream into Python's sys.stderr (whatever it is at the time: a notebook's cell, a
// StringIO), written a line at a time with the GIL taken; training runs with it released.
class PythonStderrBuffer : public std::streambuf {
 public:
  PythonStderrBuffer() = default;
  PythonStderrBuffer(const PythonStderrBuffer&) = delete;
  PythonStderrBuffer& operator=(const PythonStderrBuffer&) = delete;
  ~PythonStderrBuffer() override { sync(); }

 protected:
  int_type overflow(int_type c) override {
    if (c != traits_type::eof()) {
      pending_.push_back(static_cast<char>(c));
      if (c == '\n' || c == '\r') sync();
    }
    return traits_type::not_eof(c);
  }
  std::streamsize xsputn(const char* text, std::streamsize count) override {
    pending_.append(text, static_cast<size_t>(count));
    if (pending_.find_first_of("\n\r") != std::string::npos) sync();
    return count;
  }
  int sync() override {
    if (pending_.empty()) return 0;
    py::gil_scoped_acquire gil;
    try {
      py::object stderr_object = py::module_::import("sys").attr("stderr");
      if (!stderr_object.is_none()) {
        stderr_object.attr("write")(py::str(pending_));
        stderr_object.attr("flush")();
      }
    } catch (py::error_already_set&) {
      // A closed or broken sys.stderr: progress is lost, training goes on.
    }
    pending_.clear();
    return 0;
  }

 private:
  std::string pending_;
};

// The library's refusal in Python's words: its field as the keyword that sets it
// ("learning_rate: ..." -> "lr: ..."), the range text unchanged (the command line's too).
std::string AsKeywords(std::string message) {
  static const std::pair<const char*, const char*> kKeywords[] = {{"learning_rate", "lr"},
                                                                  {"batch_size", "batch"},
                                                                  {"time_limit_seconds", "time_limit"},
                                                                  {"grid_step_deg", "step"},
                                                                  {"grid_step_m", "step_m"}};
  for (const auto& [field, keyword] : kKeywords) {
    const std::string prefix = std::string(field) + ":";
    if (message.rfind(prefix, 0) == 0) return keyword + message.substr(prefix.size() - 1);
  }
  return message;
}

// Every option checked before any work (sampling, loading libtorch's data), as the command's
// parser does: a ValueError naming the keyword and its range.
void CheckOptions(const cli::TrainCommandOptions& options) {
  std::string error;
  if (!options.train.IsValid(&error) || !options.network.IsValid(&error) ||
      (options.data_path.empty() && !options.sampler.IsValid(&error))) {
    throw py::value_error(AsKeywords(error));
  }
}

std::string Train(const std::string& output, const std::string& arm, const std::string& data,
                  const std::string& base, const std::string& tip, const std::string& sampler, int64_t count,
                  double step, double step_m, double margin, uint64_t data_seed, double train_fraction,
                  double validation_fraction, int depth, int width, const std::string& activation,
                  const std::string& head, bool sincos, int newton_steps, const std::string& loss, int epochs,
                  int64_t batch, double lr, double final_lr_fraction, int patience, int64_t checkpoint_every,
                  double time_limit, uint64_t seed, int threads, int64_t eval_samples,
                  const std::string& checkpoint, const std::string& log, bool resume, int heads,
                  double other_heads_weight, const std::string& target, double angle_weight,
                  double collision_weight, const std::string& spheres, const std::string& matrix) {
  cli::TrainCommandOptions options;
  options.output_path = output;
  options.arm = ArmSpec{arm, base, tip};
  options.data_path = data;
  options.network.target = TargetKindFromString(target);
  options.sampler.kind = cli::TrainSampler(sampler, options.network.target);
  options.sampler.count = count;
  options.sampler.grid_step_deg = step;
  options.sampler.grid_step_m = step_m;
  options.sampler.margin = margin;
  options.sampler.seed = data_seed;
  options.sampler.train_fraction = train_fraction;
  options.sampler.validation_fraction = validation_fraction;
  options.network.depth = depth;
  options.network.width = width;
  options.network.activation = ActivationFromString(activation);
  options.network.head = OutputHeadFromString(head);
  options.network.periodic_sincos = sincos;
  options.network.newton_steps = newton_steps;
  options.network.heads = heads;
  options.loss = loss;
  options.train.epochs = epochs;
  options.train.batch_size = batch;
  options.train.learning_rate = lr;
  options.train.final_lr_fraction = final_lr_fraction;
  options.train.patience = patience;
  options.train.checkpoint_every = checkpoint_every;
  options.train.time_limit_seconds = time_limit;
  options.train.seed = seed;
  options.train.threads = threads;
  options.train.eval_samples = eval_samples;
  options.train.other_heads_weight = other_heads_weight;
  options.train.angle_weight = angle_weight;
  options.train.collision_weight = collision_weight;
  options.spheres_path = spheres;
  options.matrix_path = matrix;
  options.checkpoint_path = checkpoint;
  options.log_path = log;
  options.resume = resume;
  CheckOptions(options);
  int code = kExitOk;
  PythonStderrBuffer buffer;
  std::ostream progress(&buffer);
  {
    StopOnSignals signals;
    py::gil_scoped_release release;
    WarnIfSlowBlas(progress);
    code = cli::RunTrain(options, progress, &g_stop_requested);
    progress.flush();
  }
  if (code == kExitInterrupted) {
    const std::string checkpoint_path = checkpoint.empty() ? output + ".ckpt" : checkpoint;
    PyErr_SetString(PyExc_KeyboardInterrupt, ("training interrupted; checkpoint saved to " + checkpoint_path +
                                              " (continue with the same arguments and resume=True)")
                                                 .c_str());
    throw py::error_already_set();
  }
  return output;
}

}  // namespace
}  // namespace deepik::python

PYBIND11_MODULE(_learn, m) {
  using namespace deepik;
  m.doc() = "deepik's training (libtorch); use deepik.train";
  python::TranslateInputErrorsToCore();  // one exception class for the package
  const SamplerOptions sampler;
  const NetworkOptions network;
  const TrainOptions train;
  m.def("train", &python::Train, py::arg("output"), py::arg("arm") = "", py::arg("data") = "",
        py::arg("base") = "", py::arg("tip") = "", py::arg("sampler") = "", py::arg("count") = sampler.count,
        py::arg("step") = sampler.grid_step_deg, py::arg("step_m") = sampler.grid_step_m,
        py::arg("margin") = sampler.margin, py::arg("data_seed") = sampler.seed,
        py::arg("train_fraction") = sampler.train_fraction,
        py::arg("validation_fraction") = sampler.validation_fraction, py::arg("depth") = network.depth,
        py::arg("width") = network.width, py::arg("activation") = "relu", py::arg("head") = "bounded",
        py::arg("sincos") = network.periodic_sincos, py::arg("newton_steps") = network.newton_steps,
        py::arg("loss") = "fk", py::arg("epochs") = train.epochs, py::arg("batch") = train.batch_size,
        py::arg("lr") = train.learning_rate, py::arg("final_lr_fraction") = train.final_lr_fraction,
        py::arg("patience") = train.patience, py::arg("checkpoint_every") = train.checkpoint_every,
        py::arg("time_limit") = train.time_limit_seconds, py::arg("seed") = train.seed,
        py::arg("threads") = train.threads, py::arg("eval_samples") = train.eval_samples,
        py::arg("checkpoint") = "", py::arg("log") = "", py::arg("resume") = false,
        py::arg("heads") = network.heads, py::arg("other_heads_weight") = train.other_heads_weight,
        py::arg("target") = "position", py::arg("angle_weight") = train.angle_weight,
        py::arg("collision_weight") = train.collision_weight, py::arg("spheres") = "",
        py::arg("matrix") = "");
}
