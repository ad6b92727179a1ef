#include "cli/cli.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "base/safe_text.h"
#include "peakbench/version.h"

namespace peakbench {

ExitCode fail(ExitCode code, std::string_view message) {
  // One line whatever the message quotes: a newline or a stray byte from argv is escaped.
  std::cerr << "peakbench: error: " << printable(message) << '\n';
  return code;
}

bool progress_enabled() {
  const char* ci = std::getenv("CI");
  return ::isatty(STDERR_FILENO) == 1 && (ci == nullptr || *ci == '\0');
}

std::filesystem::path data_dir() {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    fs::path installed = (exe.parent_path() / kDataDirFromBinDir).lexically_normal();
    if (fs::is_directory(installed / "scenarios", ec)) return installed;
  }
#ifdef PEAKBENCH_BUILD_SOURCE_DIR
  if (fs::is_directory(fs::path(PEAKBENCH_BUILD_SOURCE_DIR) / "scenarios", ec)) {
    return PEAKBENCH_BUILD_SOURCE_DIR;
  }
#endif
  return {};
}

std::filesystem::path resolve_data_file(const std::string& name, const std::string& subdir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (name.empty() || fs::exists(name, ec)) return name;
  const fs::path data = data_dir();
  if (data.empty() || fs::path(name).is_absolute()) return name;
  for (const fs::path& candidate :
       {data / subdir / name, data / subdir / (name + ".json"), data / name}) {
    if (fs::is_regular_file(candidate, ec)) return candidate;
  }
  return name;
}

namespace {

// What each value is, by option name, so --help says SIZE or FILE where CLI11 would say TEXT.
// "command --option" entries win over "--option" ones. Options that name their own type keep it.
const std::map<std::string, std::string>& metavars() {
  static const std::map<std::string, std::string> names{
      {"--suite", "FILE|NAME"},
      {"--size", "SIZE"},
      {"run --size", "SIZE[,SIZE...]"},
      {"run --strategy", "S[,S...]"},
      {"--strategy", "STRATEGY"},
      {"--phase", "PHASE[,PHASE...]"},
      {"--client", "NAME=TEMPLATE"},
      {"--pip", "NAME=PYTHON|DIR"},
      {"--repeat", "N"},
      {"--label", "TEXT"},
      {"--out", "FILE"},
      {"--format", "FORMAT"},
      {"--shard", "I/N"},
      {"--allocator", "glibc|jemalloc"},
      {"--sample-ms", "MS"},
      {"--memory-limit", "SIZE"},
      {"--work-dir", "DIR"},
      {"--git-dir", "DIR"},
      {"--linger", "SECONDS"},
      {"--page-cache", "keep|drop"},
      {"--tmpdir", "disk|tmpfs|DIR"},
      {"--resume-cut", "FRACTION"},
      {"--concurrency", "N"},
      {"--timeout", "SECONDS"},
      {"--stall-timeout", "SECONDS"},
      {"--fault", "FAULT[,FAULT...]"},
      {"--port", "PORT"},
      {"--bind", "ADDR"},
      {"--variant", "VARIANT"},
      {"--name", "NAME"},
      {"--wheel-version", "VERSION"},
      {"--seed", "N"},
      {"--hash-cache", "DIR"},
      {"--cache-dir", "DIR"},
      {"--rules", "FILE"},
      {"--baseline", "FILE"},
      {"--max-increase", "PCT"},
      {"--junit", "FILE"},
      {"--mib", "N"},
      {"--hold-ms", "MS"},
      {"--orphan-ms", "MS"},
      {"--signal", "N"},
      {"report", "REPORT.json"},
      {"before", "BEFORE.json"},
      {"after", "AFTER.json"},
      {"inputs", "REPORT.json..."},
      {"url", "URL"},
  };
  return names;
}

// Examples under each command's --help (and the man page, which help2man makes from --help).
const std::map<std::string, std::string>& examples() {
  static const std::map<std::string, std::string> text{
      {"run",
       "Examples:\n"
       "  peakbench run --suite default                 the installed default suite\n"
       "  peakbench run --size 16MiB --repeat 1 --out r.json\n"
       "  peakbench run --strategy none --pip new=/usr/bin/python3 --size 100MiB\n"
       "  peakbench run --suite ci --shard 1/2 --out shard-1.json"},
      {"serve",
       "Examples:\n"
       "  peakbench serve --size 500MiB --port 8080\n"
       "  pip download --no-deps --index-url http://127.0.0.1:8080/simple/ peakbench_payload"},
      {"wheel",
       "Example:\n  peakbench wheel --size 64MiB --out peakbench_payload-1.0.0-py3-none-any.whl"},
      {"compare", "Example:\n  peakbench compare before.json after.json --format md"},
      {"gate",
       "Example:\n"
       "  peakbench gate report.json --rules reports/gates.json --baseline reports/baseline.json "
       "--junit gate.xml"},
      {"merge", "Example:\n  peakbench merge --out merged.json shard-1.json shard-2.json"},
      {"plot", "Example:\n  peakbench plot report.json --out report.svg"},
  };
  return text;
}

bool default_type_name(const std::string& name) {
  return name.empty() || name == "TEXT" || name == "INT" || name == "UINT" || name == "FLOAT" ||
         name == "NUMBER" || name == "[TEXT]" || name == "TEXT ..." || name == "ENUM";
}

void name_values(CLI::App& app) {
  const auto& names = metavars();
  for (CLI::App* sub : app.get_subcommands({})) {
    for (CLI::Option* opt : sub->get_options()) {
      if (opt->get_type_size_max() == 0) continue;  // a flag
      if (!opt->get_positional() && opt->get_lnames().empty()) continue;
      if (!default_type_name(opt->get_type_name())) continue;
      const std::string key =
          opt->get_positional() ? opt->get_name() : "--" + opt->get_lnames().front();
      auto it = names.find(sub->get_name() + " " + key);
      if (it == names.end()) it = names.find(key);
      if (it != names.end()) opt->type_name(it->second);
    }
    if (auto it = examples().find(sub->get_name()); it != examples().end()) sub->footer(it->second);
  }
}

}  // namespace

CLI::App* Commands::add(std::string name, std::string description, CommandAction action) {
  CLI::App* sub = app_.add_subcommand(std::move(name), std::move(description));
  entries_.emplace_back(sub, std::move(action));
  return sub;
}

const CommandAction* Commands::parsed() const {
  for (const auto& [sub, action] : entries_) {
    if (sub->parsed()) return &action;
  }
  return nullptr;
}

namespace {

int dispatch(int argc, char** argv) {
  CLI::App app{"peakbench: peak-memory benchmarks and regression gates for HTTP-cache clients"};
  app.set_version_flag("--version", fmt::format("peakbench {} ({})", kVersion, kGitDescribe));
  app.require_subcommand(1);
  app.fallthrough(false);

  Commands commands(app);
  add_run_command(commands);
  add_fixture_commands(commands);
  add_fetch_command(commands);
  add_report_commands(commands);
  add_subject_commands(commands);
  name_values(app);
  app.footer(
      "Run 'peakbench COMMAND --help' for a command's options.\n"
      "Examples:\n"
      "  peakbench run --suite default\n"
      "  peakbench run --size 16MiB --repeat 1 --out report.json\n"
      "  peakbench compare before.json after.json\n"
      "  peakbench gate report.json --rules reports/gates.json\n"
      "Exit status: 0 ok, 1 a gate or a scenario failed, 2 bad usage or bad input.");

  // CLI11 would say "A subcommand is required" for a misspelt one; name it instead.
  if (argc > 1 && argv[1][0] != '-') {
    bool known = false;
    for (const CLI::App* sub : app.get_subcommands({})) known = known || sub->get_name() == argv[1];
    if (!known) {
      return static_cast<int>(fail(
          ExitCode::usage, fmt::format("unknown command '{}' (see peakbench --help)", argv[1])));
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // CLI11 messages are one line already; keep the contract's exit status for bad usage.
    return static_cast<int>(fail(ExitCode::usage, e.what()));
  }
  if (const CommandAction* action = commands.parsed()) return static_cast<int>((*action)());
  return static_cast<int>(fail(ExitCode::usage, "no subcommand given"));
}

}  // namespace

int real_main(int argc, char** argv) {
  // The last resort: an exception that a command did not turn into a status is still one line
  // and exit 2, never std::terminate's abort (which loses the finished runs and the message).
  try {
    return dispatch(argc, argv);
  } catch (const std::exception& e) {
    return static_cast<int>(fail(ExitCode::usage, fmt::format("internal error: {}", e.what())));
  } catch (...) {
    return static_cast<int>(fail(ExitCode::usage, "internal error: unknown exception"));
  }
}

}  // namespace peakbench
