#include "harness/launcher_protocol.h"

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <cstring>
#include <limits>

#include "base/unique_fd.h"

namespace peakbench {
namespace {

SpawnRequest full_request() {
  SpawnRequest r;
  r.argv = {"/usr/bin/env", "", "with space", std::string("nul\0inside", 10)};
  r.env = {{"A", "1"}, {"EMPTY", ""}};
  r.working_dir = "/tmp/work";
  r.stdout_path = "out.txt";
  r.stderr_path = "err.txt";
  r.cpu = 1;
  r.cgroup_procs = "/sys/fs/cgroup/memory/x/cgroup.procs";
  r.report_pipe = false;
  r.timeout_s = 12.5;
  r.orphan_grace_s = 0.25;
  r.taskstats = false;
  return r;
}

ChildResult full_result() {
  ChildResult c;
  c.pid = 4242;
  c.exited = false;
  c.exit_status = 0;
  c.signal = 9;
  c.core_dumped = true;
  c.timed_out = true;
  c.max_rss_bytes = std::uint64_t{5} << 40;
  c.user_s = 1.5;
  c.system_s = 0.125;
  c.wall_s = 3.25;
  c.root_wall_s = 2.0;
  c.orphans_reaped = 3;
  c.orphans_killed = 2;
  c.report_text = "{\"phases\":[]}";
  c.report_truncated = true;
  c.largest_process = ProcessPeak{4243, "worker", "/bin/worker", 123456789};
  c.process_count = 5;
  c.tree_source = TreeSource::taskstats;
  c.taskstats_note = "taskstats: something";
  c.lingerers_killed = {{4244, "sleep"}, {4245, "daemon"}};
  return c;
}

void expect_same(const SpawnRequest& a, const SpawnRequest& b) {
  EXPECT_EQ(a.argv, b.argv);
  EXPECT_EQ(a.env, b.env);
  EXPECT_EQ(a.working_dir, b.working_dir);
  EXPECT_EQ(a.stdout_path, b.stdout_path);
  EXPECT_EQ(a.stderr_path, b.stderr_path);
  EXPECT_EQ(a.cpu, b.cpu);
  EXPECT_EQ(a.cgroup_procs, b.cgroup_procs);
  EXPECT_EQ(a.report_pipe, b.report_pipe);
  EXPECT_EQ(a.timeout_s, b.timeout_s);
  EXPECT_EQ(a.orphan_grace_s, b.orphan_grace_s);
  EXPECT_EQ(a.taskstats, b.taskstats);
}

void expect_same(const ChildResult& a, const ChildResult& b) {
  EXPECT_EQ(a.pid, b.pid);
  EXPECT_EQ(a.exited, b.exited);
  EXPECT_EQ(a.exit_status, b.exit_status);
  EXPECT_EQ(a.signal, b.signal);
  EXPECT_EQ(a.core_dumped, b.core_dumped);
  EXPECT_EQ(a.timed_out, b.timed_out);
  EXPECT_EQ(a.max_rss_bytes, b.max_rss_bytes);
  EXPECT_EQ(a.user_s, b.user_s);
  EXPECT_EQ(a.system_s, b.system_s);
  EXPECT_EQ(a.wall_s, b.wall_s);
  EXPECT_EQ(a.root_wall_s, b.root_wall_s);
  EXPECT_EQ(a.orphans_reaped, b.orphans_reaped);
  EXPECT_EQ(a.orphans_killed, b.orphans_killed);
  EXPECT_EQ(a.report_text, b.report_text);
  EXPECT_EQ(a.report_truncated, b.report_truncated);
  ASSERT_EQ(a.largest_process.has_value(), b.largest_process.has_value());
  if (a.largest_process) {
    EXPECT_EQ(a.largest_process->pid, b.largest_process->pid);
    EXPECT_EQ(a.largest_process->comm, b.largest_process->comm);
    EXPECT_EQ(a.largest_process->argv0, b.largest_process->argv0);
    EXPECT_EQ(a.largest_process->peak_rss_bytes, b.largest_process->peak_rss_bytes);
  }
  EXPECT_EQ(a.process_count, b.process_count);
  EXPECT_EQ(a.tree_source, b.tree_source);
  EXPECT_EQ(a.taskstats_note, b.taskstats_note);
  ASSERT_EQ(a.lingerers_killed.size(), b.lingerers_killed.size());
  for (std::size_t i = 0; i < a.lingerers_killed.size(); ++i) {
    EXPECT_EQ(a.lingerers_killed[i].pid, b.lingerers_killed[i].pid);
    EXPECT_EQ(a.lingerers_killed[i].comm, b.lingerers_killed[i].comm);
  }
}

TEST(LauncherProtocol, ASpawnRequestRoundTrips) {
  for (SpawnRequest request : {full_request(), SpawnRequest{}}) {
    Result<ParentMessage> back = decode_parent_message(encode(ParentMessage(request)));
    ASSERT_TRUE(back.ok()) << back.message();
    ASSERT_TRUE(std::holds_alternative<SpawnRequest>(*back));
    expect_same(std::get<SpawnRequest>(*back), request);
  }
}

TEST(LauncherProtocol, ACancelRoundTrips) {
  Result<ParentMessage> back = decode_parent_message(encode(ParentMessage(CancelMessage{})));
  ASSERT_TRUE(back.ok()) << back.message();
  EXPECT_TRUE(std::holds_alternative<CancelMessage>(*back));
}

TEST(LauncherProtocol, StartedAndSpawnFailedRoundTrip) {
  Result<LauncherMessage> started =
      decode_launcher_message(encode(LauncherMessage(StartedMessage{77})));
  ASSERT_TRUE(started.ok()) << started.message();
  ASSERT_TRUE(std::holds_alternative<StartedMessage>(*started));
  EXPECT_EQ(std::get<StartedMessage>(*started).pid, 77);

  Result<LauncherMessage> failed =
      decode_launcher_message(encode(LauncherMessage(SpawnFailedMessage{"cannot run 'x': exec"})));
  ASSERT_TRUE(failed.ok()) << failed.message();
  ASSERT_TRUE(std::holds_alternative<SpawnFailedMessage>(*failed));
  EXPECT_EQ(std::get<SpawnFailedMessage>(*failed).message, "cannot run 'x': exec");
}

TEST(LauncherProtocol, AChildResultRoundTrips) {
  for (ChildResult result : {full_result(), ChildResult{}}) {
    Result<LauncherMessage> back = decode_launcher_message(encode(LauncherMessage(result)));
    ASSERT_TRUE(back.ok()) << back.message();
    ASSERT_TRUE(std::holds_alternative<ChildResult>(*back));
    expect_same(std::get<ChildResult>(*back), result);
  }
}

TEST(LauncherProtocol, EveryTruncationAndTrailingByteIsMalformed) {
  std::string request = encode(ParentMessage(full_request()));
  std::string result = encode(LauncherMessage(full_result()));
  for (std::size_t n = 0; n < request.size(); ++n) {
    EXPECT_FALSE(decode_parent_message(request.substr(0, n)).ok()) << n;
  }
  for (std::size_t n = 0; n < result.size(); ++n) {
    EXPECT_FALSE(decode_launcher_message(result.substr(0, n)).ok()) << n;
  }
  EXPECT_FALSE(decode_parent_message(request + "x").ok());
  EXPECT_FALSE(decode_launcher_message(result + "x").ok());
}

TEST(LauncherProtocol, AHugeCountIsRefusedBeforeAnythingIsSized) {
  // A spawn whose argv count says 2^62 items: the decoder must not try to make room for them.
  std::string payload = encode(ParentMessage(SpawnRequest{}));
  std::int64_t huge = std::int64_t{1} << 62;
  std::memcpy(payload.data() + 1, &huge, sizeof huge);
  Result<ParentMessage> decoded = decode_parent_message(payload);
  ASSERT_FALSE(decoded.ok());
  EXPECT_NE(decoded.message().find("spawn"), std::string::npos) << decoded.message();
  std::int64_t negative = -1;
  std::memcpy(payload.data() + 1, &negative, sizeof negative);
  EXPECT_FALSE(decode_parent_message(payload).ok());
}

TEST(LauncherProtocol, AMessageOfTheOtherDirectionIsRefused) {
  EXPECT_FALSE(decode_parent_message(encode(LauncherMessage(StartedMessage{1}))).ok());
  EXPECT_FALSE(decode_launcher_message(encode(ParentMessage(CancelMessage{}))).ok());
  EXPECT_FALSE(decode_launcher_message(std::string(1, '\x7f')).ok());
}

TEST(LauncherProtocol, FramesCrossASocketAndAnOversizedLengthIsRefused) {
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  UniqueFd a(sv[0]);
  UniqueFd b(sv[1]);
  std::string payload = encode(LauncherMessage(full_result()));
  ASSERT_TRUE(send_frame(a.get(), payload));
  std::optional<std::string> got = receive_frame(b.get());
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(*got, payload);

  std::uint32_t too_big = static_cast<std::uint32_t>(kMaxFrameBytes + 1);
  ASSERT_EQ(::write(a.get(), &too_big, sizeof too_big), static_cast<ssize_t>(sizeof too_big));
  EXPECT_FALSE(receive_frame(b.get()).has_value());
  a.reset();
  EXPECT_FALSE(receive_frame(b.get()).has_value());  // EOF
}

}  // namespace
}  // namespace peakbench
