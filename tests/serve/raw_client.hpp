// A client over a raw socket for the server tests: it sends exactly the bytes it is given (which
// httplib's client would normalise) and reads answers by their Content-Length.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

namespace deepik::testing {

// An HTTP answer as read off the socket.
struct Answer {
  int status = -1;  // -1: none (closed or timed out)
  std::string head, body;
  nlohmann::json json() const { return nlohmann::json::parse(body, nullptr, false); }
};

// A TCP connection that sends exactly the bytes it is given.
class RawClient {
 public:
  // `receive_buffer_bytes` > 0: the socket's receive buffer (SO_RCVBUF), set before connecting.
  explicit RawClient(int port, int receive_buffer_bytes = 0) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    if (receive_buffer_bytes > 0)
      ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer_bytes, sizeof receive_buffer_bytes);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0;
  }
  ~RawClient() { ::close(fd_); }
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  bool connected() const { return connected_; }

  bool Send(const std::string& bytes) {
    size_t done = 0;
    while (done < bytes.size()) {
      const ssize_t n = ::send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
      if (n <= 0) return false;
      done += static_cast<size_t>(n);
    }
    return true;
  }

  // The next answer (head and Content-Length body), or status -1 when the server closes first or
  // `seconds` pass.
  Answer Read(double seconds) {
    const std::chrono::steady_clock::time_point deadline =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(static_cast<int>(seconds * 1000));
    Answer answer;
    for (;;) {
      const size_t head_end = pending_.find("\r\n\r\n");
      if (head_end != std::string::npos) {
        answer.head = pending_.substr(0, head_end);
        const size_t length_at = answer.head.find("Content-Length: ");
        const size_t length =
            length_at == std::string::npos ? 0 : std::stoul(answer.head.substr(length_at + 16));
        if (pending_.size() >= head_end + 4 + length) {
          answer.body = pending_.substr(head_end + 4, length);
          answer.status = std::stoi(answer.head.substr(answer.head.find(' ') + 1));
          pending_.erase(0, head_end + 4 + length);
          return answer;
        }
      }
      if (!Receive(deadline)) return Answer{};
    }
  }

  // True when the server closes the connection within `seconds`; what it sent before is in `rest`.
  bool ClosedWithin(double seconds, std::string* rest) {
    const std::chrono::steady_clock::time_point deadline =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(static_cast<int>(seconds * 1000));
    while (Receive(deadline)) {
    }
    *rest = pending_;
    return closed_;
  }

  // True when the server has neither answered nor closed (nothing to read right now).
  bool Waiting() const {
    pollfd p{fd_, POLLIN, 0};
    return ::poll(&p, 1, 0) == 0;
  }

 private:
  // Appends what arrives before `deadline`; false on close, error or timeout.
  bool Receive(std::chrono::steady_clock::time_point deadline) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now())
            .count();
    pollfd p{fd_, POLLIN, 0};
    if (left <= 0 || ::poll(&p, 1, static_cast<int>(left)) <= 0) return false;
    char chunk[4096];
    const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) {
      closed_ = true;
      return false;
    }
    pending_.append(chunk, static_cast<size_t>(n));
    return true;
  }

  int fd_;
  bool connected_ = false;
  bool closed_ = false;
  std::string pending_;
};

// One request on a fresh connection: its answer.
/// One request on a connection of its own, and its answer (status -1: none within `seconds`).
inline Answer Exchange(int port, const std::string& request, double seconds = 5) {
  RawClient client(port);
  if (!client.connected() || !client.Send(request)) return Answer{};
  return client.Read(seconds);
}

}  // namespace deepik::testing
