#include "harness/cli.h"

namespace peakbench {

void add_subject_commands(Commands& /*commands*/) {
}

}  // namespace peakbench
