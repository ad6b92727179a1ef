#include "harness/subject_probe.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>

#include "harness/proc_status.h"

namespace peakbench {
namespace {

std::uint64_t current_hwm_bytes() {
  std::optional<ProcMemory> mem = read_proc_memory(0);
  return mem ? std::max(mem->vm_hwm_bytes, mem->vm_rss_bytes) : 0;
}

Result<SubjectPhase> parse_phase(std::string_view label) {
  for (SubjectPhase p :
       {SubjectPhase::download, SubjectPhase::cache_write, SubjectPhase::cache_read}) {
    if (to_string(p) == label) {
      return p;
    }
  }
  return Status::Error("unknown phase '" + std::string(label) + "'");
}

}  // namespace

SubjectProbe::SubjectProbe(int report_fd)
    : fd_(report_fd), start_(std::chrono::steady_clock::now()) {
  // libstdc++'s steady_clock is CLOCK_MONOTONIC, shared by every process on the host.
  report_.origin_monotonic_s = std::chrono::duration<double>(start_.time_since_epoch()).count();
  // What the subject spawns must not inherit the pipe (nor publish into it); a descriptor that
  // is not open is no report fd at all.
  if (fd_ >= 0 && ::fcntl(fd_, F_SETFD, FD_CLOEXEC) != 0) {
    fd_ = -1;
  }
  std::optional<ProcMemory> mem = read_proc_memory(0);
  if (mem) {
    report_.start_rss_bytes = mem->vm_rss_bytes;
    report_.peak_rss_bytes = std::max(mem->vm_hwm_bytes, mem->vm_rss_bytes);
  }
  // jemalloc exports mallctl when it is linked or preloaded; glibc has no such symbol.
  mallctl_ = reinterpret_cast<Mallctl>(::dlsym(RTLD_DEFAULT, "mallctl"));
  report_.allocator = mallctl_ != nullptr ? "jemalloc" : "glibc";
}

SubjectProbe::~SubjectProbe() {
  if (fd_ >= 0) {
    ::close(fd_);
  }
}

double SubjectProbe::now_s() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void SubjectProbe::begin(SubjectPhase phase) {
  // Fold the mark so far into the overall peak before the reset wipes it.
  report_.peak_rss_bytes = std::max(report_.peak_rss_bytes, current_hwm_bytes());
  if (!reset_own_hwm()) {
    report_.hwm_reset_failed = true;
  }
  if (mallctl_ != nullptr) {
    // thread.peak (jemalloc 5.3) is this thread's allocated-minus-freed high-water mark since its
    // reset; what the thread had live at the reset (its cumulative thread.allocated minus
    // thread.deallocated) is added at the end, so the phase's heap peak is absolute.
    heap_live_at_reset_ = thread_live_heap_bytes();
    mallctl_("thread.peak.reset", nullptr, nullptr, nullptr, 0);
  }
  open_phase_ = phase;
  phase_start_s_ = now_s();
}

void SubjectProbe::end(SubjectPhase phase) {
  std::uint64_t hwm = current_hwm_bytes();
  double end_s = now_s();
  report_.peak_rss_bytes = std::max(report_.peak_rss_bytes, hwm);
  PhasePeak peak;
  peak.phase = std::string(to_string(phase));
  peak.peak_rss = Figure{hwm, Method::self_hwm};
  if (mallctl_ != nullptr) {
    std::uint64_t heap_peak = 0;
    std::size_t size = sizeof heap_peak;
    if (mallctl_("thread.peak.read", &heap_peak, &size, nullptr, 0) == 0) {
      peak.heap_peak = Figure{heap_live_at_reset_ + heap_peak, Method::jemalloc};
    }
  }
  // A phase ended without its begin() (not expected) starts where the previous one ended.
  peak.start_s = open_phase_ == phase ? phase_start_s_ : end_s;
  peak.end_s = end_s;
  report_.phases.push_back(std::move(peak));
  open_phase_.reset();
}

std::uint64_t SubjectProbe::thread_live_heap_bytes() const {
  std::uint64_t allocated = 0;
  std::uint64_t deallocated = 0;
  std::size_t size = sizeof allocated;
  if (mallctl_("thread.allocated", &allocated, &size, nullptr, 0) != 0) {
    return 0;
  }
  size = sizeof deallocated;
  if (mallctl_("thread.deallocated", &deallocated, &size, nullptr, 0) != 0) {
    return 0;
  }
  // Memory another thread allocated and this one freed can make the difference negative.
  return allocated > deallocated ? allocated - deallocated : 0;
}

SubjectReport SubjectProbe::snapshot() {
  report_.peak_rss_bytes = std::max(report_.peak_rss_bytes, current_hwm_bytes());
  return report_;
}

Status SubjectProbe::finish() {
  report_.peak_rss_bytes = std::max(report_.peak_rss_bytes, current_hwm_bytes());
  if (fd_ < 0) {
    return Status::Ok();
  }
  std::string text = to_json_text(report_);
  text.push_back('\n');
  const char* data = text.data();
  std::size_t left = text.size();
  Status status = Status::Ok();
  while (left > 0) {
    ssize_t n = ::write(fd_, data, left);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      status =
          Status::Error(std::string("cannot write the subject report: ") + std::strerror(errno));
      break;
    }
    data += n;
    left -= static_cast<std::size_t>(n);
  }
  ::close(fd_);
  fd_ = -1;
  return status;
}

std::optional<int> parse_report_fd(const char* value) {
  if (value == nullptr || *value == '\0') {
    return std::nullopt;
  }
  std::string_view text(value);
  int fd = -1;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), fd);
  if (ec != std::errc() || end != text.data() + text.size() || fd < 0) {
    return std::nullopt;
  }
  return fd;
}

std::string to_json_text(const SubjectReport& r) {
  nlohmann::ordered_json j;
  j["start_rss_bytes"] = r.start_rss_bytes;
  j["peak_rss_bytes"] = r.peak_rss_bytes;
  j["origin_monotonic_s"] = r.origin_monotonic_s;
  j["phases"] = nlohmann::ordered_json::array();
  for (const PhasePeak& p : r.phases) {
    nlohmann::ordered_json phase;
    phase["phase"] = p.phase;
    phase["peak_rss_bytes"] = p.peak_rss.bytes;
    if (p.heap_peak) {
      phase["heap_peak_bytes"] = p.heap_peak->bytes;
    }
    phase["start_s"] = p.start_s;
    phase["end_s"] = p.end_s;
    j["phases"].push_back(std::move(phase));
  }
  j["bytes_received"] = r.bytes_received;
  j["bytes_written"] = r.bytes_written;
  j["allocator"] = r.allocator;
  if (r.hwm_reset_failed) {
    j["hwm_reset_failed"] = true;
  }
  for (const auto& [k, v] : r.extra_text) {
    j["extra"][k] = v;
  }
  for (const auto& [k, v] : r.extra_numbers) {
    j["extra"][k] = v;
  }
  return j.dump();
}

namespace {

// Thrown by the checks below and caught in parse_subject_report.
struct BadSubjectField {
  std::string message;
};

/// A byte count: only a non-negative integer (a float or a negative number would be undefined
/// behaviour to convert, and a broken subject may send either).
std::uint64_t count_at(const nlohmann::json& j, const char* key) {
  const nlohmann::json& v = j.at(key);
  if (!v.is_number_unsigned()) throw BadSubjectField{fmt::format("{}: expected a count", key)};
  return v.get<std::uint64_t>();
}

/// Seconds since the subject's origin: a finite non-negative number.
double seconds_at(const nlohmann::json& j, const char* key) {
  const nlohmann::json& v = j.at(key);
  if (!v.is_number() || !(v.get<double>() >= 0)) {
    throw BadSubjectField{fmt::format("{}: expected seconds (>= 0)", key)};
  }
  return v.get<double>();
}

}  // namespace

Result<SubjectReport> parse_subject_report(std::string_view text) {
  try {
    nlohmann::json j = nlohmann::json::parse(text);
    SubjectReport r;
    if (!j.is_object()) throw BadSubjectField{"expected an object"};
    r.start_rss_bytes = count_at(j, "start_rss_bytes");
    r.peak_rss_bytes = count_at(j, "peak_rss_bytes");
    r.origin_monotonic_s =
        j.contains("origin_monotonic_s") ? seconds_at(j, "origin_monotonic_s") : 0.0;
    if (!j.at("phases").is_array()) throw BadSubjectField{"phases: expected an array"};
    for (const auto& p : j.at("phases")) {
      if (!p.is_object()) throw BadSubjectField{"phases: expected objects"};
      PhasePeak peak;
      peak.phase = p.at("phase").get<std::string>();
      Result<SubjectPhase> known = parse_phase(peak.phase);
      if (!known) {
        return Status::Error("subject report: " + known.message());
      }
      peak.peak_rss = Figure{count_at(p, "peak_rss_bytes"), Method::self_hwm};
      if (p.contains("heap_peak_bytes")) {
        peak.heap_peak = Figure{count_at(p, "heap_peak_bytes"), Method::jemalloc};
      }
      peak.start_s = seconds_at(p, "start_s");
      peak.end_s = seconds_at(p, "end_s");
      r.phases.push_back(std::move(peak));
    }
    r.bytes_received = count_at(j, "bytes_received");
    r.bytes_written = count_at(j, "bytes_written");
    r.allocator = j.at("allocator").get<std::string>();
    if (j.contains("hwm_reset_failed")) {
      if (!j.at("hwm_reset_failed").is_boolean()) {
        throw BadSubjectField{"hwm_reset_failed: expected true or false"};
      }
      r.hwm_reset_failed = j.at("hwm_reset_failed").get<bool>();
    }
    if (j.contains("extra")) {
      if (!j.at("extra").is_object()) throw BadSubjectField{"extra: expected an object"};
      for (const auto& [k, v] : j.at("extra").items()) {
        if (v.is_string()) {
          r.extra_text[k] = v.get<std::string>();
        } else if (v.is_number_integer() &&
                   (!v.is_number_unsigned() ||
                    v.get<std::uint64_t>() <=
                        static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))) {
          r.extra_numbers[k] = v.get<std::int64_t>();
        }
      }
    }
    return r;
  } catch (const BadSubjectField& e) {
    return Status::Error("subject report: " + e.message);
  } catch (const nlohmann::json::exception& e) {
    // nlohmann's messages are one line; the document itself may be long, so it is not quoted.
    return Status::Error(std::string("subject report: ") + e.what());
  }
}

void apply_subject_report(const SubjectReport& report, RunRecord& record) {
  record.subject_peak_rss = Figure{report.peak_rss_bytes, Method::self_hwm};
  record.subject_start_rss = Figure{report.start_rss_bytes, Method::self_hwm};
  record.phases = report.phases;
  record.bytes_received = report.bytes_received;
  record.bytes_written = report.bytes_written;
  if (auto it = report.extra_text.find("cache_outcome"); it != report.extra_text.end()) {
    record.cache_outcome = it->second;
  }
  if (auto it = report.extra_text.find("last_warning"); it != report.extra_text.end()) {
    record.notes.push_back(std::string(kSubjectWarningNote) + it->second);
  }
}

}  // namespace peakbench
