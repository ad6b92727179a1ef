#pragma once
// The PhaseProbe a built-in subject runs with inside the harness (DESIGN §4). At the start of each
// phase it resets the kernel's high-water mark (`echo 5 > /proc/self/clear_refs`) and, when
// jemalloc is loaded, its `thread.peak`; at the end it reads VmHWM and `thread.peak.read`: exact
// per-phase peaks. The heap peak is absolute: the main thread's live heap at the phase start
// (thread.allocated - thread.deallocated) plus thread.peak, so a phase that begins holding a body
// counts it. A reset also lowers what wait4() reports later, so the probe keeps the overall
// peak itself (max over the phases and the marks before them) and publishes everything as one JSON
// document on the report pipe (launcher.h: fd 3, PEAKBENCH_REPORT_FD).
//
// Wiring in a subject (the CLI layer reads the environment):
//   SubjectProbe probe(parse_report_fd(std::getenv(kReportFdEnv)).value_or(-1));
//   ... fetch(options, probe) ...;  probe.set_extra("cache_outcome", "hit");
//   Status published = probe.finish();
// and in the parent, from ChildResult::report_text:
//   Result<SubjectReport> r = parse_subject_report(child.report_text);
//   if (r) apply_subject_report(*r, record);

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "reports/report.h"
#include "scenarios/phase_probe.h"

namespace peakbench {

/// What a subject publishes about itself.
struct SubjectReport {
  std::uint64_t start_rss_bytes = 0;  ///< VmRSS when the probe was made
  /// CLOCK_MONOTONIC seconds when the probe was made; phase times count from here. The clock is
  /// the same in every process, so the parent can put phases on its own time axis.
  double origin_monotonic_s = 0;
  std::uint64_t peak_rss_bytes = 0;  ///< max of VmHWM over the whole run, across resets
  std::vector<PhasePeak> phases;     ///< in the order they ran (self_hwm; heap: jemalloc)
  std::uint64_t bytes_received = 0;
  std::uint64_t bytes_written = 0;
  std::string allocator;          ///< "jemalloc" when mallctl was found, else "glibc"
  bool hwm_reset_failed = false;  ///< clear_refs refused: phase peaks include what came before
  std::map<std::string, std::string> extra_text;  ///< free-form fields (e.g. cache_outcome)
  std::map<std::string, std::int64_t> extra_numbers;
};

class SubjectProbe final : public PhaseProbe {
 public:
  /// Takes the start marks now (make it first thing in the subject). `report_fd` < 0: finish()
  /// publishes nothing. The probe owns the descriptor.
  explicit SubjectProbe(int report_fd);
  ~SubjectProbe() override;
  SubjectProbe(const SubjectProbe&) = delete;
  SubjectProbe& operator=(const SubjectProbe&) = delete;

  void begin(SubjectPhase phase) override;
  void end(SubjectPhase phase) override;
  void add_bytes_received(std::uint64_t bytes) override { report_.bytes_received += bytes; }
  void add_bytes_written(std::uint64_t bytes) override { report_.bytes_written += bytes; }

  void set_extra(const std::string& key, std::string value) {
    report_.extra_text[key] = std::move(value);
  }
  void set_extra_number(const std::string& key, std::int64_t value) {
    report_.extra_numbers[key] = value;
  }

  /// The report so far, with the current mark folded into the overall peak.
  SubjectReport snapshot();
  /// Takes the final mark and writes the report as one JSON document on the report fd, then
  /// closes it. Ok without writing when there is no fd.
  Status finish();

 private:
  double now_s() const;
  /// jemalloc's live heap of this thread: thread.allocated - thread.deallocated (0 without).
  std::uint64_t thread_live_heap_bytes() const;
  int fd_;
  std::chrono::steady_clock::time_point start_;
  SubjectReport report_;
  std::optional<SubjectPhase> open_phase_;
  double phase_start_s_ = 0;
  using Mallctl = int (*)(const char*, void*, std::size_t*, void*, std::size_t);
  Mallctl mallctl_ = nullptr;
  std::uint64_t heap_live_at_reset_ = 0;
};

/// The report fd from PEAKBENCH_REPORT_FD's value; empty when unset, empty or not a descriptor.
std::optional<int> parse_report_fd(const char* value);

std::string to_json_text(const SubjectReport& report);
/// Parses what a subject published; a one-line error when it is not such a document.
Result<SubjectReport> parse_subject_report(std::string_view text);
/// Fills the subject's own figures into a run: subject_peak_rss, subject_start_rss (self_hwm),
/// phases, bytes received and written, and cache_outcome (extra "cache_outcome").
/// The note apply_subject_report adds for the subject's last warning, before its text.
inline constexpr const char* kSubjectWarningNote = "the subject warned: ";

void apply_subject_report(const SubjectReport& report, RunRecord& record);

}  // namespace peakbench
