#pragma once
// Helpers of the tests that read a written report back.

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "reports/report.h"

namespace peakbench::testing {

/// The first run of `subject` in `phase` (and of `body_bytes`, when given), or nullptr.
inline const RunRecord* find_run(const Report& report, const std::string& subject,
                                 const std::string& phase,
                                 std::optional<std::uint64_t> body_bytes = std::nullopt) {
  for (const RunRecord& run : report.runs) {
    if (run.subject == subject && run.phase == phase &&
        (!body_bytes || run.body_bytes == *body_bytes)) {
      return &run;
    }
  }
  return nullptr;
}

/// The report written at `path`; a test failure (and an empty report) when it does not read.
inline Report read_back(const std::filesystem::path& path) {
  auto report = read_report(path);
  EXPECT_TRUE(report.ok()) << report.message();
  return report.ok() ? *report : Report{};
}

}  // namespace peakbench::testing
