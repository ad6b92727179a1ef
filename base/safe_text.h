#pragma once
// Text from outside (argv, suite files, reports, paths) checked before it reaches a place that
// needs it well-formed: a JSON report (UTF-8 only), a one-line error message, an XML file.

#include <cstdint>
#include <string>
#include <string_view>

namespace peakbench {

/// The length of the well-formed UTF-8 sequence at the start of `text` (1-4), or 0 when it is not
/// one (a stray continuation byte, an overlong form, a surrogate, past U+10FFFF, cut short).
inline std::size_t utf8_sequence_length(std::string_view text) {
  if (text.empty()) return 0;
  const auto b0 = static_cast<unsigned char>(text[0]);
  if (b0 < 0x80) return 1;
  std::size_t n = 0;
  std::uint32_t cp = 0;
  if (b0 >= 0xc2 && b0 <= 0xdf) {
    n = 2, cp = b0 & 0x1fu;
  } else if (b0 >= 0xe0 && b0 <= 0xef) {
    n = 3, cp = b0 & 0x0fu;
  } else if (b0 >= 0xf0 && b0 <= 0xf4) {
    n = 4, cp = b0 & 0x07u;
  } else {
    return 0;
  }
  if (text.size() < n) return 0;
  for (std::size_t i = 1; i < n; ++i) {
    const auto b = static_cast<unsigned char>(text[i]);
    if ((b & 0xc0u) != 0x80u) return 0;
    cp = (cp << 6) | (b & 0x3fu);
  }
  if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
      (cp >= 0xd800 && cp <= 0xdfff)) {
    return 0;
  }
  return n;
}

/// True when `text` is well-formed UTF-8 (what a JSON document may hold).
inline bool is_valid_utf8(std::string_view text) {
  while (!text.empty()) {
    const std::size_t n = utf8_sequence_length(text);
    if (n == 0) return false;
    text.remove_prefix(n);
  }
  return true;
}

/// True when `text` holds a C0 control character or DEL (a newline, a CR, an escape...).
inline bool has_control_char(std::string_view text) {
  for (char c : text) {
    const auto b = static_cast<unsigned char>(c);
    if (b < 0x20 || b == 0x7f) return true;
  }
  return false;
}

/// `text` fit for one line of a message: control characters and bytes that are not UTF-8 are
/// written as escapes (\n, \r, \t, \xNN); well-formed UTF-8 is kept.
inline std::string printable(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(text.size());
  while (!text.empty()) {
    const std::size_t n = utf8_sequence_length(text);
    const auto b = static_cast<unsigned char>(text[0]);
    if (n == 1 && b >= 0x20 && b != 0x7f && b != '\\') {
      out += text[0];
    } else if (n > 1) {
      out.append(text.substr(0, n));
    } else if (b == '\\') {
      out += "\\\\";
    } else if (b == '\n') {
      out += "\\n";
    } else if (b == '\r') {
      out += "\\r";
    } else if (b == '\t') {
      out += "\\t";
    } else {
      out += "\\x";
      out += kHex[b >> 4];
      out += kHex[b & 0xfu];
    }
    text.remove_prefix(n == 0 ? 1 : n);
  }
  return out;
}

/// `text` with every byte that is not well-formed UTF-8, and every control character but tab, LF
/// and CR, replaced by U+FFFD: what XML 1.0 accepts (it has no escape for those characters).
inline std::string xml_safe(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  while (!text.empty()) {
    const std::size_t n = utf8_sequence_length(text);
    const auto b = static_cast<unsigned char>(text[0]);
    const bool bad_control = n == 1 && b < 0x20 && b != '\t' && b != '\n' && b != '\r';
    // U+FFFE and U+FFFF are not XML characters either (EF BF BE, EF BF BF).
    const bool non_char = n == 3 && text.substr(0, 2) == "\xef\xbf" &&
                          (static_cast<unsigned char>(text[2]) == 0xbe ||
                           static_cast<unsigned char>(text[2]) == 0xbf);
    if (n == 0 || bad_control || non_char) {
      out += "\xef\xbf\xbd";
    } else {
      out.append(text.substr(0, n));
    }
    text.remove_prefix(n == 0 ? 1 : n);
  }
  return out;
}

}  // namespace peakbench
