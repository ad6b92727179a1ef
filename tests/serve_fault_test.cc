// `peakbench serve --fault` as a user runs it to reproduce a fault by hand, and the bind address
// it refuses.

#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>

#include "fixtures/test_support.h"

extern char** environ;

namespace peakbench {
namespace {

using testing::quote;
using testing::TempDir;

// Starts `peakbench serve ARGS`, returns its index URL line (empty if it never printed one).
class ServeProcess {
 public:
  explicit ServeProcess(std::vector<std::string> args) {
    int out[2];
    if (::pipe(out) != 0) return;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&actions, out[0]);
    posix_spawn_file_actions_addclose(&actions, out[1]);
    args.insert(args.begin(), {PEAKBENCH_EXE, "serve"});
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (posix_spawn(&pid_, PEAKBENCH_EXE, &actions, nullptr, argv.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
    ::close(out[1]);
    char c;
    while (::read(out[0], &c, 1) == 1 && c != '\n') url_ += c;
    ::close(out[0]);
  }
  ~ServeProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
  }
  const std::string& index_url() const { return url_; }

 private:
  pid_t pid_ = -1;
  std::string url_;
};

std::string file_url(const std::string& index_url) {
  const auto page = testing::http_get(index_url + "peakbench-payload/");
  const std::size_t href = page.body.find("href=\"");
  if (href == std::string::npos) return {};
  const std::size_t end = page.body.find('"', href + 6);
  const std::string path = page.body.substr(href + 6, end - href - 6);
  return index_url.substr(0, index_url.find("/simple/")) + path.substr(0, path.find('#'));
}

TEST(ServeFault, AStatusFaultAnswersFileRequestsWithIt) {
  TempDir dir;
  ServeProcess serve(
      {"--size", "1MiB", "--hash-cache", (dir / "hashes").string(), "--fault", "status=503"});
  ASSERT_FALSE(serve.index_url().empty());
  EXPECT_EQ(testing::http_get(serve.index_url()).status, 200);  // index pages are never faulted
  const std::string url = file_url(serve.index_url());
  ASSERT_FALSE(url.empty());
  EXPECT_EQ(testing::http_get(url).status, 503);
}

TEST(ServeFault, ACutFaultEndsTheBodyAfterTheGivenBytes) {
  TempDir dir;
  ServeProcess serve(
      {"--size", "1MiB", "--hash-cache", (dir / "hashes").string(), "--fault", "cut=64KiB"});
  ASSERT_FALSE(serve.index_url().empty());
  const auto r = testing::http_get(file_url(serve.index_url()));
  EXPECT_EQ(r.code, CURLE_PARTIAL_FILE) << r.error;
  EXPECT_EQ(r.body.size(), 64u * 1024);
}

void expect_one_error_line(const std::string& args, const std::string& names) {
  const auto r = testing::run(fmt::format("{} serve {} 2>&1 >/dev/null", PEAKBENCH_EXE, args));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_TRUE(r.output.starts_with("peakbench: error: ")) << r.output;
  EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
  EXPECT_NE(r.output.find(names), std::string::npos) << r.output;
}

TEST(ServeFault, BadFaultsAndAnEmptyBindAreOneLineAndExit2) {
  TempDir dir;
  const std::string cache = " --size 64KiB --hash-cache " + quote(dir / "hashes");
  expect_one_error_line("--fault explode" + cache, "explode");
  expect_one_error_line("--fault status=99" + cache, "status");
  expect_one_error_line("--bind ''" + cache, "empty");
}

}  // namespace
}  // namespace peakbench
