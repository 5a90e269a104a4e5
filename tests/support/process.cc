#include "tests/support/process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <thread>

extern char** environ;

namespace loadstar::testing {
namespace {

using Clock = std::chrono::steady_clock;

ExitStatus FromWaitStatus(int status) {
  ExitStatus e;
  if (WIFEXITED(status)) e.code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) e.signal = WTERMSIG(status);
  return e;
}

// Writes all of `data` to `fd`, ignoring errors: used in the child after fork.
void WriteAll(int fd, const void* data, size_t size) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    ssize_t n = ::write(fd, p, size);
    if (n <= 0) {
      if (n < 0 && errno == EINTR) continue;
      return;
    }
    p += n;
    size -= static_cast<size_t>(n);
  }
}

}  // namespace

std::string ExitStatus::ToString() const {
  if (signal != 0) return "killed by signal " + std::to_string(signal) + " (" + strsignal(signal) + ")";
  return "exit code " + std::to_string(code);
}

Result<Subprocess> Subprocess::Spawn(Options options) {
  if (options.argv.empty()) return Status::InvalidArgument("Subprocess::Spawn: empty argv");
  const std::string what = "starting '" + options.argv[0] + "'";

  // Everything the child needs is prepared here: after fork() it may only make system calls.
  std::map<std::string, std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string kv(*e);
    size_t eq = kv.find('=');
    if (eq != std::string::npos) env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  for (const std::string& name : options.unset_env) env.erase(name);
  for (const auto& [name, value] : options.env) env[name] = value;
  std::vector<std::string> env_strings;
  for (const auto& [name, value] : env) env_strings.push_back(name + "=" + value);
  std::vector<char*> envp;
  for (std::string& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<char*> argv;
  for (std::string& s : options.argv) argv.push_back(s.data());
  argv.push_back(nullptr);

  auto open_output = [&](const std::string& path, int* fd) -> Status {
    *fd = -1;
    if (path.empty()) return Status::Ok();
    *fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (*fd < 0) return Status::InvalidArgument(what + ": cannot create " + path + ": " + std::strerror(errno));
    return Status::Ok();
  };
  int out_fd = -1;
  int err_fd = -1;
  LOADSTAR_RETURN_IF_ERROR(open_output(options.stdout_path, &out_fd));
  const bool shared_output = !options.stderr_path.empty() && options.stderr_path == options.stdout_path;
  if (Status s = open_output(shared_output ? std::string() : options.stderr_path, &err_fd); !s.ok()) {
    if (out_fd >= 0) ::close(out_fd);
    return s;
  }
  int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);

  // The child reports a failed exec through this pipe; a successful exec closes it (CLOEXEC).
  int report[2];
  if (::pipe2(report, O_CLOEXEC) != 0) return Status::Internal(what + ": pipe: " + std::strerror(errno));

  pid_t pid = ::fork();
  if (pid < 0) {
    int err = errno;
    for (int fd : {out_fd, err_fd, null_fd, report[0], report[1]}) {
      if (fd >= 0) ::close(fd);
    }
    return Status::Internal(what + ": fork: " + std::strerror(err));
  }
  if (pid == 0) {
    ::close(report[0]);
    if (options.new_process_group) ::setpgid(0, 0);
    if (null_fd >= 0) ::dup2(null_fd, STDIN_FILENO);
    if (out_fd >= 0) ::dup2(out_fd, STDOUT_FILENO);
    if (err_fd >= 0) ::dup2(err_fd, STDERR_FILENO);
    if (shared_output && out_fd >= 0) ::dup2(out_fd, STDERR_FILENO);
    // Undo what a test runner may have blocked or ignored, so signals reach the child.
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::signal(SIGPIPE, SIG_DFL);
    ::signal(SIGTERM, SIG_DFL);
    ::signal(SIGINT, SIG_DFL);
    if (!options.working_dir.empty() && ::chdir(options.working_dir.c_str()) != 0) {
      int err = errno;
      WriteAll(report[1], &err, sizeof err);
      ::_exit(127);
    }
    ::execvpe(argv[0], argv.data(), envp.data());
    int err = errno;
    WriteAll(report[1], &err, sizeof err);
    ::_exit(127);
  }

  if (options.new_process_group) ::setpgid(pid, pid);  // also here, so there is no race with Kill
  for (int fd : {out_fd, err_fd, null_fd, report[1]}) {
    if (fd >= 0) ::close(fd);
  }
  int child_errno = 0;
  ssize_t n;
  do {
    n = ::read(report[0], &child_errno, sizeof child_errno);
  } while (n < 0 && errno == EINTR);
  ::close(report[0]);
  if (n == static_cast<ssize_t>(sizeof child_errno)) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    return Status::InvalidArgument(what + ": " + std::strerror(child_errno));
  }
  return Subprocess(pid, options.new_process_group);
}

Subprocess::Subprocess(Subprocess&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)), group_(other.group_), exit_(std::move(other.exit_)) {}

Subprocess& Subprocess::operator=(Subprocess&& other) noexcept {
  if (this != &other) {
    Stop();
    pid_ = std::exchange(other.pid_, -1);
    group_ = other.group_;
    exit_ = std::move(other.exit_);
  }
  return *this;
}

Subprocess::~Subprocess() { Stop(); }

bool Subprocess::Kill(int signal) {
  if (pid_ <= 0 || exit_) return false;
  return ::kill(pid_, signal) == 0;
}

std::optional<ExitStatus> Subprocess::Wait(std::chrono::milliseconds timeout) {
  if (exit_ || pid_ <= 0) return exit_;
  const auto deadline = Clock::now() + timeout;
  auto pause = std::chrono::milliseconds(1);
  for (;;) {
    int status = 0;
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      exit_ = FromWaitStatus(status);
      return exit_;
    }
    if (r < 0 && errno != EINTR) {  // not our child any more (reaped elsewhere)
      exit_ = ExitStatus{};
      return exit_;
    }
    if (Clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(20));
  }
}

bool Subprocess::Running() { return pid_ > 0 && !Wait(std::chrono::milliseconds(0)).has_value(); }

void Subprocess::Stop() {
  if (pid_ <= 0) return;
  if (!exit_) {
    ::kill(pid_, SIGTERM);
    if (group_) ::kill(-pid_, SIGTERM);
    // Wait for the leader to end without reaping it: while it is a zombie its pid (and so its
    // group id) cannot be reused, so the group can still be addressed safely below.
    bool ended = false;
    const auto deadline = Clock::now() + std::chrono::seconds(5);
    while (!ended && Clock::now() < deadline) {
      siginfo_t info{};
      if (::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) != 0 && errno != EINTR) break;
      ended = info.si_pid == pid_;
      if (!ended) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (group_) ::kill(-pid_, SIGKILL);  // whatever is left of the group
    if (!ended) ::kill(pid_, SIGKILL);
    Wait(std::chrono::seconds(30));
  }
  pid_ = -1;
}

int FreeTcpPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

bool WaitForTcpPort(int port, std::chrono::milliseconds timeout, Subprocess* process) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    bool connected = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    if (connected) return true;
    if (process != nullptr && !process->Running()) return false;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace loadstar::testing
