// The subject's report line as the parent reads it from the report pipe (harness/subject_probe).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "harness/subject_probe.h"
#include "reports/report.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto report = peakbench::parse_subject_report(text)) {
    (void)peakbench::to_json_text(*report);
    peakbench::RunRecord record;
    peakbench::apply_subject_report(*report, record);
  }
  return 0;
}
