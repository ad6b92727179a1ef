#include "harness/shard.h"

#include <fmt/format.h>

#include <charconv>

namespace peakbench {

Result<Shard> parse_shard(std::string_view text) {
  const auto bad = [&] {
    return Status::Error(
        fmt::format("bad shard '{}': expected I/N with 1 <= I <= N, such as 2/4", text));
  };
  const auto slash = text.find('/');
  if (slash == std::string_view::npos) {
    return bad();
  }
  Shard shard;
  const std::string_view first = text.substr(0, slash), second = text.substr(slash + 1);
  const auto [end1, ec1] = std::from_chars(first.data(), first.data() + first.size(), shard.index);
  const auto [end2, ec2] =
      std::from_chars(second.data(), second.data() + second.size(), shard.count);
  if (first.empty() || second.empty() || ec1 != std::errc() || ec2 != std::errc() ||
      end1 != first.data() + first.size() || end2 != second.data() + second.size()) {
    return bad();
  }
  if (shard.count < 1 || shard.index < 1 || shard.index > shard.count) {
    return bad();
  }
  return shard;
}

}  // namespace peakbench
