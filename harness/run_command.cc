#include "harness/cli.h"

namespace peakbench {

void add_run_command(Commands& commands) {
  commands.add("run", "(not built yet)", [] { return fail(ExitCode::usage, "'run' is not built yet"); });
}

}  // namespace peakbench
