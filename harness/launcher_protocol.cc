#include "harness/launcher_protocol.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <type_traits>

namespace peakbench {
namespace {

enum class MessageType : std::uint8_t {
  spawn = 1,
  cancel = 2,
  started = 3,
  spawn_failed = 4,
  finished = 5,
};

// Writes fields. Integers go as i64, flags as u8, strings and vectors with an i64 count first.
class Writer {
 public:
  explicit Writer(MessageType type) { u8(static_cast<std::uint8_t>(type)); }
  bool u8(std::uint8_t v) {
    out_.push_back(static_cast<char>(v));
    return true;
  }
  bool i64(std::int64_t v) { return raw(&v, sizeof v); }
  bool f64(double v) { return raw(&v, sizeof v); }
  bool str(std::string_view s) {
    return i64(static_cast<std::int64_t>(s.size())) && raw(s.data(), s.size());
  }
  std::string take() { return std::move(out_); }

 private:
  bool raw(const void* p, std::size_t n) {
    out_.append(static_cast<const char*>(p), n);
    return true;
  }
  std::string out_;
};

// Reads fields; every getter fails (and stays failed) on a short or malformed payload.
class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  bool u8(std::uint8_t& v) { return raw(&v, sizeof v); }
  bool i64(std::int64_t& v) { return raw(&v, sizeof v); }
  bool f64(double& v) { return raw(&v, sizeof v); }
  bool str(std::string& s) {
    std::uint64_t n = 0;
    if (!count(n)) return false;
    s.assign(in_.substr(0, n));
    in_.remove_prefix(n);
    return true;
  }
  /// A count of items that each take at least one byte: never more than the bytes left, so a
  /// corrupt count cannot size a vector past the frame.
  bool count(std::uint64_t& n) {
    std::int64_t v = 0;
    if (!i64(v) || v < 0 || static_cast<std::uint64_t>(v) > in_.size()) return false;
    n = static_cast<std::uint64_t>(v);
    return true;
  }
  bool at_end() const { return in_.empty(); }

 private:
  bool raw(void* p, std::size_t n) {
    if (in_.size() < n) return false;
    std::memcpy(p, in_.data(), n);
    in_.remove_prefix(n);
    return true;
  }
  std::string_view in_;
};

// ---- one field at a time, for both directions ----

bool field(Writer& w, const bool& v) { return w.u8(v ? 1 : 0); }
bool field(Reader& r, bool& v) {
  std::uint8_t b = 0;
  if (!r.u8(b) || b > 1) return false;
  v = b != 0;
  return true;
}
bool field(Writer& w, const double& v) { return w.f64(v); }
bool field(Reader& r, double& v) { return r.f64(v); }
bool field(Writer& w, const std::string& v) { return w.str(v); }
bool field(Reader& r, std::string& v) { return r.str(v); }
bool field(Writer& w, const std::filesystem::path& v) { return w.str(v.native()); }
bool field(Reader& r, std::filesystem::path& v) {
  std::string s;
  if (!r.str(s)) return false;
  v = std::move(s);
  return true;
}

template <class Int>
requires std::is_integral_v<Int>
bool field(Writer& w, const Int& v) { return w.i64(static_cast<std::int64_t>(v)); }
template <class Int>
requires std::is_integral_v<Int>
bool field(Reader& r, Int& v) {
  std::int64_t i = 0;
  if (!r.i64(i)) return false;
  v = static_cast<Int>(i);
  return static_cast<std::int64_t>(v) == i;  // out of the type's range: malformed
}
bool field(Writer& w, const TreeSource& v) { return w.u8(static_cast<std::uint8_t>(v)); }
bool field(Reader& r, TreeSource& v) {
  std::uint8_t b = 0;
  if (!r.u8(b) || b > static_cast<std::uint8_t>(TreeSource::taskstats)) return false;
  v = static_cast<TreeSource>(b);
  return true;
}

// Declared before the templates that call them (the anonymous namespace is not found by ADL).
bool field(Writer& w, const ProcessPeak& v);
bool field(Reader& r, ProcessPeak& v);
bool field(Writer& w, const KilledProcess& v);
bool field(Reader& r, KilledProcess& v);

template <class T>
bool field(Writer& w, const std::optional<T>& v) {
  return field(w, v.has_value()) && (!v || field(w, *v));
}
template <class T>
bool field(Reader& r, std::optional<T>& v) {
  bool present = false;
  if (!field(r, present)) return false;
  if (!present) {
    v.reset();
    return true;
  }
  return field(r, v.emplace());
}
template <class A, class B>
bool field(Writer& w, const std::pair<A, B>& v) {
  return field(w, v.first) && field(w, v.second);
}
template <class A, class B>
bool field(Reader& r, std::pair<A, B>& v) {
  return field(r, v.first) && field(r, v.second);
}
template <class T>
bool field(Writer& w, const std::vector<T>& v) {
  if (!w.i64(static_cast<std::int64_t>(v.size()))) return false;
  for (const T& item : v) {
    if (!field(w, item)) return false;
  }
  return true;
}
template <class T>
bool field(Reader& r, std::vector<T>& v) {
  std::uint64_t n = 0;
  if (!r.count(n)) return false;
  v.clear();
  v.resize(static_cast<std::size_t>(n));
  for (T& item : v) {
    if (!field(r, item)) return false;
  }
  return true;
}

// ---- each message's fields, listed once; `Io` is Writer or Reader, `M` const or not ----

template <class Io, class M>
bool fields_of_request(Io& io, M& m) {
  return field(io, m.argv) && field(io, m.env) && field(io, m.working_dir) &&
         field(io, m.stdout_path) && field(io, m.stderr_path) && field(io, m.cpu) &&
         field(io, m.cgroup_procs) && field(io, m.report_pipe) && field(io, m.timeout_s) &&
         field(io, m.orphan_grace_s) && field(io, m.taskstats);
}

template <class Io, class M>
bool fields_of_process(Io& io, M& m) {
  return field(io, m.pid) && field(io, m.comm) && field(io, m.argv0) && field(io, m.peak_rss_bytes);
}
bool field(Writer& w, const ProcessPeak& v) { return fields_of_process(w, v); }
bool field(Reader& r, ProcessPeak& v) { return fields_of_process(r, v); }

template <class Io, class M>
bool fields_of_killed(Io& io, M& m) {
  return field(io, m.pid) && field(io, m.comm);
}
bool field(Writer& w, const KilledProcess& v) { return fields_of_killed(w, v); }
bool field(Reader& r, KilledProcess& v) { return fields_of_killed(r, v); }

template <class Io, class M>
bool fields_of_result(Io& io, M& m) {
  return field(io, m.pid) && field(io, m.exited) && field(io, m.exit_status) &&
         field(io, m.signal) && field(io, m.core_dumped) && field(io, m.timed_out) &&
         field(io, m.max_rss_bytes) && field(io, m.user_s) && field(io, m.system_s) &&
         field(io, m.wall_s) && field(io, m.root_wall_s) && field(io, m.orphans_reaped) &&
         field(io, m.orphans_killed) && field(io, m.report_text) && field(io, m.report_truncated) &&
         field(io, m.largest_process) && field(io, m.process_count) && field(io, m.tree_source) &&
         field(io, m.taskstats_note) && field(io, m.lingerers_killed);
}

Status malformed(const char* what) {
  return Status::Error(std::string("launcher protocol: malformed ") + what + " message");
}

bool write_all(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

bool read_all(int fd, char* data, std::size_t size) {
  while (size > 0) {
    ssize_t n = ::read(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;  // EOF: the other end is gone
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

}  // namespace

std::string encode(const ParentMessage& message) {
  if (const auto* request = std::get_if<SpawnRequest>(&message)) {
    Writer w(MessageType::spawn);
    fields_of_request(w, *request);
    return w.take();
  }
  return Writer(MessageType::cancel).take();
}

std::string encode(const LauncherMessage& message) {
  if (const auto* started = std::get_if<StartedMessage>(&message)) {
    Writer w(MessageType::started);
    field(w, started->pid);
    return w.take();
  }
  if (const auto* failed = std::get_if<SpawnFailedMessage>(&message)) {
    Writer w(MessageType::spawn_failed);
    field(w, failed->message);
    return w.take();
  }
  Writer w(MessageType::finished);
  fields_of_result(w, std::get<ChildResult>(message));
  return w.take();
}

Result<ParentMessage> decode_parent_message(std::string_view payload) {
  Reader r(payload);
  std::uint8_t type = 0;
  if (!r.u8(type)) return malformed("empty");
  switch (static_cast<MessageType>(type)) {
    case MessageType::spawn: {
      SpawnRequest request;
      if (!fields_of_request(r, request) || !r.at_end()) return malformed("spawn");
      return ParentMessage(std::move(request));
    }
    case MessageType::cancel:
      if (!r.at_end()) return malformed("cancel");
      return ParentMessage(CancelMessage{});
    default:
      return Status::Error("launcher protocol: unexpected message type " + std::to_string(type));
  }
}

Result<LauncherMessage> decode_launcher_message(std::string_view payload) {
  Reader r(payload);
  std::uint8_t type = 0;
  if (!r.u8(type)) return malformed("empty");
  switch (static_cast<MessageType>(type)) {
    case MessageType::started: {
      StartedMessage m;
      if (!field(r, m.pid) || !r.at_end()) return malformed("started");
      return LauncherMessage(m);
    }
    case MessageType::spawn_failed: {
      SpawnFailedMessage m;
      if (!field(r, m.message) || !r.at_end()) return malformed("spawn-failed");
      return LauncherMessage(std::move(m));
    }
    case MessageType::finished: {
      ChildResult m;
      if (!fields_of_result(r, m) || !r.at_end()) return malformed("finished");
      return LauncherMessage(std::move(m));
    }
    default:
      return Status::Error("launcher protocol: unexpected message type " + std::to_string(type));
  }
}

bool send_frame(int fd, std::string_view payload) {
  if (payload.size() > kMaxFrameBytes) return false;
  std::uint32_t size = static_cast<std::uint32_t>(payload.size());
  return write_all(fd, reinterpret_cast<const char*>(&size), sizeof size) &&
         write_all(fd, payload.data(), payload.size());
}

std::optional<std::string> receive_frame(int fd) {
  std::uint32_t size = 0;
  if (!read_all(fd, reinterpret_cast<char*>(&size), sizeof size)) return std::nullopt;
  if (size > kMaxFrameBytes) return std::nullopt;  // a broken stream
  std::string payload(size, '\0');
  if (!read_all(fd, payload.data(), size)) return std::nullopt;
  return payload;
}

}  // namespace peakbench
