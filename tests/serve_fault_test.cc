// `peakbench serve --fault` as a user runs it to reproduce a fault by hand, and the bind address
// it refuses.

#include <gtest/gtest.h>

#include "tests/run_peakbench.h"

namespace peakbench {
namespace {

using testing::expect_one_error_line;
using testing::peakbench_stderr;
using testing::quote;
using testing::ServeProcess;
using testing::TempDir;

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

TEST(ServeFault, BadFaultsAndAnEmptyBindAreOneLineAndExit2) {
  TempDir dir;
  const std::string cache = " --size 64KiB --hash-cache " + quote(dir / "hashes");
  expect_one_error_line(peakbench_stderr("serve --fault explode" + cache), "explode");
  expect_one_error_line(peakbench_stderr("serve --fault status=99" + cache), "status");
  expect_one_error_line(peakbench_stderr("serve --bind ''" + cache), "empty");
}

}  // namespace
}  // namespace peakbench
