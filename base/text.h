#pragma once
// Small text helpers shared by the HTTP client and the freshness rules.

#include <string_view>

namespace peakbench {

/// `text` without leading and trailing spaces, tabs, CR and LF.
inline std::string_view trim_space(std::string_view text) {
  constexpr std::string_view kSpace = " \t\r\n";
  const std::size_t begin = text.find_first_not_of(kSpace);
  if (begin == std::string_view::npos) return {};
  const std::size_t end = text.find_last_not_of(kSpace);
  return text.substr(begin, end - begin + 1);
}

}  // namespace peakbench
