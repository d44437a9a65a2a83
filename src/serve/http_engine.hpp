// The server's HTTP connections. httplib's own loop gives every connection a pool thread for as
// long as the client takes to send its request, so a few clients that dribble bytes stop the
// server; and it reads a body by a Content-Length it does not check (a negative or absurd one waits
// for the read timeout, a second one is ignored). Here one thread reads every connection without
// blocking, checks the framing itself and hands httplib a request only when all of it is in memory;
// a pool of workers runs complete requests.
#pragma once

#include <cstddef>
#include <functional>
#include <string>

// After Eigen: httplib.h brings <resolv.h>, whose `_res` macro breaks Eigen's headers.
// clang-format off
#include <Eigen/Core>
#include <httplib.h>
// clang-format on
#undef _res

namespace deepik::serve {

/// The engine's limits (ServeOptions' names without the unit suffixes' repetition).
struct EngineLimits {
  size_t max_body_bytes;
  double request_timeout_seconds, keep_alive_timeout_seconds, write_timeout_seconds;
  int max_connections, threads;
  size_t keep_alive_max_count;
};

/// Serves one complete request from a stream (httplib's process_request): returns false when the
/// connection must close.
using ServeRequest = std::function<bool(httplib::Stream& stream, bool close_connection)>;

/// A request's head (request line and headers, without the blank line) as httplib gets it: without
/// the headers that would make it answer wrongly. On /api/ paths (%-decoded) Range is dropped (an
/// answer is a whole JSON document, never a slice) and so is Content-Type (every body is read as
/// JSON; httplib would parse a form type itself and refuse one over 8 KiB); elsewhere (static files)
/// a Range of more than one range is dropped (the whole file, 200), so that one request cannot ask
/// for a file many times over.
std::string RewriteHead(const std::string& head);

class ConnectionEngine;

/// httplib's server with the engine's connections: its accept loop, routing and request handling
/// are kept; the engine reads, frames and times every connection.
class HttpServer : public httplib::Server {
 public:
  explicit HttpServer(EngineLimits limits);

 private:
  // Called (through the engine's enqueue) on httplib's accept thread for each new socket.
  bool process_and_close_socket(socket_t sock) override;

  const EngineLimits limits_;
  ConnectionEngine* engine_ = nullptr;  // owned by httplib's accept loop while it runs
};

}  // namespace deepik::serve
