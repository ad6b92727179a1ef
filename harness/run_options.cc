#include "harness/run_options.h"

#include <fmt/format.h>

#include <charconv>
#include <nlohmann/json.hpp>
#include <set>

#include "base/atomic_file.h"
#include "base/size.h"

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
  if (!value.is_array())
    return Status::Error(fmt::format("\"{}\" must be a list of strings", field));
  for (const json& item : value) {
    if (!item.is_string())
      return Status::Error(fmt::format("\"{}\" must be a list of strings", field));
    out.push_back(item.get<std::string>());
  }
  return out;
}

struct SuiteText {
  std::vector<std::string> sizes, strategies, phases, clients, pips;
  std::optional<int> repeat;
  std::string label, allocator;
};

Result<SuiteText> read_suite(const std::filesystem::path& path) {
  auto text = read_file(path);
  if (!text) return Status::Error(fmt::format("cannot read suite {}", path.string()));
  json doc;
  try {
    doc = json::parse(*text);
  } catch (const json::parse_error& e) {
    return Status::Error(
        fmt::format("suite {} is not valid JSON (byte {})", path.string(), e.byte));
  }
  if (!doc.is_object())
    return Status::Error(fmt::format("suite {} must be a JSON object", path.string()));
  SuiteText suite;
  static const std::set<std::string> kKnown = {"name",    "description", "sizes", "strategies",
                                               "phases",  "repeat",      "label", "allocator",
                                               "clients", "pips"};
  for (const auto& [key, value] : doc.items()) {
    auto where = [&](const Status& s) {
      return Status::Error(fmt::format("suite {}: {}", path.string(), s.message()));
    };
    if (!kKnown.contains(key)) {
      return Status::Error(fmt::format("suite {}: unknown field \"{}\"", path.string(), key));
    }
    if (key == "sizes" || key == "strategies" || key == "phases") {
      auto list = string_list(value, key);
      if (!list) return where(list.status());
      (key == "sizes"        ? suite.sizes
       : key == "strategies" ? suite.strategies
                             : suite.phases) = *list;
    } else if (key == "repeat") {
      if (!value.is_number_integer()) return where(Status::Error("\"repeat\" must be an integer"));
      suite.repeat = value.get<int>();
    } else if (key == "label" || key == "allocator") {
      if (!value.is_string())
        return where(Status::Error(fmt::format("\"{}\" must be a string", key)));
      (key == "label" ? suite.label : suite.allocator) = value.get<std::string>();
    } else if (key == "clients" || key == "pips") {
      if (!value.is_object()) {
        return where(Status::Error(fmt::format("\"{}\" must map names to {}", key,
                                               key == "clients" ? "templates" : "interpreters")));
      }
      for (const auto& [name, item] : value.items()) {
        if (!item.is_string())
          return where(Status::Error(fmt::format("\"{}.{}\" must be a string", key, name)));
        (key == "clients" ? suite.clients : suite.pips)
            .push_back(name + "=" + item.get<std::string>());
      }
    }
  }
  return suite;
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
  }
  return "?";
}

Result<RunPhase> parse_phase(std::string_view name) {
  for (RunPhase p : {RunPhase::cold, RunPhase::warm, RunPhase::revalidate}) {
    if (to_string(p) == name) return p;
  }
  return Status::Error(fmt::format("unknown phase '{}' (choose cold, warm or revalidate)", name));
}

Result<RunOptions> resolve_run_options(const RunArgs& args) {
  RunOptions options;
  SuiteText suite;
  if (!args.suite.empty()) {
    auto read = read_suite(args.suite);
    if (!read) return read.status();
    suite = std::move(*read);
    options.suite = args.suite;
  }

  // Sizes: the command line replaces the suite's.
  const std::string sizes =
      !args.sizes.empty() ? args.sizes : fmt::format("{}", fmt::join(suite.sizes, ","));
  if (!sizes.empty()) {
    auto parsed = parse_size_list(sizes);
    if (!parsed) return parsed.status();
    options.sizes_bytes = *parsed;
  }
  for (std::uint64_t size : options.sizes_bytes) {
    if (size < (1u << 20))
      return Status::Error(
          fmt::format("bad size {}: the smallest wheel is 1MiB", format_size(size)));
  }

  // Subjects: built-in strategies, then clients (command line adds to the suite's clients).
  std::vector<std::string> strategies =
      !args.strategies.empty() ? split_commas(args.strategies) : suite.strategies;
  const bool clients_given =
      !args.clients.empty() || !args.pips.empty() || !suite.clients.empty() || !suite.pips.empty();
  if (strategies.empty() && args.strategies.empty() && !clients_given)
    strategies = {"whole-body", "streaming"};
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
  if (Status s = add_clients(suite.pips, args.pips, parse_pip_client); !s) return s;
  if (options.subjects.empty())
    return Status::Error("nothing to measure: no strategy and no client");

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
  if (options.repeat < 1 || options.repeat > 1000) {
    return Status::Error(fmt::format("bad --repeat {}: expected 1 to 1000", options.repeat));
  }

  options.label = !args.label.empty() ? args.label : suite.label;
  const std::string allocator = !args.allocator.empty() ? args.allocator : suite.allocator;
  if (!allocator.empty()) options.allocator = allocator;
  if (options.allocator != "glibc" && options.allocator != "jemalloc") {
    return Status::Error(
        fmt::format("unknown allocator '{}' (choose glibc or jemalloc)", options.allocator));
  }
  if (!args.format.empty()) options.format = args.format;
  if (options.format != "md" && options.format != "csv" && options.format != "json") {
    return Status::Error(
        fmt::format("unknown format '{}' (choose md, csv or json)", options.format));
  }
  if (!args.shard.empty()) {
    auto shard = parse_shard(args.shard);
    if (!shard) return shard.status();
    options.shard = *shard;
  }
  if (args.sample_interval_ms) options.sample_interval_ms = *args.sample_interval_ms;
  if (options.sample_interval_ms < 0.5 || options.sample_interval_ms > 1000) {
    return Status::Error("bad --sample-ms: expected 0.5 to 1000");
  }
  if (!args.memory_limit.empty()) {
    auto limit = parse_size(args.memory_limit);
    if (!limit) return limit.status();
    if (*limit < (4u << 20)) return Status::Error("bad --memory-limit: the smallest is 4MiB");
    options.memory_limit_bytes = *limit;
  }
  options.out = args.out;
  if (!options.out.empty()) {
    const auto dir =
        options.out.has_parent_path() ? options.out.parent_path() : std::filesystem::path(".");
    if (!std::filesystem::is_directory(dir)) {
      return Status::Error(fmt::format("cannot write report {}: no directory {}",
                                       options.out.string(), dir.string()));
    }
  }
  options.work_dir = args.work_dir;
  options.keep_work_dir = args.keep_work_dir;
  if (!args.git_dir.empty()) {
    if (!std::filesystem::is_directory(args.git_dir)) {
      return Status::Error(fmt::format("--git-dir {}: no such directory", args.git_dir));
    }
    options.measured_checkout = std::filesystem::absolute(args.git_dir);
  }
  return options;
}

}  // namespace peakbench
