#pragma once
// External clients (DESIGN §5): a command template with placeholders, run like a built-in subject.

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "base/status.h"

namespace peakbench {

/// The values a template's placeholders take for one run.
struct TemplateValues {
  std::string index_url;     ///< {index_url}
  std::string trusted_host;  ///< {trusted_host}
  std::string cache_dir;     ///< {cache_dir}
  std::string work_dir;      ///< {work_dir}
  std::string package;       ///< {package}: a requirement such as `name==1.0.0`
  std::string python;        ///< {python}
};

/// An external client as the user named it: `--client NAME=TEMPLATE` or `--pip NAME=PYTHON`.
struct ClientSpec {
  std::string name;
  std::string command_template;            ///< shell-like words, placeholders in braces
  std::string python;                      ///< the interpreter for {python} (may be empty)
  std::map<std::string, std::string> env;  ///< extra environment (PYTHONPATH for a pip checkout)
  std::filesystem::path checkout;          ///< a pip source checkout (`--pip NAME=DIR`), else empty
};

/// The pip preset of DESIGN §5, as PR #11143's script ran it.
inline constexpr const char* kPipTemplate =
    "{python} -m pip install --no-deps --disable-pip-version-check --quiet "
    "--index-url {index_url} --trusted-host {trusted_host} --cache-dir {cache_dir} "
    "--target {work_dir} {package}";

/// The pip preset for a suite with a dependency tree: pip resolves and installs the whole tree.
inline constexpr const char* kPipTreeTemplate =
    "{python} -m pip install --disable-pip-version-check --quiet "
    "--index-url {index_url} --trusted-host {trusted_host} --cache-dir {cache_dir} "
    "--target {work_dir} {package}";

/// Parses `NAME=TEMPLATE`; rejects an empty name, an empty template and unknown placeholders.
Result<ClientSpec> parse_client(const std::string& text);

/// Parses `NAME=PYTHON` for the pip preset. PYTHON is an interpreter (a path or a name on PATH)
/// or a pip source checkout (a directory with src/pip), which runs with `python3` from PATH and
/// the checkout's `src` on PYTHONPATH. A missing interpreter or checkout is a one-line error.
Result<ClientSpec> parse_pip_client(const std::string& text);

/// Splits the template into words as a POSIX shell would (wordexp(3): quotes group, $VARS of the
/// environment expand, command substitution is refused), then substitutes the placeholders in
/// each word, so a value with spaces stays one argument.
Result<std::vector<std::string>> expand_template(const std::string& command_template,
                                                 const TemplateValues& values);

/// The interpreter named by `python`: an existing executable path, or a name found on PATH.
Result<std::filesystem::path> find_executable(const std::string& program);

}  // namespace peakbench
