// `peakbench fetch` against a hostile cache and a hostile network: entries that lie, links that
// lead out of the cache, files that are not files, responses cut inside their headers, servers
// that stall. Each case: the run's exit status and message, and that nothing a later run would
// trust is left behind.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "base/atomic_file.h"
#include "base/size.h"
#include "fixtures/server.h"
#include "fixtures/test_support.h"
#include "scenarios/cache_entry.h"
#include "scenarios/cache_store.h"
#include "tests/fetch_support.h"

namespace peakbench {
namespace {

namespace fs = std::filesystem;
using testing::FetchRun;
using testing::files_under;

/// Every fetch here runs under timeout(1): a hang fails the test (exit 124) instead of blocking
/// the suite.
testing::FetchExtras under_timeout(std::vector<std::string> args = {}) {
  testing::FetchExtras extras;
  extras.args = std::move(args);
  extras.timeout_s = 60;
  return extras;
}

class HostileCacheTest : public testing::FetchCacheTest {
 protected:
  void SetUp() override { start(16 * kMiB + 77, 11); }

  FetchRun fetch(const std::vector<std::string>& extra = {}) {
    return testing::run_fetch(strategy(), cache_, url_, under_timeout(extra));
  }
  /// The stored entry with `change` applied to its response and body, written back in place.
  void rewrite_entry(
      const std::function<void(CachedResponse&, std::span<const std::byte>&)>& change) {
    auto bytes = read_file(entry_file());
    ASSERT_TRUE(bytes.ok()) << bytes.message();
    auto entry = decode_entry(std::as_bytes(std::span(*bytes)));
    ASSERT_TRUE(entry.ok()) << entry.message();
    CachedResponse response = entry->response;
    std::span<const std::byte> body = entry->body;
    change(response, body);
    msgpack::sbuffer packed;
    ASSERT_TRUE(encode_entry(response, body, packed).ok());
    ASSERT_TRUE(
        write_file_atomically(entry_file(), std::string_view(packed.data(), packed.size())).ok());
  }

  /// After a repaired run: the next run is a hit that makes no request and hands on the wheel.
  void expect_healed() {
    server_->reset_counts();
    const FetchRun warm = fetch();
    ASSERT_EQ(warm.child.exit_code, 0) << warm.child.err;
    EXPECT_EQ(warm.stats["outcome"], "hit") << warm.child.err;
    EXPECT_TRUE(warm.warnings.empty()) << warm.child.err;
    EXPECT_EQ(warm.stats["sha256"], wheel_sha256());
    EXPECT_EQ(server_->counts().file_requests(), 0u);
  }

  /// A miss that warned once, downloaded the wheel and stored it again.
  void expect_one_warning_and_a_download(const FetchRun& run) {
    ASSERT_EQ(run.child.exit_code, 0) << run.child.err;
    EXPECT_EQ(run.warnings.size(), 1u) << run.child.err;
    EXPECT_EQ(run.stats["outcome"], "miss-stored") << run.child.err;
    EXPECT_EQ(run.stats["sha256"], wheel_sha256());
    EXPECT_EQ(file_requests(200), 1u);
  }
};

TEST_P(HostileCacheTest, BodyShorterThanItsStoredContentLengthIsAMissWithOneWarning) {
  // Without a #sha256= to check the body against, only the stored length can tell.
  url_ = url_.substr(0, url_.find('#'));
  ASSERT_EQ(fetch().child.exit_code, 0);
  if (strategy() == Strategy::whole_body) {
    rewrite_entry([](CachedResponse&, std::span<const std::byte>& body) {
      body = body.first(body.size() / 2);
    });
  } else {
    fs::resize_file(body_file(), fs::file_size(body_file()) / 2);
  }
  server_->reset_counts();
  expect_one_warning_and_a_download(fetch());
  expect_healed();
}

TEST_P(HostileCacheTest, FreshEntryWithAStoredErrorOrRedirectStatusIsNotServed) {
  for (const int status : {404, 301}) {
    SCOPED_TRACE(status);
    ASSERT_EQ(fetch().child.exit_code, 0);
    rewrite_entry([status](CachedResponse& response, std::span<const std::byte>&) {
      response.status = status;
      response.reason = status == 404 ? "Not Found" : "Moved Permanently";
    });
    server_->reset_counts();
    const FetchRun run = fetch();
    expect_one_warning_and_a_download(run);
    if (!run.warnings.empty()) {
      EXPECT_NE(run.warnings[0].find(std::to_string(status)), std::string::npos) << run.warnings[0];
    }
    expect_healed();
  }
}

TEST_P(HostileCacheTest, AnEntryLinkedOutsideTheCacheIsNeverRead) {
  ASSERT_EQ(fetch().child.exit_code, 0);
  // A complete, valid copy of the entry outside the cache, and the entry a link to it: before
  // the fix it was served from there.
  const fs::path outside = dir_.path() / "outside";
  fs::create_directories(outside);
  const fs::path target = outside / "entry";
  fs::copy_file(entry_file(), target);
  fs::remove(entry_file());
  fs::create_symlink(target, entry_file());
  server_->reset_counts();
  expect_one_warning_and_a_download(fetch());
  EXPECT_TRUE(fs::is_regular_file(fs::symlink_status(entry_file())));  // the link was replaced
  EXPECT_TRUE(fs::is_regular_file(target));                            // not its target
  expect_healed();
}

TEST_P(HostileCacheTest, ADirectoryLinkedOutsideTheCacheIsNeitherReadNorWritten) {
  ASSERT_EQ(fetch().child.exit_code, 0);
  // The first level of the store's tree moved outside, and a link left in its place.
  const fs::path level = store_dir() / key_hex_.substr(0, 1);
  const fs::path outside = dir_.path() / "outside-tree";
  fs::rename(level, outside);
  fs::create_symlink(outside, level);
  const std::vector<fs::path> outside_files = files_under(outside);
  server_->reset_counts();
  expect_one_warning_and_a_download(fetch());
  EXPECT_TRUE(fs::is_directory(fs::symlink_status(level)));
  EXPECT_EQ(files_under(outside), outside_files);  // nothing written through the link
  expect_healed();
}

TEST_P(HostileCacheTest, AFifoWhereACacheFileShouldBeIsAMissWithOneWarning) {
  ASSERT_EQ(fetch().child.exit_code, 0);
  // The file the run opens first: a FIFO with no writer blocked a blocking open forever.
  const fs::path victim = strategy() == Strategy::whole_body ? entry_file() : body_file();
  fs::remove(victim);
  ASSERT_EQ(::mkfifo(victim.c_str(), 0644), 0);
  server_->reset_counts();
  const FetchRun run = fetch();
  ASSERT_NE(run.child.exit_code, 124) << "fetch hung on a FIFO";
  expect_one_warning_and_a_download(run);
  EXPECT_TRUE(fs::is_regular_file(fs::symlink_status(victim)));
  expect_healed();
}

TEST_P(HostileCacheTest, ADirectoryInPlaceOfAnEntryIsReplacedOnce) {
  ASSERT_EQ(fetch().child.exit_code, 0);
  fs::remove(entry_file());
  fs::create_directories(entry_file() / "junk");
  server_->reset_counts();
  expect_one_warning_and_a_download(fetch());
  EXPECT_TRUE(fs::is_regular_file(fs::symlink_status(entry_file())));
  expect_healed();
}

TEST_P(HostileCacheTest, AStallingServerFailsTheRunAtTheStallTimeout) {
  FaultPlan stall;
  stall.stall_ms = 30000;
  server_->set_faults(stall);
  const FetchRun run = fetch({"--stall-timeout", "1"});
  EXPECT_EQ(run.child.exit_code, 1) << run.child.err;
  ASSERT_EQ(run.errors.size(), 1u) << run.child.err;
  EXPECT_NE(run.errors[0].find("too slow"), std::string::npos) << run.errors[0];
  EXPECT_TRUE(files_under(cache_).empty());
}

TEST_P(HostileCacheTest, ASlowServerFailsTheRunAtTheOverallTimeout) {
  FaultPlan stall;
  stall.stall_ms = 30000;
  server_->set_faults(stall);
  const FetchRun run = fetch({"--stall-timeout", "60", "--timeout", "1"});
  EXPECT_EQ(run.child.exit_code, 1) << run.child.err;
  ASSERT_EQ(run.errors.size(), 1u) << run.child.err;
  EXPECT_NE(run.errors[0].find("timed out"), std::string::npos) << run.errors[0];
  EXPECT_TRUE(files_under(cache_).empty());
}

TEST_P(HostileCacheTest, CommitsReachTheDiskBeforeAndAfterTheRename) {
  if (::access("/usr/bin/strace", X_OK) != 0) GTEST_SKIP() << "strace is not installed";
  const fs::path trace = dir_.path() / "trace";
  std::vector<std::string> argv = {
      "/usr/bin/strace", "-f", "-qq", "-e", "trace=fsync,rename", "-o", trace.string(),
      // LeakSanitizer cannot run under ptrace (the asan preset).
      "/usr/bin/env", "ASAN_OPTIONS=detect_leaks=0", PEAKBENCH_EXE, "fetch", "--strategy",
      std::string(to_string(strategy())), "--cache-dir", cache_.string(), url_};
  const testing::ChildRun run = testing::spawn_and_wait(argv);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  // Each stored file: fsync of the file, its rename, fsync of its directory.
  const std::vector<std::string> calls = testing::lines_of(testing::read_all(trace));
  std::vector<std::string> kinds;
  for (const std::string& line : calls) {
    if (line.find("fsync(") != std::string::npos) kinds.push_back("fsync");
    if (line.find("rename(") != std::string::npos) kinds.push_back("rename");
  }
  const std::size_t files = strategy() == Strategy::whole_body ? 1 : 2;
  std::vector<std::string> expected;
  for (std::size_t i = 0; i < files; ++i) {
    expected.insert(expected.end(), {"fsync", "rename", "fsync"});
  }
  EXPECT_EQ(kinds, expected) << testing::read_all(trace);
}

INSTANTIATE_TEST_SUITE_P(BothStrategies, HostileCacheTest,
                         ::testing::Values(Strategy::whole_body, Strategy::streaming),
                         [](const ::testing::TestParamInfo<Strategy>& info) {
                           return info.param == Strategy::whole_body ? "WholeBody" : "Streaming";
                         });

/// A one-connection-at-a-time HTTP server on loopback that answers every request with the same
/// raw bytes and closes: for responses no real server library would send.
class RawServer {
 public:
  explicit RawServer(std::string response) : response_(std::move(response)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 || ::listen(fd_, 8) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      return;
    }
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { loop(); });
  }
  ~RawServer() {
    stopping_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    if (thread_.joinable()) thread_.join();
    ::close(fd_);
  }
  std::string url(const std::string& path) const {
    return fmt::format("http://127.0.0.1:{}{}", port_, path);
  }
  int connections() const { return connections_; }

 private:
  void loop() {
    while (!stopping_) {
      const int client = ::accept(fd_, nullptr, nullptr);
      if (client < 0) return;
      ++connections_;
      std::string request;
      char buffer[4096];
      while (request.find("\r\n\r\n") == std::string::npos) {
        const ssize_t n = ::recv(client, buffer, sizeof buffer, 0);
        if (n <= 0) break;
        request.append(buffer, static_cast<std::size_t>(n));
      }
      (void)!::send(client, response_.data(), response_.size(), MSG_NOSIGNAL);
      ::shutdown(client, SHUT_RDWR);
      ::close(client);
    }
  }

  std::string response_;
  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> connections_{0};
};

TEST(HostileNetwork, AConnectionClosedInsideTheHeadersIsAFailureAndStoresNothing) {
  // Everything a cacheable 200 needs but the blank line that ends the header block.
  RawServer server(
      "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nETag: \"abc\"\r\n"
      "Cache-Control: max-age=365000000, immutable, public\r\n"
      "Last-Modified: Wed, 01 Jun 2022 00:00:00 GMT\r\n");
  for (const Strategy strategy : {Strategy::whole_body, Strategy::streaming}) {
    SCOPED_TRACE(to_string(strategy));
    testing::TempDir dir;
    const FetchRun run =
        testing::run_fetch(strategy, dir / "cache", server.url("/files/x.whl"), under_timeout());
    EXPECT_EQ(run.child.exit_code, 1) << run.child.err;
    ASSERT_EQ(run.errors.size(), 1u) << run.child.err;
    EXPECT_NE(run.errors[0].find("inside the response headers"), std::string::npos)
        << run.errors[0];
    EXPECT_TRUE(files_under(dir / "cache").empty());
  }
}

TEST(HostileNetwork, AnEmptyBodyWithItsBlankLineIsStillAResponse) {
  // The same headers, complete: a real (if useless) empty 200, not a cut.
  RawServer server(
      "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 0\r\n"
      "Cache-Control: no-store\r\n\r\n");
  testing::TempDir dir;
  const FetchRun run = testing::run_fetch(Strategy::streaming, dir / "cache",
                                          server.url("/files/x.whl"), under_timeout());
  ASSERT_EQ(run.child.exit_code, 0) << run.child.err;
  EXPECT_EQ(run.stats["body_bytes"], 0);
}

}  // namespace
}  // namespace peakbench
