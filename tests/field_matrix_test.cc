// The field matrix (issue 12): cache states past cold/warm/revalidate, the client's temp dir,
// tee-mmap, concurrent clients on one cache, bodies of 4 GiB and more. The real binary, the
// real embedded server on loopback, real child processes and the real pips where they exist.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>

#include "base/size.h"
#include "fixtures/server.h"
#include "fixtures/test_support.h"
#include "harness/run_options.h"
#include "harness/run_plan.h"
#include "reports/report.h"
#include "scenarios/cache_check.h"
#include "tests/fetch_support.h"
#include "tests/report_support.h"
#include "tests/run_peakbench.h"

namespace peakbench {
namespace {

namespace fs = std::filesystem;
using testing::CliResult;
using testing::find_run;
using testing::read_back;
using testing::run_peakbench;
using testing::TempDir;

using testing::pyenv_python;

bool has_note(const RunRecord& run, const std::string& part) {
  return std::any_of(run.notes.begin(), run.notes.end(),
                     [&](const std::string& n) { return n.find(part) != std::string::npos; });
}

std::string notes_of(const RunRecord& run) {
  std::string out;
  for (const std::string& n : run.notes) out += n + "\n";
  return out;
}

const std::vector<std::string> kNewPhases = {"stale", "no-store", "vary-miss", "resume", "chunked"};

TEST(FieldMatrix, BuiltinsMeetEveryNewCacheStateAsCacheControlDecides) {
  TempDir dir("field-builtins");
  const CliResult result =
      run_peakbench({"run", "--strategy", "whole-body,streaming,tee-mmap", "--size", "16MiB",
                     "--phase", "stale,no-store,vary-miss,resume,chunked", "--repeat", "1", "--out",
                     (dir / "report.json").string()});
  ASSERT_EQ(result.exit_status, 0) << result.err;
  const Report report = read_back(dir / "report.json");
  ASSERT_EQ(report.runs.size(), 15u);  // the fills are not in the report
  const std::map<std::string, std::string> outcome = {{"stale", "miss-stored"},
                                                      {"no-store", "miss-not-stored"},
                                                      {"vary-miss", "miss-stored"},
                                                      {"resume", "miss-stored"},
                                                      {"chunked", "miss-stored"}};
  for (const std::string subject : {"whole-body", "streaming", "tee-mmap"}) {
    for (const std::string& phase : kNewPhases) {
      const RunRecord* run = find_run(report, subject, phase);
      ASSERT_NE(run, nullptr) << subject << " " << phase;
      ASSERT_TRUE(run->ok) << subject << " " << phase << ": " << run->error;
      EXPECT_EQ(run->cache_outcome, outcome.at(phase)) << subject << " " << phase;
      EXPECT_FALSE(has_note(*run, "unexpected outcome")) << subject << " " << phase << "\n"
                                                         << notes_of(*run);
      const auto expected = expected_outcome(*parse_phase(phase), *parse_strategy(subject));
      ASSERT_TRUE(expected.has_value());
      EXPECT_EQ(run->file_requests, expected->file_requests) << subject << " " << phase;
      EXPECT_EQ(run->cache_bytes_on_disk >= 16 * kMiB, expected->body_cached)
          << subject << " " << phase;
    }
    // Resuming fetched the second half only; restarting fetched the first half twice.
    const RunRecord* resumed = find_run(report, subject, "resume");
    EXPECT_EQ(resumed->bytes_received, subject == "streaming" ? 16 * kMiB : 24 * kMiB) << subject;
  }
}

TEST(FieldMatrix, RealPipsMeetEveryNewCacheState) {
  const fs::path pip23 = pyenv_python("3.11.7");
  const fs::path pip24 = pyenv_python("3.13.0");
  if (pip23.empty() || pip24.empty()) GTEST_SKIP() << "the pyenv pythons are not installed";
  TempDir dir("field-pips");
  const CliResult result =
      run_peakbench({"run", "--strategy", "none", "--pip", "pip-23.2.1=" + pip23.string(), "--pip",
                     "pip-24.2=" + pip24.string(), "--size", "16MiB", "--phase",
                     "stale,no-store,vary-miss,resume,chunked", "--repeat", "1", "--out",
                     (dir / "report.json").string()});
  const Report report = read_back(dir / "report.json");
  for (const std::string subject : {"pip-23.2.1", "pip-24.2"}) {
    for (const std::string phase : {"stale", "no-store", "vary-miss", "chunked"}) {
      const RunRecord* run = find_run(report, subject, phase);
      ASSERT_NE(run, nullptr) << subject << " " << phase;
      ASSERT_TRUE(run->ok) << subject << " " << phase << ": " << run->error;
      EXPECT_EQ(run->file_requests, (std::map<int, std::uint64_t>{{200, 1}}))
          << subject << " " << phase;
      EXPECT_FALSE(has_note(*run, "unexpected outcome")) << subject << " " << phase << "\n"
                                                         << notes_of(*run);
    }
    // Neither pip resumes (that came in 25.1): the cut first response is a failed install, with
    // pip's own last line as the reason, and no Range request.
    const RunRecord* resume = find_run(report, subject, "resume");
    ASSERT_NE(resume, nullptr) << subject;
    EXPECT_EQ(resume->file_requests.count(206), 0u) << subject;
    EXPECT_GE(resume->file_requests.count(200), 1u) << subject;
    if (!resume->ok) {
      EXPECT_FALSE(resume->error.empty()) << subject;
    }
  }
  EXPECT_EQ(result.exit_status, 1) << "the pips' failed resume runs make the suite fail";
}

/// The run's sampled peak split, checked for where the body-sized part sits.
void expect_body_in(const RunRecord& run, const std::string& where, std::uint64_t body) {
  ASSERT_TRUE(run.ok) << run.subject << ": " << run.error;
  ASSERT_TRUE(run.sampled_peak_file && run.sampled_peak_shmem) << run.subject;
  const std::uint64_t file = run.sampled_peak_file->bytes;
  const std::uint64_t shmem = run.sampled_peak_shmem->bytes;
  if (where == "shmem") {
    EXPECT_GE(shmem, body * 8 / 10) << run.subject << ": file " << file << " shmem " << shmem;
    EXPECT_LT(file, body / 2) << run.subject << ": file " << file << " shmem " << shmem;
  } else {
    EXPECT_GE(file, body * 8 / 10) << run.subject << ": file " << file << " shmem " << shmem;
    EXPECT_LT(shmem, body / 5) << run.subject << ": file " << file << " shmem " << shmem;
  }
}

TEST(FieldMatrix, OnATmpfsTempDirTheColdMappingIsShmemForPip24AndTeeMmap) {
#ifdef PEAKBENCH_SANITIZE
  GTEST_SKIP() << "ASan's shadow memory is in every RSS figure";
#endif
  const fs::path pip24 = pyenv_python("3.13.0");
  std::vector<std::string> pips;
  if (!pip24.empty()) pips = {"--pip", "pip-24.2=" + pip24.string()};
  constexpr std::uint64_t kBody = 128 * kMiB;
  for (const std::string tmpdir : {"disk", "tmpfs"}) {
    TempDir dir("field-tmpdir");
    std::vector<std::string> args = {
        "run",     "--strategy",  "tee-mmap", "--size", "128MiB",
        "--phase", "cold",        "--repeat", "1",      "--tmpdir",
        tmpdir,    "--sample-ms", "1",        "--out",  (dir / "report.json").string()};
    args.insert(args.end(), pips.begin(), pips.end());
    const CliResult result = run_peakbench(args);
    ASSERT_EQ(result.exit_status, 0) << result.err;
    const Report report = read_back(dir / "report.json");
    EXPECT_TRUE(std::any_of(report.meta.notes.begin(), report.meta.notes.end(),
                            [&](const std::string& n) { return n.find(tmpdir) != n.npos; }));
    const std::string where = tmpdir == "tmpfs" ? "shmem" : "file";
    const RunRecord* tee = find_run(report, "tee-mmap", "cold");
    ASSERT_NE(tee, nullptr);
    EXPECT_TRUE(has_note(*tee, "TMPDIR ")) << notes_of(*tee);
    expect_body_in(*tee, where, kBody);
    ASSERT_TRUE(tee->subject_start_rss.has_value());
    EXPECT_GE(tee->peak_rss->bytes, tee->subject_start_rss->bytes + kBody * 99 / 100);
    if (const RunRecord* pip = find_run(report, "pip-24.2", "cold")) {
      expect_body_in(*pip, where, kBody);
    }
  }
  // Every private temp dir is gone, mounts included.
  std::ifstream mounts("/proc/self/mounts");
  const std::string text((std::istreambuf_iterator<char>(mounts)), {});
  EXPECT_EQ(text.find("peakbench"), std::string::npos);
}

TEST(FieldMatrix, FourConcurrentCopiesLeaveAConsistentCache) {
  const fs::path pip24 = pyenv_python("3.13.0");
  const fs::path pip23 = pyenv_python("3.11.7");
  std::vector<std::string> args = {"run",           "--strategy", "whole-body,streaming,tee-mmap",
                                   "--size",        "16MiB",      "--phase",
                                   "cold,warm",     "--repeat",   "1",
                                   "--concurrency", "4"};
  if (!pip23.empty()) args.insert(args.end(), {"--pip", "pip-23.2.1=" + pip23.string()});
  if (!pip24.empty()) args.insert(args.end(), {"--pip", "pip-24.2=" + pip24.string()});
  TempDir dir("field-concurrency");
  args.insert(args.end(), {"--out", (dir / "report.json").string()});
  const CliResult result = run_peakbench(args);
  ASSERT_EQ(result.exit_status, 0) << result.err;
  const Report report = read_back(dir / "report.json");
  for (const RunRecord& run : report.runs) {
    ASSERT_TRUE(run.ok) << run.subject << " " << run.phase << ": " << run.error;
    EXPECT_TRUE(has_note(run, "4 copies at once")) << notes_of(run);
    EXPECT_TRUE(has_note(run, "no temporary file")) << notes_of(run);
    // The copies' report pipe is off by design: no run says its subject published nothing.
    EXPECT_FALSE(has_note(run, "published no report")) << notes_of(run);
    // Four downloads cold (a copy that finds the entry another finished first reads it); none
    // warm.
    const auto full = run.file_requests.count(200) ? run.file_requests.at(200) : 0;
    if (run.phase == "cold") {
      EXPECT_GE(full, 1u) << run.subject;
      EXPECT_LE(full, 4u) << run.subject;
    } else {
      EXPECT_EQ(full, 0u) << run.subject;
    }
    ASSERT_TRUE(run.peak_rss && run.sampled_peak_rss) << run.subject;
    if (run.phase == "cold" && run.subject == "whole-body") {
      // The tree total holds more than one copy's 2×B when the copies overlap; the largest
      // process holds its own.
      EXPECT_GE(run.peak_rss->bytes, 32 * kMiB) << run.subject;
    }
  }
}

TEST(FieldMatrix, TheCacheCheckFindsHalfEntriesAndLeftovers) {
  const auto server = testing::start_server(2 * kMiB);
  ASSERT_TRUE(server);
  TempDir dir("field-check");
  for (Strategy s : {Strategy::whole_body, Strategy::tee_mmap}) {
    const auto run = testing::run_fetch(s, dir / "cache", server->file_url());
    ASSERT_EQ(run.child.exit_code, 0) << run.child.err;
  }
  CacheCheck check = check_cache_dir(dir / "cache");
  EXPECT_TRUE(check.ok()) << check.problems.front();
  EXPECT_EQ(check.entries, 2);
  EXPECT_EQ(check.body_bytes, 4 * kMiB);

  const auto files = testing::files_under(dir / "cache" / "http-v2");
  ASSERT_EQ(files.size(), 2u);
  const fs::path body = files[0].extension() == ".body" ? files[0] : files[1];
  fs::resize_file(body, kMiB);  // a truncated body
  { std::ofstream(body.parent_path() / "abc.tmp") << "half"; }
  check = check_cache_dir(dir / "cache");
  ASSERT_EQ(check.problems.size(), 2u);
  EXPECT_EQ(check.entries, 1);
}

TEST(FieldMatrix, BadInputToTheNewOptionsIsOneLineAndExitStatusTwo) {
  TempDir dir("field-bad");
  const auto suite = [&](const std::string& name, const std::string& body) {
    std::ofstream(dir / name) << body;
    return (dir / name).string();
  };
  const std::vector<std::vector<std::string>> cases = {
      {"run", "--tmpdir", "/no/such/dir"},
      {"run", "--tmpdir", ""},
      {"run", "--concurrency", "0"},
      {"run", "--concurrency", "many"},
      {"run", "--resume-cut", "1.5"},
      {"run", "--resume-cut", "half"},
      {"run", "--phase", "stale,tepid"},
      {"run", "--strategy", "tee-mmapp"},
      {"run", "--suite", suite("t.json", R"({"tmpdir": 3})")},
      {"run", "--suite", suite("t2.json", R"({"tmpdir": "ramdisk"})")},
      {"run", "--suite", suite("c.json", R"({"concurrency": "4"})")},
      {"run", "--suite", suite("c2.json", R"({"concurrency": 1000})")},
      {"run", "--suite", suite("r.json", R"({"resume_cut": 0})")},
      {"run", "--suite", suite("r2.json", R"({"resume_cut": "half"})")},
      {"fetch", "--strategy", "tee-mmapp", "--cache-dir", "/tmp/x", "http://127.0.0.1:1/f"},
  };
  for (const auto& args : cases) {
    const CliResult result = run_peakbench(args);
    EXPECT_EQ(result.exit_status, 2) << args.back() << ": " << result.err;
    EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << result.err;
  }
}

// Opt-in (PEAKBENCH_BIG=1): needs about 9 GiB of memory and 13 GiB of disk.
TEST(FieldMatrix, BigWholeBodyRefusesABodyOf4GiBAndTheOthersStoreIt) {
  if (std::getenv("PEAKBENCH_BIG") == nullptr) GTEST_SKIP() << "set PEAKBENCH_BIG=1 to run";
  TempDir dir("field-4g");
  const CliResult result = run_peakbench({"run", "--strategy", "whole-body,streaming,tee-mmap",
                                          "--size", "4097MiB", "--phase", "cold,warm", "--repeat",
                                          "1", "--out", (dir / "report.json").string()});
  ASSERT_EQ(result.exit_status, 0) << result.err;
  const Report report = read_back(dir / "report.json");
  const RunRecord* cold = find_run(report, "whole-body", "cold");
  const RunRecord* warm = find_run(report, "whole-body", "warm");
  ASSERT_TRUE(cold && warm);
  EXPECT_EQ(cold->cache_outcome, "miss-not-stored");
  EXPECT_TRUE(has_note(*cold, "not cached: body of 4 GiB or more (msgpack bin 32)"))
      << notes_of(*cold);
  EXPECT_EQ(warm->file_requests.at(200), 1u);
  for (const std::string s : {"streaming", "tee-mmap"}) {
    EXPECT_EQ(find_run(report, s, "cold")->cache_outcome, "miss-stored") << s;
    EXPECT_EQ(find_run(report, s, "warm")->cache_outcome, "hit") << s;
  }
}

}  // namespace
}  // namespace peakbench
