#include "scenarios/freshness.h"

#include <gtest/gtest.h>

#include <limits>

namespace peakbench {
namespace {

// Wed, 25 Nov 2026 15:00:00 GMT
constexpr std::int64_t kDate = 1795618800;
constexpr const char* kDateText = "Wed, 25 Nov 2026 15:00:00 GMT";

CachedResponse stored_with(std::initializer_list<HeaderList::Field> fields) {
  CachedResponse response;
  for (const auto& [name, value] : fields) response.headers.add(name, value);
  return response;
}

HeaderList headers_of(std::initializer_list<HeaderList::Field> fields) {
  HeaderList headers;
  for (const auto& [name, value] : fields) headers.add(name, value);
  return headers;
}

TEST(CacheDirectives, ParseAsCacheControlDoes) {
  const CacheDirectives pypi = parse_cache_control("max-age=365000000, immutable, public");
  EXPECT_EQ(pypi.max_age_seconds, 365000000);
  EXPECT_FALSE(pypi.no_store);
  EXPECT_TRUE(parse_cache_control("no-store").no_store);
  EXPECT_TRUE(parse_cache_control("public,no-cache").no_cache);
  EXPECT_FALSE(parse_cache_control("max-age=soon").max_age_seconds.has_value());
  EXPECT_FALSE(parse_cache_control("max-age").max_age_seconds.has_value());
  EXPECT_EQ(parse_cache_control(" max-age = 0 ").max_age_seconds, 0);
  EXPECT_FALSE(parse_cache_control("").max_age_seconds.has_value());
}

TEST(HttpDate, ParsesTheThreeFormats) {
  EXPECT_EQ(parse_http_date(kDateText), kDate);
  EXPECT_EQ(parse_http_date("Wednesday, 25-Nov-26 15:00:00 GMT"), kDate);
  EXPECT_EQ(parse_http_date("Wed Nov 25 15:00:00 2026"), kDate);
  EXPECT_FALSE(parse_http_date("yesterday").has_value());
  EXPECT_FALSE(parse_http_date("").has_value());
}

TEST(Freshness, MaxAgeAgainstTheDateDecides) {
  const CachedResponse pypi = stored_with(
      {{"Date", kDateText}, {"Cache-Control", "max-age=600, public"}, {"ETag", "\"e\""}});
  EXPECT_EQ(evaluate_freshness(pypi, kDate + 599), Freshness::fresh);
  EXPECT_EQ(evaluate_freshness(pypi, kDate + 600), Freshness::revalidate);
  EXPECT_EQ(evaluate_freshness(pypi, kDate - 100), Freshness::fresh);  // clock behind: age 0

  const CachedResponse zero =
      stored_with({{"Date", kDateText}, {"Cache-Control", "max-age=0"}, {"ETag", "\"e\""}});
  EXPECT_EQ(evaluate_freshness(zero, kDate), Freshness::revalidate);
  const CachedResponse zero_no_etag =
      stored_with({{"Date", kDateText}, {"Cache-Control", "max-age=0"}});
  EXPECT_EQ(evaluate_freshness(zero_no_etag, kDate), Freshness::purge);
}

TEST(Freshness, ExpiresCountsOnlyWithoutMaxAge) {
  const CachedResponse expires = stored_with(
      {{"Date", kDateText}, {"Expires", "Wed, 25 Nov 2026 16:00:00 GMT"}, {"ETag", "\"e\""}});
  EXPECT_EQ(evaluate_freshness(expires, kDate + 3599), Freshness::fresh);
  EXPECT_EQ(evaluate_freshness(expires, kDate + 3600), Freshness::revalidate);
  const CachedResponse both = stored_with({{"Date", kDateText},
                                           {"Cache-Control", "max-age=10"},
                                           {"Expires", "Wed, 25 Nov 2026 16:00:00 GMT"}});
  EXPECT_EQ(evaluate_freshness(both, kDate + 11), Freshness::purge);
}

TEST(Freshness, WithoutADateOnlyAnETagKeepsTheEntry) {
  EXPECT_EQ(evaluate_freshness(stored_with({{"Cache-Control", "max-age=600"}}), kDate),
            Freshness::purge);
  EXPECT_EQ(evaluate_freshness(stored_with({{"ETag", "\"e\""}}), kDate), Freshness::revalidate);
  CachedResponse redirect = stored_with({});
  redirect.status = 301;
  EXPECT_EQ(evaluate_freshness(redirect, kDate), Freshness::fresh);
}

// A clock value and a Date whose difference is past int64: the entry is very old (revalidated),
// not of a wrapped negative age (which would make it fresh for ever).
TEST(Freshness, AnAgeBeyondInt64IsOldNotNegative) {
  const CachedResponse stored = stored_with({{"Date", "Mon, 01 Jan 1900 00:00:00 GMT"},
                                             {"Cache-Control", "max-age=60"},
                                             {"ETag", "\"e\""}});
  ASSERT_LT(*parse_http_date("Mon, 01 Jan 1900 00:00:00 GMT"), 0);
  EXPECT_EQ(evaluate_freshness(stored, std::numeric_limits<std::int64_t>::max()),
            Freshness::revalidate);
}

TEST(StoreDecision, FollowsCacheControlsCacheResponse) {
  const HeaderList none;
  const HeaderList pypi = headers_of({{"Date", kDateText},
                                      {"Cache-Control", "max-age=365000000, immutable, public"},
                                      {"ETag", "\"e\""}});
  EXPECT_EQ(decide_store(200, pypi, none), StoreDecision::store);
  EXPECT_EQ(decide_store(206, pypi, none), StoreDecision::skip);
  EXPECT_EQ(decide_store(404, pypi, none), StoreDecision::skip);
  EXPECT_EQ(decide_store(203, pypi, none), StoreDecision::store);
  EXPECT_EQ(decide_store(200, pypi, headers_of({{"Cache-Control", "no-store"}})),
            StoreDecision::skip_and_purge);
  EXPECT_EQ(decide_store(200, headers_of({{"Cache-Control", "no-store"}, {"ETag", "\"e\""}}), none),
            StoreDecision::skip_and_purge);
  EXPECT_EQ(decide_store(200, headers_of({{"ETag", "\"e\""}, {"Vary", "*"}}), none),
            StoreDecision::skip);
  // An ETag alone is enough, even with max-age=0: the entry is kept for revalidation.
  EXPECT_EQ(
      decide_store(200, headers_of({{"ETag", "\"e\""}, {"Cache-Control", "max-age=0"}}), none),
      StoreDecision::store);
  // Without an ETag a positive lifetime and a Date are needed.
  EXPECT_EQ(
      decide_store(200, headers_of({{"Date", kDateText}, {"Cache-Control", "max-age=0"}}), none),
      StoreDecision::skip);
  EXPECT_EQ(
      decide_store(200, headers_of({{"Date", kDateText}, {"Cache-Control", "max-age=5"}}), none),
      StoreDecision::store);
  EXPECT_EQ(decide_store(200, headers_of({{"Cache-Control", "max-age=5"}}), none),
            StoreDecision::skip);
  EXPECT_EQ(decide_store(200, headers_of({{"Date", kDateText}, {"Expires", kDateText}}), none),
            StoreDecision::store);
  EXPECT_EQ(decide_store(200, headers_of({{"Date", kDateText}}), none), StoreDecision::skip);
}

TEST(Vary, StoresTheRequestsValuesAndMatchesOnThem) {
  const HeaderList request = headers_of({{"Accept-Encoding", "identity"}, {"Accept", "*/*"}});
  const auto values = vary_values(headers_of({{"Vary", "Accept-Encoding, X-Mirror"}}), request);
  ASSERT_EQ(values.size(), 2u);
  EXPECT_EQ(values[0],
            std::make_pair(std::string("Accept-Encoding"), std::optional<std::string>("identity")));
  EXPECT_EQ(values[1], std::make_pair(std::string("X-Mirror"), std::optional<std::string>()));

  CachedResponse stored;
  stored.vary = values;
  EXPECT_TRUE(vary_matches(stored, request));
  EXPECT_FALSE(vary_matches(stored, headers_of({{"Accept-Encoding", "gzip"}})));
  EXPECT_FALSE(
      vary_matches(stored, headers_of({{"Accept-Encoding", "identity"}, {"X-Mirror", "eu"}})));
  stored.vary = {{"*", std::nullopt}};
  EXPECT_FALSE(vary_matches(stored, request));
  EXPECT_TRUE(vary_values(headers_of({{"ETag", "\"e\""}}), request).empty());
}

TEST(Refresh, A304ReplacesHeadersButNotTheLength) {
  CachedResponse stored =
      stored_with({{"Content-Length", "100"}, {"Date", "old"}, {"ETag", "\"e\""}});
  stored.status = 200;
  const CachedResponse refreshed = refreshed_by_304(
      stored, headers_of({{"date", kDateText}, {"Content-Length", "0"}, {"X-New", "1"}}));
  EXPECT_EQ(*refreshed.headers.find("Content-Length"), "100");
  EXPECT_EQ(*refreshed.headers.find("Date"), kDateText);
  EXPECT_EQ(*refreshed.headers.find("X-New"), "1");
  EXPECT_EQ(refreshed.status, 200);
}

}  // namespace
}  // namespace peakbench
