#pragma once
// The two built-in subjects (DESIGN §3): C++ models of CacheControl's two on-disk cache designs
// on libcurl, with pip's layout so that caches written by a real pip are read and vice versa.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "scenarios/phase_probe.h"

namespace peakbench {

enum class Strategy {
  whole_body,  ///< CacheControl before pip 23.3: `http/`, body inside the msgpack entry
  streaming,   ///< SeparateBodyFileCache (pip 23.3+): `http-v2/`, body in `{key}.body`
  /// CacheControl 0.13+ as pip 23.3+ ships it: `http-v2/`, the body teed into a temporary file in
  /// the temp dir, mmapped whole at the end to write `{key}.body`
  tee_mmap,
};

std::string_view to_string(Strategy strategy);  ///< "whole-body" | "streaming" | "tee-mmap"
Result<Strategy> parse_strategy(std::string_view name);  ///< one-line error naming the choices

/// Body-sized buffers a strategy holds at once at its peak, in multiples of the body size B
/// (scenarios/README.md says which buffers): the design's own cost, beyond a fixed overhead.
struct CopyCount {
  int cold = 0;         ///< download and store
  int warm = 0;         ///< fresh hit
  int revalidated = 0;  ///< stale hit answered 304
};
CopyCount copy_count(Strategy strategy);

struct FetchOptions {
  Strategy strategy = Strategy::streaming;
  std::filesystem::path cache_dir;
  /// Where the consumer writes the body; empty: discard it (still hashed).
  std::filesystem::path out;
  /// The URL; a `#sha256=HEX` fragment is checked against the body and stripped before use.
  std::string url;
  /// Called with each warning line as it arises (they are also in FetchResult::warnings, which an
  /// error result does not carry). May be empty.
  std::function<void(const std::string&)> on_warning;
  /// The clock for freshness decisions, in seconds since the epoch; nullopt: the system clock.
  std::optional<std::int64_t> now_unix_seconds;
  /// The download fails when it moves less than 1 KiB/s for this long (HttpRequest).
  std::chrono::seconds stall_timeout{60};
  /// The download fails when it takes longer than this in all; zero: no limit.
  std::chrono::seconds total_timeout{3600};
  /// The client's temp dir (`$TMPDIR`, else /tmp): where tee-mmap tees the body.
  std::filesystem::path temp_dir = "/tmp";
  /// Sent as User-Agent instead of `peakbench/VERSION` when not empty (a server may vary on it).
  std::string user_agent;
  /// A download cut short is taken up again this many times (pip 25.2's `--resume-retries 5`):
  /// streaming resumes with `Range: bytes=N-` and `If-Range` and then, as pip 25.2 does, copies
  /// the finished file into a new entry in kChunkBytes pieces; whole-body and tee-mmap restart
  /// from zero.
  int resume_retries = 5;
};

/// A fetch URL taken apart.
struct FetchUrl {
  std::string request_url;          ///< what is requested: the URL without its fragment
  std::string cache_url;            ///< CacheControl's normalized key URL (see cache_url())
  std::string key_hex;              ///< sha224 hex of cache_url: the entry's file name
  std::string expected_sha256_hex;  ///< lowercase, from `#sha256=`; empty when absent
};

/// Validates an absolute http(s) URL and its optional `#sha256=` fragment (64 hex digits).
/// Other fragments are ignored, as pip ignores them for downloading. One-line error otherwise.
Result<FetchUrl> parse_fetch_url(std::string_view url);

/// How the cache took part in a fetch.
enum class CacheOutcome {
  hit,              ///< fresh entry, no request
  revalidated,      ///< stale entry, conditional request answered 304
  miss_stored,      ///< downloaded and stored
  miss_not_stored,  ///< downloaded, not cacheable (no-store, status, ...)
};
std::string_view to_string(CacheOutcome outcome);

struct FetchResult {
  CacheOutcome outcome = CacheOutcome::miss_not_stored;
  int http_status = 0;               ///< status of the last response (0 on a hit)
  std::uint64_t body_bytes = 0;      ///< bytes handed to the consumer
  std::uint64_t bytes_received = 0;  ///< body bytes from the network
  std::uint64_t cache_bytes_written = 0;
  std::string sha256_hex;             ///< of the body handed to the consumer
  std::vector<std::string> warnings;  ///< one line each (corrupt entry, ...)
  int resumed = 0;                    ///< downloads taken up with a Range request answered 206
  int restarted = 0;                  ///< downloads started again from the first byte after a cut
};

/// One client run: look up the cache, fetch or revalidate if needed, hand the body to the
/// consumer, update the cache. A failed download (cut connection, length mismatch, bad hash,
/// HTTP error) is an error and stores nothing.
Result<FetchResult> fetch(const FetchOptions& options, PhaseProbe& probe);

}  // namespace peakbench
