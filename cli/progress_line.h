#pragma once
// The live progress line of `peakbench run` on a terminal (DESIGN §5): one line per run, redrawn
// in place while the run is in flight with the bytes the server has sent of the wheel, the rate,
// the elapsed time, and the suite's position and ETA; finished with the run's peak.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <ostream>
#include <string>
#include <thread>

#include "harness/runner.h"

namespace peakbench {

/// What one redraw shows; plain values so the text is tested without a terminal.
struct ProgressState {
  std::size_t index = 0;  ///< 1-based position of the run in the suite
  std::size_t total = 0;
  std::string what;              ///< the run, as PlannedRun::describe says it
  std::uint64_t received = 0;    ///< bytes of this run's body sent so far
  std::uint64_t body_bytes = 0;  ///< the wheel's size
  double run_s = 0;              ///< elapsed in this run
  double suite_s = 0;            ///< elapsed since the first run started
  std::size_t finished = 0;      ///< runs finished before this one
};

/// `[2/8] streaming cold 500 MiB #1  212.0/500.0 MiB  1210 MiB/s  0.4 s | 0:03, ETA 0:21`; the ETA
/// (remaining runs × the mean time of the finished ones) reads `ETA ?` until one has finished.
/// Cut to `width` columns when width > 0, so the carriage return redraws one terminal line.
std::string format_progress(const ProgressState& state, std::size_t width);

/// A RunObserver printing to `out`. Enabled: the live line (a ticker thread redraws it every
/// `tick` while a run is in flight, cut to `width` columns unless 0); disabled: nothing but
/// warnings.
class ProgressLine final : public RunObserver {
 public:
  ProgressLine(const RunOptions& options, std::ostream& out, bool enabled, std::size_t width,
               std::chrono::milliseconds tick = std::chrono::milliseconds(200));
  ~ProgressLine() override;  ///< stops the ticker
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;

  void preparing() override;
  void serving(const std::function<std::uint64_t()>& body_bytes_sent) override;
  void run_started(const PlannedRun& run, std::size_t index, std::size_t total) override;
  void run_finished(const RunRecord& record) override;
  void warning(std::string_view message) override;

 private:
  using Clock = std::chrono::steady_clock;
  void draw_locked();  // the live line, with mu_ held
  void tick_loop();

  const RunOptions& options_;
  std::ostream& out_;
  const bool enabled_;
  const std::size_t terminal_width_;
  const std::chrono::milliseconds tick_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  bool in_run_ = false;
  std::function<std::uint64_t()> bytes_sent_;
  std::uint64_t bytes_at_start_ = 0;
  Clock::time_point run_start_{};
  Clock::time_point suite_start_{};
  bool suite_started_ = false;
  ProgressState state_;
  std::thread ticker_;
};

}  // namespace peakbench
