#pragma once
// The one place that reads argv (STYLE rule 5). Each module registers its subcommand here and
// turns CLI11's strings into its own validated options struct before doing anything.

#include <CLI/CLI.hpp>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace peakbench {

/// What a subcommand does once argv parsed; runs after CLI11 is done.
using CommandAction = std::function<ExitCode()>;

/// The subcommands registered so far and what each does; real_main runs the parsed one.
class Commands {
 public:
  explicit Commands(CLI::App& app) : app_(app) {}
  CLI::App& app() { return app_; }
  /// Adds `name` to the app; `action` runs when it is the subcommand given.
  CLI::App* add(std::string name, std::string description, CommandAction action);
  /// The action of the parsed subcommand, or nullptr.
  const CommandAction* parsed() const;

 private:
  CLI::App& app_;
  std::vector<std::pair<CLI::App*, CommandAction>> entries_;
};

/// CLI11 check for options whose empty value would read as "not given": `--size ''` is an error.
/// No description, so that --help shows the value's name (SIZE, FILE) and not "TEXT:NOT EMPTY".
inline const CLI::Validator kNotEmpty(
    [](std::string& value) { return value.empty() ? std::string("must not be empty") : ""; }, "",
    "NotEmpty");

/// Prints `peakbench: error: MESSAGE` (one line) to stderr and returns `code`.
ExitCode fail(ExitCode code, std::string_view message);

/// True when progress may be printed: stderr is a terminal and `CI` is unset.
bool progress_enabled();

/// The data directory: `BINDIR/../share/peakbench` beside an installed binary, else the source
/// tree a build-tree binary came from; empty when neither exists.
std::filesystem::path data_dir();

/// `name` as given when it names a file; else the data directory's `subdir/name` or
/// `subdir/name.json` (or `name` under the data directory) when that exists; else `name`, so
/// that the error names what the user typed.
std::filesystem::path resolve_data_file(const std::string& name, const std::string& subdir);

// Registration, one per module; each lives beside the code it drives.
// An action captures a shared options struct that the subcommand's CLI11 options fill in.
void add_fixture_commands(Commands& commands);  // cli/fixture_commands.cc: serve, wheel
void add_fetch_command(Commands& commands);     // cli/fetch_command.cc: fetch
void add_run_command(Commands& commands);       // cli/run_command.cc: run
void add_report_commands(
    Commands& commands);  // cli/report_commands.cc: compare, gate, table, merge, plot
void add_subject_commands(Commands& commands);  // cli/subjects.cc: hidden calibration subjects

/// Parses argv and runs the chosen subcommand; returns the process exit status.
int real_main(int argc, char** argv);

}  // namespace peakbench
