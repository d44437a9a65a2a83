// DistributedGroup on libtorch's c10d: a TCPStore (rank 0 serves it) for the rendezvous, the
// start-up checks and the liveness of the ranks, and a Gloo process group for the collectives.
// USE_C10D_GLOO must be defined before the c10d headers, here only (never in a public header).
#ifndef USE_C10D_GLOO  // Torch's CMake package may define it already
#define USE_C10D_GLOO
#endif
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
// (the c10d headers first: they need the macro above)
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <torch/torch.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "deepik/errors.hpp"
#include "deepik/learn/distributed.hpp"

namespace deepik {
namespace {

using Clock = std::chrono::steady_clock;
using Milliseconds = std::chrono::milliseconds;

// Each rank writes its beat (a counter and its step) to the store this often; a rank whose beat
// stops is lost, one whose beat goes on but whose step does not is hung.
constexpr Milliseconds kBeatInterval{500};
constexpr Milliseconds kPollInterval{20};

std::vector<uint8_t> Bytes(const std::string& text) { return {text.begin(), text.end()}; }
std::string Text(const std::vector<uint8_t>& bytes) { return {bytes.begin(), bytes.end()}; }

std::string Key(const std::string& kind, int rank) { return "deepik/" + kind + "/" + std::to_string(rank); }

bool IsLoopback(const std::string& host) {
  return host == "localhost" || host.rfind("127.", 0) == 0 || host == "::1" || host == "[::1]";
}

// The first line of an exception's message without libtorch's backtrace or Gloo's "[file:line] ".
std::string Cause(const std::exception& e) {
  const auto* c10_error = dynamic_cast<const c10::Error*>(&e);
  std::string text = c10_error ? c10_error->what_without_backtrace() : e.what();
  text = text.substr(0, text.find('\n'));
  if (!text.empty() && text[0] == '[') {
    const size_t close = text.find("] ");
    if (close != std::string::npos) text = text.substr(close + 2);
  }
  return text;
}

std::string JoinRanks(const std::vector<int>& ranks) {
  std::string text;
  for (size_t i = 0; i < ranks.size(); ++i) text += (i ? ", " : "") + std::to_string(ranks[i]);
  return text;
}

std::string Seconds(double s) {
  std::ostringstream text;
  text << s << " s";
  return text.str();
}

// Waits until something accepts connections at host:port, trying every kPollInterval until
// `deadline` (the TCPStore client retries only every second, which would slow every start-up).
// Returns an empty text, or why it could not connect.
std::string WaitForListener(const std::string& host, int port, Clock::time_point deadline) {
  std::string why = "nothing accepted a connection";
  for (;;) {
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    const int resolved = ::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found);
    if (resolved != 0) {
      why = "cannot resolve '" + host + "': " + ::gai_strerror(resolved);
    } else {
      for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
        const int fd = ::socket(a->ai_family, a->ai_socktype, a->ai_protocol);
        if (fd < 0) continue;
        ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
        int error = ::connect(fd, a->ai_addr, a->ai_addrlen) == 0 ? 0 : errno;
        if (error == EINPROGRESS) {  // a remote machine: wait up to a second for the answer
          pollfd p{fd, POLLOUT, 0};
          if (::poll(&p, 1, 1000) == 1) {
            socklen_t length = sizeof(error);
            ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length);
          } else {
            error = ETIMEDOUT;
          }
        }
        ::close(fd);
        if (error == 0) {
          ::freeaddrinfo(found);
          return "";
        }
        why = std::strerror(error);
      }
      ::freeaddrinfo(found);
    }
    if (Clock::now() > deadline) return why;
    std::this_thread::sleep_for(kPollInterval);
  }
}

// The longest wait for the store's answer to the first query: rank 0's store answers from a thread
// of its own within milliseconds, whatever rank 0 is doing.
constexpr Milliseconds kFirstAnswerDeadline{10000};

// Shows what a stranger answered: printable characters as they are, the others as \xNN.
std::string Printable(const std::string& bytes) {
  std::string text;
  for (const char c : bytes.substr(0, 40)) {
    if (c >= 0x20 && c < 0x7f) {
      text += c;
    } else {
      char hex[8];
      std::snprintf(hex, sizeof(hex), "\\x%02x", static_cast<unsigned char>(c));
      text += hex;
    }
  }
  return text + (bytes.size() > 40 ? "..." : "");
}

// A connected socket to host:port (blocking), or -1.
int Connect(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found) != 0) return -1;
  int fd = -1;
  for (addrinfo* a = found; a != nullptr && fd < 0; a = a->ai_next) {
    fd = ::socket(a->ai_family, a->ai_socktype, a->ai_protocol);
    if (fd >= 0 && ::connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
      ::close(fd);
      fd = -1;
    }
  }
  ::freeaddrinfo(found);
  return fd;
}

// Whether what listens at host:port is a c10d TCPStore, before c10d's own client talks to it: that
// client waits for an answer without a deadline and takes a length from the first bytes it gets
// (another service on MASTER_PORT made it hang for ever or abort on a terabyte allocation). Sends
// the store's CHECK query for one key (libtorch 1.13's protocol: the query type CHECK = 4, then the
// number of keys and each key as its length and bytes, lengths as uint64 in the host's order);
// a store answers with one byte, READY (0) or NOT_READY (1), and nothing more. Returns an empty
// text, or what was wrong.
std::string ProbeStore(const std::string& host, int port, Milliseconds deadline) {
  const int fd = Connect(host, port);
  if (fd < 0) return "";  // gone again: TCPStore's own connection reports it
  const std::string key = "deepik/probe";
  std::string query(1, '\x04');
  const uint64_t count = 1, length = key.size();
  query.append(reinterpret_cast<const char*>(&count), sizeof(count));
  query.append(reinterpret_cast<const char*>(&length), sizeof(length));
  query += key;
  std::string answer;
  const bool sent =
      ::send(fd, query.data(), query.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(query.size());
  const auto end = Clock::now() + deadline;
  // The answer, and whatever else arrives within a moment after it (a store sends nothing more).
  while (sent && Clock::now() < end) {
    const auto left = std::chrono::duration_cast<Milliseconds>(end - Clock::now());
    pollfd p{fd, POLLIN, 0};
    const int wait = answer.empty() ? static_cast<int>(std::max<int64_t>(left.count(), 1)) : 50;
    if (::poll(&p, 1, wait) != 1) break;
    char buffer[256];
    const ssize_t got = ::recv(fd, buffer, sizeof(buffer), 0);
    if (got <= 0) break;
    answer.append(buffer, static_cast<size_t>(got));
    if (answer.size() > 256) break;
  }
  ::close(fd);
  if (answer.size() == 1 && (answer[0] == 0 || answer[0] == 1)) return "";
  if (answer.empty()) {
    return "it accepted the connection but did not answer the job store's first query within " +
           Seconds(std::chrono::duration<double>(deadline).count());
  }
  return "it answered the job store's first query with bytes no job store sends ('" + Printable(answer) +
         "')";
}

// The heartbeat thread's state, shared with it (it may outlive the group when its last store call
// hangs on a dead network: then it is detached and ends by itself).
struct Beat {
  std::mutex mutex;
  std::condition_variable changed;
  bool stop = false, finished = false;
  std::atomic<int64_t> step{-1};
};

}  // namespace

struct DistributedGroup::Impl {
  DistributedOptions o;
  std::string prefix;  // "rank R: "
  std::string master;  // "HOST:PORT"
  c10::intrusive_ptr<c10d::TCPStore> store;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> group;
  std::shared_ptr<Beat> beat = std::make_shared<Beat>();
  std::thread beat_thread;
  double allreduce_seconds = 0;
  int64_t allreduce_calls = 0;
  std::vector<int> lost;  // ranks Diagnose found gone: nobody to wait for

  ~Impl() {
    StopBeat();
    group.reset();
    store.reset();
  }

  Milliseconds timeout() const { return Milliseconds(static_cast<int64_t>(o.timeout_seconds * 1000)); }
  std::string timeout_text() const { return Seconds(o.timeout_seconds) + " (--dist-timeout)"; }

  // For a rank other than 0: waits until something listens at the master, then checks that it is
  // a job store (ProbeStore).
  void ReachMaster() const {
    const std::string why = WaitForListener(o.master_addr, o.master_port, Clock::now() + timeout());
    if (!why.empty()) {
      throw DistributedError(
          prefix + "cannot reach the master " + master + " within " + timeout_text() + ": " + why +
          " (is rank 0 running, and are MASTER_ADDR and MASTER_PORT, or --master, the same on "
          "every rank?)");
    }
    const std::string stranger =
        ProbeStore(o.master_addr, o.master_port, std::min(timeout(), kFirstAnswerDeadline));
    if (!stranger.empty()) {
      throw InputError(prefix + "the master " + master + " is not a training job's store: " + stranger +
                       "; is MASTER_PORT (or --master) another service's port? It must be the port rank 0 "
                       "listens on");
    }
  }

  void StartBeat() {
    c10d::TCPStoreOptions options;
    options.port = static_cast<uint16_t>(o.master_port);
    options.isServer = false;
    options.waitWorkers = false;
    options.timeout = timeout();
    // A connection of its own, so that the training thread's store calls never wait for it.
    auto beat_store = c10::make_intrusive<c10d::TCPStore>(o.master_addr, options);
    beat_thread = std::thread([beat = beat, beat_store, key = Key("beat", o.rank)] {
      int64_t count = 0;
      std::unique_lock<std::mutex> lock(beat->mutex);
      while (!beat->stop) {
        lock.unlock();
        try {
          beat_store->set(key, Bytes(std::to_string(++count) + " " + std::to_string(beat->step.load())));
        } catch (const std::exception&) {
          // The store is gone (rank 0 ended): the collectives report it.
        }
        lock.lock();
        beat->changed.wait_for(lock, kBeatInterval, [&] { return beat->stop; });
      }
      beat->finished = true;
      beat->changed.notify_all();
    });
  }

  void StopBeat() {
    if (!beat_thread.joinable()) return;
    std::unique_lock<std::mutex> lock(beat->mutex);
    beat->stop = true;
    beat->changed.notify_all();
    const bool finished =
        beat->changed.wait_for(lock, std::chrono::seconds(3), [&] { return beat->finished; });
    lock.unlock();
    if (finished) {
      beat_thread.join();
    } else {
      beat_thread.detach();
    }
  }

  // Why a collective failed, from what the store knows of the other ranks: errors they published,
  // beats that stopped (lost) or go on without progress (hung). This rank first marks itself as
  // aborting, so that the others do not blame it.
  std::string Diagnose(const std::string& what) {
    const std::string master_gone = "rank 0 (the master at " + master +
                                    ", which holds the job's store) is gone: it failed, was stopped or "
                                    "its machine cannot be reached (see its output)";
    try {
      store->set(Key("abort", o.rank), Bytes(what));
      // A rank's own error first; a rank that failed because another did (it marked itself
      // aborting) only when nothing else explains the failure.
      std::vector<std::string> failed, victims;
      auto collect_failures = [&] {
        failed.clear();
        victims.clear();
        for (int j = 0; j < o.world_size; ++j) {
          if (j != o.rank && store->check({Key("failed", j)})) {
            (store->check({Key("abort", j)}) ? victims : failed)
                .push_back("rank " + std::to_string(j) + " failed: " + Text(store->get(Key("failed", j))));
          }
        }
      };
      collect_failures();
      if (!failed.empty()) return failed.front();
      std::map<int, std::string> first;
      for (int j = 0; j < o.world_size; ++j) {
        if (j != o.rank) first[j] = store->check({Key("beat", j)}) ? Text(store->get(Key("beat", j))) : "";
      }
      std::this_thread::sleep_for(4 * kBeatInterval);
      collect_failures();
      if (!failed.empty()) return failed.front();
      std::vector<std::string> hung;
      const int64_t own_step = beat->step.load();
      for (const auto& [j, before] : first) {
        if (store->check({Key("abort", j)})) continue;  // failed because of another rank, like this one
        const std::string now = store->check({Key("beat", j)}) ? Text(store->get(Key("beat", j))) : "";
        if (now == before) {
          lost.push_back(j);
        } else {
          int64_t count = 0, step = -1;
          std::istringstream(now) >> count >> step;
          if (step <= own_step) {
            hung.push_back("rank " + std::to_string(j) + " is alive but stayed at step " +
                           std::to_string(step) + " for longer than " + timeout_text() + " (hung?)");
          }
        }
      }
      std::string reason;
      if (!lost.empty()) {
        reason = std::string(lost.size() == 1 ? "rank " : "ranks ") + JoinRanks(lost) +
                 " stopped responding (killed, crashed, or its machine or network is down)";
      }
      for (const std::string& h : hung) reason += (reason.empty() ? "" : "; ") + h;
      if (reason.empty() && !victims.empty()) reason = victims.front();
      return reason.empty() ? "no other rank could be named as the cause" : reason;
    } catch (const std::exception&) {
      return master_gone;
    }
  }

  // Makes this rank's error known to the others (best effort), which then name it.
  void Tell(const std::string& message) {
    if (!store) return;
    try {
      store->set(Key("failed", o.rank), Bytes(message));
    } catch (const std::exception&) {
      return;  // the store is gone: nobody to tell
    }
    // Leaving the Gloo group ends the collectives the others wait in, at once; they then read the
    // message above. Rank 0 holds the store: it stays until they have read it (or a few seconds).
    group.reset();
    if (o.rank != 0) return;
    const auto deadline = Clock::now() + std::min(timeout(), Milliseconds(5000));
    try {
      for (int j = 1; j < o.world_size; ++j) {
        if (std::find(lost.begin(), lost.end(), j) != lost.end()) continue;
        while (!store->check({Key("abort", j)}) && !store->check({Key("failed", j)}) &&
               Clock::now() < deadline) {
          std::this_thread::sleep_for(kPollInterval);
        }
      }
    } catch (const std::exception&) {
    }
  }

  [[noreturn]] void TellAndThrow(const std::string& message) {
    Tell(message);
    throw DistributedError(message);
  }

  [[noreturn]] void Fail(const std::string& what, const std::string& cause) {
    throw DistributedError(prefix + "the job failed during " + what + ": " + Diagnose(what) + " [" + cause +
                           "]");
  }

  void Run(const std::function<c10::intrusive_ptr<c10d::Work>()>& start, const std::string& what) {
    if (!group) throw DistributedError(prefix + what + ": this rank already left the job");
    try {
      start()->wait();
    } catch (const DistributedError&) {
      throw;
    } catch (const std::exception& e) {
      Fail(what, Cause(e));
    }
  }

  // Waits for Key(kind, j) of every rank j; `seen` is called for each as it appears. Refuses at
  // once when another rank published a failure; names the missing ranks after the timeout.
  std::vector<std::string> WaitForAll(const std::string& kind, const std::string& what,
                                      const std::function<void(int, const std::string&)>& seen) {
    std::vector<std::string> values(static_cast<size_t>(o.world_size));
    std::vector<bool> have(values.size(), false);
    const auto deadline = Clock::now() + timeout();
    try {
      for (;;) {
        bool all = true;
        for (int j = 0; j < o.world_size; ++j) {
          if (have[static_cast<size_t>(j)]) continue;
          if (j != o.rank && store->check({Key("failed", j)})) {
            const std::string message = Text(store->get(Key("failed", j)));
            store->set(Key("abort", o.rank), Bytes(what));  // seen: rank j may go
            throw DistributedError(prefix + "rank " + std::to_string(j) + " failed: " + message);
          }
          if (store->check({Key(kind, j)})) {
            values[static_cast<size_t>(j)] = Text(store->get(Key(kind, j)));
            have[static_cast<size_t>(j)] = true;
            if (seen) seen(j, values[static_cast<size_t>(j)]);
          } else {
            all = false;
          }
        }
        if (all) return values;
        if (Clock::now() > deadline) break;
        std::this_thread::sleep_for(kPollInterval);
      }
    } catch (const DistributedError&) {
      throw;
    } catch (const std::exception& e) {
      throw DistributedError(prefix + "lost the job's store during " + what + ": rank 0 (the master at " +
                             master + ") is gone [" + Cause(e) + "]");
    }
    std::vector<int> missing;
    for (int j = 0; j < o.world_size; ++j) {
      if (!have[static_cast<size_t>(j)]) missing.push_back(j);
    }
    throw DistributedError(prefix + (missing.size() == 1 ? "rank " : "ranks ") + JoinRanks(missing) +
                           " did not reach " + what + " within " + timeout_text() +
                           ": not started, failed before, or given another MASTER_ADDR/MASTER_PORT?");
  }
};

DistributedGroup::DistributedGroup(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
DistributedGroup::~DistributedGroup() = default;

std::unique_ptr<DistributedGroup> DistributedGroup::Join(const DistributedOptions& options) {
  std::string error;
  if (!options.IsValid(&error)) throw InputError("distributed training: " + error);
  // A peer that closes its connection must be an error to handle, not a signal that kills.
  std::signal(SIGPIPE, SIG_IGN);
  auto impl = std::make_unique<Impl>();
  Impl& g = *impl;
  g.o = options;
  g.prefix = "rank " + std::to_string(options.rank) + ": ";
  g.master = options.master_addr + ":" + std::to_string(options.master_port);

  c10d::TCPStoreOptions store_options;
  store_options.port = static_cast<uint16_t>(options.master_port);
  store_options.isServer = options.rank == 0;
  store_options.numWorkers = static_cast<size_t>(options.world_size);
  store_options.waitWorkers = false;  // the join below waits, with messages that name the ranks
  store_options.timeout = g.timeout();
  if (options.rank != 0) g.ReachMaster();
  try {
    g.store = c10::make_intrusive<c10d::TCPStore>(options.master_addr, store_options);
  } catch (const std::exception& e) {
    if (options.rank == 0) {
      throw DistributedError(g.prefix + "cannot open the job's store at " + g.master + ": " + Cause(e) +
                             " (port in use, e.g. by another job? choose another with --master HOST:PORT or "
                             "MASTER_PORT; MASTER_ADDR must name this machine)");
    }
    throw DistributedError(
        g.prefix + "cannot reach the master " + g.master + " within " + g.timeout_text() + ": " + Cause(e) +
        " (is rank 0 running, and are MASTER_ADDR and MASTER_PORT, or --master, the same on "
        "every rank?)");
  }

  try {
    if (g.store->add(Key("join", options.rank), 1) > 1) {
      // Not told through the store: the key belongs to the process that has this rank.
      throw DistributedError(g.prefix + "another process already joined this job as rank " +
                             std::to_string(options.rank) + ": give every process its own RANK (0.." +
                             std::to_string(options.world_size - 1) + ")");
    }
    char host[256] = {0};
    ::gethostname(host, sizeof(host) - 1);
    g.store->set(
        Key("hello", options.rank),
        Bytes(
            nlohmann::json{{"world_size", options.world_size}, {"host", host}, {"pid", ::getpid()}}.dump()));
  } catch (const DistributedError&) {
    throw;
  } catch (const std::exception& e) {
    throw DistributedError(g.prefix + "lost the master " + g.master + " while joining [" + Cause(e) + "]");
  }
  g.WaitForAll("hello", "the start of the job", [&g](int j, const std::string& hello) {
    const int world = nlohmann::json::parse(hello).value("world_size", -1);
    if (world != g.o.world_size) {
      g.TellAndThrow(g.prefix + "rank " + std::to_string(j) + " was started with world size " +
                     std::to_string(world) + ", this rank with " + std::to_string(g.o.world_size) +
                     ": every rank needs the same WORLD_SIZE (or --world-size)");
    }
  });

  auto gloo_options = c10d::ProcessGroupGloo::Options::create(g.timeout());
  try {
    if (IsLoopback(options.master_addr)) {
      gloo_options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
    } else if (const char* interface = std::getenv("GLOO_SOCKET_IFNAME"); interface && *interface) {
      gloo_options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(interface));
    } else {
      gloo_options->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
    }
  } catch (const std::exception& e) {
    throw DistributedError(g.prefix + "cannot set up Gloo's network device: " + Cause(e) +
                           " (set GLOO_SOCKET_IFNAME to the network interface the ranks share)");
  }
  gloo_options->threads = 1;  // one collective at a time
  try {
    g.group =
        c10::make_intrusive<c10d::ProcessGroupGloo>(g.store, options.rank, options.world_size, gloo_options);
  } catch (const std::exception& e) {
    g.Fail("the connection of the Gloo group", Cause(e));
  }
  try {
    g.StartBeat();
  } catch (const std::exception& e) {
    throw DistributedError(g.prefix + "lost the master " + g.master + " while joining [" + Cause(e) + "]");
  }
  return std::unique_ptr<DistributedGroup>(new DistributedGroup(std::move(impl)));
}

int DistributedGroup::rank() const { return impl_->o.rank; }
int DistributedGroup::world_size() const { return impl_->o.world_size; }
const DistributedOptions& DistributedGroup::options() const { return impl_->o; }

void DistributedGroup::AllReduceSum(const std::vector<torch::Tensor>& tensors, const std::string& what) {
  const auto start = Clock::now();
  size_t i = 0;
  while (i < tensors.size()) {
    // One bucket: consecutive tensors of one type, up to kBucketBytes (at least one tensor).
    std::vector<torch::Tensor> parts;
    int64_t bytes = 0;
    const auto type = tensors[i].scalar_type();
    size_t end = i;
    while (end < tensors.size() && tensors[end].scalar_type() == type &&
           (parts.empty() || bytes + tensors[end].nbytes() <= static_cast<size_t>(kBucketBytes))) {
      parts.push_back(tensors[end].reshape({-1}));
      bytes += static_cast<int64_t>(tensors[end].nbytes());
      ++end;
    }
    std::vector<at::Tensor> bucket{torch::cat(parts)};
    impl_->Run([&] { return impl_->group->allreduce(bucket); }, what);
    int64_t offset = 0;
    for (size_t k = i; k < end; ++k) {
      const int64_t count = tensors[k].numel();
      tensors[k].copy_(bucket[0].slice(0, offset, offset + count).view(tensors[k].sizes()));
      offset += count;
    }
    i = end;
  }
  impl_->allreduce_seconds += std::chrono::duration<double>(Clock::now() - start).count();
  ++impl_->allreduce_calls;
}

std::vector<torch::Tensor> DistributedGroup::AllGather(const torch::Tensor& tensor, const std::string& what) {
  std::vector<std::vector<at::Tensor>> outputs(1);
  for (int j = 0; j < world_size(); ++j) outputs[0].push_back(torch::empty_like(tensor));
  std::vector<at::Tensor> input{tensor.contiguous()};
  impl_->Run([&] { return impl_->group->allgather(outputs, input); }, what);
  return outputs[0];
}

std::string DistributedGroup::BroadcastBytes(const std::string& bytes, const std::string& what) {
  const bool root = rank() == 0;
  std::vector<at::Tensor> size{torch::tensor({root ? static_cast<int64_t>(bytes.size()) : int64_t{0}})};
  impl_->Run([&] { return impl_->group->broadcast(size, c10d::BroadcastOptions{0}); }, what);
  const int64_t n = size[0].item<int64_t>();
  if (n == 0) return {};
  std::vector<at::Tensor> payload{
      root ? torch::from_blob(const_cast<char*>(bytes.data()), {n}, torch::kUInt8).clone()
           : torch::empty({n}, torch::kUInt8)};
  impl_->Run([&] { return impl_->group->broadcast(payload, c10d::BroadcastOptions{0}); }, what);
  const auto* data = payload[0].data_ptr<uint8_t>();
  return std::string(reinterpret_cast<const char*>(data), static_cast<size_t>(n));
}

std::vector<std::string> DistributedGroup::Exchange(const std::string& key, const std::string& text) {
  try {
    impl_->store->set(Key("x/" + key, rank()), Bytes(text));
  } catch (const std::exception& e) {
    throw DistributedError(impl_->prefix + "lost the master " + impl_->master + " [" + Cause(e) + "]");
  }
  return impl_->WaitForAll("x/" + key, key, nullptr);
}

void DistributedGroup::RunOnRoot(const std::function<void()>& action, const std::string& what) {
  std::exception_ptr error;
  std::string message;
  if (rank() == 0) {
    try {
      action();
    } catch (const std::exception& e) {
      error = std::current_exception();
      message = e.what();
    }
  }
  const std::string shared = BroadcastBytes(error ? "E" + message : "K", what);
  if (error) std::rethrow_exception(error);
  if (!shared.empty() && shared[0] == 'E') throw InputError("rank 0: " + shared.substr(1));
}

void DistributedGroup::SetProgress(int64_t step) { impl_->beat->step.store(step); }

void DistributedGroup::PublishFailure(const std::string& message) { impl_->Tell(message); }

double DistributedGroup::allreduce_seconds() const { return impl_->allreduce_seconds; }
int64_t DistributedGroup::allreduce_calls() const { return impl_->allreduce_calls; }

}  // namespace deepik
