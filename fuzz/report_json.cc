// A report's JSON text through parse_report (reports/report_json); what parses also writes.
#include <cstddef>
#include <cstdint>
#include <string>

#include "reports/report.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  if (auto report = peakbench::parse_report(text, "fuzz.json")) {
    (void)peakbench::to_json_text(*report);
  }
  return 0;
}
