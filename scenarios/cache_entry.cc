#include "scenarios/cache_entry.h"

#include <fmt/format.h>
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <exception>
#include <limits>

namespace peakbench {
namespace {

char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string lowercase(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), ascii_lower);
  return out;
}

using Packer = msgpack::packer<msgpack::sbuffer>;

void pack_str(Packer& pk, std::string_view text) {
  pk.pack_str(static_cast<std::uint32_t>(text.size()));
  pk.pack_str_body(text.data(), static_cast<std::uint32_t>(text.size()));
}

// Bytes of a msgpack str header (at most 5) plus the text; used for the size bound.
std::size_t str_bytes(std::string_view text) { return 5 + text.size(); }

std::string_view as_view(const msgpack::object& o) { return {o.via.str.ptr, o.via.str.size}; }

bool is_str(const msgpack::object& o) { return o.type == msgpack::type::STR; }

// One field of the "response" map, checked for its type; a message names the field.
Status read_response_field(std::string_view key, const msgpack::object& value, DecodedEntry& entry,
                           bool& have_body, bool& have_headers, bool& have_status) {
  const auto wrong = [&](std::string_view want) {
    return Status::Error(fmt::format("field response.{} is not {}", key, want));
  };
  if (key == "body") {
    if (value.type == msgpack::type::BIN) {
      entry.body = std::as_bytes(std::span(value.via.bin.ptr, value.via.bin.size));
    } else {
      return wrong("bytes");
    }
    have_body = true;
  } else if (key == "headers") {
    if (value.type != msgpack::type::MAP) return wrong("a map");
    for (std::uint32_t i = 0; i < value.via.map.size; ++i) {
      const msgpack::object_kv& kv = value.via.map.ptr[i];
      if (!is_str(kv.key) || !is_str(kv.val)) return wrong("a map of str to str");
      entry.response.headers.add(std::string(as_view(kv.key)), std::string(as_view(kv.val)));
    }
    have_headers = true;
  } else if (key == "status") {
    if (value.type != msgpack::type::POSITIVE_INTEGER || value.via.u64 > 999) {
      return wrong("a status code");
    }
    entry.response.status = static_cast<int>(value.via.u64);
    have_status = true;
  } else if (key == "version") {
    if (value.type != msgpack::type::POSITIVE_INTEGER || value.via.u64 > 1000) {
      return wrong("an HTTP version");
    }
    entry.response.version = static_cast<int>(value.via.u64);
  } else if (key == "reason") {
    if (!is_str(value)) return wrong("a str");
    entry.response.reason = std::string(as_view(value));
  } else if (key == "decode_content") {
    if (value.type != msgpack::type::BOOLEAN) return wrong("a bool");
    entry.response.decode_content = value.via.boolean;
  } else if (key == "strict") {
    // CacheControl 0.13+ discards it; keep an integer so a rewrite preserves it.
    if (value.type == msgpack::type::POSITIVE_INTEGER) {
      entry.response.strict = static_cast<std::int64_t>(value.via.u64);
    }
  }
  // Other keys are ignored, as a lenient reader should.
  return Status::Ok();
}

Status read_entry(const msgpack::object& root, DecodedEntry& entry) {
  if (root.type != msgpack::type::MAP) return Status::Error("entry is not a msgpack map");
  bool have_response = false;
  for (std::uint32_t i = 0; i < root.via.map.size; ++i) {
    const msgpack::object_kv& kv = root.via.map.ptr[i];
    if (!is_str(kv.key)) return Status::Error("entry has a key that is not a str");
    const std::string_view key = as_view(kv.key);
    if (key == "response") {
      if (kv.val.type != msgpack::type::MAP) return Status::Error("field response is not a map");
      bool have_body = false, have_headers = false, have_status = false;
      for (std::uint32_t j = 0; j < kv.val.via.map.size; ++j) {
        const msgpack::object_kv& field = kv.val.via.map.ptr[j];
        if (!is_str(field.key)) return Status::Error("response has a key that is not a str");
        if (Status s = read_response_field(as_view(field.key), field.val, entry, have_body,
                                           have_headers, have_status);
            !s) {
          return s;
        }
      }
      if (!have_body) return Status::Error("field response.body is missing");
      if (!have_headers) return Status::Error("field response.headers is missing");
      if (!have_status) return Status::Error("field response.status is missing");
      have_response = true;
    } else if (key == "vary") {
      if (kv.val.type != msgpack::type::MAP) return Status::Error("field vary is not a map");
      for (std::uint32_t j = 0; j < kv.val.via.map.size; ++j) {
        const msgpack::object_kv& field = kv.val.via.map.ptr[j];
        if (!is_str(field.key)) return Status::Error("field vary has a key that is not a str");
        std::optional<std::string> value;
        if (is_str(field.val)) {
          value = std::string(as_view(field.val));
        } else if (field.val.type != msgpack::type::NIL) {
          return Status::Error("field vary has a value that is neither str nor nil");
        }
        entry.response.vary.emplace_back(std::string(as_view(field.key)), std::move(value));
      }
    }
  }
  if (!have_response) return Status::Error("field response is missing");
  return Status::Ok();
}

}  // namespace

bool equals_ignore_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return ascii_lower(x) == ascii_lower(y);
         });
}

void HeaderList::add(std::string name, std::string value) {
  for (Field& field : fields_) {
    if (equals_ignore_case(field.first, name)) {
      field.second += ", ";
      field.second += value;
      return;
    }
  }
  fields_.emplace_back(std::move(name), std::move(value));
}

void HeaderList::set(std::string name, std::string value) {
  for (Field& field : fields_) {
    if (equals_ignore_case(field.first, name)) {
      field = Field(std::move(name), std::move(value));
      return;
    }
  }
  fields_.emplace_back(std::move(name), std::move(value));
}

void HeaderList::remove(std::string_view name) {
  std::erase_if(fields_, [&](const Field& field) { return equals_ignore_case(field.first, name); });
}

const std::string* HeaderList::find(std::string_view name) const {
  for (const Field& field : fields_) {
    if (equals_ignore_case(field.first, name)) return &field.second;
  }
  return nullptr;
}

std::size_t metadata_bytes_bound(const CachedResponse& response) {
  // Prefix, maps, fixed keys and scalars fit in 256 bytes; strings are counted with their headers.
  std::size_t bytes = 256 + str_bytes(response.reason);
  for (const auto& [name, value] : response.headers.fields()) {
    bytes += str_bytes(name) + str_bytes(value);
  }
  for (const auto& [name, value] : response.vary) {
    bytes += str_bytes(name) + (value ? str_bytes(*value) : 1);
  }
  return bytes;
}

Status encode_entry(const CachedResponse& response, std::span<const std::byte> body,
                    msgpack::sbuffer& out) {
  if (body.size() > std::numeric_limits<std::uint32_t>::max()) {
    return Status::Error(
        fmt::format("a body of {} bytes is beyond msgpack's bin 32 limit", body.size()));
  }
  try {
    out.write(kEntryPrefix.data(), kEntryPrefix.size());
    Packer pk(out);
    // Key order as CacheControl's dict literal writes it.
    pk.pack_map(2);
    pack_str(pk, "response");
    pk.pack_map(response.strict ? 7 : 6);
    pack_str(pk, "body");
    pk.pack_bin(static_cast<std::uint32_t>(body.size()));
    pk.pack_bin_body(reinterpret_cast<const char*>(body.data()),
                     static_cast<std::uint32_t>(body.size()));
    pack_str(pk, "headers");
    pk.pack_map(static_cast<std::uint32_t>(response.headers.fields().size()));
    for (const auto& [name, value] : response.headers.fields()) {
      pack_str(pk, name);
      pack_str(pk, value);
    }
    pack_str(pk, "status");
    pk.pack_int(response.status);
    pack_str(pk, "version");
    pk.pack_int(response.version);
    pack_str(pk, "reason");
    pack_str(pk, response.reason);
    if (response.strict) {
      pack_str(pk, "strict");
      pk.pack_int64(*response.strict);
    }
    pack_str(pk, "decode_content");
    if (response.decode_content) {
      pk.pack_true();
    } else {
      pk.pack_false();
    }
    pack_str(pk, "vary");
    pk.pack_map(static_cast<std::uint32_t>(response.vary.size()));
    for (const auto& [name, value] : response.vary) {
      pack_str(pk, name);
      if (value) {
        pack_str(pk, *value);
      } else {
        pk.pack_nil();
      }
    }
  } catch (const std::exception& e) {
    return Status::Error(fmt::format("cannot encode cache entry: {}", e.what()));
  }
  return Status::Ok();
}

// What a real entry needs, with room: the response map has 6 or 7 fields, headers a few dozen,
// vary a handful, and nothing nests deeper than 3 levels or holds an array or ext.
constexpr std::size_t kMaxEntryArray = 64;
constexpr std::size_t kMaxEntryMap = 4096;
constexpr std::size_t kMaxEntryExt = 64;
constexpr std::size_t kMaxEntryDepth = 8;

Result<DecodedEntry> decode_entry(std::span<const std::byte> bytes) {
  const auto* data = reinterpret_cast<const char*>(bytes.data());
  if (bytes.size() < kEntryPrefix.size() ||
      std::string_view(data, kEntryPrefix.size()) != kEntryPrefix) {
    return Status::Error("entry does not start with cc=4,");
  }
  DecodedEntry entry;
  try {
    std::size_t offset = kEntryPrefix.size();
    // No reference function: bins and strs are copied into the handle's zone. The decoder
    // allocates an array's or a map's elements as soon as it reads their declared count, before
    // the elements arrive; the limits keep a corrupt count from allocating gigabytes. A str or
    // bin is only copied once all its bytes are there, so a body may be as long as msgpack allows.
    const msgpack::unpack_limit limits(/*array=*/kMaxEntryArray, /*map=*/kMaxEntryMap,
                                       /*str=*/0xffffffff, /*bin=*/0xffffffff,
                                       /*ext=*/kMaxEntryExt, /*depth=*/kMaxEntryDepth);
    entry.objects = msgpack::unpack(data, bytes.size(), offset, nullptr, nullptr, limits);
    if (offset != bytes.size()) {
      return Status::Error(
          fmt::format("entry has {} bytes after its msgpack map", bytes.size() - offset));
    }
  } catch (const msgpack::insufficient_bytes&) {
    return Status::Error("entry is truncated");
  } catch (const msgpack::size_overflow& e) {
    return Status::Error(fmt::format("entry is beyond an entry's limits: {}", e.what()));
  } catch (const std::exception& e) {
    return Status::Error(fmt::format("entry is not valid msgpack: {}", e.what()));
  }
  if (Status s = read_entry(entry.objects.get(), entry); !s) return s;
  return entry;
}

Result<std::string> cache_url(std::string_view url) {
  // RFC 3986 appendix B, as CacheControl's parse_uri applies it.
  std::string_view rest = url;
  std::string_view scheme;
  if (const std::size_t colon = rest.find_first_of(":/?#");
      colon != std::string_view::npos && colon > 0 && rest[colon] == ':') {
    scheme = rest.substr(0, colon);
    rest.remove_prefix(colon + 1);
  }
  std::string_view authority;
  if (rest.starts_with("//")) {
    rest.remove_prefix(2);
    const std::size_t end = std::min(rest.find_first_of("/?#"), rest.size());
    authority = rest.substr(0, end);
    rest.remove_prefix(end);
  }
  const std::size_t path_end = std::min(rest.find_first_of("?#"), rest.size());
  std::string_view path = rest.substr(0, path_end);
  rest.remove_prefix(path_end);
  std::string_view query;
  if (rest.starts_with("?")) {
    rest.remove_prefix(1);
    query = rest.substr(0, std::min(rest.find('#'), rest.size()));
  }
  if (scheme.empty() || authority.empty()) {
    return Status::Error(fmt::format("not an absolute URL: {}", url));
  }
  std::string key = lowercase(scheme) + "://" + lowercase(authority);
  key += path.empty() ? std::string_view("/") : path;
  if (!query.empty()) {
    key += '?';
    key += query;
  }
  return key;
}

std::string sha224_hex(std::string_view text) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  EVP_Digest(text.data(), text.size(), digest.data(), &length, EVP_sha224(), nullptr);
  std::string hex;
  hex.reserve(std::size_t{2} * length);
  for (unsigned int i = 0; i < length; ++i) hex += fmt::format("{:02x}", digest[i]);
  return hex;
}

std::filesystem::path entry_path(const std::filesystem::path& dir, std::string_view key_hex) {
  std::filesystem::path path = dir;
  for (std::size_t i = 0; i < 5 && i < key_hex.size(); ++i) path /= std::string(1, key_hex[i]);
  return path / std::string(key_hex);
}

std::string latin1_to_utf8(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  for (const char c : bytes) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x80) {
      out += c;
    } else {
      out += static_cast<char>(0xC0 | (u >> 6));
      out += static_cast<char>(0x80 | (u & 0x3F));
    }
  }
  return out;
}

}  // namespace peakbench
