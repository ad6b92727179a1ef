// Fetch URLs: parse_fetch_url (the #sha256= fragment) and CacheControl's cache key.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "scenarios/cache_entry.h"
#include "scenarios/strategy.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto url = peakbench::parse_fetch_url(text)) {
    (void)peakbench::entry_path("/cache/http", url->key_hex);
  }
  (void)peakbench::cache_url(text);
  (void)peakbench::latin1_to_utf8(text);
  return 0;
}
