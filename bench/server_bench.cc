// The embedded server's throughput to a libcurl client over loopback (one download of the
// whole wheel per iteration, body discarded). scripts/serve-bench compares it with nginx.
#include <benchmark/benchmark.h>
#include <curl/curl.h>

#include <memory>

#include "fixtures/server.h"

namespace {

void BM_ServeWheelOverLoopback(benchmark::State& state) {
  peakbench::ServerOptions options;
  peakbench::WheelSpec spec;
  spec.size_bytes = static_cast<std::uint64_t>(state.range(0));
  options.wheels = {spec};
  options.chunk_bytes = static_cast<std::size_t>(state.range(1));
  auto server = peakbench::FixtureServer::start(options);
  if (!server) {
    state.SkipWithError(server.message().c_str());
    return;
  }
  const std::string url = (*server)->base_url() + (*server)->file_path();
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), &curl_easy_cleanup);
  curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
  using WriteFn = size_t (*)(char*, size_t, size_t, void*);
  WriteFn discard = [](char*, size_t size, size_t n, void*) { return size * n; };
  curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, discard);
  for (auto _ : state) {
    if (curl_easy_perform(curl.get()) != CURLE_OK) {
      state.SkipWithError("download failed");
      return;
    }
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}
// Wall time: the server's threads and curl share the work.
BENCHMARK(BM_ServeWheelOverLoopback)
    ->Args({256 << 20, 64 << 10})
    ->Args({256 << 20, 256 << 10})
    ->Args({256 << 20, 1 << 20})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
