// Speed of the built-in subjects' parts: packing and unpacking a whole-body entry, and whole
// fetch() runs (cold and warm, both strategies) against the embedded server over loopback.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstddef>
#include <filesystem>
#include <vector>

#include "fixtures/server.h"
#include "scenarios/cache_entry.h"
#include "scenarios/phase_probe.h"
#include "scenarios/strategy.h"

namespace {

peakbench::CachedResponse sample_response(std::size_t body_bytes) {
  peakbench::CachedResponse response;
  response.headers.add("Content-Length", std::to_string(body_bytes));
  response.headers.add("ETag", "\"0123456789abcdef0123456789abcdef\"");
  response.headers.add("Date", "Wed, 25 Nov 2026 15:00:00 GMT");
  response.headers.add("Cache-Control", "max-age=365000000, immutable, public");
  return response;
}

void BM_EncodeWholeBodyEntry(benchmark::State& state) {
  const std::vector<std::byte> body(static_cast<std::size_t>(state.range(0)), std::byte{7});
  const peakbench::CachedResponse response = sample_response(body.size());
  for (auto _ : state) {
    msgpack::sbuffer packed(body.size() + peakbench::metadata_bytes_bound(response));
    if (!peakbench::encode_entry(response, body, packed).ok()) state.SkipWithError("encode");
    benchmark::DoNotOptimize(packed.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_EncodeWholeBodyEntry)->Arg(16 << 20)->Unit(benchmark::kMillisecond);

void BM_DecodeWholeBodyEntry(benchmark::State& state) {
  const std::vector<std::byte> body(static_cast<std::size_t>(state.range(0)), std::byte{7});
  const peakbench::CachedResponse response = sample_response(body.size());
  msgpack::sbuffer packed;
  if (!peakbench::encode_entry(response, body, packed).ok()) state.SkipWithError("encode");
  const auto bytes = std::as_bytes(std::span(packed.data(), packed.size()));
  for (auto _ : state) {
    auto decoded = peakbench::decode_entry(bytes);
    if (!decoded.ok()) state.SkipWithError("decode");
    benchmark::DoNotOptimize(decoded);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_DecodeWholeBodyEntry)->Arg(16 << 20)->Unit(benchmark::kMillisecond);

// One fetch() per iteration in this process; arg 0: strategy, arg 1: warm (1) or cold (0).
void BM_Fetch(benchmark::State& state) {
  namespace fs = std::filesystem;
  const auto strategy =
      state.range(0) == 0 ? peakbench::Strategy::whole_body : peakbench::Strategy::streaming;
  const bool warm = state.range(1) == 1;
  peakbench::ServerOptions options;
  peakbench::WheelSpec spec;
  spec.size_bytes = 32 << 20;
  options.wheels = {spec};
  auto server = peakbench::FixtureServer::start(options);
  if (!server) {
    state.SkipWithError(server.message().c_str());
    return;
  }
  // The error_code overloads: a TMPDIR that names no directory, or a cache that cannot be
  // removed, ends this benchmark with its reason instead of an uncaught filesystem_error.
  std::error_code ec;
  const fs::path tmp = fs::temp_directory_path(ec);
  if (ec) {
    state.SkipWithError(("no temporary directory: " + ec.message()).c_str());
    return;
  }
  const fs::path dir = tmp / ("peakbench-fetch-bench-" + std::to_string(::getpid()));
  peakbench::FetchOptions fetch_options;
  fetch_options.strategy = strategy;
  fetch_options.cache_dir = dir;
  fetch_options.url = (*server)->file_url();
  peakbench::NullPhaseProbe probe;
  if (warm && !peakbench::fetch(fetch_options, probe).ok()) state.SkipWithError("first fetch");
  for (auto _ : state) {
    if (!warm) {
      state.PauseTiming();
      fs::remove_all(dir, ec);
      state.ResumeTiming();
      if (ec) {
        state.SkipWithError(("cannot empty " + dir.string() + ": " + ec.message()).c_str());
        break;
      }
    }
    auto result = peakbench::fetch(fetch_options, probe);
    if (!result.ok()) state.SkipWithError(result.message().c_str());
    benchmark::DoNotOptimize(result);
  }
  fs::remove_all(dir, ec);
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * (32 << 20));
}
BENCHMARK(BM_Fetch)
    ->ArgNames({"streaming", "warm"})
    ->Args({0, 0})
    ->Args({0, 1})
    ->Args({1, 0})
    ->Args({1, 1})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
