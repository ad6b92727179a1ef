// `peakbench serve` and `peakbench wheel` (DESIGN §5): argv to validated options, then the
// fixtures.

#include <fmt/format.h>
#include <pthread.h>
#include <signal.h>

#include <charconv>
#include <cstdlib>
#include <iostream>
#include <memory>

#include "base/size.h"
#include "cli/cli.h"
#include "fixtures/server.h"
#include "fixtures/wheel_image.h"
#include "harness/run_options.h"

namespace peakbench {
namespace {

// What both commands take to describe a wheel, as typed on the command line.
struct WheelArgs {
  std::string size;
  std::string name = WheelSpec{}.name;
  std::string version = WheelSpec{}.version;
  std::string seed = "0";
  std::string hash_cache;
};

void add_wheel_options(CLI::App* sub, WheelArgs& args) {
  sub->add_option("--name", args.name, "project name")->capture_default_str();
  sub->add_option("--wheel-version", args.version, "project version of the wheel")
      ->capture_default_str();
  // The old spelling, kept working but out of --help: it read like the global --version.
  sub->add_option("--version", args.version, "same as --wheel-version")->group("");
  sub->add_option("--seed", args.seed, "seed of the payload bytes")->capture_default_str();
  sub->add_option("--hash-cache", args.hash_cache,
                  "directory keeping wheel hashes between runs (default: $XDG_CACHE_HOME/peakbench "
                  "or ~/.cache/peakbench)");
}

// The hash cache directory: the flag, else the user's cache directory (only the CLI reads the
// environment), else none.
std::filesystem::path hash_cache_dir(const WheelArgs& args) {
  if (!args.hash_cache.empty()) return args.hash_cache;
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg != nullptr && *xdg != '\0') {
    return std::filesystem::path(xdg) / "peakbench";
  }
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
    return std::filesystem::path(home) / ".cache" / "peakbench";
  }
  return {};
}

Result<WheelSpec> to_spec(const WheelArgs& args) {
  Result<std::uint64_t> size = parse_size(args.size);
  if (!size) return Status::Error(fmt::format("--size: {}", size.message()));
  if (*size > kMaxWheelBytes) {
    return Status::Error(fmt::format("--size: the largest wheel is {}", kMaxWheelBytesWhy));
  }
  // Parsed here rather than by CLI11, which wraps -1 and 2^64 into a seed silently.
  std::uint64_t seed = 0;
  const char* end = args.seed.data() + args.seed.size();
  if (auto [ptr, ec] = std::from_chars(args.seed.data(), end, seed);
      args.seed.empty() || ec != std::errc() || ptr != end) {
    return Status::Error(fmt::format(
        "bad --seed '{}': expected an integer from 0 to 18446744073709551615", args.seed));
  }
  WheelSpec spec;
  spec.name = args.name;
  spec.version = args.version;
  spec.seed = seed;
  spec.size_bytes = *size;
  return spec;
}

struct ServeArgs {
  ServeArgs() { wheel.size = "500MiB"; }
  WheelArgs wheel;
  int port = 0;
  std::string bind = "127.0.0.1";
  std::string variant = "pypi";
  std::string fault = "none";
  std::string suite;
};

ExitCode serve(const ServeArgs& args) {
  Result<WheelSpec> spec = to_spec(args.wheel);
  if (!spec) return fail(ExitCode::usage, spec.message());
  Result<HeaderVariant> variant = parse_header_variant(args.variant);
  if (!variant) return fail(ExitCode::usage, fmt::format("--variant: {}", variant.message()));
  Result<FaultPlan> faults = parse_fault_plan(args.fault);
  if (!faults) return fail(ExitCode::usage, fmt::format("--fault: {}", faults.message()));

  // Block the stop signals before any thread exists, so that every thread inherits the mask and
  // only sigwait below receives them (no handler runs at an arbitrary point).
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  ServerOptions options;
  options.bind_address = args.bind;
  options.port = static_cast<std::uint16_t>(args.port);
  options.wheels = {*spec};
  if (!args.suite.empty()) {
    // A suite's dependency tree instead of the one wheel: what `peakbench run` would serve.
    auto packages = read_suite_packages(args.suite);
    if (!packages) return fail(ExitCode::usage, packages.message());
    options.wheels.clear();
    for (const PackageSpec& package : *packages) options.wheels.push_back(to_wheel_spec(package));
  }
  if (progress_enabled()) {
    std::cerr << fmt::format("peakbench: preparing {} ({} bytes){}\n", options.wheels[0].name,
                             options.wheels[0].size_bytes,
                             options.wheels.size() > 1
                                 ? fmt::format(" and {} more wheels", options.wheels.size() - 1)
                                 : "");
  }
  options.hash_cache_dir = hash_cache_dir(args.wheel);
  options.variant = *variant;
  options.faults = *faults;
  Result<std::unique_ptr<FixtureServer>> server = FixtureServer::start(options);
  if (!server) return fail(ExitCode::usage, server.message());

  std::cout << (*server)->index_url() << std::endl;  // endl: scripts wait for this line
  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  (*server)->stop();
  return ExitCode::ok;
}

struct WheelCommandArgs {
  WheelArgs wheel;
  std::string out;
};

ExitCode write_wheel(const WheelCommandArgs& args) {
  Result<WheelSpec> spec = to_spec(args.wheel);
  if (!spec) return fail(ExitCode::usage, spec.message());
  Result<std::shared_ptr<const WheelImage>> image =
      WheelImage::create(*spec, hash_cache_dir(args.wheel));
  if (!image) return fail(ExitCode::usage, image.message());
  if (Status s = (*image)->write_to(args.out); !s) return fail(ExitCode::usage, s.message());
  return ExitCode::ok;
}

}  // namespace

void add_fixture_commands(Commands& commands) {
  auto serve_args = std::make_shared<ServeArgs>();
  CLI::App* serve_cmd =
      commands.add("serve",
                   "Serve synthetic wheels from a PyPI-like index (PEP 503/691, PEP 658 "
                   "metadata) until SIGINT/SIGTERM",
                   [serve_args] { return serve(*serve_args); });
  serve_cmd->add_option("--size", serve_args->wheel.size, "wheel size, e.g. 500MiB, 1GiB")
      ->capture_default_str();
  serve_cmd->add_option("--port", serve_args->port, "TCP port 0-65535 (0: ephemeral)")
      ->check(CLI::Range(0, 65535).description(""))
      ->capture_default_str();
  serve_cmd->add_option("--bind", serve_args->bind, "address to listen on (loopback unless given)")
      ->capture_default_str();
  serve_cmd
      ->add_option(
          "--variant", serve_args->variant,
          "file cache headers: pypi, no-store, max-age=N, no-etag, no-last-modified, vary[=H]")
      ->capture_default_str();
  serve_cmd
      ->add_option("--fault", serve_args->fault,
                   "fault on file downloads, to reproduce one by hand: none, cut=BYTES, "
                   "length=BYTES, stall=MS, status=CODE (comma-separated)")
      ->capture_default_str();
  serve_cmd->add_option("--suite", serve_args->suite,
                        "serve the dependency tree of this suite's \"packages\" instead of one "
                        "wheel (e.g. scenarios/deps.json)");
  add_wheel_options(serve_cmd, serve_args->wheel);

  auto wheel_args = std::make_shared<WheelCommandArgs>();
  CLI::App* wheel_cmd = commands.add("wheel", "Write a synthetic wheel file",
                                     [wheel_args] { return write_wheel(*wheel_args); });
  wheel_cmd->add_option("--size", wheel_args->wheel.size, "wheel size, e.g. 64MiB")->required();
  wheel_cmd->add_option("--out", wheel_args->out, "output file (.whl)")->required();
  add_wheel_options(wheel_cmd, wheel_args->wheel);
}

}  // namespace peakbench
