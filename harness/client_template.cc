#include "harness/client_template.h"

#include <fmt/format.h>
#include <unistd.h>
#include <wordexp.h>

#include <array>
#include <cstdlib>
#include <memory>
#include <string_view>
#include <utility>

#include "base/safe_text.h"

namespace peakbench {
namespace {

namespace fs = std::filesystem;

constexpr std::array<std::string_view, 6> kPlaceholders = {"index_url", "trusted_host", "cache_dir",
                                                           "work_dir",  "package",      "python"};

std::string_view value_of(std::string_view name, const TemplateValues& v) {
  if (name == "index_url") return v.index_url;
  if (name == "trusted_host") return v.trusted_host;
  if (name == "cache_dir") return v.cache_dir;
  if (name == "work_dir") return v.work_dir;
  if (name == "package") return v.package;
  return v.python;
}

/// Substitutes every `{name}` in `word`; the first unknown name is an error.
Result<std::string> substitute(std::string_view word, const TemplateValues* values) {
  std::string out;
  while (true) {
    const auto open = word.find('{');
    if (open == std::string_view::npos) break;
    const auto close = word.find('}', open);
    if (close == std::string_view::npos) break;
    const std::string_view name = word.substr(open + 1, close - open - 1);
    bool known = false;
    for (std::string_view p : kPlaceholders) known = known || p == name;
    if (!known) {
      return Status::Error(fmt::format(
          "unknown placeholder {{{}}} in client template (known: {{index_url}}, {{trusted_host}}, "
          "{{cache_dir}}, {{work_dir}}, {{package}}, {{python}})",
          name));
    }
    out.append(word.substr(0, open));
    if (values != nullptr) out.append(value_of(name, *values));
    word.remove_prefix(close + 1);
  }
  out.append(word);
  return out;
}

Result<std::vector<std::string>> split_words(const std::string& text) {
  wordexp_t words{};
  const int rc = ::wordexp(text.c_str(), &words, WRDE_NOCMD | WRDE_UNDEF);
  if (rc != 0) {
    if (rc == WRDE_NOSPACE) ::wordfree(&words);
    const char* why = rc == WRDE_BADCHAR  ? "an unquoted shell operator (| & ; < > ( ))"
                      : rc == WRDE_CMDSUB ? "command substitution, which is not run"
                      : rc == WRDE_BADVAL ? "an undefined $variable"
                      : rc == WRDE_SYNTAX ? "unbalanced quotes"
                                          : "too many words";
    return Status::Error(fmt::format("bad client template '{}': {}", text, why));
  }
  std::unique_ptr<wordexp_t, void (*)(wordexp_t*)> guard(&words, ::wordfree);
  std::vector<std::string> out(words.we_wordv, words.we_wordv + words.we_wordc);
  if (out.empty()) return Status::Error("bad client template: it is empty");
  return out;
}

/// Characters wordexp would treat specially that a client template means literally: braces are
/// operators to it, and `* ? [ ]` would be matched against the files of whatever directory
/// peakbench runs in, so one template could run different commands from different places. Each
/// is swapped for a control byte (which a template never holds: see expand_template) and back.
constexpr std::array<std::pair<char, char>, 6> kInert = {
    {{'{', '\x01'}, {'}', '\x02'}, {'*', '\x03'}, {'?', '\x04'}, {'[', '\x05'}, {']', '\x06'}}};

std::string hide_literals(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    for (auto [shown, hidden] : kInert) {
      if (c == shown) c = hidden;
    }
  }
  return out;
}

std::string show_literals(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    for (auto [shown, hidden] : kInert) {
      if (c == hidden) c = shown;
    }
  }
  return out;
}

Result<std::pair<std::string, std::string>> split_assignment(const std::string& text,
                                                             std::string_view flag) {
  const auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == text.size()) {
    return Status::Error(fmt::format("bad {} '{}': expected NAME=VALUE", flag, text));
  }
  std::string name = text.substr(0, eq);
  // The name becomes part of file names (logs, cache and target dirs) and of the table.
  const bool name_ok =
      name.front() != '.' &&
      name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") ==
          std::string::npos;
  if (!name_ok) {
    return Status::Error(fmt::format(
        "bad {} name '{}': use letters, digits, '.', '_' and '-', not starting with '.'", flag,
        name));
  }
  std::string value = text.substr(eq + 1);
  // What follows the name reaches the report (the command), which holds UTF-8 text only.
  if (!is_valid_utf8(value) || value.find_first_of("\r\n") != std::string::npos) {
    return Status::Error(
        fmt::format("bad {} {}: the value is not one line of UTF-8 text", flag, name));
  }
  return std::pair{std::move(name), std::move(value)};
}

/// is_directory that never throws: a name too long, a loop or no permission are all "not one".
bool is_dir(const fs::path& path) {
  std::error_code ec;
  return fs::is_directory(path, ec);
}

}  // namespace

Result<std::filesystem::path> find_executable(const std::string& program) {
  if (program.find('/') != std::string::npos) {
    if (::access(program.c_str(), X_OK) == 0 && !is_dir(program)) return fs::path(program);
    return Status::Error(fmt::format("interpreter {} not found or not executable", program));
  }
  const char* path_env = std::getenv("PATH");
  std::string_view path = path_env != nullptr ? path_env : "/usr/bin:/bin";
  while (!path.empty()) {
    const auto colon = path.find(':');
    const fs::path candidate = fs::path(path.substr(0, colon)) / program;
    if (::access(candidate.c_str(), X_OK) == 0 && !is_dir(candidate)) return candidate;
    if (colon == std::string_view::npos) break;
    path.remove_prefix(colon + 1);
  }
  return Status::Error(fmt::format("interpreter {} not found on PATH", program));
}

Result<ClientSpec> parse_client(const std::string& text) {
  auto parts = split_assignment(text, "--client");
  if (!parts) return parts.status();
  ClientSpec spec;
  spec.name = parts->first;
  spec.command_template = parts->second;
  auto words = expand_template(spec.command_template, TemplateValues{});
  if (!words) return words.status();
  return spec;
}

Result<ClientSpec> parse_pip_client(const std::string& text) {
  auto parts = split_assignment(text, "--pip");
  if (!parts) return parts.status();
  ClientSpec spec;
  spec.name = parts->first;
  spec.command_template = kPipTemplate;
  const fs::path target = parts->second;
  if (is_dir(target)) {
    std::error_code ec;
    if (!fs::exists(target / "src" / "pip" / "__init__.py", ec)) {
      return Status::Error(
          fmt::format("--pip {}: {} is a directory but not a pip checkout (no src/pip)", spec.name,
                      target.string()));
    }
    auto python = find_executable("python3");
    if (!python) return python.status();
    spec.python = python->string();
    spec.env["PYTHONPATH"] = fs::absolute(target / "src", ec).string();
    if (ec) {
      return Status::Error(
          fmt::format("--pip {}: {}: {}", spec.name, target.string(), ec.message()));
    }
    spec.checkout = fs::absolute(target, ec);
    return spec;
  }
  auto python = find_executable(target.string());
  if (!python) return Status::Error(fmt::format("--pip {}: {}", spec.name, python.message()));
  spec.python = python->string();
  return spec;
}

Result<std::vector<std::string>> expand_template(const std::string& command_template,
                                                 const TemplateValues& values) {
  // Check placeholders on the raw text first, so the message shows what the user wrote.
  if (auto checked = substitute(command_template, nullptr); !checked) return checked.status();
  for (char c : command_template) {
    if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == '\x7f') {
      return Status::Error(fmt::format("bad client template: it holds control character 0x{:02x}",
                                       static_cast<unsigned char>(c)));
    }
  }
  auto words = split_words(hide_literals(command_template));
  if (!words) return words.status();
  std::vector<std::string> argv;
  for (const std::string& word : *words) {
    auto expanded = substitute(show_literals(word), &values);
    if (!expanded) return expanded.status();
    argv.push_back(std::move(*expanded));
  }
  return argv;
}

}  // namespace peakbench
