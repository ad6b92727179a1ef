// The report's JSON form (schema: reports/schema/report-v2.schema.json). The writer keeps the
// field order of the structs; the reader checks every field it uses and names the first one that
// is missing or of the wrong type. nlohmann's exceptions never leave this file.

#include <fmt/format.h>

#include <charconv>
#include <initializer_list>
#include <limits>
#include <nlohmann/json.hpp>

#include "base/atomic_file.h"
#include "reports/report.h"

namespace peakbench {
namespace {

using Json = nlohmann::ordered_json;

// ---------------------------------------------------------------------------------------------
// Writing

Json figure_json(const Figure& figure) {
  return Json{{"bytes", figure.bytes}, {"method", to_string(figure.method)}};
}

void put_optional(Json& j, const char* key, const std::optional<Figure>& figure) {
  if (figure) {
    j[key] = figure_json(*figure);
  }
}

Json meta_json(const ReportMeta& meta) {
  Json methods = Json::object();
  for (const auto& [name, availability] : meta.methods) {
    methods[name] = Json{{"available", availability.available}, {"detail", availability.detail}};
  }
  Json j{
      {"peakbench_version", meta.peakbench_version},
      {"git",
       {{"commit", meta.git_commit}, {"branch", meta.git_branch}, {"dirty", meta.git_dirty}}},
      {"label", meta.label},
      {"host",
       {{"kernel", meta.host.kernel},
        {"cpu_model", meta.host.cpu_model},
        {"cores", meta.host.cores},
        {"memory_bytes", meta.host.memory_bytes}}},
      {"allocator", meta.allocator},
      {"methods", std::move(methods)},
      {"started_at", meta.started_at},
      {"suite", meta.suite},
      {"sample_interval_ms", meta.sample_interval_ms},
      {"shard", meta.shard},
  };
  if (!meta.page_cache.empty()) {
    j["page_cache"] = meta.page_cache;
  }
  if (!meta.merged_shards.empty()) {
    j["merged_shards"] = meta.merged_shards;
  }
  if (!meta.build_type.empty()) {
    j["build_type"] = meta.build_type;
  }
  Json& host = j["host"];
  if (!meta.host.hostname.empty()) {
    host["hostname"] = meta.host.hostname;
  }
  if (meta.host.mhz_per_cpu > 0) {
    host["mhz_per_cpu"] = meta.host.mhz_per_cpu;
  }
  if (!meta.host.caches.empty()) {
    Json caches = Json::array();
    for (const CpuCache& c : meta.host.caches) {
      caches.push_back(Json{{"type", c.type},
                            {"level", c.level},
                            {"size_bytes", c.size_bytes},
                            {"num_sharing", c.num_sharing}});
    }
    host["caches"] = std::move(caches);
  }
  // Written when known, so reports of builds without git (and the goldens) stay as they were.
  if (!meta.peakbench_commit.empty()) j["peakbench_commit"] = meta.peakbench_commit;
  if (!meta.git_checkout.empty()) j["git"]["checkout"] = meta.git_checkout;
  j["notes"] = meta.notes;
  if (!meta.packages.empty()) {
    Json packages = Json::array();
    for (const PackageInfo& p : meta.packages) {
      packages.push_back(
          Json{{"name", p.name}, {"size_bytes", p.size_bytes}, {"requires", p.requires_dist}});
    }
    j["packages"] = std::move(packages);
  }
  return j;
}

Json statuses_json(const std::map<int, std::uint64_t>& counts) {
  Json j = Json::object();
  for (const auto& [status, count] : counts) j[std::to_string(status)] = count;
  return j;
}

Json phase_json(const PhasePeak& phase) {
  Json j{{"phase", phase.phase}, {"peak_rss", figure_json(phase.peak_rss)}};
  put_optional(j, "heap_peak", phase.heap_peak);
  j["start_s"] = phase.start_s;
  j["end_s"] = phase.end_s;
  return j;
}

// Columns rather than one object per point: a few hundred points per run stay readable and small.
Json timeline_json(const std::vector<TimelinePoint>& timeline) {
  Json t = Json::array(), rss = Json::array(), anon = Json::array(), file = Json::array(),
       shmem = Json::array();
  for (const TimelinePoint& p : timeline) {
    t.push_back(p.t_s);
    rss.push_back(p.rss_bytes);
    anon.push_back(p.anon_bytes);
    file.push_back(p.file_bytes);
    shmem.push_back(p.shmem_bytes);
  }
  return Json{{"method", to_string(Method::sampled)}, {"t_s", std::move(t)},
              {"rss_bytes", std::move(rss)},          {"anon_bytes", std::move(anon)},
              {"file_bytes", std::move(file)},        {"shmem_bytes", std::move(shmem)}};
}

Json run_json(const RunRecord& run) {
  Json j{
      {"subject", run.subject},
      {"subject_kind", run.subject_kind},
      {"phase", run.phase},
      {"body_bytes", run.body_bytes},
      {"repetition", run.repetition},
      {"command", run.command},
      {"ok", run.ok},
      {"exit_status", run.exit_status},
  };
  if (run.signal) {
    j["signal"] = *run.signal;
  }
  if (!run.error.empty()) {
    j["error"] = run.error;
  }
  put_optional(j, "peak_rss", run.peak_rss);
  put_optional(j, "subject_peak_rss", run.subject_peak_rss);
  put_optional(j, "subject_start_rss", run.subject_start_rss);
  put_optional(j, "charged_peak", run.charged_peak);
  put_optional(j, "sampled_peak_rss", run.sampled_peak_rss);
  put_optional(j, "sampled_peak_anon", run.sampled_peak_anon);
  put_optional(j, "sampled_peak_file", run.sampled_peak_file);
  put_optional(j, "sampled_peak_shmem", run.sampled_peak_shmem);
  put_optional(j, "tree_peak_rss", run.tree_peak_rss);
  put_optional(j, "tree_peak_anon", run.tree_peak_anon);
  put_optional(j, "tree_peak_file", run.tree_peak_file);
  put_optional(j, "tree_peak_shmem", run.tree_peak_shmem);
  Json phases = Json::array();
  for (const PhasePeak& phase : run.phases) {
    phases.push_back(phase_json(phase));
  }
  j["phases"] = std::move(phases);
  if (run.largest_process) {
    const LargestProcess& p = *run.largest_process;
    j["largest_process"] = {{"pid", p.pid},
                            {"comm", p.comm},
                            {"argv0", p.argv0},
                            {"peak_rss", figure_json(p.peak_rss)}};
  }
  if (run.process_count > 0) j["process_count"] = run.process_count;
  j["wall_s"] = run.wall_s;
  j["user_s"] = run.user_s;
  j["system_s"] = run.system_s;
  j["bytes_received"] = run.bytes_received;
  j["bytes_written"] = run.bytes_written;
  j["cache_outcome"] = run.cache_outcome;
  j["file_requests"] = statuses_json(run.file_requests);
  j["cache_bytes_on_disk"] = run.cache_bytes_on_disk;
  j["timeline"] = timeline_json(run.timeline);
  j["allocator"] = run.allocator;
  j["notes"] = run.notes;
  if (!run.requests.empty()) {
    Json requests = Json::object();
    for (const auto& [kind, counts] : run.requests) requests[kind] = statuses_json(counts);
    j["requests"] = std::move(requests);
  }
  if (!run.page_types.empty()) j["page_types"] = run.page_types;
  return j;
}

Json summary_json(const ScenarioSummary& s) {
  Json j{
      {"subject", s.key.subject},
      {"phase", s.key.phase},
      {"body_bytes", s.key.body_bytes},
      {"subject_kind", s.subject_kind},
      {"runs", s.runs},
      {"failed", s.failed},
      {"excluded", s.excluded},
      {"peak_rss",
       {{"median_bytes", s.median_peak_rss_bytes},
        {"min_bytes", s.min_peak_rss_bytes},
        {"max_bytes", s.max_peak_rss_bytes},
        {"method", to_string(s.peak_rss_method)}}},
      {"peak_per_body_byte", s.peak_per_body_byte},
      {"median_wall_s", s.median_wall_s},
  };
  if (s.median_charged_bytes) {
    j["charged_peak"] = {{"median_bytes", *s.median_charged_bytes},
                         {"method", to_string(Method::cgroup)}};
  }
  if (s.median_start_rss_bytes) {
    j["start_rss"] = {{"median_bytes", *s.median_start_rss_bytes},
                      {"method", to_string(Method::self_hwm)}};
  }
  j["warm_downloaded"] = s.warm_downloaded;
  return j;
}

// ---------------------------------------------------------------------------------------------
// Reading

// Thrown by the checks below and caught in parse_report, never outside this file.
struct BadField {
  std::string message;
};
// A document of another schema version: its fields mean something this reader does not know.
struct UnknownVersion {
  std::string message;
};

// A JSON object and where it sits in the document ("runs[2].peak_rss"), for error messages.
class Node {
 public:
  Node(const nlohmann::json& j, std::string path) : j_(j), path_(std::move(path)) {
    if (!j_.is_object()) {
      throw BadField{fmt::format("{}: expected an object", where())};
    }
  }

  bool has(const char* key) const { return j_.contains(key) && !j_.at(key).is_null(); }

  /// Rejects a key the schema does not name (it says additionalProperties: false): what the
  /// reader would drop silently, merge would not write back.
  const Node& only(std::initializer_list<std::string_view> keys) const {
    for (const auto& [key, value] : j_.items()) {
      bool known = false;
      for (std::string_view k : keys) known = known || k == key;
      if (!known) throw BadField{fmt::format("{}: unknown field", child(key))};
    }
    return *this;
  }

  Node object(const char* key) const { return Node(need(key), child(key)); }
  const nlohmann::json& array(const char* key) const {
    const nlohmann::json& v = need(key);
    if (!v.is_array()) {
      throw BadField{fmt::format("{}: expected an array", child(key))};
    }
    return v;
  }
  std::string str(const char* key) const {
    const nlohmann::json& v = need(key);
    if (!v.is_string()) {
      throw BadField{fmt::format("{}: expected a string", child(key))};
    }
    return v.get<std::string>();
  }
  std::uint64_t u64(const char* key) const { return as_u64(need(key), child(key)); }
  /// An integer from `min` to INT_MAX: checked before the conversion, which would truncate.
  int integer(const char* key, std::int64_t min = std::numeric_limits<int>::min()) const {
    const nlohmann::json& v = need(key);
    if (!v.is_number_integer() ||
        (v.is_number_unsigned() && v.get<std::uint64_t>() > std::numeric_limits<int>::max())) {
      throw BadField{fmt::format("{}: expected an integer", child(key))};
    }
    const std::int64_t value = v.get<std::int64_t>();
    if (value < min || value > std::numeric_limits<int>::max()) {
      throw BadField{fmt::format("{}: expected an integer from {} to {}", child(key), min,
                                 std::numeric_limits<int>::max())};
    }
    return static_cast<int>(value);
  }
  double number(const char* key) const {
    const nlohmann::json& v = need(key);
    if (!v.is_number()) {
      throw BadField{fmt::format("{}: expected a number", child(key))};
    }
    return v.get<double>();
  }
  /// A duration: a number >= 0.
  double seconds(const char* key) const {
    const double value = number(key);
    if (!(value >= 0)) throw BadField{fmt::format("{}: expected seconds (>= 0)", child(key))};
    return value;
  }
  double seconds_or(const char* key, double fallback) const {
    return has(key) ? seconds(key) : fallback;
  }
  bool boolean(const char* key) const {
    const nlohmann::json& v = need(key);
    if (!v.is_boolean()) {
      throw BadField{fmt::format("{}: expected true or false", child(key))};
    }
    return v.get<bool>();
  }

  // Optional fields: the default when absent, a checked value when present.
  std::string str_or(const char* key, const std::string& fallback) const {
    return has(key) ? str(key) : fallback;
  }
  std::uint64_t u64_or(const char* key, std::uint64_t fallback) const {
    return has(key) ? u64(key) : fallback;
  }
  int integer_or(const char* key, int fallback) const { return has(key) ? integer(key) : fallback; }
  double number_or(const char* key, double fallback) const {
    return has(key) ? number(key) : fallback;
  }
  bool boolean_or(const char* key, bool fallback) const {
    return has(key) ? boolean(key) : fallback;
  }

  Figure figure(const char* key) const {
    const Node f = object(key);
    f.only({"bytes", "method"});
    Figure figure;
    figure.bytes = f.u64("bytes");
    const std::string method = f.str("method");
    const auto parsed = parse_method(method);
    if (!parsed) {
      throw BadField{
          fmt::format("{}.method: unknown method '{}' (expected kernel-hwm, cgroup, "
                      "sampled, jemalloc or self)",
                      child(key), method)};
    }
    figure.method = *parsed;
    return figure;
  }
  /// An array of strings, or none when absent.
  std::vector<std::string> strings_or_empty(const char* key) const {
    std::vector<std::string> out;
    if (!has(key)) return out;
    const nlohmann::json& values = array(key);
    for (std::size_t i = 0; i < values.size(); ++i) {
      if (!values[i].is_string()) {
        throw BadField{fmt::format("{}[{}]: expected a string", child(key), i)};
      }
      out.push_back(values[i].get<std::string>());
    }
    return out;
  }
  std::optional<Figure> optional_figure(const char* key) const {
    if (!has(key)) {
      return std::nullopt;
    }
    return figure(key);
  }

  const nlohmann::json& json() const { return j_; }
  std::string child(std::string_view key) const {
    return path_.empty() ? std::string(key) : fmt::format("{}.{}", path_, key);
  }
  std::string where() const { return path_.empty() ? "the top level" : path_; }

  static std::uint64_t as_u64(const nlohmann::json& v, const std::string& path) {
    if (!v.is_number_unsigned()) {
      throw BadField{fmt::format("{}: expected a non-negative integer", path)};
    }
    return v.get<std::uint64_t>();
  }

 private:
  const nlohmann::json& need(const char* key) const {
    if (!has(key)) {
      throw BadField{fmt::format("{}: missing required field", child(key))};
    }
    return j_.at(key);
  }

  const nlohmann::json& j_;
  std::string path_;
};

ReportMeta read_meta(const Node& m) {
  ReportMeta meta;
  meta.peakbench_version = m.str("peakbench_version");
  meta.peakbench_commit = m.str_or("peakbench_commit", "");
  if (m.has("git")) {
    const Node git = m.object("git");
    git.only({"commit", "branch", "dirty", "checkout"});
    meta.git_checkout = git.str_or("checkout", "");
    meta.git_commit = git.str_or("commit", "");
    meta.git_branch = git.str_or("branch", "");
    meta.git_dirty = git.boolean_or("dirty", false);
  }
  meta.label = m.str_or("label", "");
  if (m.has("host")) {
    const Node host = m.object("host");
    host.only(
        {"kernel", "cpu_model", "cores", "memory_bytes", "hostname", "mhz_per_cpu", "caches"});
    meta.host.kernel = host.str_or("kernel", "");
    meta.host.cpu_model = host.str_or("cpu_model", "");
    meta.host.cores = host.has("cores") ? host.integer("cores", 0) : 0;
    meta.host.memory_bytes = host.u64_or("memory_bytes", 0);
    meta.host.hostname = host.str_or("hostname", "");
    meta.host.mhz_per_cpu = host.number_or("mhz_per_cpu", 0);
    if (host.has("caches")) {
      const nlohmann::json& caches = host.array("caches");
      for (std::size_t i = 0; i < caches.size(); ++i) {
        const Node c(caches[i], fmt::format("{}[{}]", host.child("caches"), i));
        c.only({"type", "level", "size_bytes", "num_sharing"});
        meta.host.caches.push_back({c.str_or("type", ""), c.integer_or("level", 0),
                                    c.u64_or("size_bytes", 0), c.integer_or("num_sharing", 0)});
      }
    }
  }
  meta.build_type = m.str_or("build_type", "");
  meta.allocator = m.str_or("allocator", "");
  if (m.has("methods")) {
    const Node methods = m.object("methods");
    for (const auto& [name, value] : methods.json().items()) {
      if (!parse_method(name)) {
        throw BadField{fmt::format("{}: unknown method", methods.child(name))};
      }
      const Node entry(value, methods.child(name));
      entry.only({"available", "detail"});
      meta.methods[name] =
          MethodAvailability{entry.boolean("available"), entry.str_or("detail", "")};
    }
  }
  meta.started_at = m.str("started_at");
  meta.suite = m.str_or("suite", "");
  meta.sample_interval_ms = m.seconds_or("sample_interval_ms", 0);
  meta.shard = m.str_or("shard", "");
  meta.page_cache = m.str_or("page_cache", "");
  if (const auto slash = meta.shard.find('/');
      !meta.shard.empty() &&
      (slash == std::string::npos || slash == 0 || slash + 1 == meta.shard.size() ||
       meta.shard.find_first_not_of("0123456789/") != std::string::npos ||
       meta.shard.find('/', slash + 1) != std::string::npos)) {
    throw BadField{fmt::format("{}: expected I/N", m.child("shard"))};
  }
  if (m.has("merged_shards")) {
    const nlohmann::json& shards = m.array("merged_shards");
    for (std::size_t i = 0; i < shards.size(); ++i) {
      if (!shards[i].is_string()) {
        throw BadField{fmt::format("{}[{}]: expected a string", m.child("merged_shards"), i)};
      }
      meta.merged_shards.push_back(shards[i].get<std::string>());
    }
  }
  meta.notes = m.strings_or_empty("notes");
  if (m.has("packages")) {
    const nlohmann::json& packages = m.array("packages");
    for (std::size_t i = 0; i < packages.size(); ++i) {
      const Node p(packages[i], fmt::format("{}[{}]", m.child("packages"), i));
      p.only({"name", "size_bytes", "requires"});
      meta.packages.push_back(
          PackageInfo{p.str("name"), p.u64("size_bytes"), p.strings_or_empty("requires")});
    }
  }
  m.only({"peakbench_version", "git", "label", "host", "allocator", "methods", "started_at",
          "suite", "sample_interval_ms", "shard", "merged_shards", "notes", "build_type",
          "page_cache", "peakbench_commit", "packages"});
  return meta;
}

std::vector<std::uint64_t> u64_column(const Node& t, const char* key, std::size_t size) {
  const nlohmann::json& column = t.array(key);
  if (column.size() != size) {
    throw BadField{
        fmt::format("{}: {} values where t_s has {}", t.child(key), column.size(), size)};
  }
  std::vector<std::uint64_t> values;
  values.reserve(size);
  for (std::size_t i = 0; i < size; ++i) {
    values.push_back(Node::as_u64(column[i], fmt::format("{}[{}]", t.child(key), i)));
  }
  return values;
}

std::vector<TimelinePoint> read_timeline(const Node& t) {
  t.only({"method", "t_s", "rss_bytes", "anon_bytes", "file_bytes", "shmem_bytes"});
  if (t.has("method") && t.str("method") != to_string(Method::sampled)) {
    throw BadField{fmt::format("{}: expected \"sampled\"", t.child("method"))};
  }
  const nlohmann::json& times = t.array("t_s");
  const std::size_t n = times.size();
  const auto rss = u64_column(t, "rss_bytes", n);
  const auto anon = u64_column(t, "anon_bytes", n);
  const auto file = u64_column(t, "file_bytes", n);
  const auto shmem = u64_column(t, "shmem_bytes", n);
  std::vector<TimelinePoint> timeline(n);
  for (std::size_t i = 0; i < n; ++i) {
    if (!times[i].is_number() || !(times[i].get<double>() >= 0)) {
      throw BadField{fmt::format("{}[{}]: expected seconds (>= 0)", t.child("t_s"), i)};
    }
    timeline[i] = TimelinePoint{times[i].get<double>(), rss[i], anon[i], file[i], shmem[i]};
  }
  return timeline;
}

// {"200": 3, "304": 1}: HTTP status -> count.
std::map<int, std::uint64_t> read_statuses(const Node& counts) {
  std::map<int, std::uint64_t> out;
  for (const auto& [status, count] : counts.json().items()) {
    int code = 0;
    const auto [end, ec] = std::from_chars(status.data(), status.data() + status.size(), code);
    if (status.size() != 3 || ec != std::errc() || end != status.data() + status.size() ||
        code < 100 || code > 599) {
      throw BadField{fmt::format("{}: '{}' is not an HTTP status", counts.where(), status)};
    }
    out[code] = Node::as_u64(count, counts.child(status));
  }
  return out;
}

RunRecord read_run(const Node& r, int version) {
  RunRecord run;
  run.subject = r.str("subject");
  run.subject_kind = r.str_or("subject_kind", "");
  if (run.subject_kind != "" && run.subject_kind != "builtin" && run.subject_kind != "external" &&
      run.subject_kind != "calibration") {
    throw BadField{
        fmt::format("{}: expected builtin, external or calibration", r.child("subject_kind"))};
  }
  run.phase = r.str("phase");
  run.body_bytes = r.u64("body_bytes");
  run.repetition = r.integer("repetition", 0);
  run.command = r.str_or("command", "");
  run.ok = r.boolean("ok");
  run.exit_status = r.integer_or("exit_status", 0);
  if (r.has("signal")) {
    run.signal = r.integer("signal", 1);
  }
  run.error = r.str_or("error", "");
  // Version 1 wrote a zero peak for runs that never ran; version 2 leaves it out.
  run.peak_rss = r.optional_figure("peak_rss");
  if (version == 1 && !run.ok && run.peak_rss && run.peak_rss->bytes == 0) run.peak_rss.reset();
  if (run.ok && !run.peak_rss) {
    throw BadField{r.child("peak_rss") + ": missing for a run that succeeded"};
  }
  if (run.peak_rss && run.peak_rss->method != Method::kernel_hwm &&
      run.peak_rss->method != Method::self_hwm && run.peak_rss->method != Method::taskstats) {
    throw BadField{r.child("peak_rss") + ".method: expected kernel-hwm, self or taskstats"};
  }
  run.subject_peak_rss = r.optional_figure("subject_peak_rss");
  run.subject_start_rss = r.optional_figure("subject_start_rss");
  run.charged_peak = r.optional_figure("charged_peak");
  run.sampled_peak_rss = r.optional_figure("sampled_peak_rss");
  run.sampled_peak_anon = r.optional_figure("sampled_peak_anon");
  run.sampled_peak_file = r.optional_figure("sampled_peak_file");
  run.sampled_peak_shmem = r.optional_figure("sampled_peak_shmem");
  run.tree_peak_rss = r.optional_figure("tree_peak_rss");
  run.tree_peak_anon = r.optional_figure("tree_peak_anon");
  run.tree_peak_file = r.optional_figure("tree_peak_file");
  run.tree_peak_shmem = r.optional_figure("tree_peak_shmem");
  if (r.has("phases")) {
    const nlohmann::json& phases = r.array("phases");
    for (std::size_t i = 0; i < phases.size(); ++i) {
      const Node p(phases[i], fmt::format("{}[{}]", r.child("phases"), i));
      p.only({"phase", "peak_rss", "heap_peak", "start_s", "end_s"});
      PhasePeak phase;
      phase.phase = p.str("phase");
      phase.peak_rss = p.figure("peak_rss");
      phase.heap_peak = p.optional_figure("heap_peak");
      phase.start_s = p.seconds_or("start_s", 0);
      phase.end_s = p.seconds_or("end_s", 0);
      run.phases.push_back(std::move(phase));
    }
  }
  if (r.has("largest_process")) {
    const Node p = r.object("largest_process");
    p.only({"pid", "comm", "argv0", "peak_rss"});
    LargestProcess largest;
    largest.pid = p.integer("pid");
    largest.comm = p.str_or("comm", "");
    largest.argv0 = p.str_or("argv0", "");
    largest.peak_rss = p.figure("peak_rss");
    run.largest_process = std::move(largest);
  }
  run.process_count = r.has("process_count") ? r.integer("process_count") : 0;
  run.wall_s = r.seconds_or("wall_s", 0);
  run.user_s = r.seconds_or("user_s", 0);
  run.system_s = r.seconds_or("system_s", 0);
  run.bytes_received = r.u64_or("bytes_received", 0);
  run.bytes_written = r.u64_or("bytes_written", 0);
  run.cache_outcome = r.str_or("cache_outcome", "");
  if (r.has("file_requests")) run.file_requests = read_statuses(r.object("file_requests"));
  if (r.has("requests")) {
    const Node requests = r.object("requests");
    for (const auto& [kind, counts] : requests.json().items()) {
      if (!is_request_kind(kind)) {
        throw BadField{
            fmt::format("{}: unknown kind (page, metadata, wheel)", requests.child(kind))};
      }
      run.requests[kind] = read_statuses(requests.object(kind.c_str()));
    }
  }
  if (r.has("page_types")) {
    const Node types = r.object("page_types");
    for (const auto& [type, count] : types.json().items()) {
      run.page_types[type] = Node::as_u64(count, types.child(type));
    }
  }
  run.cache_bytes_on_disk = r.u64_or("cache_bytes_on_disk", 0);
  if (r.has("timeline")) {
    run.timeline = read_timeline(r.object("timeline"));
  }
  run.allocator = r.str_or("allocator", "");
  run.notes = r.strings_or_empty("notes");
  // After the fields it needs: a misspelt one is first of all a missing one.
  r.only({"subject",
          "subject_kind",
          "phase",
          "body_bytes",
          "repetition",
          "command",
          "ok",
          "exit_status",
          "signal",
          "error",
          "peak_rss",
          "subject_peak_rss",
          "subject_start_rss",
          "charged_peak",
          "sampled_peak_rss",
          "sampled_peak_anon",
          "sampled_peak_file",
          "sampled_peak_shmem",
          "tree_peak_rss",
          "tree_peak_anon",
          "tree_peak_file",
          "tree_peak_shmem",
          "largest_process",
          "process_count",
          "phases",
          "wall_s",
          "user_s",
          "system_s",
          "bytes_received",
          "bytes_written",
          "cache_outcome",
          "file_requests",
          "cache_bytes_on_disk",
          "timeline",
          "notes",
          "allocator",
          "requests",
          "page_types"});
  return run;
}

Report read_document(const nlohmann::json& doc) {
  const Node top(doc, "");
  top.only({"schema_version", "meta", "runs", "scenarios"});
  if (!top.has("schema_version")) {
    throw BadField{"schema_version: missing required field"};
  }
  const nlohmann::json& version_json = doc.at("schema_version");
  if (!version_json.is_number_integer() ||
      version_json.get<std::int64_t>() < kOldestReadableSchemaVersion ||
      version_json.get<std::int64_t>() > kReportSchemaVersion) {
    throw UnknownVersion{fmt::format("unknown schema_version {} (this peakbench reads {} to {})",
                                     version_json.dump(), kOldestReadableSchemaVersion,
                                     kReportSchemaVersion)};
  }
  const int version = static_cast<int>(version_json.get<std::int64_t>());
  Report report;
  // What was read is held in this version's model and written back as this version.
  report.schema_version = kReportSchemaVersion;
  report.meta = read_meta(top.object("meta"));
  const nlohmann::json& runs = top.array("runs");
  for (std::size_t i = 0; i < runs.size(); ++i) {
    report.runs.push_back(read_run(Node(runs[i], fmt::format("runs[{}]", i)), version));
  }
  // "scenarios" is derived from the runs; the reader recomputes it with summarize().
  return report;
}

std::string one_line(std::string text) {
  for (char& c : text) {
    if (c == '\n' || c == '\r') {
      c = ' ';
    }
  }
  return text;
}

}  // namespace

std::string to_json_text(const Report& report) {
  Json runs = Json::array();
  for (const RunRecord& run : report.runs) {
    runs.push_back(run_json(run));
  }
  Json scenarios = Json::array();
  for (const ScenarioSummary& s : report.summarize()) {
    scenarios.push_back(summary_json(s));
  }
  const Json doc{
      {"schema_version", report.schema_version},
      {"meta", meta_json(report.meta)},
      {"runs", std::move(runs)},
      {"scenarios", std::move(scenarios)},
  };
  // Text is checked where it enters (the CLI); a byte that is not UTF-8 and slipped through
  // becomes U+FFFD here rather than an exception that would lose the report.
  return doc.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

Result<Report> parse_report(const std::string& text, const std::string& source) {
  try {
    const nlohmann::json doc = nlohmann::json::parse(text);
    return read_document(doc);
  } catch (const UnknownVersion& e) {
    return Status::Error(fmt::format("{}: {}", source, e.message));
  } catch (const BadField& e) {
    return Status::Error(fmt::format("{}: bad report: {}", source, e.message));
  } catch (const nlohmann::json::exception& e) {
    return Status::Error(fmt::format("{}: malformed JSON: {}", source, one_line(e.what())));
  }
}

Status write_report(const std::filesystem::path& path, const Report& report) {
  return write_file_atomically(path, to_json_text(report));
}

Result<Report> read_report(const std::filesystem::path& path) {
  auto text = read_file(path);
  if (!text) {
    return text.status();
  }
  return parse_report(*text, path.string());
}

}  // namespace peakbench
