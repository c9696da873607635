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
}  // namespace

int cmd_bench(int argc, char** argv) {
  auto args = parse_args(argc, argv, 2, {"runs", "warmup", "backend", "force-cpu", "memory-cap"}, {"json"});
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
  auto feeds = random_feeds(s, 1234);
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
