#include "scenarios/http_client.h"

#include <curl/curl.h>
#include <fmt/format.h>

#include <array>
#include <charconv>
#include <cstdlib>
#include <memory>
#include <mutex>

#include "base/text.h"

namespace peakbench {
namespace {

using CurlHandle = std::unique_ptr<CURL, decltype(&curl_easy_cleanup)>;
using CurlHeaderList = std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)>;

std::optional<std::uint64_t> parse_length(std::string_view text) {
  text = trim_space(text);
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// State shared by the two libcurl callbacks of one transfer.
struct Transfer {
  ResponseHandler& handler;
  ResponseHead head;
  bool head_delivered = false;
  // The blank line that ends a final response's header block arrived: without it, a connection
  // closed inside the headers would look like a complete response with an empty body.
  bool head_complete = false;
  std::uint64_t body_bytes = 0;
  Status error = Status::Ok();  // the handler's error that aborted the transfer

  // "HTTP/1.1 200 OK": a new response begins (after a 1xx, or the first).
  void start_response(std::string_view line) {
    head = ResponseHead{};
    const std::size_t space = line.find(' ');
    const std::string_view protocol = line.substr(0, space);
    if (protocol == "HTTP/1.0") {
      head.version = 10;
    } else if (protocol == "HTTP/1.1") {
      head.version = 11;
    } else {
      head.version = 20;
    }
    if (space == std::string_view::npos) return;
    std::string_view rest = line.substr(space + 1);
    const std::size_t code_end = std::min(rest.find(' '), rest.size());
    int status = 0;
    std::from_chars(rest.data(), rest.data() + code_end, status);
    head.status = status;
    if (code_end < rest.size()) head.reason = std::string(trim_space(rest.substr(code_end + 1)));
  }

  bool deliver_head() {
    head_delivered = true;
    if (const std::string* length = head.headers.find("content-length")) {
      head.content_length = parse_length(*length);
    }
    error = handler.on_head(head);
    return error.ok();
  }
};

std::size_t on_header_line(char* buffer, std::size_t size, std::size_t count, void* user) {
  auto& transfer = *static_cast<Transfer*>(user);
  const std::size_t bytes = size * count;
  std::string_view line(buffer, bytes);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  if (line.starts_with("HTTP/")) {
    transfer.start_response(line);
  } else if (line.empty()) {
    const bool informational = transfer.head.status >= 100 && transfer.head.status < 200;
    if (!informational) transfer.head_complete = true;
    if (!informational && !transfer.head_delivered && !transfer.deliver_head()) return 0;
  } else if (line.front() == ' ' || line.front() == '\t') {
    // An obsolete folded continuation: belongs to the field before it. Rare; kept simple by
    // treating it as a separate, unnamed value and dropping it.
  } else if (const std::size_t colon = line.find(':'); colon != std::string_view::npos) {
    transfer.head.headers.add(std::string(trim_space(line.substr(0, colon))),
                              latin1_to_utf8(trim_space(line.substr(colon + 1))));
  }
  return bytes;
}

std::size_t on_body_bytes(char* data, std::size_t size, std::size_t count, void* user) {
  auto& transfer = *static_cast<Transfer*>(user);
  const std::size_t bytes = size * count;
  if (!transfer.head_delivered && !transfer.deliver_head()) return 0;
  transfer.body_bytes += bytes;
  transfer.error = transfer.handler.on_body(std::as_bytes(std::span(data, bytes)));
  return transfer.error.ok() ? bytes : 0;
}

}  // namespace

void http_global_init() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) std::abort();  // cannot happen on Linux
  });
}

Status http_get(const HttpRequest& request, ResponseHandler& handler) {
  http_global_init();
  CurlHandle curl(curl_easy_init(), &curl_easy_cleanup);
  if (!curl) return Status::Error("cannot start libcurl");

  CurlHeaderList header_list(nullptr, &curl_slist_free_all);
  for (const auto& [name, value] : request.headers.fields()) {
    curl_slist* grown =
        curl_slist_append(header_list.get(), fmt::format("{}: {}", name, value).c_str());
    if (grown == nullptr) return Status::Error("cannot build request headers");
    (void)header_list.release();
    header_list.reset(grown);
  }

  Transfer transfer{handler, {}, false, false, 0, Status::Ok()};
  std::array<char, CURL_ERROR_SIZE> error_text{};
  CURL* h = curl.get();
  curl_easy_setopt(h, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, header_list.get());
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &on_header_line);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &transfer);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &on_body_bytes);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &transfer);
  curl_easy_setopt(h, CURLOPT_BUFFERSIZE, kCurlBufferBytes);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error_text.data());
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 30L);
  // A stalled server (or one that trickles a few bytes a second) fails the run rather than
  // hanging it, and the overall deadline bounds even a server that keeps just above the limit.
  curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, kStallBytesPerSecond);
  curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, static_cast<long>(request.stall_timeout.count()));
  curl_easy_setopt(h, CURLOPT_TIMEOUT, static_cast<long>(request.total_timeout.count()));
  // The fixture server is on loopback; a proxy from the environment must not get in between.
  curl_easy_setopt(h, CURLOPT_NOPROXY, "127.0.0.1,localhost,::1");

  const CURLcode code = curl_easy_perform(h);
  if (!transfer.error.ok()) return transfer.error;
  if (code != CURLE_OK) {
    const std::string_view detail = error_text[0] != '\0'
                                        ? std::string_view(error_text.data())
                                        : std::string_view(curl_easy_strerror(code));
    return Status::Error(fmt::format("download of {} failed: {}", request.url, trim_space(detail)));
  }
  if (!transfer.head_complete) {
    return Status::Error(fmt::format(
        "download of {} failed: the connection closed inside the response headers", request.url));
  }
  if (!transfer.head_delivered && !transfer.deliver_head()) return transfer.error;
  const int status = transfer.head.status;
  const bool has_body = status != 304 && status != 204 && !(status >= 100 && status < 200);
  if (has_body && transfer.head.content_length &&
      *transfer.head.content_length != transfer.body_bytes) {
    return Status::Error(fmt::format("download of {} failed: received {} of {} bytes", request.url,
                                     transfer.body_bytes, *transfer.head.content_length));
  }
  return Status::Ok();
}

}  // namespace peakbench
