// fetch(): one client run, the same decisions for both designs (CacheControl's), with the design's
// own store doing the reading and writing (whole_body_store.cc, streaming_store.cc).

#include "scenarios/strategy.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <optional>

#include "peakbench/version.h"
#include "scenarios/cache_entry.h"
#include "scenarios/cache_store.h"
#include "scenarios/consumer.h"
#include "scenarios/freshness.h"
#include "scenarios/http_client.h"

namespace peakbench {
namespace {

bool is_hex(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  });
}

std::string lowercase(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

/// What the subject sends with every request: the fields pip sends for a file download that a
/// server may vary on (pip asks for `Accept-Encoding: identity`, and requests sends `*/*`).
HeaderList default_request_headers() {
  HeaderList headers;
  headers.add("User-Agent", fmt::format("peakbench/{}", kVersion));
  headers.add("Accept-Encoding", "identity");
  headers.add("Accept", "*/*");
  return headers;
}

CachedResponse to_cached(const ResponseHead& head, const HeaderList& request_headers) {
  CachedResponse response;
  response.headers = head.headers;
  response.status = head.status;
  response.version = head.version;
  response.reason = head.reason;
  // requests asks urllib3 for the raw stream (decode_content=False); pip's entries say so.
  response.decode_content = false;
  response.vary = vary_values(head.headers, request_headers);
  return response;
}

/// Receives a full response (not a 304): body to the consumer and, when it may be stored, to the
/// design's writer. Status codes other than 200 and 203 fail the run: nothing else carries a file.
class Download final : public ResponseHandler {
 public:
  Download(BodyConsumer& consumer, CacheStore& store, PhaseProbe& probe,
           const HeaderList& request_headers, bool conditional, const WarningSink& warn,
           std::string url)
      : consumer_(consumer),
        store_(store),
        probe_(probe),
        request_headers_(request_headers),
        conditional_(conditional),
        warn_(warn),
        url_(std::move(url)) {}

  Status on_head(const ResponseHead& head) override {
    if (resume_from_) {
      // A Range request taking up a cut download: a 206 from the right offset continues it; a
      // 200 (the server ignored the Range, or If-Range failed) starts it again from zero.
      const std::uint64_t from = *resume_from_;
      resume_from_.reset();
      if (head.status == 206) {
        const std::string* range = head.headers.find("content-range");
        if (range == nullptr || !range->starts_with(fmt::format("bytes {}-", from))) {
          handler_failed_ = true;
          return Status::Error(fmt::format("resuming {} failed: 206 with Content-Range '{}'", url_,
                                           range ? *range : std::string()));
        }
        ++resumed_;
        return Status::Ok();
      }
      if (Status s = restart(); !s) return fail(s);
    }
    head_ = head;
    if (head.status == 304) {
      if (conditional_) return Status::Ok();
      return Status::Error(
          fmt::format("download of {} failed: 304 to an unconditional request", url_));
    }
    if (head.status != 200 && head.status != 203) {
      return Status::Error(
          fmt::format("download of {} failed: HTTP {} {}", url_, head.status, head.reason));
    }
    switch (decide_store(head.status, head.headers, request_headers_)) {
      case StoreDecision::store: {
        auto writer = store_.begin_store(head);
        if (writer) {
          writer_ = std::move(*writer);
        } else {
          warn_(fmt::format("response not cached: {}", writer.message()));
        }
        break;
      }
      case StoreDecision::skip_and_purge:
        store_.remove();
        break;
      case StoreDecision::skip:
        break;
    }
    return Status::Ok();
  }

  Status on_body(std::span<const std::byte> bytes) override {
    if (head_.status == 304) return Status::Ok();  // a 304 has no body; ignore a stray one
    received_bytes_ += bytes.size();
    body_offset_ += bytes.size();
    probe_.add_bytes_received(bytes.size());
    if (Status s = consumer_.feed(bytes); !s) return fail(s);
    if (writer_) {
      if (Status s = writer_->write(bytes); !s) {
        // pip suppresses cache write errors; the download goes on uncached.
        warn_(fmt::format("response not cached: {}", s.message()));
        writer_.reset();
      }
    }
    return Status::Ok();
  }

  const ResponseHead& head() const { return head_; }
  std::uint64_t received_bytes() const { return received_bytes_; }
  BodyWriter* writer() { return writer_.get(); }

  /// After a failed transfer: true when a full response was cut short by the network (not by
  /// this handler), so that taking it up again may complete it.
  bool cut_short() const {
    return !handler_failed_ && (head_.status == 200 || head_.status == 203) &&
           head_.content_length && body_offset_ < *head_.content_length;
  }
  std::uint64_t body_offset() const { return body_offset_; }
  /// The next response answers `Range: bytes={from}-`.
  void expect_resume(std::uint64_t from) { resume_from_ = from; }
  /// Drops the partial body (consumer and cache writer) before the download starts again.
  Status restart() {
    writer_.reset();
    body_offset_ = 0;
    ++restarted_;
    return consumer_.restart();
  }
  int resumed() const { return resumed_; }
  int restarted() const { return restarted_; }

 private:
  BodyConsumer& consumer_;
  CacheStore& store_;
  PhaseProbe& probe_;
  const HeaderList& request_headers_;
  bool conditional_;
  const WarningSink& warn_;
  std::string url_;
  Status fail(Status s) {
    handler_failed_ = true;
    return s;
  }

  ResponseHead head_;
  std::uint64_t received_bytes_ = 0;
  std::uint64_t body_offset_ = 0;  ///< bytes of the current body handed on
  std::optional<std::uint64_t> resume_from_;
  bool handler_failed_ = false;
  int resumed_ = 0;
  int restarted_ = 0;
  std::unique_ptr<BodyWriter> writer_;
};

/// Hands a stored body to the consumer and checks it: the body's sha256, on success. The caller
/// holds the cache_read phase open around it.
Result<std::string> serve_entry(LoadedEntry& entry, BodyConsumer& consumer) {
  if (Status s =
          entry.serve([&](std::span<const std::byte> bytes) { return consumer.feed(bytes); });
      !s) {
    return s;
  }
  return consumer.finish_hash();
}

/// pip 25.2 after a resumed download: CacheControl's tee of the first response ended with the
/// cut, so pip streams the finished download file into a new entry (`set_body_from_io`). Here
/// the first response's body file, continued by the 206, plays that download file: it holds the
/// same bytes. It is read back one kChunkBytes piece at a time and dropped with the download.
Status store_from_completed(CacheStore& store, const ResponseHead& head,
                            const BodyWriter& completed, const CachedResponse& response) {
  auto fresh = store.begin_store(head);
  if (!fresh) return fresh.status();
  BodyWriter& writer = **fresh;
  if (Status s = completed.read_back(
          [&](std::span<const std::byte> bytes) { return writer.write(bytes); });
      !s) {
    return s;
  }
  return writer.commit(response);
}

}  // namespace

std::string_view to_string(Strategy strategy) {
  switch (strategy) {
    case Strategy::whole_body:
      return "whole-body";
    case Strategy::streaming:
      return "streaming";
    case Strategy::tee_mmap:
      return "tee-mmap";
  }
  return "?";
}

CopyCount copy_count(Strategy strategy) {
  // The reasons are in cache_store.h and scenarios/README.md; the memory tests hold both to these.
  if (strategy == Strategy::whole_body) return CopyCount{.cold = 2, .warm = 2, .revalidated = 2};
  if (strategy == Strategy::tee_mmap) return CopyCount{.cold = 1, .warm = 0, .revalidated = 0};
  return CopyCount{.cold = 0, .warm = 0, .revalidated = 0};
}

Result<Strategy> parse_strategy(std::string_view name) {
  if (name == "whole-body") return Strategy::whole_body;
  if (name == "streaming") return Strategy::streaming;
  if (name == "tee-mmap") return Strategy::tee_mmap;
  return Status::Error(
      fmt::format("unknown strategy '{}': choose whole-body, streaming or tee-mmap", name));
}

std::string_view to_string(CacheOutcome outcome) {
  switch (outcome) {
    case CacheOutcome::hit:
      return "hit";
    case CacheOutcome::revalidated:
      return "revalidated";
    case CacheOutcome::miss_stored:
      return "miss-stored";
    case CacheOutcome::miss_not_stored:
      return "miss-not-stored";
  }
  return "unknown";
}

Result<FetchUrl> parse_fetch_url(std::string_view url) {
  const std::size_t hash = url.find('#');
  const std::string_view base = url.substr(0, hash);
  const std::string_view fragment =
      hash == std::string_view::npos ? std::string_view() : url.substr(hash + 1);
  const std::string scheme = lowercase(base.substr(0, base.find(':')));
  if (scheme != "http" && scheme != "https") {
    return Status::Error(fmt::format("not an http(s) URL: {}", url));
  }
  auto key_url = cache_url(base);
  if (!key_url) return key_url.status();
  FetchUrl parsed;
  parsed.request_url = std::string(base);
  parsed.cache_url = std::move(*key_url);
  parsed.key_hex = sha224_hex(parsed.cache_url);
  std::string_view rest = fragment;
  while (!rest.empty()) {
    const std::size_t amp = std::min(rest.find('&'), rest.size());
    const std::string_view item = rest.substr(0, amp);
    rest.remove_prefix(std::min(amp + 1, rest.size()));
    if (!item.starts_with("sha256=")) continue;
    const std::string_view hex = item.substr(7);
    if (hex.size() != 64 || !is_hex(hex)) {
      return Status::Error(fmt::format("bad #sha256= fragment (want 64 hex digits): {}", url));
    }
    parsed.expected_sha256_hex = lowercase(hex);
  }
  return parsed;
}

Result<FetchResult> fetch(const FetchOptions& options, PhaseProbe& probe) {
  auto url = parse_fetch_url(options.url);
  if (!url) return url.status();
  FetchResult result;
  const WarningSink warn = [&](std::string line) {
    if (options.on_warning) options.on_warning(line);
    result.warnings.push_back(std::move(line));
  };
  const std::int64_t now_unix_seconds =
      options.now_unix_seconds.value_or(std::chrono::duration_cast<std::chrono::seconds>(
                                            std::chrono::system_clock::now().time_since_epoch())
                                            .count());

  HttpRequest request{url->request_url, default_request_headers(), options.stall_timeout,
                      options.total_timeout};
  if (!options.user_agent.empty()) request.headers.set("User-Agent", options.user_agent);
  const std::unique_ptr<CacheStore> store =
      options.strategy == Strategy::tee_mmap
          ? make_tee_mmap_store(options.cache_dir, url->key_hex, options.temp_dir, probe)
          : make_store(options.strategy, options.cache_dir, url->key_hex, probe);
  auto consumer = BodyConsumer::open(options.out, url->expected_sha256_hex, probe);
  if (!consumer) return consumer.status();

  // 1. The cache, as CacheController.cached_request consults it.
  bool conditional = false;
  {
    // One cache_read phase from the lookup to the end of a hit: a fresh entry's load and its
    // serving are one read, and a per-phase peak should show them together.
    std::optional<PhaseScope> reading(std::in_place, probe, SubjectPhase::cache_read);
    std::unique_ptr<LoadedEntry> entry = store->load(warn);
    // Only a stored 200 or 203 carries the file. CacheControl also caches 300, 301 and 308 (for
    // requests to follow); this client follows no redirect, so such an entry is not the wheel.
    if (entry && entry->response().status != 200 && entry->response().status != 203) {
      warn(fmt::format("cache entry ignored: it stores HTTP {} {}, not a file",
                       entry->response().status, entry->response().reason));
      entry.reset();
    }
    // A stored response that varied on a header this request sends differently is a plain miss.
    if (entry && !vary_matches(entry->response(), request.headers)) entry.reset();
    if (entry) {
      switch (evaluate_freshness(entry->response(), now_unix_seconds)) {
        case Freshness::fresh: {
          auto served = serve_entry(*entry, *consumer);
          if (served) {
            reading.reset();
            if (Status s = consumer->commit(); !s) return s;
            result.outcome = CacheOutcome::hit;
            result.body_bytes = consumer->bytes();
            result.sha256_hex = std::move(*served);
            return result;
          }
          // A body that cannot be read whole or does not hash right: drop it and download.
          warn(fmt::format("cache entry ignored: {}", served.message()));
          store->remove();
          if (Status s = consumer->restart(); !s) return s;
          break;
        }
        case Freshness::revalidate:
          conditional = true;
          if (const std::string* etag = entry->response().headers.find("etag")) {
            request.headers.set("If-None-Match", *etag);
          }
          if (const std::string* modified = entry->response().headers.find("last-modified")) {
            request.headers.set("If-Modified-Since", *modified);
          }
          break;
        case Freshness::purge:
          store->remove();
          break;
      }
    }
    reading.reset();
    // The stale entry is let go before the request (whole-body: its body copy is freed), as
    // CacheControl keeps only the conditional headers; a 304 loads it again below.
  }

  // 2. The network.
  Download download(*consumer, *store, probe, request.headers, conditional, warn, url->request_url);
  {
    Status got = Status::Ok();
    {
      PhaseScope phase(probe, SubjectPhase::download);
      got = http_get(request, download);
      for (int attempt = 0; !got && attempt < options.resume_retries && download.cut_short();
           ++attempt) {
        warn(fmt::format("download cut after {} bytes: {}", download.body_offset(), got.message()));
        HttpRequest again = request;
        if (options.strategy == Strategy::streaming) {
          // pip 25.2: `Range: bytes=N-`, with If-Range so that a changed file comes whole.
          again.headers.set("Range", fmt::format("bytes={}-", download.body_offset()));
          const std::string* etag = download.head().headers.find("etag");
          const std::string* modified = download.head().headers.find("last-modified");
          if (etag != nullptr || modified != nullptr) {
            again.headers.set("If-Range", etag != nullptr ? *etag : *modified);
          }
          download.expect_resume(download.body_offset());
        } else if (Status s = download.restart(); !s) {
          return s;
        }
        got = http_get(again, download);
      }
    }
    result.resumed = download.resumed();
    result.restarted = download.restarted();
    if (!got) return got;  // the writer is dropped unused: nothing stored
  }
  result.http_status = download.head().status;
  result.bytes_received = download.received_bytes();

  // 3. The cache again: refresh after a 304, or store the new body.
  if (download.head().status == 304) {
    std::optional<PhaseScope> reading(std::in_place, probe, SubjectPhase::cache_read);
    std::unique_ptr<LoadedEntry> entry = store->load(warn);
    reading.reset();
    if (!entry) {
      return Status::Error(
          fmt::format("download of {} failed: 304 but the cache entry is gone", url->request_url));
    }
    CachedResponse refreshed = refreshed_by_304(entry->response(), download.head().headers);
    refreshed.vary = vary_values(refreshed.headers, request.headers);
    {
      PhaseScope phase(probe, SubjectPhase::cache_write);
      if (Status s = store->refresh(*entry, refreshed); !s) {
        warn(fmt::format("cache entry not refreshed: {}", s.message()));
      }
    }
    reading.emplace(probe, SubjectPhase::cache_read);
    auto served = serve_entry(*entry, *consumer);
    reading.reset();
    if (!served) return served.status();
    result.sha256_hex = std::move(*served);
    result.outcome = CacheOutcome::revalidated;
  } else {
    auto hashed = consumer->finish_hash();
    if (!hashed) return hashed.status();  // a wrong body is neither stored nor kept
    result.sha256_hex = std::move(*hashed);
    result.outcome = CacheOutcome::miss_not_stored;
    if (BodyWriter* writer = download.writer()) {
      PhaseScope phase(probe, SubjectPhase::cache_write);
      const CachedResponse cached = to_cached(download.head(), request.headers);
      if (Status s = download.resumed() > 0
                         ? store_from_completed(*store, download.head(), *writer, cached)
                         : writer->commit(cached);
          s) {
        result.outcome = CacheOutcome::miss_stored;
      } else {
        warn(fmt::format("response not cached: {}", s.message()));
      }
    }
  }
  if (Status s = consumer->commit(); !s) return s;
  result.body_bytes = consumer->bytes();
  result.cache_bytes_written = store->bytes_written();
  return result;
}

}  // namespace peakbench
