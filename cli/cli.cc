#include "cli/cli.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdlib>
#include <iostream>
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
