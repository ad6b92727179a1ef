#include "harness/subject_probe.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "base/size.h"

namespace peakbench {
namespace {

std::string read_all(int fd) {
  std::string out;
  char buf[4096];
  ssize_t n = 0;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) {
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

void* volatile g_keep = nullptr;

TEST(SubjectProbe, PublishesPhasePeaksBytesAndExtrasAsOneDocument) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  {
    SubjectProbe probe(fds[1]);
    {
      PhaseScope phase(probe, SubjectPhase::download);
      probe.add_bytes_received(1000);
    }
    {
      PhaseScope phase(probe, SubjectPhase::cache_write);
      probe.add_bytes_written(250);
    }
    probe.set_extra("cache_outcome", "miss_stored");
    probe.set_extra_number("http_status", 200);
    ASSERT_TRUE(probe.finish().ok());
  }
  std::string text = read_all(fds[0]);
  ::close(fds[0]);
  Result<SubjectReport> report = parse_subject_report(text);
  ASSERT_TRUE(report.ok()) << report.message() << ": " << text;
  ASSERT_EQ(report->phases.size(), 2u);
  EXPECT_EQ(report->phases[0].phase, "download");
  EXPECT_EQ(report->phases[1].phase, "cache-write");
  EXPECT_LE(report->phases[0].start_s, report->phases[0].end_s);
  EXPECT_LE(report->phases[0].end_s, report->phases[1].start_s);
  EXPECT_EQ(report->phases[0].peak_rss.method, Method::self_hwm);
  EXPECT_EQ(report->bytes_received, 1000u);
  EXPECT_EQ(report->bytes_written, 250u);
  EXPECT_EQ(report->extra_text.at("cache_outcome"), "miss_stored");
  EXPECT_EQ(report->extra_numbers.at("http_status"), 200);
  EXPECT_GT(report->start_rss_bytes, 0u);
  EXPECT_GE(report->peak_rss_bytes, report->phases[0].peak_rss.bytes);
  // This test binary runs on glibc malloc (jemalloc only arrives by preload).
  EXPECT_EQ(report->allocator, "glibc");
  EXPECT_FALSE(report->phases[0].heap_peak.has_value());
}

TEST(SubjectProbe, KeepsTheOverallPeakAcrossResets) {
#ifdef PEAKBENCH_SANITIZE
  GTEST_SKIP() << "ASan's shadow memory is in every RSS figure";
#endif
  SubjectProbe probe(-1);
  const std::size_t bytes = 32 * kMiB;
  {
    PhaseScope phase(probe, SubjectPhase::download);
    void* block = std::malloc(bytes);
    ASSERT_NE(block, nullptr);
    std::memset(block, 1, bytes);
    // The memory clobber makes the memset observable: without it -O2 drops a memset that a
    // free() follows, and RSS never rises.
    asm volatile("" : : "r"(block) : "memory");
    g_keep = block;
    std::free(block);  // glibc gives a block this large back at once: RSS falls again
  }
  {
    PhaseScope phase(probe, SubjectPhase::cache_read);  // resets the mark below the first peak
  }
  SubjectReport report = probe.snapshot();
  ASSERT_EQ(report.phases.size(), 2u);
  EXPECT_GE(report.phases[0].peak_rss.bytes,
            report.start_rss_bytes + bytes - std::uint64_t{512} * 1024);
  EXPECT_LT(report.phases[1].peak_rss.bytes, report.phases[0].peak_rss.bytes - bytes / 2);
  EXPECT_GE(report.peak_rss_bytes, report.phases[0].peak_rss.bytes);
}

TEST(SubjectProbe, FinishWithoutAReportFdPublishesNothing) {
  SubjectProbe probe(-1);
  EXPECT_TRUE(probe.finish().ok());
}

TEST(SubjectProbe, AClosedDescriptorIsNoReportFd) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  ::close(fds[0]);
  ::close(fds[1]);
  SubjectProbe probe(fds[1]);
  EXPECT_TRUE(probe.finish().ok());
}

TEST(SubjectProbe, MarksItsDescriptorCloseOnExec) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  SubjectProbe probe(fds[1]);
  EXPECT_NE(::fcntl(fds[1], F_GETFD) & FD_CLOEXEC, 0);
  ASSERT_TRUE(probe.finish().ok());
  ::close(fds[0]);
}

TEST(SubjectReport, ParsesIntoTheRunRecord) {
  Result<SubjectReport> report = parse_subject_report(R"({
    "start_rss_bytes": 4000000, "peak_rss_bytes": 90000000,
    "phases": [{"phase": "cache-read", "peak_rss_bytes": 80000000, "heap_peak_bytes": 70000000,
                "start_s": 0.5, "end_s": 1.5}],
    "bytes_received": 0, "bytes_written": 123, "allocator": "jemalloc",
    "extra": {"cache_outcome": "hit"}})");
  ASSERT_TRUE(report.ok()) << report.message();
  RunRecord record;
  apply_subject_report(*report, record);
  ASSERT_TRUE(record.subject_peak_rss.has_value());
  EXPECT_EQ(record.subject_peak_rss->bytes, 90000000u);
  EXPECT_EQ(record.subject_peak_rss->method, Method::self_hwm);
  EXPECT_EQ(record.subject_start_rss->bytes, 4000000u);
  ASSERT_EQ(record.phases.size(), 1u);
  EXPECT_EQ(record.phases[0].phase, "cache-read");
  ASSERT_TRUE(record.phases[0].heap_peak.has_value());
  EXPECT_EQ(record.phases[0].heap_peak->bytes, 70000000u);
  EXPECT_EQ(record.phases[0].heap_peak->method, Method::jemalloc);
  EXPECT_EQ(record.bytes_written, 123u);
  EXPECT_EQ(record.cache_outcome, "hit");
}

TEST(SubjectReport, RejectsWhatIsNotAReportWithOneLine) {
  for (const char* text : {"", "not json", "{}", R"({"start_rss_bytes": "x"})",
                           R"({"start_rss_bytes":1,"peak_rss_bytes":1,"phases":[{"phase":"nap",
                               "peak_rss_bytes":1,"start_s":0,"end_s":0}],"bytes_received":0,
                               "bytes_written":0,"allocator":"glibc"})"}) {
    Result<SubjectReport> report = parse_subject_report(text);
    ASSERT_FALSE(report.ok()) << text;
    EXPECT_EQ(report.message().find('\n'), std::string::npos) << report.message();
  }
}

TEST(SubjectReport, ACountThatIsNoNonNegativeIntegerIsRejected) {
  // A broken subject may send any number: a float or a negative count must not be converted.
  const std::string good_tail = R"("phases":[],"bytes_received":0,"bytes_written":0,
                                   "allocator":"glibc"})";
  for (const std::string peak : {"-1", "1.5", "1e300", "18446744073709551616", "true"}) {
    std::string text = R"({"start_rss_bytes":1,"peak_rss_bytes":)";
    text += peak;
    text += ",";
    text += good_tail;
    Result<SubjectReport> report = parse_subject_report(text);
    EXPECT_FALSE(report.ok()) << peak;
  }
  Result<SubjectReport> negative_time = parse_subject_report(
      R"({"start_rss_bytes":1,"peak_rss_bytes":1,"phases":[{"phase":"download",
          "peak_rss_bytes":1,"start_s":-1,"end_s":0}],"bytes_received":0,"bytes_written":0,
          "allocator":"glibc"})");
  EXPECT_FALSE(negative_time.ok());
  Result<SubjectReport> ok =
      parse_subject_report(R"({"start_rss_bytes":1,"peak_rss_bytes":2,)" + good_tail);
  EXPECT_TRUE(ok.ok()) << ok.message();
}

TEST(SubjectReport, ReportFdComesFromADecimalNumber) {
  EXPECT_EQ(parse_report_fd("3"), 3);
  EXPECT_EQ(parse_report_fd(nullptr), std::nullopt);
  EXPECT_EQ(parse_report_fd(""), std::nullopt);
  EXPECT_EQ(parse_report_fd("3x"), std::nullopt);
  EXPECT_EQ(parse_report_fd("-1"), std::nullopt);
}

}  // namespace
}  // namespace peakbench
