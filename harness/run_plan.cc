#include "harness/run_plan.h"

#include <fmt/format.h>

#include <algorithm>

#include "base/size.h"

namespace peakbench {

namespace fs = std::filesystem;

std::string PlannedRun::describe(const RunOptions& options) const {
  return fmt::format("{} {} {} #{}", options.subjects[subject_index].name, to_string(phase),
                     format_size(options.sizes_bytes[size_index]), repetition + 1);
}

std::vector<PlannedRun> plan_suite(const RunOptions& options, const fs::path& work_dir) {
  struct Group {
    std::size_t subject_index;
    std::size_t size_index;
  };
  // Shards split (subject, size) groups, so that a warm run always has its cold run beside it.
  std::vector<Group> groups;
  for (std::size_t s = 0; s < options.sizes_bytes.size(); ++s) {
    for (std::size_t i = 0; i < options.subjects.size(); ++i) groups.push_back({i, s});
  }
  if (options.shard) groups = select_shard(groups, *options.shard);

  const auto wanted = [&](RunPhase p) {
    return std::find(options.phases.begin(), options.phases.end(), p) != options.phases.end();
  };
  std::vector<PlannedRun> plan;
  for (int rep = 0; rep < options.repeat; ++rep) {
    for (const Group& group : groups) {
      const std::string stem = fmt::format("{}-{}-{}", options.subjects[group.subject_index].name,
                                           format_size(options.sizes_bytes[group.size_index]), rep);
      const auto add = [&](RunPhase phase, bool measured, ServedVariant variant,
                           const fs::path& cache, std::optional<std::size_t> needs) {
        PlannedRun run;
        run.subject_index = group.subject_index;
        run.size_index = group.size_index;
        run.phase = phase;
        run.repetition = rep;
        run.measured = measured;
        run.variant = variant;
        run.cache_dir = cache;
        run.target_dir = work_dir / (stem + "-target");
        run.log_stem = fmt::format("{}-{}", stem, to_string(phase));
        run.needs = needs;
        plan.push_back(std::move(run));
        return plan.size() - 1;
      };
      // cold: measured, or only to fill the cache that a warm run reads
      if (wanted(RunPhase::cold) || wanted(RunPhase::warm)) {
        const fs::path cache = work_dir / (stem + "-cache");
        const std::size_t cold =
            add(RunPhase::cold, wanted(RunPhase::cold), ServedVariant::pypi, cache, {});
        if (wanted(RunPhase::warm)) add(RunPhase::warm, true, ServedVariant::pypi, cache, cold);
        plan.back().remove_cache_after = true;
      }
      // revalidate: a cache whose entry is stale at once (max-age=0) but has an ETag, so the
      // measured run sends one conditional request, answered 304, and serves its cached body.
      if (wanted(RunPhase::revalidate)) {
        const fs::path cache = work_dir / (stem + "-stale-cache");
        const std::size_t fill = add(RunPhase::cold, false, ServedVariant::stale, cache, {});
        add(RunPhase::revalidate, true, ServedVariant::stale, cache, fill);
        plan.back().remove_cache_after = true;
      }
      // stale, no-store, vary-miss: a fill served with the phase's headers, then the measured
      // run on the cache it left, served the same way.
      for (const auto& [phase, variant] :
           {std::pair{RunPhase::stale, ServedVariant::expired_no_validator},
            std::pair{RunPhase::no_store, ServedVariant::no_store},
            std::pair{RunPhase::vary_miss, ServedVariant::vary_user_agent}}) {
        if (!wanted(phase)) continue;
        const fs::path cache = work_dir / fmt::format("{}-{}-cache", stem, to_string(phase));
        const std::size_t fill = add(RunPhase::cold, false, variant, cache, {});
        plan.back().vary_fill = phase == RunPhase::vary_miss;
        plan.back().log_stem = fmt::format("{}-{}-fill", stem, to_string(phase));
        add(phase, true, variant, cache, fill);
        plan.back().remove_cache_after = true;
      }
      // resume, chunked: an empty cache, like cold, with the phase's response.
      for (const auto& [phase, variant] : {std::pair{RunPhase::resume, ServedVariant::cut_once},
                                           std::pair{RunPhase::chunked, ServedVariant::chunked}}) {
        if (!wanted(phase)) continue;
        const fs::path cache = work_dir / fmt::format("{}-{}-cache", stem, to_string(phase));
        add(phase, true, variant, cache, {});
        plan.back().remove_cache_after = true;
      }
    }
  }
  return plan;
}

std::string_view to_string(ServedVariant variant) {
  switch (variant) {
    case ServedVariant::pypi:
      return "pypi";
    case ServedVariant::stale:
      return "max-age=0";
    case ServedVariant::expired_no_validator:
      return "expired, no validator";
    case ServedVariant::no_store:
      return "no-store";
    case ServedVariant::vary_user_agent:
      return "vary: user-agent";
    case ServedVariant::cut_once:
      return "first response cut";
    case ServedVariant::chunked:
      return "chunked";
  }
  return "?";
}

std::optional<ExpectedOutcome> expected_outcome(RunPhase phase, std::optional<Strategy> strategy) {
  ExpectedOutcome e;
  switch (phase) {
    case RunPhase::cold:
    case RunPhase::warm:
    case RunPhase::revalidate:
      return std::nullopt;
    case RunPhase::stale:
      e.file_requests = {{200, 1}};
      e.summary = "stale entry purged: one 200, stored again";
      return e;
    case RunPhase::no_store:
      e.file_requests = {{200, 1}};
      e.body_cached = false;
      e.summary = "nothing stored: one 200, still nothing stored";
      return e;
    case RunPhase::vary_miss:
      e.file_requests = {{200, 1}};
      e.summary = "Vary mismatch is a miss: one unconditional 200, stored";
      return e;
    case RunPhase::resume:
      if (strategy == Strategy::whole_body || strategy == Strategy::tee_mmap) {
        e.file_requests = {{200, 2}};
        e.summary = "cut, restarted from zero: two 200s, stored";
      } else {
        e.file_requests = {{200, 1}, {206, 1}};
        e.summary = "cut, resumed with Range: a 200 and a 206, stored";
      }
      return e;
    case RunPhase::chunked:
      e.file_requests = {{200, 1}};
      e.summary = "no Content-Length: one 200, stored (it has an ETag)";
      return e;
  }
  return std::nullopt;
}

std::optional<std::string> check_outcome(const ExpectedOutcome& expected,
                                         const std::map<int, std::uint64_t>& file_requests,
                                         std::uint64_t cache_bytes, std::uint64_t body_bytes) {
  std::map<int, std::uint64_t> seen;
  for (const auto& [status, n] : file_requests) {
    if (n > 0) seen[status] = n;
  }
  const bool cached = cache_bytes >= body_bytes;
  if (seen == expected.file_requests && cached == expected.body_cached) return std::nullopt;
  std::string requests;
  for (const auto& [status, n] : seen) {
    requests += fmt::format("{}{}×{}", requests.empty() ? "" : ", ", n, status);
  }
  return fmt::format("unexpected outcome: expected {}; saw {} and {}", expected.summary,
                     requests.empty() ? "no file request" : requests,
                     cached ? "the body stored" : "no body stored");
}

std::size_t measured_runs(const std::vector<PlannedRun>& plan) {
  return static_cast<std::size_t>(
      std::count_if(plan.begin(), plan.end(), [](const PlannedRun& run) { return run.measured; }));
}

}  // namespace peakbench
