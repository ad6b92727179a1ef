#include "harness/cli.h"

namespace peakbench {

void add_report_commands(Commands& commands) {
  commands.add("compare", "(not built yet)", [] { return fail(ExitCode::usage, "'compare' is not built yet"); });
  commands.add("gate", "(not built yet)", [] { return fail(ExitCode::usage, "'gate' is not built yet"); });
  commands.add("table", "(not built yet)", [] { return fail(ExitCode::usage, "'table' is not built yet"); });
  commands.add("merge", "(not built yet)", [] { return fail(ExitCode::usage, "'merge' is not built yet"); });
  commands.add("plot", "(not built yet)", [] { return fail(ExitCode::usage, "'plot' is not built yet"); });
}

}  // namespace peakbench
