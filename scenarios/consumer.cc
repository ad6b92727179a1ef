#include "scenarios/consumer.h"

#include <fmt/format.h>
#include <openssl/evp.h>

#include <array>

namespace peakbench {
namespace {

using DigestContext = std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)>;

std::string to_hex(const unsigned char* digest, unsigned int length) {
  std::string hex;
  hex.reserve(std::size_t{2} * length);
  for (unsigned int i = 0; i < length; ++i) hex += fmt::format("{:02x}", digest[i]);
  return hex;
}

DigestContext new_sha256() {
  DigestContext context(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  if (context && EVP_DigestInit_ex(context.get(), EVP_sha256(), nullptr) != 1) context.reset();
  return context;
}

}  // namespace

struct BodyConsumer::State {
  std::filesystem::path out_path;
  std::string expected_sha256_hex;
  DigestContext digest{nullptr, &EVP_MD_CTX_free};
  std::optional<AtomicFile> out;
};

BodyConsumer::BodyConsumer(std::unique_ptr<State> state, PhaseProbe& probe)
    : state_(std::move(state)), probe_(&probe) {}
BodyConsumer::BodyConsumer(BodyConsumer&&) noexcept = default;
BodyConsumer& BodyConsumer::operator=(BodyConsumer&&) noexcept = default;
BodyConsumer::~BodyConsumer() = default;

Result<BodyConsumer> BodyConsumer::open(std::filesystem::path out, std::string expected_sha256_hex,
                                        PhaseProbe& probe) {
  auto state = std::make_unique<State>();
  state->out_path = std::move(out);
  state->expected_sha256_hex = std::move(expected_sha256_hex);
  BodyConsumer consumer(std::move(state), probe);
  if (Status s = consumer.restart(); !s) return s;
  return consumer;
}

Status BodyConsumer::restart() {
  bytes_ = 0;
  state_->digest = new_sha256();
  if (!state_->digest) return Status::Error("cannot start a sha256 digest");
  state_->out.reset();  // abandons a partial output
  if (!state_->out_path.empty()) {
    auto file = AtomicFile::create(state_->out_path);
    if (!file) return file.status();
    state_->out.emplace(std::move(*file));
  }
  return Status::Ok();
}

Status BodyConsumer::feed(std::span<const std::byte> bytes) {
  if (EVP_DigestUpdate(state_->digest.get(), bytes.data(), bytes.size()) != 1) {
    return Status::Error("sha256 digest failed");
  }
  bytes_ += bytes.size();
  if (state_->out) {
    if (Status s = state_->out->write(bytes); !s) return s;
    probe_->add_bytes_written(bytes.size());
  }
  return Status::Ok();
}

Result<std::string> BodyConsumer::finish_hash() {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  if (EVP_DigestFinal_ex(state_->digest.get(), digest.data(), &length) != 1) {
    return Status::Error("sha256 digest failed");
  }
  std::string hex = to_hex(digest.data(), length);
  if (!state_->expected_sha256_hex.empty() && hex != state_->expected_sha256_hex) {
    return Status::Error(
        fmt::format("sha256 mismatch: expected {}, got {}", state_->expected_sha256_hex, hex));
  }
  return hex;
}

Status BodyConsumer::commit() {
  if (!state_->out) return Status::Ok();
  return state_->out->commit();
}

std::string sha256_hex(std::span<const std::byte> bytes) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest.data(), &length, EVP_sha256(), nullptr);
  return to_hex(digest.data(), length);
}

}  // namespace peakbench
