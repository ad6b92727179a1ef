#pragma once
// Helpers for tests that run real subjects through the launcher.

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "base/size.h"
#include "harness/launcher.h"

namespace peakbench::testing {

/// `peakbench calibrate ARGS...` as a spawn request.
inline SpawnRequest calibrate_request(std::vector<std::string> args) {
  SpawnRequest request;
  request.argv = {PEAKBENCH_EXE, "calibrate"};
  request.argv.insert(request.argv.end(), args.begin(), args.end());
  request.timeout_s = 120;  // a hung subject fails the test instead of hanging ctest
  return request;
}

/// The tolerance of DESIGN §6: max(256 KiB, 0.5% of the truth).
inline std::uint64_t calibration_tolerance_bytes(std::uint64_t truth_bytes) {
  return std::max<std::uint64_t>(256 * kKiB, truth_bytes / 200);
}

}  // namespace peakbench::testing
