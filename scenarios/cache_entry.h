#pragma once
// CacheControl's on-disk entry (serde version 4) and pip's cache layout, as bytes: no I/O here.
//
// An entry is the ASCII prefix `cc=4,` followed by one msgpack map:
//   {"response": {"body": bin, "headers": {str: str}, "status": int, "version": int,
//                 "reason": str, ["strict": int,] "decode_content": bool},
//    "vary": {str: str | nil}}
// CacheControl 0.12 (pip <= 23.2, the whole-body design) also writes "strict"; 0.13+ dropped it
// and discards it when reading. The streaming design stores an empty body in this map and the
// body itself in a separate `.body` file.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <msgpack.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace peakbench {

/// HTTP header fields in arrival order; names keep their case, lookups ignore it.
class HeaderList {
 public:
  using Field = std::pair<std::string, std::string>;

  /// Appends a field; a repeated name (any case) joins its value to the first with ", ".
  void add(std::string name, std::string value);
  /// Replaces the value of `name` (any case) and takes the new name's spelling, or appends it.
  void set(std::string name, std::string value);
  /// Removes every field named `name` (any case).
  void remove(std::string_view name);
  /// The value of `name` (any case), or nullptr.
  const std::string* find(std::string_view name) const;
  bool contains(std::string_view name) const { return find(name) != nullptr; }

  const std::vector<Field>& fields() const { return fields_; }
  bool empty() const { return fields_.empty(); }
  friend bool operator==(const HeaderList&, const HeaderList&) = default;

 private:
  std::vector<Field> fields_;
};

/// ASCII case-insensitive equality (HTTP field names, directives).
bool equals_ignore_case(std::string_view a, std::string_view b);

/// Everything of a cached response except its body.
struct CachedResponse {
  HeaderList headers;
  int status = 200;
  int version = 11;  ///< as urllib3 writes it: 10 for HTTP/1.0, 11 for HTTP/1.1
  std::string reason = "OK";
  bool decode_content = false;
  /// CacheControl 0.12's "strict" field; written only when set (the whole-body design).
  std::optional<std::int64_t> strict;
  /// Request header values the response varied on; nullopt: the request did not send it (nil).
  std::vector<std::pair<std::string, std::optional<std::string>>> vary;

  friend bool operator==(const CachedResponse&, const CachedResponse&) = default;
};

inline constexpr std::string_view kEntryPrefix = "cc=4,";

/// Upper bound of the bytes encode_entry() adds around the body: the caller may size its buffer
/// as body + metadata_bytes_bound(response) and the packer never has to grow it.
std::size_t metadata_bytes_bound(const CachedResponse& response);

/// Appends `cc=4,` and the msgpack map, with `body` as a bin, to `out`.
/// Fails (one line) when the body exceeds msgpack's bin 32 limit (4 GiB - 1), as Python's
/// msgpack does.
Status encode_entry(const CachedResponse& response, std::span<const std::byte> body,
                    msgpack::sbuffer& out);

/// A decoded entry. Owns the unpacked objects; `body` points into them (msgpack-cxx copies a bin
/// out of the input into its zone unless told to reference it, and we let it copy: see
/// WholeBodyStore), so the input buffer may be freed once decode_entry() returns.
struct DecodedEntry {
  CachedResponse response;
  std::span<const std::byte> body;
  msgpack::object_handle objects;
};

/// Decodes bytes that should hold an entry. Anything else (another prefix, truncated or trailing
/// bytes, a field of the wrong type, a missing field) is an error whose one-line message says
/// what is wrong; never throws.
Result<DecodedEntry> decode_entry(std::span<const std::byte> bytes);

/// CacheControl's key for a URL (`CacheController.cache_url`): scheme and authority lowercased,
/// an empty path becomes "/", an empty query and the fragment are dropped. Fails for a URL that
/// has no scheme or authority.
Result<std::string> cache_url(std::string_view url);

/// Lowercase hex sha224 of `text` (what pip's cache names its files by).
std::string sha224_hex(std::string_view text);

/// `dir/h[0]/h[1]/h[2]/h[3]/h[4]/h` for the key `h` = sha224_hex(cache_url).
std::filesystem::path entry_path(const std::filesystem::path& dir, std::string_view key_hex);

/// Latin-1 bytes as UTF-8 (http.client decodes header bytes as Latin-1, msgpack stores UTF-8).
std::string latin1_to_utf8(std::string_view bytes);

}  // namespace peakbench
