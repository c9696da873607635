#include "bindings/native/supervisor.h"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

namespace glint::cli {

namespace {

// The worker: jobs [first, last), each as "index\tline\n" on `fd`.
[[noreturn]] void work(size_t first, size_t last, const std::function<std::string(size_t)>& job, int fd) {
  for (size_t i = first; i < last; ++i) {
    std::string line = std::to_string(i) + "\t" + job(i);
    for (char& c : line)
      if (c == '\n') c = ' ';
    line += '\n';
    for (size_t off = 0; off < line.size();) {
      const ssize_t n = ::write(fd, line.data() + off, line.size() - off);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) _exit(3);
      off += static_cast<size_t>(n);
    }
  }
  _exit(0);
}

std::string describe_exit(int status) {
  if (WIFSIGNALED(status)) return std::string("crashed: signal ") + std::to_string(WTERMSIG(status)) + " (" +
                                  strsignal(WTERMSIG(status)) + ")";
  return "the worker exited with status " + std::to_string(WEXITSTATUS(status)) + " before finishing it";
}

}  // namespace

void run_supervised(size_t count, double timeout_s, const std::function<std::string(size_t)>& job,
                    const std::function<void(size_t, const SupervisedResult&)>& on_result, size_t jobs_per_worker) {
  size_t next = 0;  // the first job without a result
  while (next < count) {
    int fds[2];
    if (::pipe(fds) != 0) {
      on_result(next++, {SupervisedResult::kCrash, std::string("pipe: ") + std::strerror(errno)});
      continue;
    }
    std::fflush(stdout);
    std::fflush(stderr);
    const pid_t pid = ::fork();
    if (pid == 0) {
      ::close(fds[0]);
      work(next, jobs_per_worker ? std::min(count, next + jobs_per_worker) : count, job, fds[1]);
    }
    ::close(fds[1]);
    if (pid < 0) {
      ::close(fds[0]);
      on_result(next++, {SupervisedResult::kCrash, std::string("fork: ") + std::strerror(errno)});
      continue;
    }
    std::string buffer;
    bool timed_out = false;
    for (;;) {
      pollfd p{fds[0], POLLIN, 0};
      const int ready = ::poll(&p, 1, timeout_s > 0 ? static_cast<int>(timeout_s * 1000) : -1);
      if (ready < 0 && errno == EINTR) continue;
      if (ready == 0) {
        timed_out = true;
        ::kill(pid, SIGKILL);
        break;
      }
      char chunk[4096];
      const ssize_t n = ::read(fds[0], chunk, sizeof chunk);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;  // the worker is gone
      buffer.append(chunk, static_cast<size_t>(n));
      for (size_t nl; (nl = buffer.find('\n')) != std::string::npos; buffer.erase(0, nl + 1)) {
        const std::string line = buffer.substr(0, nl);
        const size_t tab = line.find('\t');
        if (tab == std::string::npos) continue;
        next = std::stoul(line.substr(0, tab)) + 1;
        on_result(next - 1, {SupervisedResult::kDone, line.substr(tab + 1)});
      }
    }
    ::close(fds[0]);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (next >= count) break;
    if (!timed_out && WIFEXITED(status) && WEXITSTATUS(status) == 0) continue;  // its share done
    if (timed_out) {
      on_result(next, {SupervisedResult::kTimeout,
                       "timed out after " + std::to_string(static_cast<int>(timeout_s)) + " s (the worker was killed)"});
    } else {
      on_result(next, {SupervisedResult::kCrash, describe_exit(status)});
    }
    ++next;
  }
}

}  // namespace glint::cli
