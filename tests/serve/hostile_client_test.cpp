// `deepik serve` against hostile and careless clients, over raw sockets (the exact bytes, which
// httplib's client would normalise): bytes that are not text in the path or query, bad
// Content-Length headers, slow clients, requests that never finish, too many connections.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "deepik/serve/server.hpp"
#include "serve/raw_client.hpp"
#include "serve/serve_test_util.hpp"

// After Eigen: httplib.h brings <resolv.h>, whose `_res` macro breaks Eigen's headers.
#include <httplib.h>
#undef _res

namespace deepik {
namespace {

using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;
using testing::Answer;
using testing::Exchange;
using testing::OwnServer;
using testing::RawClient;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

ServeOptions Options() { return testing::ServeTestOptions(); }

std::string Get(const std::string& target) {
  return "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
}

// The server still answers a normal client (httplib's) at once.
void ExpectServing(int port) {
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(2);
  client.set_read_timeout(5);
  const httplib::Result arm = client.Get("/api/arm");
  ASSERT_TRUE(arm) << httplib::to_string(arm.error());
  EXPECT_EQ(arm->status, 200);
  const httplib::Result solve = client.Post("/api/solve", R"({"target":[1,0,1]})", "application/json");
  ASSERT_TRUE(solve);
  EXPECT_EQ(solve->status, 200) << solve->body;
}

void ExpectJsonError(const Answer& answer, const std::string& label) {
  const Json json = answer.json();
  ASSERT_TRUE(json.is_object()) << label << ": " << answer.body;
  EXPECT_TRUE(json.contains("error") && json.at("error").is_string()) << label << ": " << answer.body;
  EXPECT_NE(answer.head.find("application/json"), std::string::npos) << label << ": " << answer.head;
}

class HostileClientTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = new OwnServer(Options()); }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  static int port() { return server_->port; }
  static inline OwnServer* server_ = nullptr;
};

TEST_F(HostileClientTest, BytesThatAreNotTextInThePathOrQueryGet400Json) {
  const std::vector<std::string> targets = {
      "/api/\xff\xfe",
      "/api/%ff%fe",
      "/x%ff",
      "/index.html%00.png",
      "/api/arm%00",
      "/api/workspace?n=%ff",
      "/api/workspace?%ff=1",
      "/api/workspace?n=1&x=%00",
      "/%c0%af",
      "/%ed%a0%80",
      "/%f4%90%80%80",
      "/%e2%82",
      "/api/\x01",
      "/\x7f",
      "/api/%0d%0aX-Injected:%201",
  };
  for (const std::string& target : targets) {
    const Answer answer = Exchange(port(), Get(target));
    EXPECT_EQ(answer.status, 400) << target;
    ExpectJsonError(answer, target);
  }
  // Text that is UTF-8 is a path like any other.
  EXPECT_EQ(Exchange(port(), Get("/api/%e2%82%ac")).status, 404);
  EXPECT_EQ(Exchange(port(), Get("/api/\xe2\x82\xac")).status, 404);
  ExpectServing(port());
}

TEST_F(HostileClientTest, ArbitraryBytesGetAnAnswerBelow500AndTheServerLivesOn) {
  std::mt19937 rng(11);
  std::uniform_int_distribution<int> byte(0, 255), length(1, 40);
  const auto random_bytes = [&](int n) {
    std::string bytes;
    while (static_cast<int>(bytes.size()) < n) {
      const char c = static_cast<char>(byte(rng));
      if (c != ' ' && c != '\r' && c != '\n') bytes += c;  // keep the request line's framing
    }
    return bytes;
  };
  for (int i = 0; i < 150; ++i) {
    const std::string target = "/" + random_bytes(length(rng));
    const Answer answer = Exchange(port(), Get(target));
    ASSERT_GE(answer.status, 200) << "no answer for case " << i;
    EXPECT_LT(answer.status, 500) << "case " << i;
    if (answer.status >= 400) ExpectJsonError(answer, "case " + std::to_string(i));
  }
  // Not even a request line.
  for (const std::string& line : {std::string("\xff\xfe\x00\x01", 4), std::string("GET"),
                                  std::string("GET / HTTP/9.9"), random_bytes(64), random_bytes(300)}) {
    const Answer answer = Exchange(port(), line + "\r\nHost: 127.0.0.1\r\n\r\n");
    EXPECT_EQ(answer.status, 400);
    ExpectJsonError(answer, "request line");
  }
  ExpectServing(port());
}

TEST_F(HostileClientTest, WorkspaceCountsThatAreNoNumbersGet400) {
  for (const char* n :
       {"", "abc", "1e3", "%00", "%ff", "99999999999999999999", "%205", "%2B5", "0x10", "5%00"}) {
    const Answer answer = Exchange(port(), Get(std::string("/api/workspace?n=") + n));
    EXPECT_EQ(answer.status, 400) << n;
    ExpectJsonError(answer, n);
  }
  EXPECT_EQ(Exchange(port(), Get("/api/workspace?n=3")).json().at("points").size(), 3u);
}

// Refused at once, before any body is read: the answer comes within a second (the server would
// otherwise wait for its 10 s request timeout), then the connection closes, so that what the
// client sent as a "body" is never read as a request of its own.
TEST_F(HostileClientTest, BadContentLengthIsRefusedAtOnceAndTheConnectionCloses) {
  const std::string smuggled = Get("/api/arm");
  const std::vector<std::pair<std::string, int>> cases = {
      {"Content-Length: 5\r\nContent-Length: 50\r\n", 400},
      {"Content-Length: 50\r\nContent-Length: 5\r\n", 400},
      {"Content-Length: -1\r\n", 400},
      {"Content-Length: 99999999999999999999\r\n", 400},
      {"Content-Length: 18446744073709551617\r\n", 400},
      {"Content-Length: 1e3\r\n", 400},
      {"Content-Length: +5\r\n", 400},
      {"Content-Length: 5, 5\r\n", 400},
      {"Content-Length: \r\n", 400},
      {"Content-Length: 0x10\r\n", 400},
      {"Content-Length: 1000000000000\r\n", 413},
      {"Transfer-Encoding: chunked\r\n", 411},
      {"X-Padding: " + std::string(20000, 'p') + "\r\n", 431},
  };
  for (const auto& [header, status] : cases) {
    RawClient client(port());
    ASSERT_TRUE(client.connected());
    const auto start = Clock::now();
    ASSERT_TRUE(client.Send("POST /api/fk HTTP/1.1\r\nHost: 127.0.0.1\r\n" + header + "\r\n" + smuggled));
    const Answer answer = client.Read(5);
    const double seconds = SecondsSince(start);
    EXPECT_EQ(answer.status, status) << header;
    EXPECT_LT(seconds, 1.0) << header;
    ExpectJsonError(answer, header);
    std::string rest;
    EXPECT_TRUE(client.ClosedWithin(3, &rest)) << header;
    EXPECT_EQ(rest, "") << header << ": the body was served as a request";
  }
  // The same value twice is one length; a body without a length is empty (RFC 9112, 6.3).
  const std::string q = R"({"q":[0,0,0,0]})";
  const std::string length = std::to_string(q.size());
  EXPECT_EQ(Exchange(port(), "POST /api/fk HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: " + length +
                                 "\r\nContent-Length: " + length + "\r\n\r\n" + q)
                .status,
            200);
  const Answer empty = Exchange(port(), "POST /api/fk HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 2);
  EXPECT_EQ(empty.status, 400);
  EXPECT_EQ(empty.json().value("error", ""), "malformed JSON body");
  ExpectServing(port());
}

TEST_F(HostileClientTest, PipelinedRequestsAndExpectContinueAreServedInOrder) {
  RawClient client(port());
  const std::string q = R"({"q":[0,0,0,0]})";
  const std::string fk =
      "POST /api/fk HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: " + std::to_string(q.size()) + "\r\n\r\n" +
      q;
  ASSERT_TRUE(client.Send(fk + Get("/api/nowhere") + Get("/api/workspace?n=2")));
  EXPECT_EQ(client.Read(5).status, 200);
  EXPECT_EQ(client.Read(5).status, 404);
  const Answer workspace = client.Read(5);
  ASSERT_EQ(workspace.status, 200);
  EXPECT_EQ(workspace.json().at("points").size(), 2u);

  // One interim answer, then the final one once the body is there.
  ASSERT_TRUE(
      client.Send("POST /api/fk HTTP/1.1\r\nHost: 127.0.0.1\r\nExpect: 100-continue\r\nContent-Length: " +
                  std::to_string(q.size()) + "\r\n\r\n"));
  EXPECT_EQ(client.Read(1).status, 100);
  ASSERT_TRUE(client.Send(q));
  const Answer answer = client.Read(5);
  EXPECT_EQ(answer.status, 200) << answer.head;
  EXPECT_TRUE(answer.json().contains("tip"));
}

// Slow clients: each dribbles a byte at a time, one round every 20 ms.
class Dribbler {
 public:
  Dribbler(int port, const std::vector<std::string>& requests) {
    for (const std::string& request : requests) {
      clients_.push_back(std::make_unique<RawClient>(port));
      requests_.push_back(request);
    }
    thread_ = std::thread([this] {
      for (size_t k = 0; !stop_; ++k) {
        for (size_t i = 0; i < clients_.size(); ++i) {
          if (k < requests_[i].size()) (void)clients_[i]->Send(requests_[i].substr(k, 1));
        }
        ++rounds_;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));  // the pace of a slow client
      }
    });
  }
  ~Dribbler() {
    stop_ = true;
    thread_.join();
  }
  // Waits (up to 10 s) until every client has been sent `rounds` bytes.
  bool WaitForRounds(int rounds) {
    const auto deadline = Clock::now() + std::chrono::seconds(10);
    while (rounds_ < rounds && Clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    return rounds_ >= rounds;
  }
  int rounds() const { return rounds_; }
  RawClient& client(size_t i) { return *clients_[i]; }
  size_t size() const { return clients_.size(); }

 private:
  std::vector<std::unique_ptr<RawClient>> clients_;
  std::vector<std::string> requests_;
  std::atomic<bool> stop_{false};
  std::atomic<int> rounds_{0};
  std::thread thread_;
};

TEST(SlowClientTest, TwentySlowClientsDoNotDelayANormalOne) {
  ServeOptions options = Options();
  options.threads = 2;  // fewer workers than slow clients: a slow client must hold none
  options.request_timeout_seconds = 30;
  OwnServer own(options);
  std::vector<std::string> requests;
  const std::string body(500, ' ');
  for (int i = 0; i < 10; ++i) {
    requests.push_back(
        "POST /api/fk HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        "X-Padding: " +
        std::string(200, 'p') + "\r\n\r\n");  // a slow head
    requests.push_back("POST /api/fk HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 500\r\n\r\n" + body);
  }
  Dribbler slow(own.port, requests);
  // Into the bodies: the heads of the second kind (67 bytes) are in.
  ASSERT_TRUE(slow.WaitForRounds(80));

  httplib::Client client("127.0.0.1", own.port);
  client.set_connection_timeout(5);
  client.set_read_timeout(5);
  const auto start = Clock::now();
  const httplib::Result arm = client.Get("/api/arm");
  const httplib::Result solve = client.Post("/api/solve", R"({"target":[1,0,1]})", "application/json");
  const double seconds = SecondsSince(start);
  const int rounds_after = slow.rounds();
  ASSERT_TRUE(arm);
  ASSERT_TRUE(solve);
  EXPECT_EQ(arm->status, 200);
  EXPECT_EQ(solve->status, 200);
  EXPECT_LT(seconds, 1.0) << "a normal client waited behind " << slow.size() << " slow ones";
  std::printf("[ slow     ] 2 requests answered in %.1f ms while %zu clients dribbled\n", seconds * 1e3,
              slow.size());
  // The slow ones were still sending, and are still waiting (not refused, not answered).
  EXPECT_LT(rounds_after, static_cast<int>(body.size()) + 67);
  for (size_t i = 0; i < slow.size(); ++i) EXPECT_TRUE(slow.client(i).Waiting()) << i;
}

TEST(SlowClientTest, ARequestThatDoesNotArriveInTimeGets408AndIdleConnectionsClose) {
  ServeOptions options = Options();
  options.request_timeout_seconds = 0.4;
  options.keep_alive_timeout_seconds = 0.4;
  OwnServer own(options);
  // Still sending, a byte every 20 ms, but the whole request is not there in time.
  Dribbler slow(own.port, {"POST /api/fk HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 500\r\n\r\n" +
                           std::string(500, ' ')});
  const auto start = Clock::now();
  const Answer answer = slow.client(0).Read(5);
  const double seconds = SecondsSince(start);
  EXPECT_EQ(answer.status, 408);
  ExpectJsonError(answer, "408");
  EXPECT_GE(seconds, 0.35);
  EXPECT_LT(seconds, 2.0);
  std::string rest;
  EXPECT_TRUE(slow.client(0).ClosedWithin(3, &rest));

  // A connection that sends nothing is closed without an answer.
  RawClient idle(own.port);
  ASSERT_TRUE(idle.connected());
  EXPECT_TRUE(idle.ClosedWithin(3, &rest));
  EXPECT_EQ(rest, "");
  ExpectServing(own.port);
}

TEST(SlowClientTest, ConnectionsBeyondTheLimitAreRefusedWith503) {
  ServeOptions options = Options();
  options.max_connections = 4;
  OwnServer own(options);
  std::vector<std::unique_ptr<RawClient>> open;
  for (int i = 0; i < 4; ++i) {
    open.push_back(std::make_unique<RawClient>(own.port));
    ASSERT_TRUE(open.back()->Send("GET /api/arm HTTP/1.1\r\n"));  // an unfinished request
  }
  RawClient extra(own.port);
  const Answer refused = extra.Read(5);
  EXPECT_EQ(refused.status, 503);
  ExpectJsonError(refused, "503");
  // A slot frees when a client leaves.
  open.pop_back();
  const auto deadline = Clock::now() + std::chrono::seconds(5);
  int status = -1;
  while (status != 200 && Clock::now() < deadline) status = Exchange(own.port, Get("/api/arm")).status;
  EXPECT_EQ(status, 200);
}

}  // namespace
}  // namespace deepik
