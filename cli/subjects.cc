// Hidden calibration subjects: programs whose true memory use is known, measured through the whole
// chain (launcher, probe, sampler, cgroup) by the tests and by hand.
//
//   peakbench calibrate --mib N [--hold-ms T] [--children M1,M2,...] [--orphan-ms T] [--signal SIG]
//
// touches exactly N MiB (malloc + memset of every page, pointer kept alive) inside a "download"
// phase of a SubjectProbe, publishes on PEAKBENCH_REPORT_FD, and optionally: first spawns one
// child per Mi (`calibrate --mib Mi --hold-ms T`, all alive at once, waited for), leaves an orphan
// that sleeps T ms after the subject exits (its PID on stdout), or kills itself with SIG after
// publishing.
//
//   peakbench calibrate-tree --shape SHAPE --mib N [--mib2 M] [--hold-ms T]
//
// process trees whose every process's truth is known (issue: whole-tree truth). Each process that
// touches memory first prints "touched PID START_KB MIB" on stdout (its VmRSS before touching), so
// a test knows its truth: START_KB + MIB MiB. Shapes: zombie (a child touches N and is never
// reaped), auto-reaped (the same with SIGCHLD ignored), orphan (the parent exits while its child
// touches N and holds T), daemon (double fork + setsid, the daemon touches N and holds T), cow (the
// parent touches N and forks a child that writes nothing and holds T), two-children (children of
// N and M MiB alive at once), vfork (the parent touches N and vforks a child that execs
// `calibrate-tree --shape touch --mib M`), touch (this process touches N and holds T).

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "cli/cli.h"
#include "harness/launcher.h"
#include "harness/proc_status.h"
#include "harness/subject_probe.h"

namespace peakbench {
namespace {

struct CalibrateOptions {
  std::uint64_t mib = 0;
  std::uint64_t hold_ms = 0;
  std::vector<std::uint64_t> children_mib;
  std::uint64_t orphan_ms = 0;
  std::string signal;
};

// Where the touched block's address escapes to, so that -O2 cannot drop the malloc + memset.
void* volatile g_sink = nullptr;

std::optional<int> parse_signal(const std::string& text) {
  std::string name = text.rfind("SIG", 0) == 0 ? text.substr(3) : text;
  struct Named {
    const char* name;
    int number;
  };
  static constexpr Named kSignals[] = {{"KILL", SIGKILL}, {"TERM", SIGTERM}, {"INT", SIGINT},
                                       {"SEGV", SIGSEGV}, {"ABRT", SIGABRT}, {"USR1", SIGUSR1},
                                       {"HUP", SIGHUP}};
  for (const Named& s : kSignals) {
    if (name == s.name) {
      return s.number;
    }
  }
  char* end = nullptr;
  long n = std::strtol(text.c_str(), &end, 10);
  if (end != text.c_str() && *end == '\0' && n > 0 && n < NSIG) {
    return static_cast<int>(n);
  }
  return std::nullopt;
}

void sleep_ms(std::uint64_t ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

// Starts `peakbench calibrate --mib MIB --hold-ms HOLD`; its PID, or -1.
pid_t spawn_calibrate_child(std::uint64_t mib, std::uint64_t hold_ms) {
  std::string mib_text = std::to_string(mib);
  std::string hold_text = std::to_string(hold_ms);
  pid_t pid = ::fork();
  if (pid == 0) {
    // The report fd is close-on-exec (SubjectProbe), and the child must not look for it either.
    ::unsetenv(kReportFdEnv);
    const char* argv[] = {"peakbench", "calibrate",       "--mib", mib_text.c_str(),
                          "--hold-ms", hold_text.c_str(), nullptr};
    ::execv("/proc/self/exe", const_cast<char* const*>(argv));
    ::_exit(127);
  }
  return pid;
}

ExitCode calibrate(const CalibrateOptions& o) {
  std::optional<int> kill_with;
  if (!o.signal.empty()) {
    kill_with = parse_signal(o.signal);
    if (!kill_with) {
      return fail(ExitCode::usage, "calibrate: unknown signal '" + o.signal + "'");
    }
  }
  // Reading the environment is the CLI layer's job; the probe takes the descriptor.
  SubjectProbe probe(parse_report_fd(std::getenv(kReportFdEnv)).value_or(-1));

  // Children first, while this process is small: they would inherit what it touches.
  std::vector<pid_t> children;
  for (std::uint64_t mib : o.children_mib) {
    pid_t pid = spawn_calibrate_child(mib, o.hold_ms);
    if (pid < 0) {
      return fail(ExitCode::failure, std::string("calibrate: fork: ") + std::strerror(errno));
    }
    children.push_back(pid);
  }

  const std::size_t bytes = static_cast<std::size_t>(o.mib) << 20;
  {
    PhaseScope phase(probe, SubjectPhase::download);
    if (bytes > 0) {
      void* block = std::malloc(bytes);
      if (block == nullptr) {
        return fail(ExitCode::failure, "calibrate: out of memory");
      }
      std::memset(block, 0x5a, bytes);  // every page written, so every page is resident
      // Like benchmark::DoNotOptimize: the block escapes and memory is clobbered, so -O2 can
      // drop neither the malloc nor the memset.
      asm volatile("" : : "r"(block) : "memory");
      g_sink = block;
      probe.add_bytes_written(bytes);
    }
  }

  if (o.orphan_ms > 0) {
    pid_t orphan = ::fork();
    if (orphan == 0) {
      sleep_ms(o.orphan_ms);
      ::_exit(0);
    }
    std::cout << orphan << std::endl;
  }
  if (o.hold_ms > 0) {
    sleep_ms(o.hold_ms);
  }
  for (pid_t child : children) {
    while (::waitpid(child, nullptr, 0) < 0 && errno == EINTR) {
    }
  }
  Status published = probe.finish();
  if (kill_with) {
    ::signal(*kill_with, SIG_DFL);
    ::raise(*kill_with);
  }
  std::free(g_sink);
  if (!published) {
    return fail(ExitCode::failure, published.message());
  }
  return ExitCode::ok;
}

struct TreeOptions {
  std::string shape;
  std::uint64_t mib = 0;
  std::uint64_t mib2 = 0;
  std::uint64_t hold_ms = 0;
};

// Names this process (its comm, in taskstats records and /proc), prints its truth line and
// touches `mib` MiB, kept alive until the process exits.
void touch(const char* name, std::uint64_t mib) {
  ::prctl(PR_SET_NAME, name);
  std::uint64_t start_kb = read_proc_memory(0).value_or(ProcMemory{}).vm_rss_bytes / 1024;
  // One write(2), unbuffered: nothing left in a stdio buffer to be copied by a later fork.
  char line[96];
  int n = std::snprintf(line, sizeof line, "touched %d %llu %llu\n", static_cast<int>(::getpid()),
                        static_cast<unsigned long long>(start_kb),
                        static_cast<unsigned long long>(mib));
  (void)!::write(1, line, static_cast<std::size_t>(n));
  const std::size_t bytes = static_cast<std::size_t>(mib) << 20;
  if (bytes == 0) return;
  void* block = std::malloc(bytes);
  if (block == nullptr) ::_exit(3);
  std::memset(block, 0x5a, bytes);
  asm volatile("" : : "r"(block) : "memory");
  g_sink = block;
}

// Forks a child that runs `body` then exits 0; its PID.
template <class Body>
pid_t fork_child(Body body) {
  pid_t pid = ::fork();
  if (pid == 0) {
    body();
    ::_exit(0);
  }
  return pid;
}

void reap(pid_t pid) {
  while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
  }
}

ExitCode calibrate_tree(const TreeOptions& o) {
  const std::uint64_t hold = o.hold_ms;
  if (o.shape == "zombie") {
    pid_t child = fork_child([&] { touch("pb-zombie", o.mib); });
    // Wait for its exit without reaping it: it stays a zombie until this process exits.
    siginfo_t info{};
    while (::waitid(P_PID, static_cast<id_t>(child), &info, WEXITED | WNOWAIT) < 0 &&
           errno == EINTR) {
    }
  } else if (o.shape == "auto-reaped") {
    ::signal(SIGCHLD, SIG_IGN);  // the kernel reaps the child itself: nobody gets its rusage
    pid_t child = fork_child([&] { touch("pb-autoreaped", o.mib); });
    // With SIGCHLD ignored, waitpid blocks until the child is gone, then fails with ECHILD.
    while (::waitpid(child, nullptr, 0) < 0 && errno == EINTR) {
    }
  } else if (o.shape == "orphan") {
    fork_child([&] {
      touch("pb-orphan", o.mib);
      sleep_ms(hold);
    });
  } else if (o.shape == "daemon") {
    pid_t middle = fork_child([&] {
      ::setsid();
      fork_child([&] {
        touch("pb-daemon", o.mib);
        sleep_ms(hold);
      });
    });
    reap(middle);
  } else if (o.shape == "cow") {
    touch("pb-cow-parent", o.mib);
    pid_t child = fork_child([&] {
      ::prctl(PR_SET_NAME, "pb-cow-child");
      sleep_ms(hold);
    });
    reap(child);
  } else if (o.shape == "two-children") {
    pid_t a = fork_child([&] {
      touch("pb-child-a", o.mib);
      sleep_ms(hold);
    });
    pid_t b = fork_child([&] {
      touch("pb-child-b", o.mib2);
      sleep_ms(hold);
    });
    reap(a);
    reap(b);
  } else if (o.shape == "vfork") {
    touch("pb-vfork-parent", o.mib);
    std::string mib_text = std::to_string(o.mib2);
    const char* argv[] = {"peakbench", "calibrate-tree", "--shape", "touch",
                          "--mib",     mib_text.c_str(), nullptr};
    ::unsetenv(kReportFdEnv);
    pid_t child = ::vfork();
    if (child == 0) {
      ::execv("/proc/self/exe", const_cast<char* const*>(argv));
      ::_exit(127);
    }
    reap(child);
  } else if (o.shape == "touch") {
    touch("pb-touch", o.mib);
    sleep_ms(hold);
    // Not back through main: tearing the command line down would fault in code pages after the
    // truth line was printed.
    ::_exit(0);
  } else {
    return fail(ExitCode::usage, "calibrate-tree: unknown shape '" + o.shape + "'");
  }
  return ExitCode::ok;
}

}  // namespace

void add_subject_commands(Commands& commands) {
  auto options = std::make_shared<CalibrateOptions>();
  CLI::App* sub = commands.add("calibrate", "Touch exactly N MiB and publish the probe's report",
                               [options] { return calibrate(*options); });
  sub->group("");  // hidden: a test subject, not a user command
  sub->add_option("--mib", options->mib, "MiB to touch")->required();
  sub->add_option("--hold-ms", options->hold_ms, "keep the memory this long before exiting");
  sub->add_option("--children", options->children_mib,
                  "spawn one child per size (MiB), all alive at once")
      ->delimiter(',');
  sub->add_option("--orphan-ms", options->orphan_ms,
                  "leave a child that outlives this process by T ms");
  sub->add_option("--signal", options->signal, "kill itself with this signal after publishing");

  auto tree = std::make_shared<TreeOptions>();
  CLI::App* shapes =
      commands.add("calibrate-tree", "process trees whose every process's truth is known",
                   [tree] { return calibrate_tree(*tree); });
  shapes->group("");  // hidden: a test subject
  shapes
      ->add_option("--shape", tree->shape,
                   "zombie, auto-reaped, orphan, daemon, cow, two-children or vfork")
      ->required();
  shapes->add_option("--mib", tree->mib, "MiB the (first) touching process touches")->required();
  shapes->add_option("--mib2", tree->mib2, "MiB of the second child (two-children, vfork)");
  shapes->add_option("--hold-ms", tree->hold_ms, "how long the holding process keeps it");
}

}  // namespace peakbench
