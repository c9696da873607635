// Runs a list of jobs in a forked worker process, watched from outside, so
// that one job that hangs (a driver's shader compiler that spins) or crashes
// costs that job alone: the worker is killed, the job is reported as timed
// out or crashed, and a new worker goes on with the next one. The parent never
// touches GL; each worker makes its own context.
#pragma once
#include <cstddef>
#include <functional>
#include <string>

namespace glint::cli {

struct SupervisedResult {
  enum Kind { kDone, kTimeout, kCrash } kind = kDone;
  std::string line;  // what the job returned (kDone), or what went wrong
};

// job(i) runs in the worker and returns one line (no newline); on_result(i,
// r) runs in the parent as each job ends, in order. timeout_s <= 0: no limit.
// jobs_per_worker > 0: a fresh worker after that many jobs (1: each job in a
// process of its own, so no job inherits another's compiled programs).
void run_supervised(size_t count, double timeout_s, const std::function<std::string(size_t)>& job,
                    const std::function<void(size_t, const SupervisedResult&)>& on_result,
                    size_t jobs_per_worker = 0);

}  // namespace glint::cli
