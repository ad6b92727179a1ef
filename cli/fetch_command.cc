// `peakbench fetch`: the built-in subject's entry point (DESIGN §5). Turns argv into FetchOptions,
// runs fetch() and maps its result to the exit status: 0 ok, 1 download failed, 2 bad usage.

#include <curl/curl.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "cli/cli.h"
#include "harness/launcher.h"
#include "harness/subject_probe.h"
#include "scenarios/http_client.h"
#include "scenarios/phase_probe.h"
#include "scenarios/strategy.h"

namespace peakbench {
namespace {

struct FetchArgs {
  std::string strategy;
  std::string cache_dir;
  std::string out;
  std::vector<std::string> urls;
  std::string user_agent;
  bool stats = false;
  unsigned stall_timeout_s = 60;
  unsigned timeout_s = 3600;
};

/// What libcurl would refuse to request (a port past 65535, an unclosed IPv6 bracket, a space,
/// a control character) is bad usage, found before any download starts.
Status check_url_syntax(const std::string& url) {
  std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> handle(curl_url(), curl_url_cleanup);
  if (!handle) return Status::Error("out of memory");
  const CURLUcode rc = curl_url_set(handle.get(), CURLUPART_URL, url.c_str(), 0);
  if (rc != CURLUE_OK) {
    return Status::Error(fmt::format("bad URL '{}': {}", url, curl_url_strerror(rc)));
  }
  return Status::Ok();
}

/// The directory --out is written in must exist: else the download would fail at its end.
Status check_out_dir(const std::filesystem::path& out) {
  const auto dir = out.has_parent_path() ? out.parent_path() : std::filesystem::path(".");
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    return Status::Error(fmt::format("cannot write --out {}: no directory {}{}", out.string(),
                                     dir.string(), ec ? ": " + ec.message() : std::string()));
  }
  return Status::Ok();
}

ExitCode run_fetch(const FetchArgs& args) {
  auto strategy = parse_strategy(args.strategy);
  if (!strategy) return fail(ExitCode::usage, strategy.message());
  for (const std::string& url : args.urls) {
    if (auto parsed = parse_fetch_url(url); !parsed) return fail(ExitCode::usage, parsed.message());
    if (Status s = check_url_syntax(url); !s) return fail(ExitCode::usage, s.message());
  }
  if (args.cache_dir.empty()) return fail(ExitCode::usage, "--cache-dir must not be empty");
  if (!args.out.empty()) {
    if (args.urls.size() > 1) {
      return fail(ExitCode::usage,
                  fmt::format("--out takes one URL, and {} were given", args.urls.size()));
    }
    if (Status s = check_out_dir(args.out); !s) return fail(ExitCode::usage, s.message());
  }

  FetchOptions options;
  options.strategy = *strategy;
  options.cache_dir = args.cache_dir;
  options.out = args.out;
  options.stall_timeout = std::chrono::seconds(args.stall_timeout_s);
  options.total_timeout = std::chrono::seconds(args.timeout_s);
  options.user_agent = args.user_agent;
  // The client's temp dir, as Python's tempfile finds it: $TMPDIR when it names a directory.
  if (const char* tmpdir = std::getenv("TMPDIR"); tmpdir != nullptr && *tmpdir != '\0') {
    options.temp_dir = tmpdir;
  }
  options.on_warning = [](const std::string& line) {
    std::cerr << "peakbench: warning: " << line << '\n';
  };

  // The probe takes its start figure once libcurl (and OpenSSL under it) is initialized: what
  // the subject costs before any body moves. Inside `peakbench run` the launcher hands over a
  // report pipe; elsewhere the probe publishes nothing. It resets the kernel mark at each phase,
  // so the process's peak is the probe's running maximum, not VmHWM at exit.
  http_global_init();
  SubjectProbe probe(parse_report_fd(std::getenv(kReportFdEnv)).value_or(-1));
  // Several URLs (a dependency tree) are fetched one after another into the one cache; the
  // figures add up, the first URL's status and outcome speak for the run, and an outcome that
  // differs among them is listed ("hit,miss").
  FetchResult total;
  std::vector<std::string> outcomes;  // distinct, in first-seen order
  for (std::size_t i = 0; i < args.urls.size(); ++i) {
    options.url = args.urls[i];
    auto result = fetch(options, probe);
    if (!result) {
      const std::string message = args.urls.size() == 1
                                      ? result.message()
                                      : fmt::format("{}: {}", args.urls[i], result.message());
      probe.set_extra("error", message);
      (void)probe.finish();
      return fail(ExitCode::failure, message);
    }
    const std::string outcome(to_string(result->outcome));
    if (std::find(outcomes.begin(), outcomes.end(), outcome) == outcomes.end()) {
      outcomes.push_back(outcome);
    }
    if (i == 0) {
      total = std::move(*result);
      continue;
    }
    total.body_bytes += result->body_bytes;
    total.bytes_received += result->bytes_received;
    total.cache_bytes_written += result->cache_bytes_written;
    total.resumed += result->resumed;
    total.restarted += result->restarted;
    total.warnings.insert(total.warnings.end(), result->warnings.begin(), result->warnings.end());
  }
  const FetchResult* result = &total;
  probe.set_extra("cache_outcome", fmt::format("{}", fmt::join(outcomes, ",")));
  // Through the pipe as well as on stderr: on a full disk the log of stderr may be lost.
  if (!result->warnings.empty()) probe.set_extra("last_warning", result->warnings.back());
  probe.set_extra_number("http_status", result->http_status);
  if (result->resumed > 0) probe.set_extra_number("resumed", result->resumed);
  if (result->restarted > 0) probe.set_extra_number("restarted", result->restarted);
  const SubjectReport marks = probe.snapshot();
  if (Status published = probe.finish(); !published) {
    std::cerr << "peakbench: warning: " << published.message() << '\n';
  }

  if (args.stats) {
    const nlohmann::json stats = {
        {"strategy", to_string(options.strategy)},
        {"outcome", fmt::format("{}", fmt::join(outcomes, ","))},
        {"urls", args.urls.size()},
        {"http_status", result->http_status},
        {"body_bytes", result->body_bytes},
        {"bytes_received", result->bytes_received},
        {"cache_bytes_written", result->cache_bytes_written},
        {"sha256", result->sha256_hex},
        {"warnings", result->warnings.size()},
        {"resumed", result->resumed},
        {"restarted", result->restarted},
        {"start_rss_bytes", marks.start_rss_bytes},
        {"peak_hwm_bytes", marks.peak_rss_bytes},
    };
    std::cout << stats.dump() << '\n';
  }
  return ExitCode::ok;
}

}  // namespace

void add_fetch_command(Commands& commands) {
  auto args = std::make_shared<FetchArgs>();
  CLI::App* sub = commands.add("fetch", "One client run of a built-in strategy (a measured child)",
                               [args] { return run_fetch(*args); });
  sub->add_option("--strategy", args->strategy, "whole-body, streaming or tee-mmap")->required();
  sub->add_option("--cache-dir", args->cache_dir, "pip-style cache directory")->required();
  sub->add_option("--out", args->out, "write the body here (default: hash and discard it)");
  sub->add_option("--stall-timeout", args->stall_timeout_s,
                  "fail when the download moves under 1 KiB/s for this many seconds (1 to 86400)")
      ->check(CLI::Range(1u, 86400u).description(""))
      ->capture_default_str();
  sub->add_option("--timeout", args->timeout_s,
                  "fail when the download takes longer than this many seconds (0: no limit; at "
                  "most 604800)")
      ->check(CLI::Range(0u, 604800u).description(""))
      ->capture_default_str();
  sub->add_option("--user-agent", args->user_agent, "send this User-Agent");
  sub->add_option("url", args->urls,
                  "file URL, or several (a dependency tree, fetched in turn into one cache); a "
                  "#sha256= fragment is checked")
      ->required();
  // Hidden: one JSON line on stdout with the outcome and the start and peak resident sizes.
  sub->add_flag("--stats", args->stats, "print run statistics as JSON")->group("");
}

}  // namespace peakbench
