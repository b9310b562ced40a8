#include "search/external_estimator.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <poll.h>
#include <spawn.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "space/arch_json.h"

extern char** environ;  // NOLINT(readability-redundant-declaration): POSIX leaves it to the program

namespace hwnas::search {
namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

constexpr std::size_t kShown = 200;                          // characters of a printed line in a message
constexpr auto kPipeGrace = std::chrono::milliseconds(200);  // reading on after the program exited
constexpr double kMaxTimeoutS = 1e9;                         // keeps the deadline's arithmetic in range
constexpr auto kTick = std::chrono::milliseconds(10);        // how often a running program is checked on

// One file descriptor, closed on scope exit.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }
  int get() const { return fd_; }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  int* out() { return &fd_; }

 private:
  int fd_ = -1;
};

// The arch's temporary JSON file, removed on scope exit.
class TempFile {
 public:
  TempFile() = default;
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  ~TempFile() {
    if (!path_.empty()) ::unlink(path_.c_str());
  }
  const std::string& path() const { return path_; }

  Result<bool> write(std::string_view text) {
    const char* env = std::getenv("TMPDIR");
    const std::string dir = env != nullptr && *env != '\0' ? env : "/tmp";
    std::string name = dir + (dir.ends_with('/') ? "" : "/") + "hwnas-arch-XXXXXX.json";
    Fd fd(::mkostemps(name.data(), 5, O_CLOEXEC));
    if (fd.get() < 0)
      return Error{fmt::format("cannot create a temporary file in '{}': {}", dir, std::strerror(errno))};
    path_ = name;
    while (!text.empty()) {
      const ssize_t n = ::write(fd.get(), text.data(), text.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return Error{fmt::format("cannot write '{}': {}", path_, std::strerror(errno))};
      text.remove_prefix(static_cast<std::size_t>(n));
    }
    if (::close(fd.get()) != 0) {
      *fd.out() = -1;
      return Error{fmt::format("cannot write '{}': {}", path_, std::strerror(errno))};
    }
    *fd.out() = -1;
    return true;
  }

 private:
  std::string path_;
};

std::string shell_quote(std::string_view s) {
  std::string q = "'";
  for (char c : s) {
    if (c == '\'') {
      q += "'\\''";
    } else {
      q += c;
    }
  }
  return q + "'";
}

std::string command_line(const std::string& command, const std::string& path) {
  const std::string quoted = shell_quote(path);
  constexpr std::string_view kPlaceholder = "{arch}";
  if (command.find(kPlaceholder) == std::string::npos) return command + " " + quoted;
  std::string out;
  std::size_t from = 0;
  for (std::size_t at; (at = command.find(kPlaceholder, from)) != std::string::npos; from = at + kPlaceholder.size()) {
    out.append(command, from, at - from);
    out += quoted;
  }
  out.append(command, from);
  return out;
}

// Keeps the last `cap` bytes (at most 2·cap are held between trims).
void append_tail(std::string& buf, const char* data, std::size_t n, std::size_t cap) {
  buf.append(data, n);
  if (buf.size() > 2 * cap + 1) buf.erase(0, buf.size() - cap);
}

std::vector<std::string_view> lines_of(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    const std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    if (!line.empty()) lines.push_back(line);
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  return lines;
}

std::string shown(std::string_view s) {
  if (s.size() <= kShown) return std::string(s);
  return fmt::format("{}… ({} characters)", s.substr(0, kShown), s.size());
}

std::string last_line(std::string_view text) {
  const auto lines = lines_of(text);
  return lines.empty() ? std::string() : shown(lines.back());
}

std::string seconds(double s) {
  return fmt::format("{:g} s", s);
}

// What an exited program printed: the accuracy, or why there is none.
Result<double> read_accuracy(const std::string& out) {
  const auto lines = lines_of(out);
  for (auto it = lines.rbegin(); it != lines.rend(); ++it) {
    json j = json::parse(*it, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object()) continue;
    const auto acc = j.find("accuracy");
    if (acc == j.end() || !acc->is_number()) {
      return Error{fmt::format("its JSON has no number 'accuracy' ('{}')", shown(*it))};
    }
    const double v = acc->get<double>();
    if (!std::isfinite(v)) return Error{fmt::format("'accuracy' is not a finite number ('{}')", shown(*it))};
    return v;
  }
  if (lines.empty()) return Error{"printed nothing on stdout (expected a JSON object with a number 'accuracy')"};
  return Error{fmt::format("printed no JSON object with a number 'accuracy' (last line: '{}')", shown(lines.back()))};
}

// The program's process group exists as long as its leader is not reaped (and the kernel does not
// reuse the id meanwhile), so the group is signalled only before waitpid() reaps the leader.
bool leader_exited(pid_t pid) {
  siginfo_t info{};
  info.si_pid = 0;
  if (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) != 0) return errno == ECHILD;
  return info.si_pid == pid;
}

int reap(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;  // reaped elsewhere (SIGCHLD ignored): status unknown
  }
  return status;
}

}  // namespace

Result<double> run_external_estimate(const std::string& command, std::string_view arch_json,
                                     const ExternalOptions& options) {
  if (!(options.timeout_s > 0) || !std::isfinite(options.timeout_s)) {
    return Error{fmt::format("the timeout must be a positive number of seconds (got {})", options.timeout_s)};
  }
  TempFile file;
  if (auto w = file.write(arch_json); !w) return w.error();

  std::vector<std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    if (std::string_view(*e).starts_with("HWNAS_ARCH=")) continue;
    env.emplace_back(*e);
  }
  env.push_back("HWNAS_ARCH=" + file.path());
  std::vector<char*> envp;
  envp.reserve(env.size() + 1);
  for (auto& s : env) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::string sh = "sh", dash_c = "-c", text = command_line(command, file.path());
  std::array<char*, 4> argv = {sh.data(), dash_c.data(), text.data(), nullptr};

  Fd out_r, out_w, err_r, err_w;
  {
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) return Error{fmt::format("cannot create a pipe: {}", std::strerror(errno))};
    *out_r.out() = p[0];
    *out_w.out() = p[1];
    if (::pipe2(p, O_CLOEXEC) != 0) return Error{fmt::format("cannot create a pipe: {}", std::strerror(errno))};
    *err_r.out() = p[0];
    *err_w.out() = p[1];
  }

  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  ::posix_spawn_file_actions_init(&actions);
  ::posix_spawnattr_init(&attr);
  ::posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  ::posix_spawn_file_actions_adddup2(&actions, out_w.get(), 1);
  ::posix_spawn_file_actions_adddup2(&actions, err_w.get(), 2);
  // Its own process group (to be killed as a whole); default handling of the signals the caller
  // may ignore (an ignored SIGPIPE would survive exec); nothing blocked.
  sigset_t defaults, mask;
  sigemptyset(&defaults);
  for (int sig : {SIGPIPE, SIGINT, SIGQUIT, SIGTERM, SIGHUP, SIGCHLD}) sigaddset(&defaults, sig);
  sigemptyset(&mask);
  ::posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  ::posix_spawnattr_setpgroup(&attr, 0);
  ::posix_spawnattr_setsigdefault(&attr, &defaults);
  ::posix_spawnattr_setsigmask(&attr, &mask);
  pid_t pid = -1;
  const int spawned = ::posix_spawn(&pid, "/bin/sh", &actions, &attr, argv.data(), envp.data());
  ::posix_spawn_file_actions_destroy(&actions);
  ::posix_spawnattr_destroy(&attr);
  out_w.reset();
  err_w.reset();
  if (spawned != 0) return Error{fmt::format("cannot start /bin/sh: {}", std::strerror(spawned))};

  const auto start = Clock::now();
  const double timeout_s = std::min(options.timeout_s, kMaxTimeoutS);
  const auto deadline = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(timeout_s));
  std::string out, err;
  std::string poll_error;  // poll() failed (it cannot with valid descriptors)
  bool exited = false, timed_out = false;
  Clock::time_point exited_at;
  std::array<char, 65536> buf;
  for (;;) {
    if (!exited && leader_exited(pid)) {
      exited = true;
      exited_at = Clock::now();
    }
    if (exited && out_r.get() < 0 && err_r.get() < 0) break;
    const auto now = Clock::now();
    if (exited && now - exited_at > kPipeGrace) break;  // something it left behind still holds the pipes
    if (!exited && now >= deadline) {
      timed_out = true;
      break;
    }
    auto wait = kTick;
    if (!exited) wait = std::min(wait, std::chrono::ceil<std::chrono::milliseconds>(deadline - now));
    std::array<pollfd, 2> fds{};
    nfds_t nfds = 0;
    for (const Fd* fd : {&out_r, &err_r})
      if (fd->get() >= 0) fds[nfds++] = pollfd{fd->get(), POLLIN, 0};
    if (nfds == 0) {
      std::this_thread::sleep_for(wait);
      continue;
    }
    if (::poll(fds.data(), nfds, static_cast<int>(wait.count())) < 0 && errno != EINTR) {
      poll_error = std::strerror(errno);
      break;  // the program is killed and reaped below
    }
    for (nfds_t i = 0; i < nfds; ++i) {
      if ((fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      Fd& fd = fds[i].fd == out_r.get() ? out_r : err_r;
      const ssize_t n = ::read(fd.get(), buf.data(), buf.size());
      if (n > 0) {
        const auto size = static_cast<std::size_t>(n);
        if (&fd == &out_r) {
          append_tail(out, buf.data(), size, options.max_stdout_bytes);
        } else {
          append_tail(err, buf.data(), size, options.max_stderr_bytes);
        }
      } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
        fd.reset();
      }
    }
  }

  if (timed_out || !exited) {
    ::kill(-pid, SIGTERM);
    const auto give_up = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                            std::chrono::duration<double>(std::max(0.0, options.kill_grace_s)));
    while (!leader_exited(pid) && Clock::now() < give_up) std::this_thread::sleep_for(kTick);
  }
  ::kill(-pid, SIGKILL);  // the leader if still running, and whatever it left in its group
  const int status = reap(pid);
  const double elapsed_s = std::chrono::duration<double>(Clock::now() - start).count();

  if (timed_out) return Error{fmt::format("timed out after {}", seconds(options.timeout_s))};
  if (!exited) return Error{fmt::format("cannot read its output after {}: {}", seconds(elapsed_s), poll_error)};
  const std::string said = last_line(err);
  const std::string tail = said.empty() ? " (nothing on stderr)" : ": " + said;
  if (status == -1) return Error{"its exit status was taken by another part of the process (SIGCHLD ignored?)"};
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    return Error{fmt::format("killed by signal {} ({}){}", sig, ::strsignal(sig), tail)};
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
    return Error{fmt::format("exit code {}{}", WEXITSTATUS(status), tail)};
  return read_accuracy(out);
}

ExternalEstimator::ExternalEstimator(std::string command, ExternalOptions options)
    : command_(std::move(command)), options_(options) {}

Result<double> ExternalEstimator::estimate(const space::Arch& arch, const std::string& /*hash*/) {
  const std::string text = space::arch_to_json(arch).dump(2, ' ', false, json::error_handler_t::replace) + "\n";
  auto v = run_external_estimate(command_, text, options_);
  if (!v) return Error{fmt::format("{}: {}", name(), v.error().message)};
  return v;
}

Result<std::unique_ptr<Estimator>> make_external_estimator(const std::string& command, const ExternalOptions& options) {
  if (command.find_first_not_of(" \t\n") == std::string::npos) return Error{"cmd: the command is empty"};
  if (!(options.timeout_s > 0) || !std::isfinite(options.timeout_s)) {
    return Error{
        fmt::format("cmd:{}: the timeout must be a positive number of seconds (got {})", command, options.timeout_s)};
  }
  return std::unique_ptr<Estimator>(std::make_unique<ExternalEstimator>(command, options));
}

}  // namespace hwnas::search
