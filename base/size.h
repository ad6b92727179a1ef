#pragma once
// Byte sizes as the CLI contract writes them (DESIGN §5): 1048576, 64KiB, 500MiB, 1GiB, 500MB.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace peakbench {

/// Binary units, for code and tests that write sizes: `128 * kMiB`.
inline constexpr std::uint64_t kKiB = std::uint64_t{1} << 10;
inline constexpr std::uint64_t kMiB = std::uint64_t{1} << 20;
inline constexpr std::uint64_t kGiB = std::uint64_t{1} << 30;

/// Parses a size: digits with an optional unit, B, KiB/MiB/GiB/TiB (binary, also K/M/G/T) or
/// kB/KB/MB/GB/TB (SI). Rejects empty, negative, fractional, unknown-unit and overflowing input.
Result<std::uint64_t> parse_size(std::string_view text);

/// Parses a comma-separated list of sizes ("500MiB,1GiB").
Result<std::vector<std::uint64_t>> parse_size_list(std::string_view text);

/// The shortest exact spelling: 524288000 -> "500MiB", 1000 -> "1000B".
std::string format_size(std::uint64_t bytes);

}  // namespace peakbench
