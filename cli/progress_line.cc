#include "cli/progress_line.h"

#include <fmt/format.h>

#include <cmath>

#include "base/size.h"

namespace peakbench {
namespace {

std::string mib(std::uint64_t bytes) {
  return fmt::format("{:.1f}", static_cast<double>(bytes) / (1 << 20));
}

std::string clock_text(double seconds) {
  const auto s = static_cast<long long>(std::llround(std::max(seconds, 0.0)));
  if (s >= 3600) return fmt::format("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60);
  return fmt::format("{}:{:02}", s / 60, s % 60);
}

}  // namespace

std::string format_progress(const ProgressState& state, std::size_t width) {
  std::string line = fmt::format("[{}/{}] {}  {}/{} MiB", state.index, state.total, state.what,
                                 mib(state.received), mib(state.body_bytes));
  if (state.run_s > 0 && state.received > 0) {
    line += fmt::format("  {:.0f} MiB/s",
                        static_cast<double>(state.received) / (1 << 20) / state.run_s);
  }
  line += fmt::format("  {:.1f} s | {}", state.run_s, clock_text(state.suite_s));
  if (state.finished > 0) {
    const double per_run = state.suite_s / static_cast<double>(state.finished);
    const double left = per_run * static_cast<double>(state.total - state.finished) - state.run_s;
    line += ", ETA " + clock_text(left);
  } else {
    line += ", ETA ?";
  }
  if (width > 0 && line.size() > width) line.resize(width);
  return line;
}

ProgressLine::ProgressLine(const RunOptions& options, std::ostream& out, bool enabled,
                           std::size_t width, std::chrono::milliseconds tick)
    : options_(options), out_(out), enabled_(enabled), terminal_width_(width), tick_(tick) {
  if (enabled_) ticker_ = std::thread([this] { tick_loop(); });
}

ProgressLine::~ProgressLine() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (ticker_.joinable()) ticker_.join();
}

void ProgressLine::preparing() {
  if (!enabled_) return;
  std::lock_guard lock(mu_);
  out_ << "peakbench: preparing the wheels and the index\n" << std::flush;
}

void ProgressLine::serving(const std::function<std::uint64_t()>& body_bytes_sent) {
  std::lock_guard lock(mu_);
  bytes_sent_ = body_bytes_sent;
}

void ProgressLine::run_started(const PlannedRun& run, std::size_t index, std::size_t total) {
  if (!enabled_) return;
  std::lock_guard lock(mu_);
  const Clock::time_point now = Clock::now();
  if (!suite_started_) suite_start_ = now, suite_started_ = true;
  run_start_ = now;
  bytes_at_start_ = bytes_sent_ ? bytes_sent_() : 0;
  state_.index = index;
  state_.total = total;
  state_.what = run.describe(options_);
  state_.body_bytes =
      run.size_index < options_.sizes_bytes.size() ? options_.sizes_bytes[run.size_index] : 0;
  in_run_ = true;
  draw_locked();
}

void ProgressLine::run_finished(const RunRecord& record) {
  if (!enabled_) return;
  std::lock_guard lock(mu_);
  in_run_ = false;
  ++state_.finished;
  out_ << "\r\033[K" << fmt::format("[{}/{}] {} ... ", state_.index, state_.total, state_.what);
  if (record.ok && record.peak_rss) {
    out_ << fmt::format("{} MiB peak, {} MiB received, {:.2f} s\n", mib(record.peak_rss->bytes),
                        mib(record.bytes_received), record.wall_s);
  } else {
    out_ << "FAILED: " << record.error << '\n';
  }
  out_ << std::flush;
}

void ProgressLine::warning(std::string_view message) {
  std::lock_guard lock(mu_);
  if (enabled_ && in_run_) out_ << "\r\033[K";
  out_ << "peakbench: warning: " << message << '\n';
  if (enabled_ && in_run_) draw_locked();
  out_ << std::flush;
}

void ProgressLine::draw_locked() {
  const Clock::time_point now = Clock::now();
  const std::uint64_t sent = bytes_sent_ ? bytes_sent_() : 0;
  state_.received = sent - bytes_at_start_;
  state_.run_s = std::chrono::duration<double>(now - run_start_).count();
  state_.suite_s = std::chrono::duration<double>(now - suite_start_).count();
  out_ << "\r\033[K" << format_progress(state_, terminal_width_) << std::flush;
}

void ProgressLine::tick_loop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    wake_.wait_for(lock, tick_);
    if (!stopping_ && in_run_) draw_locked();
  }
}

}  // namespace peakbench
