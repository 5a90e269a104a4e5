// Subprocess, FreeTcpPort and WaitForTcpPort, which other integration and end-to-end tests build on.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>

#include "tests/support/process.h"

namespace loadstar::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::string TempPath(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("loadstar-subprocess-" + std::to_string(::getpid()) + "-" + name))
      .string();
}

TEST(SubprocessTest, RunsWithExtraEnvironmentAndRedirectsOutput) {
  const std::string out = TempPath("out"), err = TempPath("err");
  ::setenv("LOADSTAR_SUBPROCESS_TEST_DROP", "present", 1);
  Subprocess::Options o;
  o.argv = {"sh", "-c", "echo \"$GREETING ${LOADSTAR_SUBPROCESS_TEST_DROP:-gone}\"; echo oops >&2; exit 3"};
  o.env = {{"GREETING", "hello world"}};
  o.unset_env = {"LOADSTAR_SUBPROCESS_TEST_DROP"};
  o.stdout_path = out;
  o.stderr_path = err;
  auto p = Subprocess::Spawn(o);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  auto exit = p->Wait(seconds(10));
  ASSERT_TRUE(exit.has_value());
  EXPECT_TRUE(exit->exited());
  EXPECT_EQ(exit->code, 3);
  EXPECT_FALSE(exit->success());
  EXPECT_EQ(exit->ToString(), "exit code 3");
  EXPECT_EQ(ReadFile(out), "hello world gone\n");
  EXPECT_EQ(ReadFile(err), "oops\n");
  EXPECT_FALSE(p->Running());
  EXPECT_EQ(p->Wait(milliseconds(0))->code, 3);  // the same answer again
  std::filesystem::remove(out);
  std::filesystem::remove(err);
}

TEST(SubprocessTest, StdoutAndStderrCanShareAFile) {
  const std::string log = TempPath("log");
  auto p = Subprocess::Spawn(
      {.argv = {"sh", "-c", "echo one; echo two >&2; echo three"}, .stdout_path = log, .stderr_path = log});
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  ASSERT_TRUE(p->Wait(seconds(10)).has_value());
  EXPECT_EQ(ReadFile(log), "one\ntwo\nthree\n");
  std::filesystem::remove(log);
}

TEST(SubprocessTest, MissingProgramIsAnErrorNotAChild) {
  auto p = Subprocess::Spawn({.argv = {"/nonexistent/loadstar-no-such-binary"}});
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("loadstar-no-such-binary"), std::string::npos) << p.status().message();
  EXPECT_NE(p.status().message().find("No such file"), std::string::npos) << p.status().message();
}

TEST(SubprocessTest, WaitTimesOutThenKillEndsIt) {
  auto p = Subprocess::Spawn({.argv = {"sleep", "30"}});
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_FALSE(p->Wait(milliseconds(50)).has_value());
  EXPECT_TRUE(p->Running());
  EXPECT_TRUE(p->Kill(SIGKILL));
  auto exit = p->Wait(seconds(10));
  ASSERT_TRUE(exit.has_value());
  EXPECT_EQ(exit->signal, SIGKILL);
  EXPECT_FALSE(exit->exited());
  EXPECT_NE(exit->ToString().find("signal 9"), std::string::npos);
  EXPECT_FALSE(p->Kill(SIGTERM));  // already reaped
}

TEST(SubprocessTest, DestructorStopsTheWholeProcessGroup) {
  const std::string pid_file = TempPath("grandchild");
  pid_t grandchild = 0;
  {
    // The shell starts a grandchild that ignores nothing, reports its pid, and waits.
    auto p = Subprocess::Spawn({.argv = {"sh", "-c", "sleep 30 & echo $! > " + pid_file + "; wait"}});
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    for (int i = 0; i < 200 && ReadFile(pid_file).empty(); ++i) std::this_thread::sleep_for(milliseconds(10));
    grandchild = static_cast<pid_t>(std::stol(ReadFile(pid_file)));
    ASSERT_EQ(::kill(grandchild, 0), 0) << "grandchild not running";
  }
  // The grandchild was in the group; it is gone (or a zombie about to be reaped by init).
  bool gone = false;
  for (int i = 0; i < 200 && !gone; ++i) {
    std::string stat = ReadFile("/proc/" + std::to_string(grandchild) + "/stat");
    gone = stat.empty() || stat.find(") Z") != std::string::npos;
    if (!gone) std::this_thread::sleep_for(milliseconds(10));
  }
  EXPECT_TRUE(gone);
  std::filesystem::remove(pid_file);
}

// Ownership moves with the object: the moved-from one's destructor must leave the process alone
// (it would SIGTERM it if it still thought it owned it), and the new owner stops it.
TEST(SubprocessTest, MovedFromObjectOwnsNothing) {
  pid_t pid = 0;
  std::optional<Subprocess> moved;
  {
    auto p = Subprocess::Spawn({.argv = {"sleep", "30"}});
    ASSERT_TRUE(p.ok());
    pid = p->pid();
    moved.emplace(std::move(p).value());
  }  // the moved-from object dies here
  ASSERT_EQ(moved->pid(), pid);
  // Give a stray SIGTERM time to land before looking.
  std::this_thread::sleep_for(milliseconds(100));
  EXPECT_TRUE(moved->Running());
  EXPECT_FALSE(moved->Wait(milliseconds(0)).has_value());

  // Move assignment: the target's own process is stopped, the moved-from one again owns nothing.
  auto other = Subprocess::Spawn({.argv = {"sleep", "30"}});
  ASSERT_TRUE(other.ok());
  const pid_t replaced = other->pid();
  {
    Subprocess source = std::move(*moved);
    *other = std::move(source);
  }  // `source`, moved from, dies here
  moved.reset();  // so does the first moved-from object
  EXPECT_EQ(other->pid(), pid);
  std::this_thread::sleep_for(milliseconds(100));
  EXPECT_TRUE(other->Running());
  EXPECT_NE(::kill(replaced, 0), 0) << "the process the assignment replaced is still running";

  // Its last owner stops it.
  other = Subprocess::Spawn({.argv = {"true"}});
  EXPECT_NE(::kill(pid, 0), 0) << "the moved process outlived its last owner";
}

TEST(TcpPortTest, FreePortAndWaitingForAListener) {
  int port = FreeTcpPort();
  ASSERT_GT(port, 0);
  EXPECT_FALSE(WaitForTcpPort(port, milliseconds(100)));  // nobody listens yet

  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(fd, 4), 0);
  EXPECT_TRUE(WaitForTcpPort(port, seconds(5)));
  ::close(fd);
}

TEST(TcpPortTest, WaitingGivesUpWhenTheProcessDies) {
  auto p = Subprocess::Spawn({.argv = {"sh", "-c", "exit 1"}});
  ASSERT_TRUE(p.ok());
  auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(WaitForTcpPort(FreeTcpPort(), seconds(20), &*p));
  EXPECT_LT(std::chrono::steady_clock::now() - start, seconds(10));
}

}  // namespace
}  // namespace loadstar::testing
