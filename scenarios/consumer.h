#pragma once
// The consumer of a fetched body: what pip does with the wheel it downloads. It hashes every
// byte (sha256) and writes them to the output file, or discards them.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "base/atomic_file.h"
#include "base/status.h"
#include "scenarios/phase_probe.h"

namespace peakbench {

class BodyConsumer {
 public:
  /// `out` empty: the body is hashed and discarded. Otherwise it goes to `out` under a temporary
  /// name, renamed by commit(). `expected_sha256_hex` empty: nothing to check.
  static Result<BodyConsumer> open(std::filesystem::path out, std::string expected_sha256_hex,
                                   PhaseProbe& probe);

  BodyConsumer(BodyConsumer&&) noexcept;
  BodyConsumer& operator=(BodyConsumer&&) noexcept;
  ~BodyConsumer();

  Status feed(std::span<const std::byte> bytes);
  /// Bytes fed since open() or the last restart().
  std::uint64_t bytes() const { return bytes_; }
  /// Ends the hash: the lowercase hex digest, or an error naming both digests when an expected
  /// one was given and differs. Call once per body.
  Result<std::string> finish_hash();
  /// Renames the output file into place (no-op when discarding).
  Status commit();
  /// Forgets what was fed (and the partial output) to take the body again from another source.
  Status restart();

 private:
  struct State;
  BodyConsumer(std::unique_ptr<State> state, PhaseProbe& probe);
  std::unique_ptr<State> state_;
  PhaseProbe* probe_;
  std::uint64_t bytes_ = 0;
};

/// Lowercase hex sha256 of a byte span (tests and small checks).
std::string sha256_hex(std::span<const std::byte> bytes);

}  // namespace peakbench
