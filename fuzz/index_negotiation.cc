// Accept headers as a client sends them to the index (fixtures/server: PEP 691 negotiation by
// quality value): never a crash, and the same header always picks the same representation.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "fixtures/server.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view accept(reinterpret_cast<const char*>(data), size);
  const auto first = peakbench::negotiate_index_format(accept);
  if (first != peakbench::negotiate_index_format(accept)) std::abort();
  if (first) (void)peakbench::content_type(*first);
  return 0;
}
