#pragma once
// The launcher process's side of launcher.h: a loop that reads Spawn and Cancel frames on a
// socket, forks and execs each run, reaps its whole tree as a child subreaper, measures every
// process of it (taskstats where available, otherwise wait4) and answers Started then Finished.
// Linked into the minimal `peakbench-launcher` executable (launcher_main.cc) and into peakbench
// itself (the fallback when that executable is missing). Depends on base/ and the protocol only.

namespace peakbench {

/// The body of the launcher process; returns only by exiting (when the socket closes).
[[noreturn]] void run_launcher(int socket_fd);

}  // namespace peakbench
