#include "deepik/serve/server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <random>
#include <thread>
#include <vector>

#include "deepik/errors.hpp"
#include "deepik/kinematics/arm_spec.hpp"
#include "deepik/kinematics/fk.hpp"
#include "deepik/learn/model.hpp"
#include "deepik/solve/many_solutions.hpp"
#include "deepik/solve/posture.hpp"
#include "deepik/solve/solvers.hpp"
#include "deepik/solve/track.hpp"

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

// Errors quote what the client sent, which need not be UTF-8: such bytes become U+FFFD instead of
// making dump() throw.
std::string JsonText(const Json& value) { return value.dump(-1, ' ', false, Json::error_handler_t::replace); }

void Reply(httplib::Response& response, int status, const Json& body) {
  response.status = status;
  response.set_content(JsonText(body), "application/json");
}

// Where `text` stops being UTF-8 text without control characters (U+0000..U+001F, U+007F), or npos.
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

// The decoded path and query must be text: a %00 or a stray byte names no file or value, and would
// reach stat() (which stops at NUL) or a JSON answer.
std::string TargetProblem(const httplib::Request& request) {
  const auto check = [](const std::string& what, const std::string& text) -> std::string {
    const size_t at = BadTextAt(text);
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

// ---------------------------------------------------------------------------------------------
// Connections. httplib's own loop gives every connection a pool thread for as long as the client
// takes to send its request, so a few clients that dribble bytes stop the server; and it reads a
// body by a Content-Length it does not check (a negative or absurd one waits for the read timeout,
// a second one is ignored). Here one thread reads every connection without blocking, checks the
// framing itself and hands httplib a request only when all of it is in memory.

using Clock = std::chrono::steady_clock;

constexpr size_t kMaxHeadBytes = 16 * 1024;  // request line and headers
constexpr double kLingerSeconds = 1;         // reading what a refused client still sends

Clock::time_point After(double seconds) {
  return Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
}

const char* ReasonPhrase(int status) {
  switch (status) {
    case 400:
      return "Bad Request";
    case 408:
      return "Request Timeout";
    case 411:
      return "Length Required";
    case 413:
      return "Payload Too Large";
    case 431:
      return "Request Header Fields Too Large";
    default:
      return "Service Unavailable";
  }
}

// Best effort, without blocking: an error answer is small and the socket's buffer is empty.
void SendNow(int fd, const std::string& data) {
  (void)::send(fd, data.data(), data.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
}

std::string ErrorResponse(int status, const std::string& message) {
  const std::string body = JsonText(Json{{"error", message}});
  return "HTTP/1.1 " + std::to_string(status) + " " + ReasonPhrase(status) +
         "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\nConnection: close\r\n\r\n" + body;
}

std::string Lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

std::string Trim(const std::string& text) {
  const size_t begin = text.find_first_not_of(" \t");
  if (begin == std::string::npos) return "";
  return text.substr(begin, text.find_last_not_of(" \t") - begin + 1);
}

// How a request's body is framed, from its head (request line and headers, without the blank line).
struct Framing {
  int status = 0;         // 0: acceptable; else the refusal
  std::string message;    // why refused
  size_t body_bytes = 0;  // the Content-Length
  bool expect_continue = false;
};

Framing ParseFraming(const std::string& head, size_t max_body_bytes) {
  Framing framing;
  std::string length_text;
  bool has_length = false;
  size_t line_start = head.find("\r\n");  // the request line is httplib's to parse
  while (line_start != std::string::npos && framing.status == 0) {
    line_start += 2;
    const size_t line_end = head.find("\r\n", line_start);
    const std::string line = head.substr(line_start, line_end - line_start);
    line_start = line_end;
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;  // httplib refuses it
    const std::string name = Lower(line.substr(0, colon)), value = Trim(line.substr(colon + 1));
    if (name == "content-length") {
      if (has_length && value != length_text) {
        framing = {400, "Content-Length: expected one value, got '" + length_text + "' and '" + value + "'"};
      }
      has_length = true;
      length_text = value;
    } else if (name == "transfer-encoding") {
      framing = {411,
                 "Transfer-Encoding '" + value + "' is not accepted; send the body with a Content-Length"};
    } else if (name == "expect") {
      framing.expect_continue = Lower(value) == "100-continue";
    }
  }
  if (framing.status != 0 || !has_length) return framing;
  const bool digits = !length_text.empty() && length_text.size() <= 18 &&
                      length_text.find_first_not_of("0123456789") == std::string::npos;
  if (!digits) {
    return {400,
            "Content-Length: expected a decimal number of bytes, got '" + length_text.substr(0, 40) + "'"};
  }
  framing.body_bytes = std::stoull(length_text);
  if (framing.body_bytes > max_body_bytes) {
    return {413, "request body too large: expected at most " + std::to_string(max_body_bytes) +
                     " bytes, got " + length_text};
  }
  return framing;
}

// One request, all in memory, as httplib reads it; answers go to the socket within a deadline.
class RequestStream : public httplib::Stream {
 public:
  RequestStream(int fd, std::string request, double write_timeout_seconds, bool continue_sent)
      : fd_(fd),
        request_(std::move(request)),
        deadline_(After(write_timeout_seconds)),
        continue_sent_(continue_sent) {}

  bool is_readable() const override { return offset_ < request_.size(); }
  bool is_writable() const override { return WaitWritable(); }

  ssize_t read(char* ptr, size_t size) override {
    const size_t n = std::min(size, request_.size() - offset_);
    std::memcpy(ptr, request_.data() + offset_, n);
    offset_ += n;
    return static_cast<ssize_t>(n);
  }

  ssize_t write(const char* ptr, size_t size) override {
    // The engine already invited the body; httplib invites it again when it reads the head.
    static constexpr char kContinue[] = "HTTP/1.1 100 Continue";
    if (continue_sent_ && size >= sizeof kContinue - 1 &&
        std::memcmp(ptr, kContinue, sizeof kContinue - 1) == 0) {
      return static_cast<ssize_t>(size);
    }
    size_t done = 0;
    while (done < size) {
      const ssize_t n = ::send(fd_, ptr + done, size - done, MSG_DONTWAIT | MSG_NOSIGNAL);
      if (n > 0) {
        done += static_cast<size_t>(n);
      } else if (n < 0 && errno == EINTR) {
        continue;
      } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && WaitWritable()) {
        continue;
      } else {
        failed_ = true;
        return -1;
      }
    }
    return static_cast<ssize_t>(size);
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override { Address(::getpeername, ip, port); }
  void get_local_ip_and_port(std::string& ip, int& port) const override { Address(::getsockname, ip, port); }
  socket_t socket() const override { return fd_; }

  bool failed() const { return failed_; }

 private:
  bool WaitWritable() const {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - Clock::now()).count();
    if (left <= 0) return false;
    pollfd p{fd_, POLLOUT, 0};
    return ::poll(&p, 1, static_cast<int>(left)) > 0 && (p.revents & POLLOUT) != 0;
  }

  template <typename GetName>
  void Address(GetName get_name, std::string& ip, int& port) const {
    sockaddr_storage address{};
    socklen_t size = sizeof address;
    ip.clear();
    port = 0;
    if (get_name(fd_, reinterpret_cast<sockaddr*>(&address), &size) != 0) return;
    char text[INET6_ADDRSTRLEN] = {0};
    if (address.ss_family == AF_INET) {
      const auto* a = reinterpret_cast<const sockaddr_in*>(&address);
      ::inet_ntop(AF_INET, &a->sin_addr, text, sizeof text);
      port = ntohs(a->sin_port);
    } else if (address.ss_family == AF_INET6) {
      const auto* a = reinterpret_cast<const sockaddr_in6*>(&address);
      ::inet_ntop(AF_INET6, &a->sin6_addr, text, sizeof text);
      port = ntohs(a->sin6_port);
    }
    ip = text;
  }

  int fd_;
  std::string request_;
  size_t offset_ = 0;
  Clock::time_point deadline_;
  bool continue_sent_;
  bool failed_ = false;
};

// Serves one complete request from a stream (httplib's process_request): returns false when the
// connection must close.
using ServeRequest = std::function<bool(httplib::Stream& stream, bool close_connection)>;

struct EngineLimits {
  size_t max_body_bytes;
  double request_timeout_seconds, keep_alive_timeout_seconds, write_timeout_seconds;
  int max_connections, threads;
  size_t keep_alive_max_count;
};

// The reading thread and the worker pool. httplib's accept loop hands it every new socket (through
// the task queue it asks for) and shuts it down when the server stops.
class ConnectionEngine : public httplib::TaskQueue {
 public:
  ConnectionEngine(const EngineLimits& limits, ServeRequest serve)
      : limits_(limits), serve_(std::move(serve)) {
    if (::pipe2(wake_fds_, O_CLOEXEC | O_NONBLOCK) != 0)
      throw std::runtime_error("serve: cannot create a pipe");
    reader_ = std::thread([this] { ReadLoop(); });
    for (int i = 0; i < limits_.threads; ++i) workers_.emplace_back([this] { WorkLoop(); });
  }
  ~ConnectionEngine() override {
    shutdown();
    ::close(wake_fds_[0]);
    ::close(wake_fds_[1]);
  }

  // httplib's accept loop asks to run `process_and_close_socket(sock)`, which adopts the socket.
  void enqueue(std::function<void()> fn) override { fn(); }

  void shutdown() override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (stopping_) return;
      stopping_ = true;
    }
    Wake();
    jobs_ready_.notify_all();
    reader_.join();
    for (std::thread& worker : workers_) worker.join();
    for (auto& entry : connections_) ::close(entry.first);
    for (int fd : adopted_) ::close(fd);
    connections_.clear();
  }

  // A socket httplib accepted; the engine closes it.
  void Adopt(int fd) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      adopted_.push_back(fd);
    }
    Wake();
  }

 private:
  enum class State { kIdle, kReading, kBusy, kDraining };

  struct Connection {
    int fd;
    State state = State::kIdle;
    std::string buffer;  // received and not yet handed over
    Clock::time_point deadline;
    size_t served = 0;
    bool continue_sent = false;
  };

  struct Job {
    Connection* connection;
    std::string request;
  };

  struct Returned {
    Connection* connection;
    bool keep_open;
  };

  void Wake() {
    const char byte = 1;
    (void)!::write(wake_fds_[1], &byte, 1);
  }

  // The reading thread: owns every connection that is not Busy.
  void ReadLoop() {
    std::vector<pollfd> polled;
    std::vector<Connection*> polled_connections;
    for (;;) {
      TakeHandOvers();
      {
        std::lock_guard<std::mutex> lock(mutex_);
        if (stopping_) return;
      }
      ExpireDeadlines();
      polled.assign(1, pollfd{wake_fds_[0], POLLIN, 0});
      polled_connections.assign(1, nullptr);
      Clock::time_point next = After(1);
      for (auto& entry : connections_) {
        Connection& c = *entry.second;
        if (c.state == State::kBusy) continue;
        polled.push_back(pollfd{c.fd, POLLIN, 0});
        polled_connections.push_back(&c);
        next = std::min(next, c.deadline);
      }
      const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(next - Clock::now()).count();
      if (::poll(polled.data(), polled.size(), static_cast<int>(std::max<long long>(wait + 1, 0))) <= 0)
        continue;
      if (polled[0].revents != 0) {
        char sink[256];
        while (::read(wake_fds_[0], sink, sizeof sink) > 0) {
        }
      }
      for (size_t i = 1; i < polled.size(); ++i) {
        if (polled[i].revents != 0) OnReadable(*polled_connections[i]);
      }
    }
  }

  void TakeHandOvers() {
    std::vector<int> adopted;
    std::vector<Returned> returned;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      adopted.swap(adopted_);
      returned.swap(returned_);
    }
    for (int fd : adopted) {
      if (static_cast<int>(connections_.size()) >= limits_.max_connections) {
        SendNow(fd, ErrorResponse(503, "too many connections (at most " +
                                           std::to_string(limits_.max_connections) + "); try again later"));
        ::close(fd);
        continue;
      }
      auto connection = std::make_unique<Connection>();
      connection->fd = fd;
      connection->deadline = After(limits_.keep_alive_timeout_seconds);
      connections_[fd] = std::move(connection);
    }
    for (const Returned& r : returned) {
      Connection& c = *r.connection;
      if (!r.keep_open) {
        Linger(c);
        continue;
      }
      c.state = State::kIdle;
      c.continue_sent = false;
      Advance(c);  // a pipelined request may be waiting already
    }
  }

  void ExpireDeadlines() {
    const Clock::time_point now = Clock::now();
    std::vector<int> closed;
    for (auto& entry : connections_) {
      Connection& c = *entry.second;
      if (c.state == State::kBusy || c.deadline > now) continue;
      if (c.state == State::kReading) {
        Refuse(c, 408,
               "the request did not arrive within " + Json(limits_.request_timeout_seconds).dump() +
                   " s of its first byte");
      } else {
        closed.push_back(c.fd);  // idle, or done lingering
      }
    }
    for (int fd : closed) Close(fd);
  }

  void OnReadable(Connection& c) {
    char chunk[16 * 1024];
    for (;;) {
      const ssize_t n = ::recv(c.fd, chunk, sizeof chunk, MSG_DONTWAIT);
      if (n > 0) {
        if (c.state != State::kDraining) c.buffer.append(chunk, static_cast<size_t>(n));
        if (c.buffer.size() > kMaxHeadBytes + limits_.max_body_bytes) break;
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
      Close(c.fd);  // the client closed (or reset) its side: nothing left to answer
      return;
    }
    if (c.state != State::kDraining) Advance(c);
  }

  // Starts a request's deadline at its first byte, refuses bad framing, and hands a complete request
  // to the workers.
  void Advance(Connection& c) {
    if (c.buffer.empty()) {
      c.state = State::kIdle;
      c.deadline = After(limits_.keep_alive_timeout_seconds);
      return;
    }
    if (c.state == State::kIdle) {
      c.state = State::kReading;
      c.deadline = After(limits_.request_timeout_seconds);
    }
    const size_t head_end = c.buffer.find("\r\n\r\n");
    if (head_end == std::string::npos || head_end + 4 > kMaxHeadBytes) {
      if (c.buffer.size() > kMaxHeadBytes) {
        Refuse(c, 431,
               "request head too large: expected at most " + std::to_string(kMaxHeadBytes) + " bytes");
      }
      return;
    }
    const Framing framing = ParseFraming(c.buffer.substr(0, head_end), limits_.max_body_bytes);
    if (framing.status != 0) {
      Refuse(c, framing.status, framing.message);
      return;
    }
    const size_t total = head_end + 4 + framing.body_bytes;
    if (c.buffer.size() < total) {
      if (framing.expect_continue && !c.continue_sent) {
        SendNow(c.fd, "HTTP/1.1 100 Continue\r\n\r\n");
        c.continue_sent = true;
      }
      return;
    }
    Job job{&c, c.buffer.substr(0, total)};
    c.buffer.erase(0, total);
    c.state = State::kBusy;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      jobs_.push_back(std::move(job));
    }
    jobs_ready_.notify_one();
  }

  // Answers `status` with a JSON error and closes once the client has been read from for a moment
  // (closing with unread bytes would reset the connection and could lose the answer).
  void Refuse(Connection& c, int status, const std::string& message) {
    SendNow(c.fd, ErrorResponse(status, message));
    Linger(c);
  }

  void Linger(Connection& c) {
    ::shutdown(c.fd, SHUT_WR);
    c.state = State::kDraining;
    c.buffer.clear();
    c.deadline = After(kLingerSeconds);
  }

  void Close(int fd) {
    ::close(fd);
    connections_.erase(fd);
  }

  void WorkLoop() {
    for (;;) {
      Job job;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        jobs_ready_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
        if (stopping_) return;
        job = std::move(jobs_.front());
        jobs_.pop_front();
      }
      Connection& c = *job.connection;
      RequestStream stream(c.fd, std::move(job.request), limits_.write_timeout_seconds, c.continue_sent);
      const bool last = ++c.served >= limits_.keep_alive_max_count;
      const bool keep_open = serve_(stream, last) && !stream.failed() && !last;
      {
        std::lock_guard<std::mutex> lock(mutex_);
        returned_.push_back({&c, keep_open});
      }
      Wake();
    }
  }

  const EngineLimits limits_;
  const ServeRequest serve_;
  int wake_fds_[2] = {-1, -1};
  std::thread reader_;
  std::vector<std::thread> workers_;
  std::map<int, std::unique_ptr<Connection>> connections_;  // the reading thread's

  std::mutex mutex_;  // guards what follows
  bool stopping_ = false;
  std::vector<int> adopted_;
  std::vector<Returned> returned_;
  std::deque<Job> jobs_;
  std::condition_variable jobs_ready_;
};

// httplib's server with the engine's connections: its accept loop and request handling are kept.
class HttpServer : public httplib::Server {
 public:
  explicit HttpServer(EngineLimits limits) : limits_(limits) {
    new_task_queue = [this] {
      auto* engine = new ConnectionEngine(limits_, [this](httplib::Stream& stream, bool close_connection) {
        bool connection_closed = false;
        return process_request(stream, close_connection, connection_closed, nullptr) && !connection_closed;
      });
      engine_ = engine;
      return engine;
    };
  }

 private:
  // Called (through the engine's enqueue) on httplib's accept thread for each new socket.
  bool process_and_close_socket(socket_t sock) override {
    engine_->Adopt(sock);
    return true;
  }

  const EngineLimits limits_;
  ConnectionEngine* engine_ = nullptr;  // owned by httplib's accept loop while it runs
};

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
  else if (threads < 1 || threads > 256)
    message = "threads: expected 1..256, got " + std::to_string(threads);
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
  else if (!(solve_timeout_seconds >= 1e-6 && solve_timeout_seconds <= 60))
    message = "solve_timeout_seconds: expected 1e-6..60, got " + Json(solve_timeout_seconds).dump();
  if (error != nullptr) *error = message;
  return message.empty();
}

// What the server offers: an arm with its solvers, and the model when there is one. Built once at
// start-up; its answers to /api/arm and /api/model are built then too.
struct ServedArm {
  std::string name;              // how requests choose it ("model": name)
  std::optional<IkModel> model;  // none: the solvers that need no model only
  Chain chain;
  UrdfVisuals visuals;  // a URDF's boxes, cylinders and spheres (the page draws capsules for the rest)
  std::map<std::string, std::unique_ptr<Solver>> solvers;
  std::vector<std::string> solver_names;  // in SolverNames() order
  std::string default_solver;
  std::string arm_json, model_json;

  ServedArm(std::string n, std::optional<IkModel> m, Chain c)
      : name(std::move(n)), model(std::move(m)), chain(std::move(c)) {}
};

struct WebServer::Impl {
  ServeOptions options;
  std::vector<std::unique_ptr<ServedArm>> arms;  // the first is the default
  std::string models_json;                       // the answer of /api/models
  HttpServer http;
  std::thread listener;
  std::atomic<bool> stop_requested{false};
  std::atomic<int> listen_fd{-1};
  bool bound = false;

  explicit Impl(const ServeOptions& o)
      : options(o),
        http(EngineLimits{o.max_body_bytes, o.request_timeout_seconds, o.keep_alive_timeout_seconds,
                          o.write_timeout_seconds, o.max_connections, o.threads, kKeepAliveMaxCount}) {}

  static constexpr size_t kKeepAliveMaxCount = 1000;  // requests per connection

  // Start-up: everything the request threads share is built here, then only read.

  // --model, then --arm, then every model file in --models (sorted by name).
  void LoadArms() {
    namespace fs = std::filesystem;
    if (!options.model_path.empty()) AddModel(options.model_path);
    if (!options.arm.arm.empty()) {
      auto arm = std::make_unique<ServedArm>(fs::path(options.arm.arm).stem().string(), std::nullopt,
                                             LoadArm(options.arm));
      arm->visuals = LoadArmVisuals(options.arm);
      AddArm(std::move(arm));
    }
    if (!options.models_dir.empty()) {
      std::error_code ec;
      if (!fs::is_directory(options.models_dir, ec)) {
        throw InputError("--models: expected a folder of model files, got '" + options.models_dir + "'");
      }
      std::vector<std::string> files;
      for (const fs::directory_entry& entry : fs::directory_iterator(options.models_dir, ec)) {
        if (entry.path().extension() == ".safetensors" && entry.is_regular_file(ec)) {
          files.push_back(entry.path().string());
        }
      }
      if (ec)
        throw InputError("--models: cannot read the folder '" + options.models_dir + "': " + ec.message());
      if (files.empty()) {
        throw InputError("--models: expected at least one .safetensors file in '" + options.models_dir +
                         "', found none");
      }
      std::sort(files.begin(), files.end());
      for (const std::string& file : files) AddModel(file);
    }
  }

  void AddModel(const std::string& path) {
    IkModel model = IkModel::Load(path);
    Chain chain = model.chain();
    AddArm(std::make_unique<ServedArm>(std::filesystem::path(path).stem().string(), std::move(model),
                                       std::move(chain)));
  }

  void AddArm(std::unique_ptr<ServedArm> arm) {
    for (const auto& other : arms) {
      if (other->name == arm->name) {
        throw InputError("serve: two arms or models named '" + arm->name +
                         "' (names are file names without their extension); rename one");
      }
    }
    BuildSolvers(*arm);
    arm->arm_json = ArmJson(arm->chain, arm->visuals);
    arm->model_json = ModelJson(*arm);
    arms.push_back(std::move(arm));
  }

  void BuildSolvers(ServedArm& arm) const {
    for (const std::string& name : SolverNames()) {
      try {
        arm.solvers[name] = MakeSolver(name, arm.chain, arm.model ? &*arm.model : nullptr, Settings());
        arm.solver_names.push_back(name);
      } catch (const InputError&) {
        // Not applicable: the closed form exists for the seed arm only; network and refined need a
        // model.
      }
    }
    arm.default_solver = arm.model ? "refined" : "lm";
  }

  static Json VisualsJson(const UrdfVisuals& visuals) {
    Json shapes = Json::array();
    for (const VisualShape& shape : visuals.shapes) {
      const char* kind = shape.kind == VisualShape::Kind::kBox        ? "box"
                         : shape.kind == VisualShape::Kind::kCylinder ? "cylinder"
                                                                      : "sphere";
      shapes.push_back({{"shape", kind},
                        {"link", shape.link},
                        {"frame", shape.frame},
                        {"origin", PoseJson(shape.X_FS)},
                        {"size", Vec3(shape.size)},
                        {"rgba", shape.rgba.allFinite() ? Json::array({shape.rgba[0], shape.rgba[1],
                                                                       shape.rgba[2], shape.rgba[3]})
                                                        : Json(nullptr)}});
    }
    return shapes;
  }

  static std::string ArmJson(const Chain& c, const UrdfVisuals& visuals) {
    const int n = c.num_joints();
    Json joints = Json::array();
    for (const Joint& joint : c.joints()) {
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
             {"visuals", VisualsJson(visuals)},
             {"meshes_not_drawn", visuals.meshes},
             {"units", {{"length", "m"}, {"angle", "rad"}, {"frame", "base, z up"}}}};
    return arm.dump();
  }

  // Without a model: the arm and the solvers, and null for what only a model has.
  static std::string ModelJson(const ServedArm& arm) {
    Json info{{"name", arm.name},
              {"path", nullptr},
              {"arm", arm.chain.name()},
              {"dof", arm.chain.num_joints()},
              {"network", nullptr},
              {"training", nullptr},
              {"metrics", nullptr},
              {"history", Json::array()},
              {"solvers", arm.solver_names},
              {"default_solver", arm.default_solver}};
    if (arm.model) {
      const IkModel& model = *arm.model;
      info["path"] = arm.name + ".safetensors";
      info["network"] = ParseJsonText(NetworkOptionsToJson(model.network()));
      info["training"] = ParseJsonText(model.Metadata("training"));
      info["metrics"] = ParseJsonText(model.Metadata("metrics"));
      info["history"] = Json::parse(HistoryToJson(model.History()));
    }
    return info.dump();
  }

  void BuildModelsJson() {
    Json list = Json::array();
    for (const auto& arm : arms) {
      list.push_back({{"name", arm->name},
                      {"arm", arm->chain.name()},
                      {"dof", arm->chain.num_joints()},
                      {"has_model", arm->model.has_value()},
                      {"solvers", arm->solver_names},
                      {"default_solver", arm->default_solver}});
    }
    models_json = Json{{"models", list}, {"default", arms.front()->name}}.dump();
  }

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
    if (!name.is_string()) throw ApiError{400, "model: expected a string, got " + TypeName(name)};
    return ArmNamed(name.get<std::string>());
  }

  const ServedArm& ArmFor(const httplib::Request& request) const {
    return request.has_param("model") ? ArmNamed(request.get_param_value("model")) : *arms.front();
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
      if (HostAllowed(request)) return httplib::Server::HandlerResponse::Unhandled;
      Reply(response, 403,
            Json{{"error", "Host '" + request.get_header_value("Host") +
                               "' is not this server's address; start deepik serve with --allow-host NAME "
                               "to accept it"}});
      return httplib::Server::HandlerResponse::Handled;
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
    Guarded(res, [&] { return Solve(ParseBody(req)); });
  }

  void HandleFk(const httplib::Request& req, httplib::Response& res) const {
    Guarded(res, [&] { return Fk(ParseBody(req)); });
  }

  void HandleTrack(const httplib::Request& req, httplib::Response& res) const {
    Guarded(res, [&] { return Track(ParseBody(req)); });
  }

  // The API's answers, from parsed requests; a request they refuse throws ApiError.

  const Solver& SolverFor(const Json& body) const {
    const ServedArm& arm = ArmFor(body);
    std::string name = arm.default_solver;
    if (body.contains("solver")) {
      const Json& s = body["solver"];
      if (!s.is_string()) throw ApiError{400, "solver: expected a string, got " + TypeName(s)};
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

  // The CSV's answer fields: q, the reached position and orientation (w, x, y, z),
  // position_error (also as "error", the name of position-only clients), angle_error (null for a
  // position-only target) and status.
  static Json Answer(const SolveResult& result, double micros, const std::string& solver) {
    Json answer = ResultFields(result);
    answer["status"] = ToString(result.status);
    answer["micros"] = micros;
    answer["solver"] = solver;
    return answer;
  }

  // q, the reached pose and the errors of a result (Answer() without status, time and solver).
  static Json ResultFields(const SolveResult& result) {
    const Eigen::Quaterniond& Q = result.Q_reached;
    return Json{{"q", std::vector<double>(result.q.data(), result.q.data() + result.q.size())},
                {"reached", Vec3(result.p_reached)},
                {"reached_quat", Json::array({Q.w(), Q.x(), Q.y(), Q.z()})},
                {"error", result.error},
                {"position_error", result.error},
                {"angle_error", std::isnan(result.angle_error) ? Json(nullptr) : Json(result.angle_error)}};
  }

  // A target: [x, y, z] (a position), or {"p": [x, y, z], "quat": [w, x, y, z], "bounds":
  // "rz=free"} with "quat" (a unit quaternion within 1e-6, either sign; normalised) and "bounds"
  // (free or bounded axes, as `deepik solve --bounds`) optional.
  static IkTarget ParseTarget(const Json& value, const std::string& field) {
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
      if (!(std::abs(norm - 1.0) <= 1e-6)) {
        throw ApiError{
            400, field + ".quat: expected a unit quaternion [w, x, y, z] (norm within 1e-6 of 1), got norm " +
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

  static double MicrosSince(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count();
  }

  Json Solve(const Json& body) const {
    CheckKeys(body, {"target", "targets", "solver", "solutions", "model", "avoid_limits", "posture",
                     "posture_weight", "start_weight"});
    const bool single = body.contains("target"), batch = body.contains("targets");
    if (single == batch)
      throw ApiError{400,
                     "expected exactly one of 'target' ([x,y,z] or {\"p\": [x,y,z], \"quat\": [w,x,y,z]}) or "
                     "'targets' (a list of them)"};
    const Solver& solver = SolverFor(body);
    const Request request{ParseSolutions(body, solver), ParsePosture(body, solver)};
    if (single) {
      const Json& value = body["target"];
      const IkTarget target = ParseTarget(value, "target");
      CheckTargetForSolver(target, solver);
      const std::optional<Eigen::VectorXd> q_start = ParseStart(value, "target", solver.chain());
      CheckStartForPosture(request.posture, q_start, "target");
      return SolveTarget(solver, target, request, q_start);
    }
    return SolveBatch(solver, body["targets"], request);
  }

  // How each target of a solve request is answered: "solutions" (0: one answer) and the posture
  // objective (inactive: none).
  struct Request {
    int solutions = 0;
    PostureOptions posture;
  };

  // body[key]: a finite number in lo..hi; `fallback` when absent.
  static double NumberField(const Json& body, const char* key, double fallback, double lo, double hi) {
    if (!body.contains(key)) return fallback;
    const Json& x = body[key];
    char range[64];
    std::snprintf(range, sizeof range, "%g..%g", lo, hi);
    if (!x.is_number() || !(x.get<double>() >= lo && x.get<double>() <= hi))
      throw ApiError{
          400, std::string(key) + ": expected a number in " + std::string(range) + ", got " + JsonText(x)};
    return x.get<double>();
  }

  // The posture objective of `solve --avoid-limits W --posture q --posture-weight W --start-weight
  // W`: "avoid_limits", "posture" (one value per joint), "posture_weight", "start_weight" (weights
  // 0..1e6; start_weight needs a q_start in every target).
  static constexpr double kMaxWeight = 1e6;
  static PostureOptions ParsePosture(const Json& body, const Solver& solver) {
    const Chain& chain = solver.chain();
    PostureOptions posture;
    posture.avoid_limits = NumberField(body, "avoid_limits", 0.0, 0.0, kMaxWeight);
    posture.posture_weight = NumberField(body, "posture_weight", 0.0, 0.0, kMaxWeight);
    posture.start_weight = NumberField(body, "start_weight", 0.0, 0.0, kMaxWeight);
    if (body.contains("posture")) {
      posture.posture =
          ParseVector(body["posture"], static_cast<size_t>(chain.num_joints()), kMaxJointValue, "posture");
    } else if (posture.posture_weight > 0) {
      throw ApiError{400, "posture: expected " + std::to_string(chain.num_joints()) +
                              " joint values with posture_weight, got none"};
    }
    if (posture.active() && solver.name() == "network") {
      throw ApiError{
          400,
          "avoid_limits, posture_weight, start_weight: expected an exact solver (refined, lm, kdl-*), "
          "got solver network"};
    }
    return posture;
  }

  static void CheckStartForPosture(const PostureOptions& posture,
                                   const std::optional<Eigen::VectorXd>& q_start, const std::string& field) {
    if (posture.start_weight > 0 && !q_start)
      throw ApiError{400, "start_weight: expected a q_start in " + field};
  }

  static void CheckTargetForSolver(const IkTarget& target, const Solver& solver) {
    if ((target.has_orientation() || target.has_bounds()) && solver.name() == "analytic") {
      throw ApiError{400, "solver: analytic solves position-only targets"};
    }
  }

  // "solutions": K (1..kMaxApiSolutions) asks for up to K distinct exact solutions per target;
  // 0 when absent (one answer).
  static constexpr int kMaxApiSolutions = 100;
  static int ParseSolutions(const Json& body, const Solver& solver) {
    if (!body.contains("solutions")) return 0;
    const Json& k = body["solutions"];
    if (!k.is_number_integer() || k.get<int64_t>() < 1 || k.get<int64_t>() > kMaxApiSolutions) {
      throw ApiError{
          400, "solutions: expected an integer 1.." + std::to_string(kMaxApiSolutions) + ", got " + k.dump()};
    }
    if (solver.name() == "network") {
      throw ApiError{400, "solutions: expected an exact solver (refined, lm, kdl-*), got solver network"};
    }
    return k.get<int>();
  }

  // One target's answer: Answer(), or with `solutions` > 0 {"solutions": [Answer(), ...], "exact":
  // true when they are exact solutions (else the one entry is the solver's unconverged answer),
  // "starts", "micros", "solver"}.
  // With a q_start (a target object's "q_start": joint values within the limits), the solver
  // starts there and the solutions come closest to it first (TRAC-IK's Distance mode).
  // With a posture objective, the exact solutions found (8 candidates at least, as `deepik solve`)
  // are improved and ranked by it; without "solutions" the answer is then the best one alone.
  Json SolveTarget(const Solver& solver, const IkTarget& target, const Request& request,
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
    many.candidates = ranked ? kPostureCandidates : 0;
    const ManySolutions found = SolveMany(solver, target, many, Settings(), q0);
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

  static constexpr int kPostureCandidates = 8;

  SolverSettings Settings() const {
    SolverSettings settings;
    settings.pose.timeout_seconds = options.solve_timeout_seconds;
    return settings;
  }

  // Joint values of `chain` within its limits (`field` names them in errors).
  static Eigen::VectorXd ParseJoints(const Json& value, const std::string& field, const Chain& chain) {
    Eigen::VectorXd q = ParseVector(value, static_cast<size_t>(chain.num_joints()), kMaxJointValue, field);
    if (!chain.WithinLimits(q)) throw ApiError{400, field + ": expected joint values within the limits"};
    return q;
  }

  // A target object's optional "q_start": one value per joint, within the limits.
  static std::optional<Eigen::VectorXd> ParseStart(const Json& value, const std::string& field,
                                                   const Chain& chain) {
    if (!value.is_object() || !value.contains("q_start")) return std::nullopt;
    return ParseJoints(value["q_start"], field + ".q_start", chain);
  }

  // A list of 1..max_targets targets for `solver`, each with its optional q_start. Every target
  // is checked before any is solved: a bad one refuses the whole request at once.
  std::vector<IkTarget> ParseTargets(const Json& list, const Solver& solver,
                                     std::vector<std::optional<Eigen::VectorXd>>* starts) const {
    if (!list.is_array()) {
      throw ApiError{400,
                     "targets: expected an array of targets ([x,y,z] or {\"p\": ..., \"quat\": ...}), got " +
                         TypeName(list)};
    }
    if (list.empty()) throw ApiError{400, "targets: expected at least one target"};
    if (list.size() > static_cast<size_t>(options.max_targets)) {
      throw ApiError{413, "targets: expected at most " + std::to_string(options.max_targets) +
                              " targets, got " + std::to_string(list.size())};
    }
    std::vector<IkTarget> targets(list.size());
    starts->assign(list.size(), std::nullopt);
    for (size_t i = 0; i < list.size(); ++i) {
      const std::string field = "targets[" + std::to_string(i) + "]";
      targets[i] = ParseTarget(list[i], field);
      (*starts)[i] = ParseStart(list[i], field, solver.chain());
      CheckTargetForSolver(targets[i], solver);
    }
    return targets;
  }

  Json SolveBatch(const Solver& solver, const Json& list, const Request& request) const {
    std::vector<std::optional<Eigen::VectorXd>> starts;
    const std::vector<IkTarget> targets = ParseTargets(list, solver, &starts);
    for (size_t i = 0; i < targets.size(); ++i)
      CheckStartForPosture(request.posture, starts[i], "targets[" + std::to_string(i) + "]");
    Json results = Json::array();
    const auto start = std::chrono::steady_clock::now();
    for (size_t i = 0; i < targets.size(); ++i)
      results.push_back(SolveTarget(solver, targets[i], request, starts[i]));
    return Json{{"results", results}, {"micros", MicrosSince(start)}, {"solver", solver.name()}};
  }

  // POST /api/track: TrackPath over "targets" (as /api/solve's, without q_start) from an optional
  // "q_start" (joint values within the limits); "continue": true (needs q_start) tracks row 0 from
  // q_start within the step bound, as a path continued where an earlier one ended; "step_ratio"
  // and "step_floor" as `deepik track`. Answers one row per target: ResultFields(), "status"
  // (tracked, out of reach, reconfiguration, failed), "solve_status", "joint_step" and
  // "step_bound" (rad; null on a row solved afresh), then a "summary".
  Json Track(const Json& body) const {
    CheckKeys(body, {"targets", "q_start", "continue", "solver", "model", "step_ratio", "step_floor"});
    const Solver& solver = SolverFor(body);
    if (!body.contains("targets"))
      throw ApiError{400, "expected a field 'targets' (the path: a list of targets)"};
    std::vector<std::optional<Eigen::VectorXd>> starts;
    const std::vector<IkTarget> path = ParseTargets(body["targets"], solver, &starts);
    for (size_t i = 0; i < starts.size(); ++i) {
      if (starts[i])
        throw ApiError{
            400, "targets[" + std::to_string(i) + "].q_start: a path has one q_start, at its top level"};
    }
    std::optional<Eigen::VectorXd> q_start;
    if (body.contains("q_start")) q_start = ParseJoints(body["q_start"], "q_start", solver.chain());
    TrackOptions track;
    track.step_ratio = NumberField(body, "step_ratio", track.step_ratio, 1e-6, 1e6);
    track.step_floor = NumberField(body, "step_floor", track.step_floor, 0.0, 10.0);
    if (body.contains("continue")) {
      if (!body["continue"].is_boolean())
        throw ApiError{400, "continue: expected true or false, got " + JsonText(body["continue"])};
      track.continue_from_start = body["continue"].get<bool>();
      if (track.continue_from_start && !q_start)
        throw ApiError{400, "continue: expected a q_start to continue from"};
    }
    const auto start = std::chrono::steady_clock::now();
    const std::vector<TrackPoint> points =
        TrackPath(solver, path, Settings(), track, q_start ? &*q_start : nullptr);
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
    return Json{{"points", rows},
                {"summary",
                 {{"rows", summary.rows},
                  {"tracked", summary.tracked},
                  {"out_of_reach", summary.out_of_reach},
                  {"reconfigurations", summary.reconfigurations},
                  {"reconfiguration_rows", summary.reconfiguration_rows},
                  {"max_joint_step", summary.max_joint_step}}},
                {"step_ratio", track.step_ratio},
                {"step_floor", track.step_floor},
                {"micros", MicrosSince(start)},
                {"solver", solver.name()}};
  }

  Json Fk(const Json& body) const {
    CheckKeys(body, {"q", "model"});
    const Chain& chain = ArmFor(body).chain;
    if (!body.contains("q")) throw ApiError{400, "expected a field 'q' (joint values, rad or m)"};
    const Eigen::VectorXd q =
        ParseVector(body["q"], static_cast<size_t>(chain.num_joints()), kMaxJointValue, "q");
    std::vector<Eigen::Isometry3d> X_BF;
    JointFrames(chain, q, &X_BF);
    Json frames = Json::array();
    for (const Eigen::Isometry3d& X : X_BF) frames.push_back(PoseJson(X));
    return Json{{"frames", frames}, {"tip", Vec3(X_BF.back().translation())}};
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
  impl_->LoadArms();
  impl_->BuildModelsJson();
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
