#include "serve/http_engine.hpp"

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
#include <condition_variable>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "serve/request_parsing.hpp"

namespace deepik::serve {
namespace {

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
  int hosts = 0;
  size_t line_start = head.find("\r\n");  // the request line is httplib's to parse
  while (line_start != std::string::npos && framing.status == 0) {
    line_start += 2;
    const size_t line_end = head.find("\r\n", line_start);
    const std::string line = head.substr(line_start, line_end - line_start);
    line_start = line_end;
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;  // httplib refuses it
    const std::string name = Lowercase(line.substr(0, colon)), value = Trim(line.substr(colon + 1));
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
      framing.expect_continue = Lowercase(value) == "100-continue";
    } else if (name == "host") {
      // One, non-empty and text: httplib would keep the first of two, drop an empty one and cut one
      // at a NUL, so that two readers could see two names.
      if (++hosts > 1) {
        framing = {400, "Host: expected one header, got " + std::to_string(hosts)};
      } else if (value.empty()) {
        framing = {400, "Host: expected a host name, got an empty header"};
      } else if (BadTextAt(value) != std::string::npos) {
        framing = {400, "Host: expected text without control characters, got " + JsonText(Json(value))};
      }
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

// The request target's path, %-decoded as httplib decodes it for routing.
std::string TargetPath(const std::string& head) {
  const size_t start = head.find(' ');
  if (start == std::string::npos) return "";
  const size_t end = head.find_first_of(" ?#\r", start + 1);
  const std::string raw =
      head.substr(start + 1, end == std::string::npos ? std::string::npos : end - start - 1);
  return PercentDecoded(raw);
}

}  // namespace

std::string RewriteHead(const std::string& head) {
  const std::string path = TargetPath(head);
  const bool api = path == "/api" || path.rfind("/api/", 0) == 0;
  std::string kept;
  size_t line_start = 0;
  while (line_start < head.size()) {
    size_t line_end = head.find("\r\n", line_start);
    if (line_end == std::string::npos) line_end = head.size();
    const std::string line = head.substr(line_start, line_end - line_start);
    const size_t colon = line.find(':');
    const std::string name =
        line_start == 0 || colon == std::string::npos ? "" : Lowercase(line.substr(0, colon));
    const bool drop = (name == "range" && (api || line.find(',', colon) != std::string::npos)) ||
                      (name == "content-type" && api);
    if (!drop) kept += (kept.empty() ? "" : "\r\n") + line;
    line_start = line_end + 2;
  }
  return kept;
}

namespace {

// One request, all in memory, as httplib reads it; its answer is collected in memory too, and the
// reading thread writes it as fast as the client reads (a client that does not read holds no worker).
class RequestStream : public httplib::Stream {
 public:
  RequestStream(int fd, std::string request, bool continue_sent)
      : fd_(fd), request_(std::move(request)), continue_sent_(continue_sent) {}

  bool is_readable() const override { return offset_ < request_.size(); }
  bool is_writable() const override { return true; }

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
    answer_.append(ptr, size);
    return static_cast<ssize_t>(size);
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override { Address(::getpeername, ip, port); }
  void get_local_ip_and_port(std::string& ip, int& port) const override { Address(::getsockname, ip, port); }
  socket_t socket() const override { return fd_; }

  // The answer httplib wrote (head and body).
  std::string TakeAnswer() { return std::move(answer_); }

 private:
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
  bool continue_sent_;
  std::string answer_;
};

}  // namespace

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
  // kWriting: an answer is being written as the client reads it (the reading thread's, no worker's).
  enum class State { kIdle, kReading, kBusy, kWriting, kDraining };

  struct Connection {
    int fd;
    State state = State::kIdle;
    std::string buffer;  // received and not yet handed over
    Clock::time_point deadline;
    size_t served = 0;
    bool continue_sent = false;
    std::string output;      // kWriting: the answer's bytes not yet sent
    bool keep_open = false;  // kWriting: whether the connection stays open after the answer
  };

  struct Job {
    Connection* connection;
    std::string request;
  };

  struct Returned {
    Connection* connection;
    bool keep_open;
    std::string output;  // what the worker could not send at once
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
        polled.push_back(pollfd{c.fd, static_cast<short>(c.state == State::kWriting ? POLLOUT : POLLIN), 0});
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
        if (polled[i].revents == 0) continue;
        Connection& c = *polled_connections[i];
        if (c.state == State::kWriting) {
          OnWritable(c);
        } else {
          OnReadable(c);
        }
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
    for (Returned& r : returned) {
      Connection& c = *r.connection;
      c.output = std::move(r.output);
      c.keep_open = r.keep_open;
      c.continue_sent = false;
      if (!c.output.empty()) {
        c.state = State::kWriting;
        c.deadline = After(limits_.write_timeout_seconds);
        continue;
      }
      AnswerSent(c);
    }
  }

  // The whole answer is out: the next request (a pipelined one may be waiting already), or close.
  void AnswerSent(Connection& c) {
    if (!c.keep_open) {
      Linger(c);
      return;
    }
    c.state = State::kIdle;
    Advance(c);
  }

  // Sends what the client's window takes; every byte taken restarts the write deadline, so only a
  // client that stops reading for write_timeout_seconds is cut off (and closed: the answer's
  // Content-Length tells it that it is incomplete).
  void OnWritable(Connection& c) {
    for (;;) {
      const ssize_t n = ::send(c.fd, c.output.data(), c.output.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
      if (n > 0) {
        c.output.erase(0, static_cast<size_t>(n));
        c.deadline = After(limits_.write_timeout_seconds);
        if (c.output.empty()) break;
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
      Close(c.fd);  // the client is gone
      return;
    }
    AnswerSent(c);
  }

  void ExpireDeadlines() {
    const Clock::time_point now = Clock::now();
    std::vector<int> closed;
    for (auto& entry : connections_) {
      Connection& c = *entry.second;
      if (c.state == State::kBusy || c.deadline > now) continue;
      if (c.state == State::kWriting) {
        closed.push_back(c.fd);  // the client stopped reading its answer
      } else if (c.state == State::kReading) {
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
    Job job{&c, RewriteHead(c.buffer.substr(0, head_end)) + c.buffer.substr(head_end, total - head_end)};
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
      RequestStream stream(c.fd, std::move(job.request), c.continue_sent);
      const bool last = ++c.served >= limits_.keep_alive_max_count;
      const bool keep_open = serve_(stream, last) && !last;
      // Most answers fit the socket's buffer at once; the rest is the reading thread's to send.
      std::string output = stream.TakeAnswer();
      const ssize_t sent = ::send(c.fd, output.data(), output.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
      if (sent > 0) output.erase(0, static_cast<size_t>(sent));
      {
        std::lock_guard<std::mutex> lock(mutex_);
        returned_.push_back({&c, keep_open, std::move(output)});
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

HttpServer::HttpServer(EngineLimits limits) : limits_(limits) {
  new_task_queue = [this] {
    auto* engine = new ConnectionEngine(limits_, [this](httplib::Stream& stream, bool close_connection) {
      bool connection_closed = false;
      return process_request(stream, close_connection, connection_closed, nullptr) && !connection_closed;
    });
    engine_ = engine;
    return engine;
  };
}

bool HttpServer::process_and_close_socket(socket_t sock) {
  engine_->Adopt(sock);
  return true;
}

}  // namespace deepik::serve
