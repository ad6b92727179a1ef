// `peakbench fetch` against the embedded server: each cache state of DESIGN §3, for both
// strategies, with the server's request counts as the witness of what went over the wire.

#include <gtest/gtest.h>

#include <fstream>

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
using testing::inode_of;
using testing::run_fetch;

class FetchServerTest : public testing::FetchCacheTest {
 protected:
  void SetUp() override { start(16 * kMiB + 123, 7); }

  /// The files a complete entry consists of, and nothing else.
  std::vector<fs::path> complete_entry() const {
    if (strategy() == Strategy::whole_body) return {entry_file()};
    return {entry_file(), body_file()};
  }
  FetchRun fetch(const fs::path& out = {}) { return run_fetch(strategy(), cache_, url_, out); }
  using FetchCacheTest::file_requests;
  std::uint64_t file_requests() const { return server_->counts().file_requests(); }
  std::uint64_t wheel_bytes() const { return server_->wheel()->size_bytes(); }
};

TEST_P(FetchServerTest, ColdRunDownloadsOnceAndStoresACompleteEntry) {
  const fs::path out = dir_.path() / "wheel.whl";
  const FetchRun run = fetch(out);
  ASSERT_EQ(run.child.exit_code, 0) << run.child.err;
  EXPECT_EQ(run.stats["outcome"], "miss-stored");
  EXPECT_EQ(run.stats["bytes_received"], wheel_bytes());
  EXPECT_EQ(run.stats["sha256"], wheel_sha256());
  EXPECT_TRUE(run.warnings.empty()) << run.child.err;
  EXPECT_EQ(file_requests(), 1u);
  EXPECT_EQ(file_requests(200), 1u);
  EXPECT_EQ(files_under(cache_), complete_entry());
  EXPECT_EQ(testing::sha256_hex(testing::read_all(out)), wheel_sha256());
  if (strategy() == Strategy::streaming) {
    EXPECT_EQ(fs::file_size(body_file()), wheel_bytes());
    EXPECT_LT(fs::file_size(entry_file()), 4096u);
  } else {
    EXPECT_GT(fs::file_size(entry_file()), wheel_bytes());
  }
}

TEST_P(FetchServerTest, WarmRunMakesNoRequestAndHandsOnTheSameBytes) {
  ASSERT_EQ(fetch().child.exit_code, 0);
  server_->reset_counts();
  const fs::path out = dir_.path() / "again.whl";
  const FetchRun run = fetch(out);
  ASSERT_EQ(run.child.exit_code, 0) << run.child.err;
  EXPECT_EQ(run.stats["outcome"], "hit");
  EXPECT_EQ(run.stats["bytes_received"], 0);
  EXPECT_EQ(run.stats["body_bytes"], wheel_bytes());
  EXPECT_EQ(server_->counts().total(), 0u);
  EXPECT_EQ(testing::sha256_hex(testing::read_all(out)), wheel_sha256());
}

TEST_P(FetchServerTest, StaleEntryIsRevalidatedByOneConditionalRequest) {
  HeaderVariant stale;
  stale.file_cache_control = "max-age=0";
  server_->set_variant(stale);
  const FetchRun cold = fetch();
  ASSERT_EQ(cold.child.exit_code, 0) << cold.child.err;
  // max-age=0 with an ETag is stored, to be revalidated.
  EXPECT_EQ(cold.stats["outcome"], "miss-stored");
  ASSERT_EQ(files_under(cache_), complete_entry());
  const ino_t entry_before = inode_of(entry_file());
  const ino_t body_before = strategy() == Strategy::streaming ? inode_of(body_file()) : 0;

  server_->reset_counts();
  const fs::path out = dir_.path() / "revalidated.whl";
  const FetchRun warm = fetch(out);
  ASSERT_EQ(warm.child.exit_code, 0) << warm.child.err;
  EXPECT_EQ(warm.stats["outcome"], "revalidated");
  EXPECT_EQ(warm.stats["http_status"], 304);
  EXPECT_EQ(warm.stats["bytes_received"], 0);  // the body is not sent again
  EXPECT_EQ(file_requests(), 1u);
  EXPECT_EQ(file_requests(304), 1u);
  EXPECT_EQ(testing::sha256_hex(testing::read_all(out)), wheel_sha256());
  EXPECT_EQ(files_under(cache_), complete_entry());
  // The old design rewrites its whole entry; the new one only the metadata, never the body.
  EXPECT_NE(inode_of(entry_file()), entry_before);
  if (strategy() == Strategy::streaming) {
    EXPECT_EQ(inode_of(body_file()), body_before);
  }
  // The rewritten entry is still whole: the next run revalidates again and succeeds.
  EXPECT_EQ(fetch().stats["outcome"], "revalidated");
}

TEST_P(FetchServerTest, NoStoreResponseIsNotStored) {
  HeaderVariant no_store;
  no_store.file_cache_control = "no-store";
  server_->set_variant(no_store);
  const FetchRun run = fetch();
  ASSERT_EQ(run.child.exit_code, 0) << run.child.err;
  EXPECT_EQ(run.stats["outcome"], "miss-not-stored");
  EXPECT_EQ(run.stats["sha256"], wheel_sha256());
  EXPECT_TRUE(files_under(cache_).empty());
  EXPECT_EQ(fetch().stats["outcome"], "miss-not-stored");
  EXPECT_EQ(file_requests(200), 2u);
}

TEST_P(FetchServerTest, NoStoreResponseToARevalidationDeletesTheEntry) {
  HeaderVariant stale;
  stale.file_cache_control = "max-age=0";
  server_->set_variant(stale);
  ASSERT_EQ(fetch().child.exit_code, 0);
  ASSERT_EQ(files_under(cache_), complete_entry());
  // Now the server changes its mind and its ETag no longer matches: a 200 with no-store.
  HeaderVariant no_store;
  no_store.file_cache_control = "no-store";
  no_store.send_etag = false;
  server_->set_variant(no_store);
  const FetchRun run = fetch();
  ASSERT_EQ(run.child.exit_code, 0) << run.child.err;
  EXPECT_EQ(run.stats["outcome"], "miss-not-stored");
  EXPECT_TRUE(files_under(cache_).empty());
}

TEST_P(FetchServerTest, CutConnectionFailsStoresNothingAndTheNextRunSucceeds) {
  FaultPlan cut;
  // Every response is cut: streaming's five resumes (2 MiB each) and whole-body's five restarts
  // all end short of the 16 MiB body, so the download fails for good.
  cut.cut_after_bytes = 2 * kMiB;
  server_->set_faults(cut);
  const fs::path out = dir_.path() / "cut.whl";
  const FetchRun broken = fetch(out);
  EXPECT_EQ(broken.child.exit_code, 1) << broken.child.err;
  ASSERT_EQ(broken.errors.size(), 1u) << broken.child.err;
  EXPECT_TRUE(files_under(cache_).empty());  // no entry, no temporary file
  EXPECT_FALSE(fs::exists(out));

  server_->set_faults({});
  server_->reset_counts();
  const FetchRun again = fetch(out);
  ASSERT_EQ(again.child.exit_code, 0) << again.child.err;
  EXPECT_EQ(again.stats["outcome"], "miss-stored");
  EXPECT_EQ(file_requests(200), 1u);
  EXPECT_EQ(files_under(cache_), complete_entry());
  EXPECT_EQ(testing::sha256_hex(testing::read_all(out)), wheel_sha256());
}

TEST_P(FetchServerTest, ConnectionCutOnceIsTakenUpAndTheFinishedBodyStored) {
  FaultPlan cut;
  cut.cut_after_bytes = 5 * kMiB;
  cut.times = 1;
  server_->set_faults(cut);
  const fs::path out = dir_.path() / "resumed.whl";
  const FetchRun run = fetch(out);
  ASSERT_EQ(run.child.exit_code, 0) << run.child.err;
  EXPECT_EQ(run.stats["outcome"], "miss-stored");
  EXPECT_EQ(testing::sha256_hex(testing::read_all(out)), wheel_sha256());
  EXPECT_EQ(files_under(cache_), complete_entry());  // the download file is gone
  const std::uint64_t written = run.stats["cache_bytes_written"];
  if (strategy() == Strategy::streaming) {
    // pip 25.2: a Range request for the rest (a 206), then the finished download file is
    // streamed into a new entry: the body is written twice, once as it arrives, once copied.
    EXPECT_EQ(run.stats["resumed"], 1);
    EXPECT_EQ(file_requests(206), 1u);
    EXPECT_EQ(run.stats["bytes_received"], wheel_bytes());
    EXPECT_EQ(fs::file_size(body_file()), wheel_bytes());
    EXPECT_GE(written, 2 * wheel_bytes());
    EXPECT_LT(written, 2 * wheel_bytes() + 4096);
  } else {
    // Old pips start again from zero; only the second, whole response is stored.
    EXPECT_EQ(run.stats["restarted"], 1);
    EXPECT_EQ(file_requests(206), 0u);
    EXPECT_EQ(run.stats["bytes_received"], wheel_bytes() + 5 * kMiB);
    EXPECT_GT(written, wheel_bytes());
    EXPECT_LT(written, wheel_bytes() + 4096);
  }
  EXPECT_EQ(fetch().stats["outcome"], "hit");
}

TEST_P(FetchServerTest, BodyShorterThanItsContentLengthFailsAndStoresNothing) {
  FaultPlan wrong_length;
  wrong_length.content_length = wheel_bytes() + 4096;
  server_->set_faults(wrong_length);
  const FetchRun run = fetch();
  EXPECT_EQ(run.child.exit_code, 1) << run.child.err;
  EXPECT_EQ(run.errors.size(), 1u) << run.child.err;
  EXPECT_TRUE(files_under(cache_).empty());
}

TEST_P(FetchServerTest, WrongSha256FailsAndStoresNothing) {
  std::string wrong = url_;
  const std::size_t at = wrong.find("#sha256=") + 8;
  wrong[at] = wrong[at] == '0' ? '1' : '0';
  const fs::path out = dir_.path() / "bad.whl";
  const FetchRun run = run_fetch(strategy(), cache_, wrong, out);
  EXPECT_EQ(run.child.exit_code, 1) << run.child.err;
  ASSERT_EQ(run.errors.size(), 1u) << run.child.err;
  EXPECT_NE(run.errors[0].find("sha256"), std::string::npos) << run.errors[0];
  EXPECT_TRUE(files_under(cache_).empty());
  EXPECT_FALSE(fs::exists(out));
}

TEST_P(FetchServerTest, ServerErrorFailsTheRun) {
  FaultPlan unavailable;
  unavailable.status = 503;
  server_->set_faults(unavailable);
  const FetchRun run = fetch();
  EXPECT_EQ(run.child.exit_code, 1) << run.child.err;
  ASSERT_EQ(run.errors.size(), 1u) << run.child.err;
  EXPECT_NE(run.errors[0].find("503"), std::string::npos) << run.errors[0];
  EXPECT_TRUE(files_under(cache_).empty());
}

TEST_P(FetchServerTest, CorruptEntryIsAMissWithOneWarningAndIsReplaced) {
  ASSERT_EQ(fetch().child.exit_code, 0);
  // Cut the (metadata) entry in half: a truncated msgpack map.
  fs::resize_file(entry_file(), fs::file_size(entry_file()) / 2);
  server_->reset_counts();
  const FetchRun run = fetch();
  ASSERT_EQ(run.child.exit_code, 0) << run.child.err;
  EXPECT_EQ(run.warnings.size(), 1u) << run.child.err;
  EXPECT_EQ(run.stats["outcome"], "miss-stored");
  EXPECT_EQ(file_requests(200), 1u);
  // Garbage instead of an entry: also one warning, also a miss.
  ASSERT_TRUE(write_file_atomically(entry_file(), "cc=4,\xc1 not msgpack").ok());
  const FetchRun garbage = fetch();
  ASSERT_EQ(garbage.child.exit_code, 0) << garbage.child.err;
  EXPECT_EQ(garbage.warnings.size(), 1u) << garbage.child.err;
  EXPECT_EQ(garbage.stats["outcome"], "miss-stored");
  // And the replaced entry is a hit.
  server_->reset_counts();
  EXPECT_EQ(fetch().stats["outcome"], "hit");
  EXPECT_EQ(file_requests(), 0u);
}

TEST_P(FetchServerTest, VaryIsStoredAndAMatchingRequestHits) {
  HeaderVariant vary;
  vary.vary = "Accept-Encoding";
  server_->set_variant(vary);
  ASSERT_EQ(fetch().child.exit_code, 0);
  auto bytes = read_file(entry_file());
  ASSERT_TRUE(bytes.ok());
  auto entry = decode_entry(std::as_bytes(std::span(*bytes)));
  ASSERT_TRUE(entry.ok()) << entry.message();
  ASSERT_EQ(entry->response.vary.size(), 1u);
  EXPECT_EQ(entry->response.vary[0].first, "Accept-Encoding");
  EXPECT_EQ(entry->response.vary[0].second, "identity");  // what pip sends for downloads
  server_->reset_counts();
  EXPECT_EQ(fetch().stats["outcome"], "hit");
  EXPECT_EQ(file_requests(), 0u);
}

TEST_P(FetchServerTest, AnEntryThatVariedOnAnotherValueIsAMissWithoutWarning) {
  HeaderVariant vary;
  vary.vary = "X-Mirror";  // our request sends none: stored as nil
  server_->set_variant(vary);
  ASSERT_EQ(fetch().child.exit_code, 0);
  // Rewrite the stored vary value as if another client had sent `X-Mirror: eu`.
  auto bytes = read_file(entry_file());
  ASSERT_TRUE(bytes.ok());
  auto entry = decode_entry(std::as_bytes(std::span(*bytes)));
  ASSERT_TRUE(entry.ok());
  CachedResponse other = entry->response;
  other.vary = {{"X-Mirror", "eu"}};
  msgpack::sbuffer packed;
  ASSERT_TRUE(encode_entry(other, entry->body, packed).ok());
  ASSERT_TRUE(
      write_file_atomically(entry_file(), std::string_view(packed.data(), packed.size())).ok());
  server_->reset_counts();
  const FetchRun run = fetch();
  ASSERT_EQ(run.child.exit_code, 0) << run.child.err;
  EXPECT_EQ(run.stats["outcome"], "miss-stored");
  EXPECT_TRUE(run.warnings.empty()) << run.child.err;
  EXPECT_EQ(file_requests(200), 1u);
}

TEST_P(FetchServerTest, UnwritableCacheWarnsOnceAndTheDownloadStillSucceeds) {
  // The cache directory is a regular file: nothing can be read or written under it.
  ASSERT_TRUE(write_file_atomically(cache_, "not a directory").ok());
  const fs::path out = dir_.path() / "uncached.whl";
  const FetchRun run = fetch(out);
  ASSERT_EQ(run.child.exit_code, 0) << run.child.err;
  EXPECT_EQ(run.warnings.size(), 1u) << run.child.err;
  EXPECT_EQ(run.stats["outcome"], "miss-not-stored");
  EXPECT_EQ(testing::sha256_hex(testing::read_all(out)), wheel_sha256());
}

INSTANTIATE_TEST_SUITE_P(BothStrategies, FetchServerTest,
                         ::testing::Values(Strategy::whole_body, Strategy::streaming),
                         [](const ::testing::TestParamInfo<Strategy>& info) {
                           return info.param == Strategy::whole_body ? "WholeBody" : "Streaming";
                         });

using StreamingFetchTest = FetchServerTest;

TEST_P(StreamingFetchTest, HalfEntryIsAMissWithOneWarning) {
  ASSERT_EQ(fetch().child.exit_code, 0);
  for (const bool drop_body : {true, false}) {
    fs::remove(drop_body ? body_file() : entry_file());
    server_->reset_counts();
    const FetchRun run = fetch();
    ASSERT_EQ(run.child.exit_code, 0) << run.child.err;
    EXPECT_EQ(run.warnings.size(), 1u) << run.child.err;
    EXPECT_NE(run.warnings.at(0).find("half"), std::string::npos) << run.warnings.at(0);
    EXPECT_EQ(run.stats["outcome"], "miss-stored");
    EXPECT_EQ(file_requests(200), 1u);
    EXPECT_EQ(files_under(cache_), complete_entry());
  }
}

TEST_P(StreamingFetchTest, BodyFileOfTheWrongLengthIsAMissWithOneWarning) {
  ASSERT_EQ(fetch().child.exit_code, 0);
  fs::resize_file(body_file(), wheel_bytes() - 1);
  const FetchRun run = fetch();
  ASSERT_EQ(run.child.exit_code, 0) << run.child.err;
  EXPECT_EQ(run.warnings.size(), 1u) << run.child.err;
  EXPECT_EQ(run.stats["outcome"], "miss-stored");
  EXPECT_EQ(fs::file_size(body_file()), wheel_bytes());
}

TEST_P(StreamingFetchTest, BodyFileWithWrongBytesIsDroppedAndDownloadedAgain) {
  ASSERT_EQ(fetch().child.exit_code, 0);
  {
    std::fstream body(body_file(), std::ios::in | std::ios::out | std::ios::binary);
    body.seekp(1000);
    body.put('\x42');
    body.put('\x43');
  }
  const fs::path out = dir_.path() / "repaired.whl";
  const FetchRun run = fetch(out);
  ASSERT_EQ(run.child.exit_code, 0) << run.child.err;
  EXPECT_EQ(run.warnings.size(), 1u) << run.child.err;
  EXPECT_EQ(run.stats["outcome"], "miss-stored");
  EXPECT_EQ(testing::sha256_hex(testing::read_all(out)), wheel_sha256());
}

INSTANTIATE_TEST_SUITE_P(Streaming, StreamingFetchTest, ::testing::Values(Strategy::streaming),
                         [](const auto&) { return "Streaming"; });

TEST(FetchCommand, BadUsageIsExitTwoWithOneLine) {
  testing::TempDir dir;
  const std::vector<std::vector<std::string>> cases = {
      {PEAKBENCH_EXE, "fetch", "--strategy", "fastest", "--cache-dir", dir.path().string(),
       "http://127.0.0.1:1/x.whl"},
      {PEAKBENCH_EXE, "fetch", "--strategy", "streaming", "--cache-dir", dir.path().string(),
       "/files/x.whl"},
      {PEAKBENCH_EXE, "fetch", "--strategy", "streaming", "--cache-dir", dir.path().string(),
       "http://127.0.0.1:1/x.whl#sha256=abc"},
      {PEAKBENCH_EXE, "fetch", "--strategy", "streaming", "http://127.0.0.1:1/x.whl"},
  };
  for (const auto& argv : cases) {
    const testing::ChildRun run = testing::spawn_and_wait(argv);
    EXPECT_EQ(run.exit_code, 2) << argv.back() << ": " << run.err;
    EXPECT_EQ(testing::lines_of(run.err).size(), 1u) << run.err;
  }
}

TEST(FetchCommand, UnreachableServerIsExitOne) {
  testing::TempDir dir;
  // Port 1 on loopback: nothing listens there, the connection is refused at once.
  const FetchRun run = run_fetch(Strategy::streaming, dir.path(), "http://127.0.0.1:1/x.whl");
  EXPECT_EQ(run.child.exit_code, 1) << run.child.err;
  EXPECT_EQ(run.errors.size(), 1u) << run.child.err;
}

}  // namespace
}  // namespace peakbench
