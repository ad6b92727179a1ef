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
    }
  }
  return plan;
}

std::size_t measured_runs(const std::vector<PlannedRun>& plan) {
  return static_cast<std::size_t>(
      std::count_if(plan.begin(), plan.end(), [](const PlannedRun& run) { return run.measured; }));
}

}  // namespace peakbench
