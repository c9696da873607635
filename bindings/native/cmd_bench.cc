// glint bench: session create, first run, steady-state run times (median, p90;
// outputs read back each run) and the GPU memory held after the runs. The same
// figures as the browser harness (web/bench) prints per engine.
#include <algorithm>
#include <chrono>
#include <cstdio>

#include "bindings/native/cli.h"

namespace glint::cli {

namespace {
double now_ms() {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  size_t i = std::min(v.size() - 1, static_cast<size_t>(p * (v.size() - 1) + 0.5));
  return v[i];
}
// Three profiled runs: each node's median time to stdout (the slowest 15,
// unless --json), every node of every run to `path` as Chrome trace events
// (chrome://tracing, Perfetto), as onnxruntime's profiler writes them.
Status write_profile(Session& s, const std::map<std::string, Tensor>& feeds, const std::string& path, bool json) {
  constexpr int kRuns = 3;
  s.set_profiling(true);
  for (int i = 0; i < kRuns; ++i) GLINT_RETURN_IF_ERROR(s.run(feeds).status());
  s.set_profiling(false);
  std::vector<NodeProfile> events = s.take_profile();
  std::FILE* f = std::fopen(path.c_str(), "w");
  if (!f) return io_error("cannot write the profile to '" + path + "'");
  std::fprintf(f, "[\n");
  for (size_t i = 0; i < events.size(); ++i) {
    const NodeProfile& e = events[i];
    std::fprintf(f,
                 "%s{\"cat\": \"Node\", \"name\": \"%s\", \"ph\": \"X\", \"pid\": 1, \"tid\": 1, \"ts\": %.3f, "
                 "\"dur\": %.3f, \"args\": {\"op_name\": \"%s\", \"provider\": \"%s\"}}",
                 i ? ",\n" : "", json_escape(e.node).c_str(), e.start_ms * 1000, e.ms * 1000, json_escape(e.op).c_str(),
                 e.gpu ? "gpu" : "cpu");
  }
  std::fprintf(f, "\n]\n");
  std::fclose(f);
  if (json) return Status::Ok();
  std::map<std::string, std::vector<double>> by_node;
  std::map<std::string, const NodeProfile*> first;
  for (const NodeProfile& e : events) {
    by_node[e.node].push_back(e.ms);
    first.emplace(e.node, &e);
  }
  std::vector<std::pair<double, std::string>> order;
  double total = 0;
  for (auto& [node, ms] : by_node) {
    order.push_back({percentile(ms, 0.5), node});
    total += order.back().first;
  }
  std::sort(order.rbegin(), order.rend());
  std::printf("profile:      %zu nodes, %.2f ms per run in all (medians of %d profiled runs; trace in %s)\n",
              by_node.size(), total, kRuns, path.c_str());
  for (size_t i = 0; i < order.size() && i < 15; ++i) {
    const NodeProfile& e = *first[order[i].second];
    std::printf("  %8.3f ms %5.1f%%  %-3s %-20s %s\n", order[i].first, 100 * order[i].first / total,
                e.gpu ? "gpu" : "cpu", e.op.c_str(), e.node.c_str());
  }
  return Status::Ok();
}

}  // namespace

int cmd_bench(int argc, char** argv) {
  auto args = parse_args(argc, argv, 2, {"runs", "warmup", "backend", "force-cpu", "memory-cap", "profile", "input"},
                         {"json"});
  if (!args.ok()) return fail(args.status());
  if (args->positional.size() != 1) return fail(invalid_argument("bench needs exactly one MODEL.onnx"));
  auto opts = session_options(*args);
  if (!opts.ok()) return fail(opts.status());
  auto runs_d = parse_number("runs", args->get("runs", "20"));
  auto warm_d = parse_number("warmup", args->get("warmup", "3"));
  if (!runs_d.ok()) return fail(runs_d.status());
  if (!warm_d.ok()) return fail(warm_d.status());
  int runs = std::max(1, static_cast<int>(*runs_d)), warmup = std::max(0, static_cast<int>(*warm_d));
  bool json = args->has("json");

  double t0 = now_ms();
  auto session = Session::create_from_file(args->positional[0], *opts);
  if (!session.ok()) return fail(session.status());
  double create_ms = now_ms() - t0;
  Session& s = *session.value();
  // The given inputs (a model with free dims needs them), else pseudo-random ones.
  const std::vector<std::string> bindings = args->all("input");
  auto feeds = bindings.empty() ? random_feeds(s, 1234) : feeds_from_files(s, bindings);
  if (!feeds.ok()) return fail(feeds.status());

  t0 = now_ms();
  auto first = s.run(*feeds);
  if (!first.ok()) return fail(first.status());
  double first_ms = now_ms() - t0;
  if (!json) std::fprintf(stderr, "warming up (%d runs), then timing %d runs", warmup, runs);
  for (int i = 0; i < warmup; ++i) {
    auto r = s.run(*feeds);
    if (!r.ok()) return fail(r.status());
  }
  std::vector<double> times;
  for (int i = 0; i < runs; ++i) {
    t0 = now_ms();
    auto r = s.run(*feeds);  // outputs are read back to the CPU: part of the time
    if (!r.ok()) return fail(r.status());
    times.push_back(now_ms() - t0);
    if (!json) std::fputc('.', stderr);
  }
  if (!json) std::fputc('\n', stderr);
  double median = percentile(times, 0.5), p90 = percentile(times, 0.9);
  if (args->has("profile")) {
    // After the timed runs (profiling waits for the GPU after every node).
    Status p = write_profile(s, *feeds, args->get("profile"), json);
    if (!p.ok()) return fail(p);
  }
  // The executor's texture pool after the runs: what the session holds on the GPU.
  auto mem = s.gpu_memory();
  if (json) {
    std::printf("{\"model\": \"%s\", \"backend\": \"%s\", \"renderer\": \"%s\", \"create_ms\": %.3f, "
                "\"load_ms\": %.3f, \"optimize_ms\": %.3f, \"compile_ms\": %.3f, "
                "\"first_run_ms\": %.3f, \"median_ms\": %.3f, \"p90_ms\": %.3f, \"runs\": %d, \"warmup\": %d",
                json_escape(args->positional[0]).c_str(), backend_mode_name(s.backend()).c_str(),
                json_escape(s.renderer()).c_str(), create_ms, s.timings().load_ms, s.timings().optimize_ms,
                s.timings().compile_ms, first_ms, median, p90, runs, warmup);
    if (mem) {
      std::printf(", \"texture_bytes\": %lld, \"live_textures\": %lld, \"pooled_textures\": %lld, \"programs\": %lld}\n",
                  static_cast<long long>(mem->texture_bytes), static_cast<long long>(mem->live_textures),
                  static_cast<long long>(mem->pooled_textures), static_cast<long long>(mem->programs));
    } else {
      std::printf(", \"texture_bytes\": null}\n");
    }
  } else {
    std::printf("model:        %s\nbackend:      %s (%s)\n", args->positional[0].c_str(),
                backend_mode_name(s.backend()).c_str(), s.renderer().c_str());
    std::printf("create:       %.1f ms (load %.1f, optimize %.1f, compile %.1f)\n", create_ms, s.timings().load_ms,
                s.timings().optimize_ms, s.timings().compile_ms);
    std::printf("first run:    %.1f ms\nmedian run:   %.2f ms  (p90 %.2f ms, %d runs after %d warm-ups)\n", first_ms,
                median, p90, runs, warmup);
    if (mem) {
      std::printf("GPU memory:   %lld texture bytes (%.1f MiB; %lld live + %lld pooled textures, %lld programs)\n",
                  static_cast<long long>(mem->texture_bytes), mem->texture_bytes / 1048576.0,
                  static_cast<long long>(mem->live_textures), static_cast<long long>(mem->pooled_textures),
                  static_cast<long long>(mem->programs));
    } else {
      std::printf("GPU memory:   none (CPU backend)\n");
    }
  }
  return 0;
}

}  // namespace glint::cli
