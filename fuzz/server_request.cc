// Raw bytes as an HTTP request to the real fixture server on loopback (fixtures/server): the
// request parser, routing, ranges (single, multi, suffix, overlapping), conditionals and HEAD.
// The server runs in this process, so a crash or a sanitizer report in it is the target's.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>

#include "fixtures/server.h"

namespace {

peakbench::FixtureServer& server() {
  static std::unique_ptr<peakbench::FixtureServer> instance = [] {
    peakbench::ServerOptions options;
    peakbench::WheelSpec spec;
    spec.size_bytes = 64 * 1024;
    options.wheels = {spec};
    options.limits.header_timeout = std::chrono::milliseconds(200);
    options.limits.keep_alive_timeout = std::chrono::milliseconds(50);
    auto started = peakbench::FixtureServer::start(options);
    if (!started) std::abort();
    return std::move(*started);
  }();
  return *instance;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::uint16_t port = server().port();
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    (void)!::send(fd, data, size, MSG_NOSIGNAL);
    ::shutdown(fd, SHUT_WR);  // the request ends here: the server answers what it got and closes
    char buffer[65536];
    pollfd p{fd, POLLIN, 0};
    while (::poll(&p, 1, 2000) > 0 && ::recv(fd, buffer, sizeof buffer, 0) > 0) {
    }
  }
  ::close(fd);
  return 0;
}
