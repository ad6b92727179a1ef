#pragma once
// CacheControl's decisions, as pure functions of headers and a clock value: is a stored response
// fresh, may a new one be stored, does a stored one match this request's Vary headers.
// Heuristic freshness (Last-Modified based) is off, as in pip.

#include <cstdint>
#include <optional>
#include <string_view>

#include "scenarios/cache_entry.h"

namespace peakbench {

/// The Cache-Control directives the decisions use.
struct CacheDirectives {
  std::optional<std::int64_t> max_age_seconds;
  bool no_store = false;
  bool no_cache = false;
};

/// Parses a Cache-Control value as CacheControl does: comma-separated, unknown directives and
/// malformed values ignored, names compared exactly (they are lowercase on the wire).
CacheDirectives parse_cache_control(std::string_view value);

/// Seconds since the epoch of an HTTP date (RFC 1123, RFC 850 or asctime), or nullopt.
std::optional<std::int64_t> parse_http_date(std::string_view text);

/// What to do with a stored response before asking the network (`CacheController.cached_request`).
enum class Freshness {
  fresh,       ///< serve it, no request
  revalidate,  ///< keep it; ask with If-None-Match (it has an ETag)
  purge,       ///< delete it (stale, or no Date, and no ETag), then fetch
};

/// Decides from the stored headers and `now_unix_seconds`: permanent redirects are fresh; without a
/// Date the entry is unusable; lifetime is max-age, else Expires - Date; fresh when the lifetime
/// exceeds the age; a stale or unusable entry is revalidated when it has an ETag, else purged.
Freshness evaluate_freshness(const CachedResponse& stored, std::int64_t now_unix_seconds);

/// Whether a complete response may be stored (`CacheController.cache_response`), judged from its
/// status and headers and the request's Cache-Control. Length checks are the caller's.
enum class StoreDecision {
  store,
  skip,            ///< not cacheable (status, Vary: *, no ETag and no lifetime)
  skip_and_purge,  ///< no-store: also delete what is stored
};
StoreDecision decide_store(int status, const HeaderList& response_headers,
                           const HeaderList& request_headers);

/// The "vary" map for a response: each field named by its Vary header with the request's value,
/// or nil when the request did not send it.
std::vector<std::pair<std::string, std::optional<std::string>>> vary_values(
    const HeaderList& response_headers, const HeaderList& request_headers);

/// True when every stored Vary value equals the request's (nil: the request must not send it),
/// and the stored map has no "*".
bool vary_matches(const CachedResponse& stored, const HeaderList& request_headers);

/// The headers of a stored response after a 304: the 304's fields replace or join the stored
/// ones, except Content-Length; the status becomes 200 (`update_cached_response`).
CachedResponse refreshed_by_304(CachedResponse stored, const HeaderList& not_modified_headers);

}  // namespace peakbench
