// glint zoo: runs the model zoo (tools/zoo/make_zoo.py writes it, one folder
// per model in the node-test layout with a zoo.json) and reports, per model
// and backend, what a user would ask of a real model: does it match its
// reference, how long do creation, the first run and a steady run take, what
// does a run at a new input size cost (and how many programs it compiles),
// and how much of the work runs on the GPU, with the heaviest CPU nodes and
// why they are there. Each (model, backend) runs in a watched worker with a
// time limit, so a hang is one failure. --json FILE keeps every figure for
// tools/zoo_report.py (the README table and chart).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "bindings/native/cli.h"
#include "bindings/native/supervisor.h"
#include "bindings/native/test_folder.h"
#include "engine/runtime/runner.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace glint::cli {

namespace {

double now_ms() {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// The folder's zoo.json (absent: an empty object, node-test defaults).
Result<json> read_meta(const fs::path& dir) {
  std::ifstream f(dir / "zoo.json");
  if (!f) return json::object();
  json meta = json::parse(f, nullptr, false);
  if (meta.is_discarded() || !meta.is_object()) return invalid_argument((dir / "zoo.json").string() + " is not a JSON object");
  return meta;
}

int64_t programs_of(const Session& s) {
  auto mem = s.gpu_memory();
  return mem ? mem->programs : 0;
}

// One model on one backend (`meta`: its zoo.json): the figures as one JSON object.
json run_model(const fs::path& dir, const json& meta, SessionOptions opts, int runs) {
  json r = {{"model", dir.filename().string()}, {"backend", backend_mode_name(opts.backend)}};
  auto fail = [&](const std::string& verdict, const std::string& why) {
    r["verdict"] = verdict;
    r["reason"] = one_line(why);
    return r;
  };
  const double rtol = meta.value("rtol", 1e-3), atol = meta.value("atol", 1e-3);

  double t0 = now_ms();
  auto session = Session::create_from_file((dir / "model.onnx").string(), opts);
  if (!session.ok()) {
    if (opts.backend == BackendMode::kGpu && session.status().code() == StatusCode::kUnsupported)
      return fail("skip", session.status().message());
    return fail("fail", "create: " + session.status().message());
  }
  r["create_ms"] = now_ms() - t0;
  Session& s = *session.value();
  r["nodes"] = s.graph().nodes.size();

  const std::vector<fs::path> sets = test_data_sets(dir);
  if (sets.empty()) return fail("fail", "no test_data_set_* folder");
  std::vector<std::map<std::string, Value>> feeds;
  json set_figures = json::array();
  double max_abs_diff = 0;
  for (const fs::path& set : sets) {
    auto f = load_feeds(s, set);
    if (!f.ok()) return fail("fail", f.status().message());
    // The first run at this set's shapes: what a new input size costs, and
    // how many programs it had to compile.
    const int64_t programs_before = programs_of(s);
    t0 = now_ms();
    auto out = s.run_values(f.value());
    const double first_ms = now_ms() - t0;
    if (!out.ok()) {
      if (opts.backend == BackendMode::kGpu && out.status().code() == StatusCode::kUnsupported)
        return fail("skip", out.status().message());
      return fail("fail", set.filename().string() + ": run: " + out.status().message());
    }
    std::string mismatch = check_outputs(s, set, out.value(), [&](const std::string&, const Value& got, const Value& want) {
      return compare_values(got, want, rtol, atol, &max_abs_diff);
    });
    r["max_abs_diff"] = max_abs_diff;
    if (!mismatch.empty()) return fail("fail", mismatch);
    set_figures.push_back({{"set", set.filename().string()}, {"first_ms", first_ms},
                           {"new_programs", programs_of(s) - programs_before}});
    feeds.push_back(std::move(f).value());
  }
  r["sets"] = set_figures;
  r["first_ms"] = set_figures[0]["first_ms"];

  // Steady state at the first set's shapes, outputs read back each run.
  std::vector<double> times;
  for (int i = 0; i < runs; ++i) {
    t0 = now_ms();
    auto out = s.run_values(feeds[0]);
    if (!out.ok()) return fail("fail", "run: " + out.status().message());
    times.push_back(now_ms() - t0);
  }
  r["median_ms"] = median(times);
  r["runs"] = runs;

  // One more run, counted: where the work went.
  auto tally = std::make_shared<WorkTally>();
  s.set_work_tally(tally);
  auto counted = s.run_values(feeds[0]);
  s.set_work_tally(nullptr);
  if (!counted.ok()) return fail("fail", "run: " + counted.status().message());
  r["gpu_flops"] = tally->gpu_flops;
  r["cpu_flops"] = tally->cpu_flops;
  r["gpu_steps"] = tally->gpu_steps;
  r["cpu_steps"] = tally->cpu_steps;
  std::vector<std::pair<double, std::string>> heavy;
  for (auto& [label, c] : tally->cpu_nodes) heavy.push_back({c.flops, label});
  std::sort(heavy.rbegin(), heavy.rend());
  json cpu_nodes = json::array();
  for (size_t i = 0; i < heavy.size() && i < 5; ++i) {
    const WorkTally::CpuNode& c = tally->cpu_nodes.at(heavy[i].second);
    cpu_nodes.push_back({{"node", heavy[i].second}, {"op", c.op}, {"flops", c.flops}, {"reason", one_line(c.reason)}});
  }
  r["cpu_nodes"] = cpu_nodes;
  if (auto mem = s.gpu_memory()) r["texture_bytes"] = mem->texture_bytes;
  r["verdict"] = "pass";
  return r;
}

std::string share(const json& r) {
  const double g = r.value("gpu_flops", 0.0), c = r.value("cpu_flops", 0.0);
  if (g + c <= 0) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", 100 * g / (g + c));
  return buf;
}

}  // namespace

int cmd_zoo(int argc, char** argv) {
  auto args = parse_args(argc, argv, 2, {"backend", "runs", "timeout", "json", "filter", "memory-cap"}, {"fast"});
  if (!args.ok()) return fail(args.status());
  if (args->positional.empty()) return fail(invalid_argument("zoo needs at least one DIR"));
  std::vector<BackendMode> backends;
  {
    std::istringstream list(args->get("backend", "default,cpu"));
    std::string name;
    while (std::getline(list, name, ',')) {
      auto b = parse_backend_mode(name);
      if (!b.ok()) return fail(b.status());
      backends.push_back(b.value());
    }
  }
  auto runs_d = parse_number("runs", args->get("runs", "3"));
  if (!runs_d.ok()) return fail(runs_d.status());
  auto timeout_s = parse_number("timeout", args->get("timeout", "120"));
  if (!timeout_s.ok()) return fail(timeout_s.status());
  const int runs = std::max(1, static_cast<int>(*runs_d));

  // session_options() reads --backend as one name: build it per backend.
  struct Job {
    fs::path dir;
    json meta;  // its zoo.json, read once here (the workers inherit it)
    SessionOptions opts;
  };
  std::vector<Job> jobs;
  const std::string filter = args->get("filter");
  for (const fs::path& dir : find_model_folders(args->positional)) {
    if (!filter.empty() && dir.filename().string().find(filter) == std::string::npos) continue;
    auto meta = read_meta(dir);
    if (!meta.ok()) return fail(meta.status());
    // --fast: only the models zoo.json marks "fast" (make test's subset).
    if (args->has("fast") && !meta->value("fast", false)) continue;
    for (BackendMode b : backends) {
      Args one = *args;
      one.options.erase("backend");
      one.options.insert({"backend", backend_mode_name(b)});
      auto opts = session_options(one);
      if (!opts.ok()) return fail(opts.status());
      jobs.push_back({dir, meta.value(), opts.value()});
    }
  }
  if (jobs.empty()) return fail(invalid_argument("no model folders (with model.onnx) found"));

  json results = json::array();
  int passed = 0, failed = 0, skipped = 0;
  std::printf("%-8s %-8s %-34s %9s %9s %9s %7s  %s\n", "verdict", "backend", "model", "create ms", "first ms",
              "median ms", "GPU work", "max |diff| / reason");
  auto job = [&](size_t i) { return run_model(jobs[i].dir, jobs[i].meta, jobs[i].opts, runs).dump(); };
  auto on_result = [&](size_t i, const SupervisedResult& sr) {
    json r;
    if (sr.kind == SupervisedResult::kDone) {
      r = json::parse(sr.line, nullptr, false);
      if (r.is_discarded()) r = {{"verdict", "fail"}, {"reason", "unreadable worker report: " + one_line(sr.line)}};
    } else {
      r = {{"verdict", "fail"}, {"reason", sr.line}};
    }
    r["model"] = jobs[i].dir.filename().string();
    r["backend"] = backend_mode_name(jobs[i].opts.backend);
    r["meta"] = jobs[i].meta;
    const std::string verdict = r.value("verdict", "fail");
    (verdict == "pass" ? passed : verdict == "skip" ? skipped : failed)++;
    std::string tail = verdict == "pass" ? "max |diff| " + std::to_string(r.value("max_abs_diff", 0.0)) : r.value("reason", "");
    if (verdict == "pass" && !r["cpu_nodes"].empty() && r["cpu_nodes"][0].value("flops", 0.0) > 0 &&
        jobs[i].opts.backend != BackendMode::kCpu)
      tail += "; heaviest CPU node " + r["cpu_nodes"][0].value("node", "") + " (" + r["cpu_nodes"][0].value("op", "") + ")";
    std::printf("%-8s %-8s %-34s %9.1f %9.1f %9.2f %7s  %s\n", verdict.c_str(), r["backend"].get<std::string>().c_str(),
                r["model"].get<std::string>().c_str(), r.value("create_ms", 0.0), r.value("first_ms", 0.0),
                r.value("median_ms", 0.0), jobs[i].opts.backend == BackendMode::kCpu ? "-" : share(r).c_str(),
                tail.c_str());
    std::fflush(stdout);
    results.push_back(std::move(r));
  };
  // A process per model run: creation times must not include programs an
  // earlier model compiled into the shared executor.
  run_supervised(jobs.size(), *timeout_s, job, on_result, 1);
  std::printf("%d passed, %d failed, %d skipped (%zu model runs)\n", passed, failed, skipped, jobs.size());
  if (args->has("json")) {
    std::ofstream f(args->get("json"));
    if (!f) return fail(io_error("cannot write '" + args->get("json") + "'"));
    f << results.dump(1) << "\n";
  }
  return failed ? 1 : 0;
}

}  // namespace glint::cli
