#include "harness/run_options.h"

#include <fmt/format.h>

#include <charconv>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "base/atomic_file.h"
#include "base/safe_text.h"
#include "base/size.h"
#include "fixtures/wheel_image.h"

namespace peakbench {
namespace {

using nlohmann::json;

std::vector<std::string> split_commas(std::string_view text) {
  std::vector<std::string> out;
  while (true) {
    const auto comma = text.find(',');
    out.emplace_back(text.substr(0, comma));
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

Result<std::vector<std::string>> string_list(const json& value, std::string_view field) {
  std::vector<std::string> out;
  if (value.is_string()) return split_commas(value.get<std::string>());
  if (!value.is_array()) {
    return Status::Error(fmt::format("\"{}\" must be a list of strings", field));
  }
  for (const json& item : value) {
    if (!item.is_string()) {
      return Status::Error(fmt::format("\"{}\" must be a list of strings", field));
    }
    out.push_back(item.get<std::string>());
  }
  return out;
}

struct PackageText {
  std::string name, size;
  std::vector<std::string> requires_dist;
};

// A PEP 508 project name: ASCII letters and digits, with `.`, `_` and `-` inside.
bool valid_project_name(std::string_view name) {
  auto alnum = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  };
  if (name.empty() || name.size() > 100 || !alnum(name.front()) || !alnum(name.back())) {
    return false;
  }
  for (char c : name) {
    if (!alnum(c) && c != '.' && c != '_' && c != '-') return false;
  }
  return true;
}

Result<std::vector<PackageText>> read_packages(const json& value) {
  if (!value.is_array() || value.empty()) {
    return Status::Error(
        "\"packages\" must be a non-empty list of {\"name\", \"size\", \"requires\"}");
  }
  if (value.size() > kMaxPackages) {
    return Status::Error(
        fmt::format("\"packages\" lists {} packages: at most {}", value.size(), kMaxPackages));
  }
  std::vector<PackageText> packages;
  for (std::size_t i = 0; i < value.size(); ++i) {
    const json& item = value[i];
    const std::string at = fmt::format("\"packages[{}]\"", i);
    if (!item.is_object()) return Status::Error(at + " must be an object");
    PackageText package;
    for (const auto& [key, field] : item.items()) {
      if (key == "name" || key == "size") {
        if (!field.is_string()) {
          return Status::Error(fmt::format("{}.{} must be a string", at, key));
        }
        (key == "name" ? package.name : package.size) = field.get<std::string>();
      } else if (key == "requires") {
        auto list = string_list(field, "requires");
        if (!list || !field.is_array()) {
          return Status::Error(at + ".requires must be a list of package names");
        }
        package.requires_dist = *list;
      } else {
        return Status::Error(
            fmt::format("{}: unknown field \"{}\" (name, size, requires)", at, key));
      }
    }
    if (package.name.empty()) return Status::Error(at + " has no \"name\"");
    if (package.size.empty()) return Status::Error(at + " has no \"size\"");
    packages.push_back(std::move(package));
  }
  return packages;
}

struct SuiteText {
  std::vector<std::string> sizes, strategies, phases, clients, pips;
  std::vector<PackageText> packages;
  std::optional<int> repeat;
  std::string label, allocator, tmpdir;
  std::optional<double> resume_cut;
  std::optional<int> concurrency;
};

Result<SuiteText> read_suite_document(const std::filesystem::path& path) {
  auto text = read_file(path);
  if (!text) return Status::Error(fmt::format("cannot read suite {}", path.string()));
  json doc;
  try {
    doc = json::parse(*text);
  } catch (const json::parse_error& e) {
    return Status::Error(
        fmt::format("suite {} is not valid JSON (byte {})", path.string(), e.byte));
  } catch (const json::exception& e) {
    // A number past a double's range (1e999) is out_of_range, not a parse_error.
    return Status::Error(fmt::format("suite {} is not usable JSON: {}", path.string(), e.what()));
  }
  if (!doc.is_object()) {
    return Status::Error(fmt::format("suite {} must be a JSON object", path.string()));
  }
  SuiteText suite;
  static const std::set<std::string> kKnown = {
      "name",      "description", "sizes", "strategies", "phases",     "repeat",      "label",
      "allocator", "clients",     "pips",  "tmpdir",     "resume_cut", "concurrency", "packages"};
  for (const auto& [key, value] : doc.items()) {
    auto where = [&](const Status& s) {
      return Status::Error(fmt::format("suite {}: {}", path.string(), s.message()));
    };
    if (!kKnown.contains(key)) {
      return Status::Error(fmt::format("suite {}: unknown field \"{}\"", path.string(), key));
    }
    if (key == "name" || key == "description") {
      if (!value.is_string()) {
        return where(Status::Error(fmt::format("\"{}\" must be a string", key)));
      }
    } else if (key == "sizes" || key == "strategies" || key == "phases") {
      auto list = string_list(value, key);
      if (!list) return where(list.status());
      if (list->empty()) {
        return where(
            Status::Error(fmt::format("\"{}\" is empty (leave it out for the default{})", key,
                                      key == "strategies" ? ", or say [\"none\"]" : "")));
      }
      (key == "sizes"        ? suite.sizes
       : key == "strategies" ? suite.strategies
                             : suite.phases) = *list;
    } else if (key == "packages") {
      auto packages = read_packages(value);
      if (!packages) return where(packages.status());
      suite.packages = std::move(*packages);
    } else if (key == "concurrency") {
      if (!value.is_number_integer()) {
        return where(Status::Error("\"concurrency\" must be an integer"));
      }
      suite.concurrency = value.get<int>();
    } else if (key == "repeat") {
      // Checked before the conversion: 4294967297 must not become 1.
      if (!value.is_number_integer() || value.get<std::int64_t>() < 1 ||
          value.get<std::int64_t>() > kMaxRepeat) {
        return where(
            Status::Error(fmt::format("\"repeat\" must be an integer from 1 to {}", kMaxRepeat)));
      }
      suite.repeat = static_cast<int>(value.get<std::int64_t>());
    } else if (key == "label" || key == "allocator" || key == "tmpdir") {
      if (!value.is_string()) {
        return where(Status::Error(fmt::format("\"{}\" must be a string", key)));
      }
      (key == "label"       ? suite.label
       : key == "allocator" ? suite.allocator
                            : suite.tmpdir) = value.get<std::string>();
    } else if (key == "resume_cut") {
      if (!value.is_number()) {
        return where(Status::Error("\"resume_cut\" must be a number between 0 and 1"));
      }
      suite.resume_cut = value.get<double>();
    } else if (key == "clients" || key == "pips") {
      if (!value.is_object()) {
        return where(Status::Error(fmt::format("\"{}\" must map names to {}", key,
                                               key == "clients" ? "templates" : "interpreters")));
      }
      if (value.empty()) return where(Status::Error(fmt::format("\"{}\" is empty", key)));
      for (const auto& [name, item] : value.items()) {
        if (!item.is_string()) {
          return where(Status::Error(fmt::format("\"{}.{}\" must be a string", key, name)));
        }
        (key == "clients" ? suite.clients : suite.pips)
            .push_back(name + "=" + item.get<std::string>());
      }
    }
  }
  return suite;
}

Result<SuiteText> read_suite(const std::filesystem::path& path) {
  // Whatever a suite file holds, its reading ends in a status, never in an exception.
  try {
    return read_suite_document(path);
  } catch (const std::exception& e) {
    return Status::Error(fmt::format("suite {}: {}", path.string(), e.what()));
  }
}

Status check_wheel_size(std::uint64_t size) {
  if (size < (1u << 20)) {
    return Status::Error(fmt::format("bad size {}: the smallest wheel is 1MiB", format_size(size)));
  }
  if (size > kMaxWheelBytes) {
    return Status::Error(
        fmt::format("bad size {}: the largest wheel is {}", format_size(size), kMaxWheelBytesWhy));
  }
  return Status::Ok();
}

// Names checked and unique (as the index normalizes them), sizes parsed, every requirement a
// package of the suite, and every package reachable from the first: what pip installs is what
// the built-ins fetch.
Result<std::vector<PackageSpec>> resolve_packages(const std::vector<PackageText>& texts) {
  std::vector<PackageSpec> packages;
  std::map<std::string, std::size_t> by_name;  // normalized name -> index
  for (const PackageText& text : texts) {
    if (!valid_project_name(text.name)) {
      return Status::Error(fmt::format(
          "bad package name '{}': letters, digits, '.', '_' and '-', starting and ending with a "
          "letter or digit",
          printable(text.name)));
    }
    auto size = parse_size(text.size);
    if (!size) return Status::Error(fmt::format("package {}: {}", text.name, size.message()));
    if (Status s = check_wheel_size(*size); !s) {
      return Status::Error(fmt::format("package {}: {}", text.name, s.message()));
    }
    if (!by_name.emplace(normalize_project_name(text.name), packages.size()).second) {
      return Status::Error(fmt::format("package '{}' is listed twice", text.name));
    }
    packages.push_back(PackageSpec{text.name, *size, {}});
  }
  std::vector<std::vector<std::size_t>> edges(packages.size());
  for (std::size_t i = 0; i < texts.size(); ++i) {
    for (const std::string& dependency : texts[i].requires_dist) {
      auto it = by_name.find(normalize_project_name(dependency));
      if (it == by_name.end()) {
        return Status::Error(fmt::format("package {} requires '{}', which the suite does not list",
                                         texts[i].name, printable(dependency)));
      }
      if (it->second == i) {
        return Status::Error(fmt::format("package {} requires itself", texts[i].name));
      }
      packages[i].requires_dist.push_back(packages[it->second].name);
      edges[i].push_back(it->second);
    }
  }
  std::vector<bool> reached(packages.size(), false);
  std::vector<std::size_t> stack{0};
  reached[0] = true;
  while (!stack.empty()) {
    const std::size_t at = stack.back();
    stack.pop_back();
    for (std::size_t next : edges[at]) {
      if (!reached[next]) stack.push_back(next), reached[next] = true;
    }
  }
  for (std::size_t i = 0; i < packages.size(); ++i) {
    if (!reached[i]) {
      return Status::Error(fmt::format(
          "package {} is not required, directly or not, by {} (the first package, which is what "
          "is installed)",
          packages[i].name, packages[0].name));
    }
  }
  return packages;
}

/// Text that reaches the report (JSON: UTF-8 only) and the table (one line per run).
Status check_text(std::string_view field, std::string_view value) {
  if (!is_valid_utf8(value)) {
    return Status::Error(fmt::format("bad {} '{}': not UTF-8 text", field, value));
  }
  if (has_control_char(value)) {
    return Status::Error(fmt::format("bad {} '{}': it holds a control character", field, value));
  }
  return Status::Ok();
}

/// The directory that must exist for `path` to be written, checked without throwing.
Status check_parent_dir(const std::filesystem::path& path, std::string_view what) {
  const auto dir = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  std::error_code ec;
  const bool is_dir = std::filesystem::is_directory(dir, ec);
  if (ec && ec != std::errc::no_such_file_or_directory) {
    return Status::Error(
        fmt::format("cannot write {} {}: {}: {}", what, path.string(), dir.string(), ec.message()));
  }
  if (!is_dir) {
    return Status::Error(
        fmt::format("cannot write {} {}: no directory {}", what, path.string(), dir.string()));
  }
  return Status::Ok();
}

}  // namespace

std::string_view to_string(RunPhase phase) {
  switch (phase) {
    case RunPhase::cold:
      return "cold";
    case RunPhase::warm:
      return "warm";
    case RunPhase::revalidate:
      return "revalidate";
    case RunPhase::stale:
      return "stale";
    case RunPhase::no_store:
      return "no-store";
    case RunPhase::vary_miss:
      return "vary-miss";
    case RunPhase::resume:
      return "resume";
    case RunPhase::chunked:
      return "chunked";
  }
  return "?";
}

Result<RunPhase> parse_phase(std::string_view name) {
  for (RunPhase p :
       {RunPhase::cold, RunPhase::warm, RunPhase::revalidate, RunPhase::stale, RunPhase::no_store,
        RunPhase::vary_miss, RunPhase::resume, RunPhase::chunked}) {
    if (to_string(p) == name) return p;
  }
  return Status::Error(fmt::format(
      "unknown phase '{}' (choose cold, warm, revalidate, stale, no-store, vary-miss, resume or "
      "chunked)",
      name));
}

Result<TmpdirChoice> parse_tmpdir(std::string_view text) {
  TmpdirChoice choice;
  if (text == "disk") {
    choice.kind = TmpdirChoice::Kind::disk;
  } else if (text == "tmpfs") {
    choice.kind = TmpdirChoice::Kind::tmpfs;
  } else {
    std::error_code ec;
    if (text.empty() || !std::filesystem::is_directory(text, ec)) {
      return Status::Error(
          fmt::format("bad --tmpdir '{}': choose disk, tmpfs or an existing directory", text));
    }
    choice.kind = TmpdirChoice::Kind::path;
    choice.path = std::filesystem::absolute(text, ec);
  }
  return choice;
}

std::string describe(const TmpdirChoice& choice) {
  switch (choice.kind) {
    case TmpdirChoice::Kind::inherit:
      return "inherited";
    case TmpdirChoice::Kind::disk:
      return "disk";
    case TmpdirChoice::Kind::tmpfs:
      return "tmpfs";
    case TmpdirChoice::Kind::path:
      return choice.path.string();
  }
  return "?";
}

std::string_view to_string(Allocator allocator) {
  return allocator == Allocator::jemalloc ? "jemalloc" : "glibc";
}

Result<Allocator> parse_allocator(std::string_view name) {
  for (Allocator a : {Allocator::glibc, Allocator::jemalloc}) {
    if (to_string(a) == name) {
      return a;
    }
  }
  return Status::Error(fmt::format("unknown allocator '{}' (choose glibc or jemalloc)", name));
}

Result<RunOptions> resolve_run_options(const RunArgs& args) {
  RunOptions options;
  SuiteText suite;
  for (const auto& [field, value] :
       {std::pair<std::string_view, std::string_view>{"--label", args.label},
        {"--suite", args.suite},
        {"--out", args.out},
        {"--work-dir", args.work_dir}}) {
    if (Status s = check_text(field, value); !s) return s;
  }
  if (!args.suite.empty()) {
    auto read = read_suite(args.suite);
    if (!read) return read.status();
    suite = std::move(*read);
    options.suite = args.suite;
    if (Status s = check_text("\"label\" in the suite", suite.label); !s) return s;
  }

  // Sizes: the command line replaces the suite's.
  if (!args.sizes.empty()) {
    auto parsed = parse_size_list(args.sizes);
    if (!parsed) return parsed.status();
    options.sizes_bytes = *parsed;
  } else if (!suite.sizes.empty()) {
    options.sizes_bytes.clear();
    for (const std::string& text : suite.sizes) {
      auto size = parse_size(text);
      if (!size) return size.status();
      options.sizes_bytes.push_back(*size);
    }
  }
  if (!suite.packages.empty()) {
    if (!args.sizes.empty() || !suite.sizes.empty()) {
      return Status::Error(fmt::format(
          "suite {}: give \"packages\" or sizes, not both (the first package's size is the "
          "run's)",
          args.suite));
    }
    auto packages = resolve_packages(suite.packages);
    if (!packages) {
      return Status::Error(fmt::format("suite {}: {}", args.suite, packages.message()));
    }
    options.packages = std::move(*packages);
    options.sizes_bytes = {options.packages.front().size_bytes};
  }
  for (std::uint64_t size : options.sizes_bytes) {
    if (size < (1u << 20)) {
      return Status::Error(
          fmt::format("bad size {}: the smallest wheel is 1MiB", format_size(size)));
    }
    if (size > kMaxWheelBytes) {
      return Status::Error(fmt::format("bad size {}: the largest wheel is {}", format_size(size),
                                       kMaxWheelBytesWhy));
    }
  }

  // Subjects: built-in strategies, then clients (command line adds to the suite's clients).
  std::vector<std::string> strategies =
      !args.strategies.empty() ? split_commas(args.strategies) : suite.strategies;
  const bool clients_given =
      !args.clients.empty() || !args.pips.empty() || !suite.clients.empty() || !suite.pips.empty();
  if (strategies.empty() && args.strategies.empty() && !clients_given) {
    strategies = {"whole-body", "streaming"};
  }
  std::set<std::string> names;
  auto add = [&](Subject subject) -> Status {
    if (!names.insert(subject.name).second) {
      return Status::Error(fmt::format("subject '{}' is named twice", subject.name));
    }
    options.subjects.push_back(std::move(subject));
    return Status::Ok();
  };
  for (const std::string& name : strategies) {
    if (name.empty() || name == "none") continue;
    auto strategy = parse_strategy(name);
    if (!strategy) return strategy.status();
    Subject subject;
    subject.name = std::string(to_string(*strategy));
    subject.strategy = *strategy;
    if (Status s = add(std::move(subject)); !s) return s;
  }
  // External clients: the suite's, then the command line's; --pip is the pip preset.
  auto add_clients = [&](std::vector<std::string> texts, const std::vector<std::string>& more,
                         Result<ClientSpec> (*parse)(const std::string&)) -> Status {
    texts.insert(texts.end(), more.begin(), more.end());
    for (const std::string& text : texts) {
      auto client = parse(text);
      if (!client) return client.status();
      Subject subject;
      subject.name = client->name;
      subject.client = std::move(*client);
      if (Status s = add(std::move(subject)); !s) return s;
    }
    return Status::Ok();
  };
  if (Status s = add_clients(suite.clients, args.clients, parse_client); !s) return s;
  // A pip given as NAME=pyenv:VERSION is that pyenv version's interpreter, so that a suite names
  // no machine's paths (scenarios/pip.json).
  std::vector<std::string> pips;
  for (const std::vector<std::string>* list :
       std::initializer_list<const std::vector<std::string>*>{&suite.pips, &args.pips}) {
    for (const std::string& text : *list) {
      const auto eq = text.find('=');
      if (eq == std::string::npos || text.compare(eq + 1, 6, "pyenv:") != 0) {
        pips.push_back(text);
        continue;
      }
      const std::string version = text.substr(eq + 7);
      if (version.empty() || version.find('/') != std::string::npos) {
        return Status::Error(
            fmt::format("--pip {}: expected pyenv:VERSION, e.g. pyenv:3.13.0", text));
      }
      if (args.pyenv_root.empty()) {
        return Status::Error(fmt::format(
            "--pip {}: no pyenv root (set PYENV_ROOT, or give the interpreter's path)", text));
      }
      pips.push_back(text.substr(0, eq + 1) + (std::filesystem::path(args.pyenv_root) / "versions" /
                                               version / "bin" / "python")
                                                  .string());
    }
  }
  if (Status s = add_clients(pips, {}, parse_pip_client); !s) return s;
  if (options.subjects.empty()) {
    return Status::Error("nothing to measure: no strategy and no client");
  }

  const std::vector<std::string> phases =
      !args.phases.empty() ? split_commas(args.phases) : suite.phases;
  if (!phases.empty()) {
    options.phases.clear();
    for (const std::string& name : phases) {
      auto phase = parse_phase(name);
      if (!phase) return phase.status();
      options.phases.push_back(*phase);
    }
  }

  if (args.repeat) {
    options.repeat = *args.repeat;
  } else if (suite.repeat) {
    options.repeat = *suite.repeat;
  }
  if (options.repeat < 1 || options.repeat > kMaxRepeat) {
    return Status::Error(
        fmt::format("bad --repeat {}: expected 1 to {}", options.repeat, kMaxRepeat));
  }

  options.label = !args.label.empty() ? args.label : suite.label;
  const std::string allocator = !args.allocator.empty() ? args.allocator : suite.allocator;
  if (!allocator.empty()) {
    auto parsed = parse_allocator(allocator);
    if (!parsed) return parsed.status();
    options.allocator = *parsed;
  }
  if (!args.format.empty()) {
    auto format = parse_report_format(args.format);
    if (!format) return format.status();
    options.format = *format;
  }
  if (!args.shard.empty()) {
    auto shard = parse_shard(args.shard);
    if (!shard) return shard.status();
    options.shard = *shard;
  }
  if (args.sample_interval_ms) options.sample_interval_ms = *args.sample_interval_ms;
  // Written so that NaN fails too.
  if (!(options.sample_interval_ms >= 0.5 && options.sample_interval_ms <= 1000)) {
    return Status::Error("bad --sample-ms: expected 0.5 to 1000");
  }
  if (args.linger_s) options.linger_s = *args.linger_s;
  if (!(options.linger_s >= 0 && options.linger_s <= 86400)) {
    return Status::Error("bad --linger: expected 0 to 86400 seconds");
  }
  if (!args.memory_limit.empty()) {
    auto limit = parse_size(args.memory_limit);
    if (!limit) return limit.status();
    if (*limit < (4u << 20)) return Status::Error("bad --memory-limit: the smallest is 4MiB");
    options.memory_limit_bytes = *limit;
  }
  if (!args.page_cache.empty()) {
    auto policy = parse_page_cache_policy(args.page_cache);
    if (!policy) return policy.status();
    options.page_cache = *policy;
  }
  options.out = args.out;
  if (!options.out.empty()) {
    if (Status s = check_parent_dir(options.out, "report"); !s) return s;
  }
  options.work_dir = args.work_dir;
  options.keep_work_dir = args.keep_work_dir;
  if (const std::string& tmpdir = args.tmpdir ? *args.tmpdir : suite.tmpdir;
      args.tmpdir || !tmpdir.empty()) {
    auto choice = parse_tmpdir(tmpdir);
    if (!choice) return choice.status();
    options.tmpdir = *choice;
  }
  if (auto cut = args.resume_cut_fraction ? args.resume_cut_fraction : suite.resume_cut) {
    if (!(*cut > 0 && *cut < 1)) {
      return Status::Error(
          fmt::format("bad --resume-cut {}: expected a fraction between 0 and 1", *cut));
    }
    options.resume_cut_fraction = *cut;
  }
  if (auto n = args.concurrency ? args.concurrency : suite.concurrency) {
    if (*n < 1 || *n > 64) {
      return Status::Error(fmt::format("bad --concurrency {}: expected 1 to 64", *n));
    }
    options.concurrency = *n;
  }
  if (options.has_dependencies()) {
    // The preset's --no-deps would install the first package alone.
    for (Subject& subject : options.subjects) {
      if (subject.client.command_template == kPipTemplate) {
        subject.client.command_template = kPipTreeTemplate;
      }
    }
  }
  if (!args.git_dir.empty()) {
    std::error_code ec;
    if (!std::filesystem::is_directory(args.git_dir, ec)) {
      return Status::Error(fmt::format("--git-dir {}: no such directory", args.git_dir));
    }
    options.measured_checkout = std::filesystem::absolute(args.git_dir, ec);
  }
  return options;
}

Result<std::vector<PackageSpec>> read_suite_packages(const std::filesystem::path& suite) {
  auto read = read_suite(suite);
  if (!read) return read.status();
  if (read->packages.empty()) {
    return Status::Error(fmt::format("suite {} lists no \"packages\"", suite.string()));
  }
  auto packages = resolve_packages(read->packages);
  if (!packages) {
    return Status::Error(fmt::format("suite {}: {}", suite.string(), packages.message()));
  }
  return packages;
}

WheelSpec to_wheel_spec(const PackageSpec& package) {
  WheelSpec spec;
  spec.name = package.name;
  spec.size_bytes = package.size_bytes;
  spec.requires_dist = package.requires_dist;
  return spec;
}

bool RunOptions::has_dependencies() const {
  for (const PackageSpec& package : packages) {
    if (!package.requires_dist.empty()) return true;
  }
  return false;
}

}  // namespace peakbench
