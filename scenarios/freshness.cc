#include "scenarios/freshness.h"

#include <curl/curl.h>

#include <algorithm>
#include <charconv>
#include <limits>
#include <string>

#include "base/text.h"

namespace peakbench {
namespace {

std::optional<std::int64_t> parse_int(std::string_view text) {
  text = trim_space(text);
  if (text.starts_with('+')) text.remove_prefix(1);
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

/// a - b, held at the int64 limits: a Date far in the past (or an Expires far ahead of its Date)
/// is "very old" or "very long", never a wrapped negative number.
std::int64_t saturating_sub(std::int64_t a, std::int64_t b) {
  std::int64_t out = 0;
  if (!__builtin_sub_overflow(a, b, &out)) return out;
  return b < 0 ? std::numeric_limits<std::int64_t>::max()
               : std::numeric_limits<std::int64_t>::min();
}

bool is_permanent_redirect(int status) { return status == 301 || status == 308; }

}  // namespace

CacheDirectives parse_cache_control(std::string_view value) {
  CacheDirectives directives;
  while (!value.empty()) {
    const std::size_t comma = std::min(value.find(','), value.size());
    const std::string_view item = value.substr(0, comma);
    value.remove_prefix(std::min(comma + 1, value.size()));
    const std::size_t equals = item.find('=');
    const std::string_view name = trim_space(item.substr(0, equals));
    if (name == "max-age") {
      // A max-age without a valid integer is ignored, as CacheControl does.
      if (equals != std::string_view::npos) {
        if (auto seconds = parse_int(item.substr(equals + 1))) directives.max_age_seconds = seconds;
      }
    } else if (name == "no-store") {
      directives.no_store = true;
    } else if (name == "no-cache") {
      directives.no_cache = true;
    }
  }
  return directives;
}

std::optional<std::int64_t> parse_http_date(std::string_view text) {
  const std::string copy(trim_space(text));  // curl_getdate needs a terminated string
  if (copy.empty()) return std::nullopt;
  const time_t seconds = curl_getdate(copy.c_str(), nullptr);
  if (seconds == static_cast<time_t>(-1)) return std::nullopt;
  return static_cast<std::int64_t>(seconds);
}

Freshness evaluate_freshness(const CachedResponse& stored, std::int64_t now_unix_seconds) {
  if (is_permanent_redirect(stored.status)) return Freshness::fresh;
  const HeaderList& headers = stored.headers;
  const Freshness not_fresh = headers.contains("etag") ? Freshness::revalidate : Freshness::purge;
  const std::string* date_header = headers.find("date");
  if (date_header == nullptr) return not_fresh;
  const std::optional<std::int64_t> date = parse_http_date(*date_header);
  if (!date) return not_fresh;
  const std::int64_t age_seconds =
      std::max<std::int64_t>(0, saturating_sub(now_unix_seconds, *date));

  std::int64_t lifetime_seconds = 0;
  const CacheDirectives cc =
      parse_cache_control(headers.contains("cache-control") ? *headers.find("cache-control") : "");
  if (cc.max_age_seconds) {
    lifetime_seconds = *cc.max_age_seconds;
  } else if (const std::string* expires_header = headers.find("expires")) {
    if (const std::optional<std::int64_t> expires = parse_http_date(*expires_header)) {
      lifetime_seconds = std::max<std::int64_t>(0, saturating_sub(*expires, *date));
    }
  }
  if (lifetime_seconds > age_seconds) return Freshness::fresh;
  return not_fresh;
}

StoreDecision decide_store(int status, const HeaderList& response_headers,
                           const HeaderList& request_headers) {
  constexpr int kCacheable[] = {200, 203, 300, 301, 308};
  if (std::find(std::begin(kCacheable), std::end(kCacheable), status) == std::end(kCacheable)) {
    return StoreDecision::skip;
  }
  const auto directives = [](const HeaderList& headers) {
    const std::string* value = headers.find("cache-control");
    return parse_cache_control(value ? std::string_view(*value) : std::string_view());
  };
  const CacheDirectives response_cc = directives(response_headers);
  if (response_cc.no_store || directives(request_headers).no_store) {
    return StoreDecision::skip_and_purge;
  }
  if (const std::string* vary = response_headers.find("vary");
      vary != nullptr && vary->find('*') != std::string::npos) {
    return StoreDecision::skip;
  }
  if (response_headers.contains("etag")) return StoreDecision::store;
  if (is_permanent_redirect(status)) return StoreDecision::store;
  const std::string* date_header = response_headers.find("date");
  if (date_header == nullptr || !parse_http_date(*date_header)) return StoreDecision::skip;
  if (response_cc.max_age_seconds && *response_cc.max_age_seconds > 0) return StoreDecision::store;
  if (const std::string* expires = response_headers.find("expires");
      expires != nullptr && !expires->empty()) {
    return StoreDecision::store;
  }
  return StoreDecision::skip;
}

std::vector<std::pair<std::string, std::optional<std::string>>> vary_values(
    const HeaderList& response_headers, const HeaderList& request_headers) {
  std::vector<std::pair<std::string, std::optional<std::string>>> values;
  const std::string* vary = response_headers.find("vary");
  if (vary == nullptr) return values;
  std::string_view rest = *vary;
  while (true) {
    const std::size_t comma = std::min(rest.find(','), rest.size());
    const std::string name(trim_space(rest.substr(0, comma)));
    std::optional<std::string> value;
    if (const std::string* sent = request_headers.find(name)) value = *sent;
    // A repeated name keeps one slot, as a Python dict does.
    auto same = std::find_if(values.begin(), values.end(),
                             [&](const auto& slot) { return slot.first == name; });
    if (same == values.end()) {
      values.emplace_back(name, std::move(value));
    } else {
      same->second = std::move(value);
    }
    if (comma == rest.size()) break;
    rest.remove_prefix(comma + 1);
  }
  return values;
}

bool vary_matches(const CachedResponse& stored, const HeaderList& request_headers) {
  for (const auto& [name, value] : stored.vary) {
    if (name == "*") return false;
    const std::string* sent = request_headers.find(name);
    if (value.has_value() != (sent != nullptr)) return false;
    if (sent != nullptr && *sent != *value) return false;
  }
  return true;
}

CachedResponse refreshed_by_304(CachedResponse stored, const HeaderList& not_modified_headers) {
  for (const auto& [name, value] : not_modified_headers.fields()) {
    if (equals_ignore_case(name, "content-length")) continue;
    stored.headers.set(name, value);
  }
  stored.status = 200;
  return stored;
}

}  // namespace peakbench
