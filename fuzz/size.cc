// Sizes as --size and suites spell them (base/size): never a crash, and a parsed size formats.
#include "base/size.h"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto parsed = peakbench::parse_size(text)) (void)peakbench::format_size(*parsed);
  (void)peakbench::parse_size_list(text);
  return 0;
}
