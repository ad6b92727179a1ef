#include "base/size.h"

#include <fmt/format.h>

#include <array>
#include <charconv>
#include <limits>
#include <utility>

namespace peakbench {
namespace {

struct Unit {
  std::string_view suffix;
  std::uint64_t multiplier;
};

constexpr std::uint64_t kKi = 1024;
constexpr std::array<Unit, 15> kUnits{{
    {"", 1},
    {"B", 1},
    {"K", kKi},
    {"KiB", kKi},
    {"M", kKi* kKi},
    {"MiB", kKi* kKi},
    {"G", kKi* kKi* kKi},
    {"GiB", kKi* kKi* kKi},
    {"TiB", kKi* kKi* kKi* kKi},
    {"kB", 1000},
    {"KB", 1000},
    {"MB", 1000ULL * 1000},
    {"GB", 1000ULL * 1000 * 1000},
    {"TB", 1000ULL * 1000 * 1000 * 1000},
    {"T", kKi* kKi* kKi* kKi},
}};

}  // namespace

Result<std::uint64_t> parse_size(std::string_view text) {
  const std::string_view original = text;
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  std::uint64_t number = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (end == text.data()) {
    return Status::Error(fmt::format("bad size '{}': expected a number such as 500MiB", original));
  }
  if (ec == std::errc::result_out_of_range) {
    return Status::Error(fmt::format("bad size '{}': too large", original));
  }
  const std::string_view suffix(end, static_cast<std::size_t>(text.data() + text.size() - end));
  for (const Unit& unit : kUnits) {
    if (suffix != unit.suffix) continue;
    if (number > std::numeric_limits<std::uint64_t>::max() / unit.multiplier) {
      return Status::Error(fmt::format("bad size '{}': too large", original));
    }
    return number * unit.multiplier;
  }
  return Status::Error(fmt::format(
      "bad size '{}': unknown unit '{}' (use B, KiB, MiB, GiB, kB, MB or GB)", original, suffix));
}

Result<std::vector<std::uint64_t>> parse_size_list(std::string_view text) {
  std::vector<std::uint64_t> sizes;
  while (true) {
    const auto comma = text.find(',');
    auto size = parse_size(text.substr(0, comma));
    if (!size) return size.status();
    sizes.push_back(*size);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return sizes;
}

std::string format_size(std::uint64_t bytes) {
  static constexpr std::array<std::pair<std::uint64_t, const char*>, 4> kBinary{
      {{kKi * kKi * kKi * kKi, "TiB"}, {kKi * kKi * kKi, "GiB"}, {kKi * kKi, "MiB"}, {kKi, "KiB"}}};
  for (const auto& [multiplier, name] : kBinary) {
    if (bytes != 0 && bytes % multiplier == 0) return fmt::format("{}{}", bytes / multiplier, name);
  }
  return fmt::format("{}B", bytes);
}

}  // namespace peakbench
