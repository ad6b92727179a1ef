// peakbench-launcher: the minimal launcher executable (see launcher.h). Launcher::start() forks
// and execs it once with the socket's descriptor as its only argument; every run is forked from
// this small process, so a run inherits about 1 MiB before its exec instead of peakbench's size.
// No iostreams, no fmt: the resident floor is the C and C++ runtime only.

#include <cstdlib>

#include "harness/launcher_process.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    return 2;
  }
  char* end = nullptr;
  long fd = std::strtol(argv[1], &end, 10);
  if (end == argv[1] || *end != '\0' || fd < 0) {
    return 2;
  }
  peakbench::run_launcher(static_cast<int>(fd));
}
