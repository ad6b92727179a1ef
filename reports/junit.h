#pragma once
// `peakbench gate --junit FILE`: the gate's verdict as JUnit XML for CI test reporters (Jenkins,
// dorny/test-reporter, GitLab). One testsuite, one testcase per check. The testsuite is what the
// Ant JUnit schema asks for (timestamp without a zone, hostname, time, properties, system-out and
// system-err); the testsuites wrapper carries name, tests, failures, errors and time, which
// Jenkins' schema allows and dorny/test-reporter reads.

#include <string>

#include "reports/gate.h"
#include "reports/report.h"

namespace peakbench {

/// Times are the measured wall times: a testcase's is the sum over the runs of the scenarios it
/// checked, the suite's over every run. Properties: commit, branch, label, host, allocator,
/// peakbench version and the report's start. A failed runs-ok check names each failed run and its
/// reason ("killed by the out-of-memory killer"), from `report`.
std::string render_junit(const GateVerdict& verdict, const Report& report);

}  // namespace peakbench
