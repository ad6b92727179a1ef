// Speed of the synthetic wheel: payload generation (target >= 4 GB/s on one core, DESIGN §6),
// the hashes computed over it, and read_at as the server calls it.
#include <benchmark/benchmark.h>
#include <openssl/evp.h>
#include <zlib.h>

#include <cstddef>
#include <vector>

#include "fixtures/wheel_image.h"

namespace {

void BM_GeneratePayload(benchmark::State& state) {
  std::vector<std::byte> buf(static_cast<std::size_t>(state.range(0)));
  std::uint64_t offset = 0;
  for (auto _ : state) {
    peakbench::generate_payload(42, offset, buf);
    offset += buf.size();
    benchmark::DoNotOptimize(buf.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_GeneratePayload)->Arg(64 << 10)->Arg(256 << 10)->Arg(1 << 20);

// An unaligned offset: the first and last blocks are partial.
void BM_GeneratePayloadUnaligned(benchmark::State& state) {
  std::vector<std::byte> buf(static_cast<std::size_t>(state.range(0)));
  std::uint64_t offset = 1234567;
  for (auto _ : state) {
    peakbench::generate_payload(42, offset, buf);
    offset += buf.size() + 13;
    benchmark::DoNotOptimize(buf.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_GeneratePayloadUnaligned)->Arg(256 << 10);

void BM_Sha256(benchmark::State& state) {
  std::vector<std::byte> buf(static_cast<std::size_t>(state.range(0)));
  peakbench::generate_payload(1, 0, buf);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  for (auto _ : state) EVP_DigestUpdate(ctx, buf.data(), buf.size());
  unsigned char md[32];
  unsigned len = 0;
  EVP_DigestFinal_ex(ctx, md, &len);
  EVP_MD_CTX_free(ctx);
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_Sha256)->Arg(1 << 20);

void BM_Crc32(benchmark::State& state) {
  std::vector<std::byte> buf(static_cast<std::size_t>(state.range(0)));
  peakbench::generate_payload(1, 0, buf);
  uLong crc = 0;
  for (auto _ : state) {
    crc = crc32_z(crc, reinterpret_cast<const Bytef*>(buf.data()), buf.size());
    benchmark::DoNotOptimize(crc);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_Crc32)->Arg(1 << 20);

// read_at across the whole wheel in the server's chunk size.
void BM_WheelReadAt(benchmark::State& state) {
  peakbench::WheelSpec spec;
  spec.size_bytes = 8 << 20;
  auto image = peakbench::WheelImage::create(spec);
  if (!image) {
    state.SkipWithError(image.message().c_str());
    return;
  }
  std::vector<std::byte> buf(static_cast<std::size_t>(state.range(0)));
  std::uint64_t offset = 0;
  const std::uint64_t size = (*image)->size_bytes();
  for (auto _ : state) {
    const std::size_t n =
        static_cast<std::size_t>(std::min<std::uint64_t>(buf.size(), size - offset));
    (*image)->read_at(offset, std::span(buf.data(), n));
    offset = offset + n == size ? 0 : offset + n;
    benchmark::DoNotOptimize(buf.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_WheelReadAt)->Arg(256 << 10);

void BM_WheelCreate(benchmark::State& state) {
  peakbench::WheelSpec spec;
  spec.size_bytes = static_cast<std::uint64_t>(state.range(0));
  for (auto _ : state) {
    auto image = peakbench::WheelImage::create(spec);
    benchmark::DoNotOptimize(image);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}
// Wall time: create() hashes on two threads.
BENCHMARK(BM_WheelCreate)->Arg(64 << 20)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
