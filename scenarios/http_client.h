#pragma once
// One HTTP GET over libcurl's easy API, streaming the body to a handler as libcurl delivers it.
// Redirects are not followed (the subject fetches a file URL it was given).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "base/status.h"
#include "scenarios/cache_entry.h"

namespace peakbench {

/// libcurl's receive buffer: large enough that loopback transfers run at full speed.
inline constexpr long kCurlBufferBytes = 512L * 1024;

/// A stalled transfer: fewer than this many bytes per second over the stall timeout fails it.
inline constexpr long kStallBytesPerSecond = 1024;

struct HttpRequest {
  std::string url;     ///< absolute, without a fragment
  HeaderList headers;  ///< sent as given
  /// The transfer fails when fewer than kStallBytesPerSecond arrive per second for this long.
  std::chrono::seconds stall_timeout{60};
  /// The whole transfer (connect, headers, body) fails after this long; zero: no limit.
  std::chrono::seconds total_timeout{3600};
};

/// The status line and header fields of the final response.
struct ResponseHead {
  int status = 0;
  int version = 11;  ///< 10, 11 or 20 (urllib3's spelling)
  std::string reason;
  HeaderList headers;
  /// Parsed Content-Length, when the response announced a valid one.
  std::optional<std::uint64_t> content_length;
};

/// Receives one response. A non-ok Status from either call aborts the transfer and becomes the
/// result of http_get().
class ResponseHandler {
 public:
  virtual ~ResponseHandler() = default;
  /// Called once, after the last header field of the final (non-1xx) response.
  virtual Status on_head(const ResponseHead& head) = 0;
  /// Called for each piece of the body, in order; the span is valid only during the call.
  virtual Status on_body(std::span<const std::byte> bytes) = 0;
};

/// Initializes libcurl once per process (idempotent, thread-safe). http_get() calls it; a caller
/// that measures its own start-up may call it first so the start figure includes libcurl.
void http_global_init();

/// Performs the GET. Errors (one line, naming the URL): connection failures, a connection closed
/// inside the header block (before its blank line), a transfer cut short (fewer body bytes than
/// the Content-Length), a stall or the overall deadline, and the handler's own errors. HTTP error
/// statuses are not errors here: the handler sees them.
Status http_get(const HttpRequest& request, ResponseHandler& handler);

}  // namespace peakbench
