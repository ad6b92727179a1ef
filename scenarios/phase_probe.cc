#include "scenarios/phase_probe.h"

namespace peakbench {

std::string_view to_string(SubjectPhase phase) {
  switch (phase) {
    case SubjectPhase::download:
      return "download";
    case SubjectPhase::cache_write:
      return "cache-write";
    case SubjectPhase::cache_read:
      return "cache-read";
  }
  return "unknown";
}

}  // namespace peakbench
