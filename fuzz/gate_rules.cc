// Gate rules files and --max-increase values (reports/gate).
#include <cstddef>
#include <cstdint>
#include <string>

#include "reports/gate.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  (void)peakbench::parse_gate_rules(text, "fuzz-gates.json");
  (void)peakbench::parse_increase(text);
  const std::size_t half = text.size() / 2;
  (void)peakbench::glob_match(std::string_view(text).substr(0, half),
                              std::string_view(text).substr(half));
  return 0;
}
