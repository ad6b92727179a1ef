// A suite file's JSON text through resolve_run_options (harness/run_options), from a memfd so
// that the real file path is read.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "harness/run_options.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const int fd = ::memfd_create("suite", MFD_CLOEXEC);
  if (fd < 0) return 0;
  if (::write(fd, data, size) == static_cast<ssize_t>(size)) {
    peakbench::RunArgs args;
    args.suite = "/proc/self/fd/" + std::to_string(fd);
    (void)peakbench::resolve_run_options(args);
  }
  ::close(fd);
  return 0;
}
