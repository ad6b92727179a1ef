#include "scenarios/cache_entry.h"

#include <gtest/gtest.h>

#include <string>

namespace peakbench {
namespace {

std::string to_hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  for (const char c : bytes) {
    const auto u = static_cast<unsigned char>(c);
    hex += kDigits[u >> 4];
    hex += kDigits[u & 15];
  }
  return hex;
}

std::string from_hex(std::string_view hex) {
  std::string bytes;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    bytes += static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16));
  }
  return bytes;
}

std::span<const std::byte> as_span(std::string_view text) { return std::as_bytes(std::span(text)); }

CachedResponse sample_response() {
  CachedResponse response;
  response.headers.add("Content-Length", "11");
  response.headers.add("ETag", "\"abc\"");
  response.headers.add("Date", "Wed, 25 Nov 2026 15:00:00 GMT");
  response.vary = {{"Accept-Encoding", "identity"}, {"X-Absent", std::nullopt}};
  return response;
}

// Produced by pip 24.2's vendored msgpack from the dict CacheControl's Serializer.dumps builds:
//   b"cc=4," + msgpack.dumps({"response": {"body": b"wheel-bytes", "headers": {...},
//     "status": 200, "version": 11, "reason": "OK", "decode_content": False},
//     "vary": {"Accept-Encoding": "identity", "X-Absent": None}}, use_bin_type=True)
constexpr std::string_view kCacheControlEntryHex =
    "63633d342c82a8726573706f6e736586a4626f6479c40b776865656c2d6279746573a76865616465727383ae43"
    "6f6e74656e742d4c656e677468a23131a445546167a52261626322a444617465bd5765642c203235204e6f7620"
    "323032362031353a30303a303020474d54a6737461747573ccc8a776657273696f6e0ba6726561736f6ea24f4b"
    "ae6465636f64655f636f6e74656e74c2a47661727982af4163636570742d456e636f64696e67a86964656e7469"
    "7479a8582d416273656e74c0";

// The same for CacheControl 0.12 (pip 23.2.1) with its `strict` field, an empty body (the
// streaming design's metadata) and decode_content True.
constexpr std::string_view kStrictEntryHex =
    "63633d342c82a8726573706f6e736587a4626f6479c400a76865616465727381a445546167a52261626322a673"
    "7461747573ccc8a776657273696f6e0ba6726561736f6ea24f4ba673747269637400ae6465636f64655f636f6e"
    "74656e74c3a47661727980";

TEST(CacheEntry, EncodesTheBytesCacheControlWrites) {
  msgpack::sbuffer out;
  ASSERT_TRUE(encode_entry(sample_response(), as_span("wheel-bytes"), out).ok());
  EXPECT_EQ(to_hex(std::string_view(out.data(), out.size())), kCacheControlEntryHex);

  CachedResponse strict;
  strict.headers.add("ETag", "\"abc\"");
  strict.strict = 0;
  strict.decode_content = true;
  msgpack::sbuffer metadata;
  ASSERT_TRUE(encode_entry(strict, {}, metadata).ok());
  EXPECT_EQ(to_hex(std::string_view(metadata.data(), metadata.size())), kStrictEntryHex);
}

TEST(CacheEntry, DecodesCacheControlBytesIntoEveryField) {
  const std::string bytes = from_hex(kCacheControlEntryHex);
  auto decoded = decode_entry(as_span(bytes));
  ASSERT_TRUE(decoded.ok()) << decoded.message();
  EXPECT_EQ(decoded->response, sample_response());
  EXPECT_EQ(
      std::string_view(reinterpret_cast<const char*>(decoded->body.data()), decoded->body.size()),
      "wheel-bytes");

  const std::string strict_bytes = from_hex(kStrictEntryHex);
  auto strict = decode_entry(as_span(strict_bytes));
  ASSERT_TRUE(strict.ok()) << strict.message();
  EXPECT_EQ(strict->response.strict, 0);
  EXPECT_TRUE(strict->response.decode_content);
  EXPECT_TRUE(strict->body.empty());
}

TEST(CacheEntry, TheDecodedBodyOutlivesTheInputBuffer) {
  std::string bytes = from_hex(kCacheControlEntryHex);
  auto decoded = decode_entry(as_span(bytes));
  ASSERT_TRUE(decoded.ok());
  bytes.assign(bytes.size(), 'x');  // the input is overwritten: the body was copied out of it
  bytes.clear();
  bytes.shrink_to_fit();
  EXPECT_EQ(
      std::string_view(reinterpret_cast<const char*>(decoded->body.data()), decoded->body.size()),
      "wheel-bytes");
}

TEST(CacheEntry, AnythingButAWholeEntryIsAnErrorNeverAThrow) {
  const std::string good = from_hex(kCacheControlEntryHex);
  // Every truncation, including an empty file and a bare prefix.
  for (std::size_t length = 0; length < good.size(); ++length) {
    auto decoded = decode_entry(as_span(std::string_view(good).substr(0, length)));
    EXPECT_FALSE(decoded.ok()) << "length " << length;
  }
  EXPECT_FALSE(decode_entry(as_span(good + "x")).ok());                // trailing bytes
  EXPECT_FALSE(decode_entry(as_span("cc=2," + good.substr(5))).ok());  // another serde version
  EXPECT_FALSE(decode_entry(as_span("cc=4,\xc1")).ok());               // a reserved msgpack byte

  const auto entry_with = [](auto&& pack_response) {
    msgpack::sbuffer out;
    out.write("cc=4,", 5);
    msgpack::packer<msgpack::sbuffer> pk(out);
    pk.pack_map(2);
    pk.pack(std::string("response"));
    pack_response(pk);
    pk.pack(std::string("vary"));
    pk.pack_map(0);
    return std::string(out.data(), out.size());
  };
  // A body that is a str, a status that is a str, a missing body.
  const std::string str_body = entry_with([](auto& pk) {
    pk.pack_map(3);
    pk.pack(std::string("body"));
    pk.pack(std::string("text"));
    pk.pack(std::string("headers"));
    pk.pack_map(0);
    pk.pack(std::string("status"));
    pk.pack(200);
  });
  auto decoded = decode_entry(as_span(str_body));
  ASSERT_FALSE(decoded.ok());
  EXPECT_NE(decoded.message().find("response.body"), std::string::npos) << decoded.message();

  const std::string str_status = entry_with([](auto& pk) {
    pk.pack_map(3);
    pk.pack(std::string("body"));
    pk.pack_bin(0);
    pk.pack(std::string("headers"));
    pk.pack_map(0);
    pk.pack(std::string("status"));
    pk.pack(std::string("200"));
  });
  EXPECT_FALSE(decode_entry(as_span(str_status)).ok());

  const std::string no_body = entry_with([](auto& pk) {
    pk.pack_map(2);
    pk.pack(std::string("headers"));
    pk.pack_map(0);
    pk.pack(std::string("status"));
    pk.pack(200);
  });
  EXPECT_FALSE(decode_entry(as_span(no_body)).ok());
}

TEST(CacheEntry, MetadataBoundLetsThePackerWriteWithoutGrowing) {
  const CachedResponse response = sample_response();
  const std::string body(1000, 'b');
  const std::size_t capacity = kEntryPrefix.size() + body.size() + metadata_bytes_bound(response);
  msgpack::sbuffer out(capacity);
  ASSERT_TRUE(encode_entry(response, as_span(body), out).ok());
  EXPECT_LE(out.size(), capacity);
}

TEST(CacheUrl, NormalizesAsCacheControlDoes) {
  EXPECT_EQ(*cache_url("HTTP://Example.COM/Files/A.whl"), "http://example.com/Files/A.whl");
  EXPECT_EQ(*cache_url("http://127.0.0.1:8000/files/a.whl#sha256=ab"),
            "http://127.0.0.1:8000/files/a.whl");
  EXPECT_EQ(*cache_url("http://host"), "http://host/");
  EXPECT_EQ(*cache_url("http://host/p?x=1#f"), "http://host/p?x=1");
  EXPECT_EQ(*cache_url("http://host/p?#f"), "http://host/p");  // an empty query is dropped
  EXPECT_FALSE(cache_url("/files/a.whl").ok());
  EXPECT_FALSE(cache_url("http:/files/a.whl").ok());
}

TEST(CacheKey, IsSha224HexAndPipsFiveLevelPath) {
  EXPECT_EQ(sha224_hex(""), "d14a028c2a3a2bc9476102bb288234c415a2b01f828ea62ac5b3e42f");
  // hashlib.sha224(b"http://127.0.0.1:8000/files/peakbench_payload-1.0.0-py3-none-any.whl")
  const std::string key =
      sha224_hex("http://127.0.0.1:8000/files/peakbench_payload-1.0.0-py3-none-any.whl");
  EXPECT_EQ(key, "0051abc6325e3d5678fd9136bc48e2d699949bd441ea13dd4f20e91d");
  EXPECT_EQ(entry_path("/c/http-v2", key), std::filesystem::path("/c/http-v2/0/0/5/1/a/" + key));
}

TEST(HeaderList, LooksUpAnyCaseAndJoinsRepeatedFields) {
  HeaderList headers;
  headers.add("ETag", "\"x\"");
  headers.add("Set-Cookie", "a=1");
  headers.add("set-cookie", "b=2");
  EXPECT_EQ(*headers.find("etag"), "\"x\"");
  EXPECT_EQ(*headers.find("SET-COOKIE"), "a=1, b=2");
  headers.set("etag", "\"y\"");
  EXPECT_EQ(headers.fields().front(), HeaderList::Field("etag", "\"y\""));
  headers.remove("ETAG");
  EXPECT_FALSE(headers.contains("etag"));
  EXPECT_EQ(latin1_to_utf8("caf\xe9"), "caf\xc3\xa9");
}

TEST(CacheEntry, DeclaredCountsBeyondAnEntrysLimitsAreRefusedBeforeAllocating) {
  // A map or array header declares its element count up front; msgpack allocates the elements
  // when it reads the count. A corrupt count must be refused, not allocated (128 GiB here).
  for (const std::string& header :
       {std::string("\xdf\xff\xff\xff\xff", 5), std::string("\xdd\x05\xf5\xe1\x00", 5),
        std::string("\x81\xa8response\xdf\x00\x10\x00\x00", 15)}) {
    const std::string bytes = std::string(kEntryPrefix) + header;
    auto decoded = decode_entry(std::as_bytes(std::span(bytes)));
    ASSERT_FALSE(decoded.ok());
    EXPECT_NE(decoded.message().find("limits"), std::string::npos) << decoded.message();
  }
}
}  // namespace
}  // namespace peakbench
