#include "harness/cli.h"

namespace peakbench {

void add_fetch_command(Commands& commands) {
  commands.add("fetch", "(not built yet)", [] { return fail(ExitCode::usage, "'fetch' is not built yet"); });
}

}  // namespace peakbench
