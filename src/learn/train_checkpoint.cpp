// Checkpoints (written atomically, resumed bit for bit) and the CSV history of a training run.
#include <torch/serialize.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>

#include "deepik/data/csv.hpp"
#include "deepik/errors.hpp"
#include "deepik/learn/model.hpp"
#include "learn/training_run.hpp"

namespace deepik::internal {
namespace {

std::string RanksText(int64_t world) {
  return world == 1 ? "one process" : "a job of " + std::to_string(world) + " ranks";
}

// A checkpoint resumes only a run of the world size and the decisive options it was made with.
void CheckCheckpoint(const TrainingRun& run, torch::serialize::InputArchive& archive) {
  const std::string& path = run.files.checkpoint_path;
  c10::IValue value;
  // Absent from the checkpoints of one process.
  const int64_t world = archive.try_read("world_size", value) ? value.toInt() : 1;
  if (world != run.ranks.world()) {
    throw InputError(path + ": cannot resume: the checkpoint was made by " + RanksText(world) + ", this is " +
                     RanksText(run.ranks.world()) +
                     " (another world size would change every batch); resume with the same world size (" +
                     (world == 1
                          ? std::string("no --nproc, WORLD_SIZE or --world-size")
                          : "--nproc " + std::to_string(world) + ", or WORLD_SIZE=" + std::to_string(world) +
                                " with ranks 0.." + std::to_string(world - 1)) +
                     ") or start afresh without --resume");
  }
  archive.read("options", value);
  if (value.toStringRef() != run.options_json) {
    throw InputError(path +
                     ": cannot resume: the checkpoint was made with other training or network options");
  }
}

torch::serialize::InputArchive LoadCheckpointArchive(const std::string& path, const std::string& bytes) {
  torch::serialize::InputArchive archive;
  try {
    archive.load_from(bytes.data(), bytes.size());
  } catch (const c10::Error&) {
    throw InputError(path + ": cannot resume: not a readable checkpoint");
  }
  return archive;
}

// The weights, optimiser state and counters of a checked checkpoint.
void RestoreFromArchive(TrainingRun& run, torch::serialize::InputArchive& archive) {
  c10::IValue value;
  torch::serialize::InputArchive net_archive, best_archive, optimizer_archive;
  archive.read("net", net_archive);
  archive.read("best", best_archive);
  archive.read("optimizer", optimizer_archive);
  run.net->load(net_archive);
  run.best->load(best_archive);
  run.optimizer.load(optimizer_archive);
  archive.read("epoch", value);
  run.start_epoch = static_cast<int>(value.toInt());
  archive.read("step_in_epoch", value);
  run.start_step_in_epoch = value.toInt();
  archive.read("global_step", value);
  run.global_step = value.toInt();
  archive.read("best_loss", value);
  run.best_loss = value.toDouble();
  archive.read("epochs_since_best", value);
  run.epochs_since_best = static_cast<int>(value.toInt());
  archive.read("history", value);
  run.history = HistoryFromJson(value.toStringRef());
  // Absent from checkpoints made before time limits counted over resumes.
  run.seconds_before = archive.try_read("trained_seconds", value) ? value.toDouble() : 0.0;
}

bool WeightsFinite(IkNet& net) {
  torch::NoGradGuard no_grad;
  for (const torch::Tensor& p : net->parameters()) {
    if (!torch::isfinite(p).all().item<bool>()) return false;
  }
  return true;
}

// The training time of the run so far, earlier calls of a resumed run included (s).
double TrainedSeconds(const TrainingRun& run) {
  return run.seconds_before + std::chrono::duration<double>(Clock::now() - run.run_start).count();
}

// The checkpoint's bytes are made in memory first: libtorch's archive writer, writing into a file
// that fails (a full disk), throws and then throws again from its destructor, which aborts the
// process. The file is written beside, then renamed: a kill at any moment, or a failed write,
// leaves the previous checkpoint intact, and the temporary file is removed.
void WriteCheckpointFile(TrainingRun& run, torch::serialize::OutputArchive& archive) {
  std::string bytes;
  archive.save_to([&bytes](const void* data, size_t size) {
    bytes.append(static_cast<const char*>(data), size);
    return size;
  });
  const std::string& path = run.files.checkpoint_path;
  try {
    AtomicFileWriter writer(path);
    errno = 0;
    if (!writer.stream().write(bytes.data(), static_cast<std::streamsize>(bytes.size())).flush()) {
      throw InputError(errno != 0 ? std::strerror(errno) : "the write failed");
    }
    writer.Commit();
    ++run.checkpoints_written;
  } catch (const InputError& e) {
    const std::string why = errno != 0 ? std::strerror(errno) : e.what();
    // A checkpoint of this run: the one it resumed from, or one it wrote.
    const bool kept = run.files.resume || run.checkpoints_written > 0;
    std::ostringstream message;
    message << "cannot write the checkpoint " << path << " (" << bytes.size() << " bytes) after "
            << run.global_step << " steps: " << why << "; training stopped and no model file was written; "
            << (kept ? "the last good checkpoint is kept: free some space (or choose another --checkpoint) "
                       "and continue with the same command and --resume"
                     : "free some space (or choose another --checkpoint) and start again");
    throw InputError(message.str());
  }
}

}  // namespace

// Rank 0 reads and checks its checkpoint (only it has one), then every rank restores from rank 0's
// bytes, so that every rank starts from the same state.
void RestoreCheckpoint(TrainingRun& run) {
  const std::string& path = run.files.checkpoint_path;
  if (path.empty()) throw InputError("cannot resume: no checkpoint file was given");
  const std::string bytes = run.ranks.ReadOnRoot(
      [&] {
        std::ifstream in(path, std::ios::binary);
        if (!in) throw InputError(path + ": cannot resume: not a readable checkpoint");
        std::string read((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        torch::serialize::InputArchive archive = LoadCheckpointArchive(path, read);
        CheckCheckpoint(run, archive);
        return read;
      },
      "the checkpoint");
  torch::serialize::InputArchive archive = LoadCheckpointArchive(path, bytes);
  RestoreFromArchive(run, archive);
}

// Training has diverged (a loss or a weight is no longer finite, typically from too large a
// learning rate). Nothing more is written: the last checkpoint, made from finite weights, is kept.
[[noreturn]] void ThrowDiverged(const TrainingRun& run, const std::string& what) {
  std::ostringstream message;
  message << "training diverged after " << run.global_step << " steps: " << what << " (learning rate "
          << run.o.learning_rate << "); "
          << (run.files.checkpoint_path.empty()
                  ? std::string()
                  : "the last good checkpoint is kept in " + run.files.checkpoint_path + " and ")
          << "no model file was written; start again with a smaller --lr";
  throw InputError(message.str());
}

void WriteCheckpoint(TrainingRun& run, int epoch, int64_t step_in_epoch) {
  // Every rank checks (the weights are the same on every rank), so every rank stops alike.
  if (!WeightsFinite(run.net)) ThrowDiverged(run, "the weights are no longer finite");
  if (!run.ranks.root() || run.files.checkpoint_path.empty()) return;
  torch::serialize::OutputArchive archive;
  torch::serialize::OutputArchive net_archive, best_archive, optimizer_archive;
  run.net->save(net_archive);
  run.best->save(best_archive);
  run.optimizer.save(optimizer_archive);
  archive.write("net", net_archive);
  archive.write("best", best_archive);
  archive.write("optimizer", optimizer_archive);
  archive.write("epoch", c10::IValue(static_cast<int64_t>(epoch)));
  archive.write("step_in_epoch", c10::IValue(step_in_epoch));
  archive.write("global_step", c10::IValue(run.global_step));
  archive.write("best_loss", c10::IValue(run.best_loss));
  archive.write("epochs_since_best", c10::IValue(static_cast<int64_t>(run.epochs_since_best)));
  archive.write("history", c10::IValue(HistoryToJson(run.history)));
  archive.write("options", c10::IValue(run.options_json));
  archive.write("trained_seconds", c10::IValue(TrainedSeconds(run)));
  if (run.ranks.world() > 1) {  // the checkpoints of one process have none
    archive.write("world_size", c10::IValue(run.ranks.world()));
    archive.write("per_rank_batch", c10::IValue(run.o.batch_size));
  }
  WriteCheckpointFile(run, archive);
}

void WriteLogHeader(const std::string& path, bool pose) {
  if (path.empty()) return;
  std::ofstream(path, std::ios::trunc)
      << "epoch,step,train_loss,validation_loss,validation_median_m,learning_rate,seconds"
      << (pose ? ",validation_p95_m,validation_angle_median_rad,validation_angle_p95_rad" : "")
      << ",validation_median_in_reach_m,validation_p99_in_reach_m,out_of_reach_excess_median_m\n";
}

void AppendLog(const std::string& path, const EpochRecord& r) {
  if (path.empty()) return;
  std::ofstream log(path, std::ios::app);
  log << r.epoch << ',' << r.step << ',' << FormatDouble(r.train_loss) << ','
      << FormatDouble(r.validation_loss) << ',' << FormatDouble(r.validation_median) << ','
      << FormatDouble(r.learning_rate) << ',' << FormatDouble(r.seconds);
  if (!std::isnan(r.validation_angle_median)) {
    log << ',' << FormatDouble(r.validation_p95) << ',' << FormatDouble(r.validation_angle_median) << ','
        << FormatDouble(r.validation_angle_p95);
  }
  // Empty where a figure is not known (no target out of reach).
  for (const double value :
       {r.validation_median_in_reach, r.validation_p99_in_reach, r.out_of_reach_excess_median}) {
    log << ',';
    if (!std::isnan(value)) log << FormatDouble(value);
  }
  log << '\n';
}

}  // namespace deepik::internal
