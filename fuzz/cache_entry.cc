// Cache entries as a cache on disk may hold them (scenarios/cache_entry), and everything fetch()
// does with a decoded one: freshness, vary, a 304's refresh, and writing it back.
#include "scenarios/cache_entry.h"

#include <cstddef>
#include <cstdint>
#include <span>

#include "scenarios/freshness.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace peakbench;
  auto decoded = decode_entry(std::as_bytes(std::span(data, size)));
  if (!decoded) return 0;
  const CachedResponse& stored = decoded->response;
  for (const std::int64_t now : {std::int64_t{0}, std::int64_t{1700000000}, INT64_MAX}) {
    (void)evaluate_freshness(stored, now);
  }
  HeaderList request;
  request.add("Accept-Encoding", "identity");
  (void)vary_matches(stored, request);
  (void)decide_store(stored.status, stored.headers, request);
  (void)vary_values(stored.headers, request);
  CachedResponse refreshed = refreshed_by_304(stored, stored.headers);
  msgpack::sbuffer packed;
  (void)encode_entry(refreshed, decoded->body, packed);
  if (const std::string* cc = stored.headers.find("cache-control")) (void)parse_cache_control(*cc);
  if (const std::string* date = stored.headers.find("date")) (void)parse_http_date(*date);
  return 0;
}
