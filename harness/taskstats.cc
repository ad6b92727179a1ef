#include "harness/taskstats.h"

#include <fcntl.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/taskstats.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "base/unique_fd.h"

namespace peakbench {
namespace {

// One request: the netlink and generic netlink headers, then attributes.
struct Request {
  nlmsghdr header;
  genlmsghdr genl;
  char attrs[256];
};

void start_request(Request& r, std::uint16_t type, std::uint8_t command, std::uint32_t seq,
                   bool ack) {
  std::memset(&r, 0, sizeof r);
  r.header.nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN);
  r.header.nlmsg_type = type;
  r.header.nlmsg_flags = NLM_F_REQUEST | (ack ? NLM_F_ACK : 0);
  r.header.nlmsg_seq = seq;
  r.genl.cmd = command;
  r.genl.version = 1;
}

bool add_attr(Request& r, std::uint16_t type, const void* data, std::size_t size) {
  std::size_t at = NLMSG_ALIGN(r.header.nlmsg_len);
  std::size_t len = NLA_HDRLEN + size;
  if (at + NLA_ALIGN(len) > sizeof r) return false;
  auto* attr = reinterpret_cast<nlattr*>(reinterpret_cast<char*>(&r) + at);
  attr->nla_type = type;
  attr->nla_len = static_cast<std::uint16_t>(len);
  std::memcpy(reinterpret_cast<char*>(attr) + NLA_HDRLEN, data, size);
  r.header.nlmsg_len = static_cast<std::uint32_t>(at + NLA_ALIGN(len));
  return true;
}

bool send_request(int fd, const Request& r) {
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  for (;;) {
    ssize_t n = ::sendto(fd, &r, r.header.nlmsg_len, 0, reinterpret_cast<const sockaddr*>(&kernel),
                         sizeof kernel);
    if (n < 0 && errno == EINTR) continue;
    return n == static_cast<ssize_t>(r.header.nlmsg_len);
  }
}

// Calls `visit(type, payload, size)` for each attribute in [data, data + size).
template <class Visit>
void for_each_attr(const char* data, std::size_t size, Visit visit) {
  while (size >= NLA_HDRLEN) {
    const auto* attr = reinterpret_cast<const nlattr*>(data);
    if (attr->nla_len < NLA_HDRLEN || attr->nla_len > size) return;
    visit(static_cast<std::uint16_t>(attr->nla_type & NLA_TYPE_MASK), data + NLA_HDRLEN,
          static_cast<std::size_t>(attr->nla_len - NLA_HDRLEN));
    std::size_t step = NLA_ALIGN(attr->nla_len);
    if (step >= size) return;
    data += step;
    size -= step;
  }
}

// The attributes of a generic netlink message.
std::pair<const char*, std::size_t> genl_attrs(const nlmsghdr* h) {
  const char* start = reinterpret_cast<const char*>(NLMSG_DATA(h)) + GENL_HDRLEN;
  std::size_t header = NLMSG_LENGTH(GENL_HDRLEN);
  if (h->nlmsg_len < header) return {start, 0};
  return {start, h->nlmsg_len - header};
}

// Reads replies until the answer to `seq`: for an ack, 0 or the negative errno; the family ID
// (positive) for a GETFAMILY answer.
int await_answer(int fd, std::uint32_t seq, bool want_family) {
  alignas(nlmsghdr) char buf[8192];
  for (int tries = 0; tries < 1000; ++tries) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n < 0 && (errno == EINTR || errno == ENOBUFS)) continue;
    if (n <= 0) return -errno;
    std::size_t left = static_cast<std::size_t>(n);
    for (auto* h = reinterpret_cast<nlmsghdr*>(buf); NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
      if (h->nlmsg_seq != seq) continue;  // an exit record (seq 0) queued meanwhile
      if (h->nlmsg_type == NLMSG_ERROR) {
        const auto* e = reinterpret_cast<const nlmsgerr*>(NLMSG_DATA(h));
        if (e->error != 0 || !want_family) return e->error;
        continue;
      }
      if (want_family) {
        int family = 0;
        auto [attrs, size] = genl_attrs(h);
        for_each_attr(attrs, size, [&](std::uint16_t type, const char* p, std::size_t len) {
          if (type == CTRL_ATTR_FAMILY_ID && len >= sizeof(std::uint16_t)) {
            std::uint16_t id = 0;
            std::memcpy(&id, p, sizeof id);
            family = id;
          }
        });
        if (family > 0) return family;
      }
    }
  }
  return -ETIMEDOUT;
}

std::string possible_cpus() {
  const UniqueFd fd(::open("/sys/devices/system/cpu/possible", O_RDONLY | O_CLOEXEC));
  if (!fd) {
    long n = ::sysconf(_SC_NPROCESSORS_CONF);
    return n > 1 ? "0-" + std::to_string(n - 1) : "0";
  }
  char buf[256];
  ssize_t n = ::read(fd.get(), buf, sizeof buf - 1);
  std::string cpus(buf, n > 0 ? static_cast<std::size_t>(n) : 0);
  while (!cpus.empty() && (cpus.back() == '\n' || cpus.back() == ' ')) cpus.pop_back();
  return cpus.empty() ? "0" : cpus;
}

std::string errno_text(int negative) { return std::strerror(-negative); }

}  // namespace

Result<TaskstatsListener> TaskstatsListener::open() {
  UniqueFd fd(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC));
  if (!fd) {
    return Status::Error(std::string("taskstats: netlink socket: ") + std::strerror(errno));
  }
  sockaddr_nl self{};
  self.nl_family = AF_NETLINK;
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&self), sizeof self) != 0) {
    return Status::Error(std::string("taskstats: bind: ") + std::strerror(errno));
  }
  // Every exit on the machine comes here during a run; room for bursts (a build's compilers).
  int buffer = 8 << 20;
  if (::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUFFORCE, &buffer, sizeof buffer) != 0) {
    (void)::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &buffer, sizeof buffer);
  }

  Request r;
  start_request(r, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 1, false);
  if (!add_attr(r, CTRL_ATTR_FAMILY_NAME, TASKSTATS_GENL_NAME, sizeof TASKSTATS_GENL_NAME) ||
      !send_request(fd.get(), r)) {
    return Status::Error(std::string("taskstats: send: ") + std::strerror(errno));
  }
  int family = await_answer(fd.get(), 1, true);
  if (family <= 0) {
    return Status::Error("taskstats: no TASKSTATS netlink family: " + errno_text(family));
  }

  std::string cpus = possible_cpus();
  start_request(r, static_cast<std::uint16_t>(family), TASKSTATS_CMD_GET, 2, true);
  if (!add_attr(r, TASKSTATS_CMD_ATTR_REGISTER_CPUMASK, cpus.c_str(), cpus.size() + 1) ||
      !send_request(fd.get(), r)) {
    return Status::Error(std::string("taskstats: send: ") + std::strerror(errno));
  }
  int ack = await_answer(fd.get(), 2, false);
  if (ack != 0) {
    return Status::Error("taskstats: registering for CPUs " + cpus + " refused: " +
                         errno_text(ack) + (ack == -EPERM ? " (needs CAP_NET_ADMIN)" : ""));
  }
  int flags = ::fcntl(fd.get(), F_GETFL);
  ::fcntl(fd.get(), F_SETFL, flags | O_NONBLOCK);
  return TaskstatsListener(std::move(fd), static_cast<std::uint16_t>(family), std::move(cpus));
}

TaskstatsListener::~TaskstatsListener() {
  if (!socket_) return;
  Request r;
  start_request(r, family_, TASKSTATS_CMD_GET, 3, false);
  if (add_attr(r, TASKSTATS_CMD_ATTR_DEREGISTER_CPUMASK, cpus_.c_str(), cpus_.size() + 1)) {
    (void)send_request(socket_.get(), r);
  }
}

Status TaskstatsListener::read_available(std::vector<TaskExit>& out) {
  bool lost = false;
  alignas(nlmsghdr) char buf[8192];
  for (;;) {
    ssize_t n = ::recv(socket_.get(), buf, sizeof buf, MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == ENOBUFS) {
      lost = true;  // the queue overflowed; what is queued now is still readable
      continue;
    }
    if (n <= 0) break;  // EAGAIN: nothing more now
    std::size_t left = static_cast<std::size_t>(n);
    for (auto* h = reinterpret_cast<nlmsghdr*>(buf); NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
      if (h->nlmsg_type != family_) continue;
      auto [attrs, size] = genl_attrs(h);
      // TASKSTATS_TYPE_AGGR_PID holds the task's own record; the AGGR_TGID sent with a thread
      // group's last exit sums times and carries no memory figures.
      for_each_attr(attrs, size, [&](std::uint16_t type, const char* p, std::size_t len) {
        if (type != TASKSTATS_TYPE_AGGR_PID) return;
        taskstats stats{};
        bool have_stats = false;
        for_each_attr(p, len, [&](std::uint16_t inner, const char* q, std::size_t qlen) {
          if (inner == TASKSTATS_TYPE_STATS) {
            // An older kernel sends a shorter struct; a newer one a longer one.
            std::memcpy(&stats, q, std::min(qlen, sizeof stats));
            have_stats = true;
          }
        });
        if (!have_stats) return;
        TaskExit e;
        e.pid = static_cast<pid_t>(stats.ac_pid);
        e.tgid = stats.ac_tgid != 0 ? static_cast<pid_t>(stats.ac_tgid) : e.pid;
        e.ppid = static_cast<pid_t>(stats.ac_ppid);
        e.comm.assign(stats.ac_comm, strnlen(stats.ac_comm, sizeof stats.ac_comm));
        e.hiwater_rss_bytes = static_cast<std::uint64_t>(stats.hiwater_rss) * 1024;
        out.push_back(std::move(e));
      });
    }
  }
  if (lost) {
    return Status::Error("taskstats: the kernel dropped exit records (receive buffer full)");
  }
  return Status::Ok();
}

void RunTree::add(const TaskExit& exit, const ParentOf& parent_of) {
  if (members_.count(exit.tgid) != 0) {
    accept(exit);  // a thread of a known process, or a live ancestor met on an earlier walk
    return;
  }
  // Walk up from the parent while the chain is alive, to a known member or out of the run.
  std::vector<pid_t> chain;
  pid_t p = exit.ppid;
  for (int depth = 0; depth < 128 && p > 0; ++depth) {
    if (members_.count(p) != 0) {
      members_.insert(chain.begin(), chain.end());
      accept(exit);
      return;
    }
    std::optional<pid_t> up = parent_of(p);
    if (!up) {
      // The parent is gone: it belongs to the run only if its own record says so later.
      waiting_for_parent_.emplace(exit.ppid, exit);
      return;
    }
    chain.push_back(p);
    p = *up;
  }
  // Reached the top (PID 1 or 0) without meeting the run: another process of the machine.
}

void RunTree::accept(const TaskExit& exit) {
  members_.insert(exit.tgid);
  ProcessPeak& peak = processes_[exit.tgid];
  peak.pid = exit.tgid;
  if (exit.pid == exit.tgid || peak.comm.empty()) peak.comm = exit.comm;
  peak.peak_rss_bytes = std::max(peak.peak_rss_bytes, exit.hiwater_rss_bytes);
  // Children that exited after this process had already gone now have a known parent.
  auto [first, last] = waiting_for_parent_.equal_range(exit.tgid);
  std::vector<TaskExit> children;
  for (auto it = first; it != last; ++it) children.push_back(it->second);
  waiting_for_parent_.erase(first, last);
  for (const TaskExit& child : children) accept(child);
}

std::optional<ProcessPeak> RunTree::largest() const {
  std::optional<ProcessPeak> best;
  for (const auto& [pid, peak] : processes_) {
    if (!best || peak.peak_rss_bytes > best->peak_rss_bytes) best = peak;
  }
  return best;
}

}  // namespace peakbench
