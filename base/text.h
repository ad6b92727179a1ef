#pragma once
// Small text helpers shared by the layers above: trimming (HTTP client, freshness rules),
// quoting for a shell (commands in reports, git calls) and escaping for XML (JUnit, SVG).

#include <string>
#include <string_view>
#include <vector>

namespace peakbench {

/// `text` without leading and trailing spaces, tabs, CR and LF.
inline std::string_view trim_space(std::string_view text) {
  constexpr std::string_view kSpace = " \t\r\n";
  const std::size_t begin = text.find_first_not_of(kSpace);
  if (begin == std::string_view::npos) {
    return {};
  }
  const std::size_t end = text.find_last_not_of(kSpace);
  return text.substr(begin, end - begin + 1);
}

/// One word as a POSIX shell reads it back: unchanged when it holds only characters no shell
/// treats specially, else in single quotes ("it's" -> 'it'\''s').
std::string shell_quote(std::string_view word);
/// An argv as one shell command line, each word quoted as needed, separated by spaces.
std::string shell_quote(const std::vector<std::string>& argv);

/// `text` with & < > " ' as XML entities, for attribute values and character data.
std::string xml_escape(std::string_view text);

}  // namespace peakbench
