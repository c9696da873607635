// The worker supervisor of `glint node-tests`: a job that hangs or crashes
// costs that job alone, and the others still report, in order.
#include <catch2/catch.hpp>

#include <csignal>
#include <set>
#include <string>
#include <unistd.h>
#include <vector>

#include "bindings/native/supervisor.h"

using glint::cli::SupervisedResult;

TEST_CASE("supervisor: a hanging and a crashing job are reported, the rest still run", "[supervisor]") {
  auto job = [](size_t i) -> std::string {
    if (i == 1) ::sleep(30);          // hangs past the limit
    if (i == 3) {  // crashes (past Catch's own handler, which the worker inherits)
      std::signal(SIGSEGV, SIG_DFL);
      std::raise(SIGSEGV);
    }
    return "job " + std::to_string(i);
  };
  std::vector<std::pair<size_t, SupervisedResult>> seen;
  glint::cli::run_supervised(5, 1.0, job, [&](size_t i, const SupervisedResult& r) { seen.push_back({i, r}); });
  REQUIRE(seen.size() == 5);
  for (size_t i = 0; i < seen.size(); ++i) CHECK(seen[i].first == i);
  CHECK(seen[0].second.kind == SupervisedResult::kDone);
  CHECK(seen[0].second.line == "job 0");
  CHECK(seen[1].second.kind == SupervisedResult::kTimeout);
  CHECK(seen[1].second.line.find("timed out after 1 s") != std::string::npos);
  CHECK(seen[2].second.line == "job 2");
  CHECK(seen[3].second.kind == SupervisedResult::kCrash);
  CHECK(seen[3].second.line.find("signal 11") != std::string::npos);
  CHECK(seen[4].second.line == "job 4");
}

TEST_CASE("supervisor: one job per worker runs each job in a process of its own", "[supervisor]") {
  auto job = [](size_t) { return std::to_string(::getpid()); };
  for (size_t per_worker : {size_t{0}, size_t{1}, size_t{2}}) {
    std::vector<std::pair<size_t, SupervisedResult>> seen;
    glint::cli::run_supervised(
        4, 5.0, job, [&](size_t i, const SupervisedResult& r) { seen.push_back({i, r}); }, per_worker);
    REQUIRE(seen.size() == 4);
    std::set<std::string> pids;
    for (size_t i = 0; i < seen.size(); ++i) {
      CHECK(seen[i].first == i);
      CHECK(seen[i].second.kind == SupervisedResult::kDone);
      pids.insert(seen[i].second.line);
    }
    CHECK(pids.size() == (per_worker == 0 ? 1u : 4u / per_worker));
  }
}
