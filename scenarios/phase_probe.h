#pragma once
// What a built-in subject tells the harness about itself while it runs (DESIGN §4): phase
// boundaries, so that per-phase peaks can be taken, and the bytes it moved.

#include <cstdint>
#include <string_view>

namespace peakbench {

enum class SubjectPhase {
  download,     ///< receiving the body from the network (streaming also writes its body file here)
  cache_write,  ///< serializing and writing a cache entry after the download
  cache_read,   ///< reading a cache entry and handing the body to the consumer
};

/// The phase as reports write it: "download", "cache-write", "cache-read".
std::string_view to_string(SubjectPhase phase);

class PhaseProbe {
 public:
  virtual ~PhaseProbe() = default;
  /// Phases do not nest; begin() of one ends none other.
  virtual void begin(SubjectPhase phase) = 0;
  virtual void end(SubjectPhase phase) = 0;
  virtual void add_bytes_received(std::uint64_t bytes) = 0;  ///< body bytes from the network
  virtual void add_bytes_written(std::uint64_t bytes) = 0;   ///< bytes written to cache or --out
};

/// A probe that records nothing (tests, and runs outside the harness).
class NullPhaseProbe final : public PhaseProbe {
 public:
  void begin(SubjectPhase) override {}
  void end(SubjectPhase) override {}
  void add_bytes_received(std::uint64_t) override {}
  void add_bytes_written(std::uint64_t) override {}
};

/// Begins a phase in its constructor and ends it in its destructor.
class PhaseScope {
 public:
  PhaseScope(PhaseProbe& probe, SubjectPhase phase) : probe_(probe), phase_(phase) {
    probe_.begin(phase_);
  }
  ~PhaseScope() { probe_.end(phase_); }
  PhaseScope(const PhaseScope&) = delete;
  PhaseScope& operator=(const PhaseScope&) = delete;

 private:
  PhaseProbe& probe_;
  SubjectPhase phase_;
};

}  // namespace peakbench
