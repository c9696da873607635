// glint node-tests: runs ONNX backend node-test folders (model.onnx +
// test_data_set_*/input_*.pb, output_*.pb) and checks a known-failure list,
// which may only shrink: a new failure fails the run, and so does a listed
// test that now passes. Each test runs in a watched worker with a time limit
// (--timeout S, default 120): a hang is one failure, not a silent run.
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>

#include "bindings/native/cli.h"
#include "bindings/native/supervisor.h"
#include "bindings/native/test_folder.h"
#include "bindings/native/tensor_io.h"
#include "engine/core/compare.h"
#include "engine/onnx/loader.h"

namespace fs = std::filesystem;

namespace glint::cli {

namespace {

enum class Outcome { kPass, kFail, kSkip };

struct TestResult {
  Outcome outcome = Outcome::kPass;
  std::string reason;
};

// Random ops (RandomUniform/Normal[Like], Bernoulli, Multinomial, Dropout in
// training mode) draw from a different generator than the one that made the
// expected outputs, so a model holding one is compared by dtype and shape
// only, plus a range check on the outputs such a node produces directly:
// uniform within [low, high], Bernoulli / Dropout mask in {0,1}, Multinomial
// whole and >= 0, others (normal, Dropout output, derived values) finite.
// Returns output name -> the op that produces it ("" = derived), or nullopt
// for a deterministic model.
std::optional<std::map<std::string, const ir::Node*>> random_outputs(const ir::Graph& g) {
  static const std::set<std::string> kRandomOps = {"RandomUniform", "RandomNormal", "RandomUniformLike",
                                                   "RandomNormalLike", "Bernoulli", "Multinomial"};
  auto constant_false = [&](const std::string& name) {
    if (g.initializers.count(name)) return g.initializers.at(name).size() == 1 &&
                                           g.initializers.at(name).get_as_double(0) == 0;
    for (const ir::Node& n : g.nodes)
      if (n.op_type == "Constant" && !n.outputs.empty() && n.outputs[0] == name && n.attr("value"))
        return n.attr("value")->t.size() == 1 && n.attr("value")->t.get_as_double(0) == 0;
    return false;
  };
  std::map<std::string, const ir::Node*> out;
  bool random = false;
  for (const ir::Node& n : g.nodes) {
    bool r = kRandomOps.count(n.op_type) != 0;
    if (n.op_type == "Dropout" && n.domain.empty() && n.has_input(2) && !constant_false(n.inputs[2])) r = true;
    random = random || r;
    for (const std::string& o : n.outputs) out[o] = r ? &n : nullptr;
  }
  if (!random) return std::nullopt;
  return out;
}

// "" when `got` fits `want`'s dtype and shape and the range its op allows.
std::string compare_random(const Value& got, const Value& want, const ir::Node* op, size_t output_index) {
  if (!got.is_tensor() || !want.is_tensor()) return "random output: expected a tensor";
  const Tensor& t = got.tensor;
  if (t.dtype() != want.tensor.dtype() || t.shape() != want.tensor.shape())
    return "random output: got " + tensor_desc(t) + ", expected " + tensor_desc(want.tensor);
  if (t.dtype() == DataType::kString) return "";
  const std::string kind = op ? op->op_type : "";
  for (int64_t i = 0; i < t.size(); ++i) {
    const double v = t.get_as_double(i);
    bool ok = std::isfinite(v);
    if (kind == "RandomUniform" || kind == "RandomUniformLike")
      ok = v >= op->attr_float("low", 0.f) && v <= op->attr_float("high", 1.f);
    else if (kind == "Bernoulli" || (kind == "Dropout" && output_index == 1)) ok = v == 0 || v == 1;
    else if (kind == "Multinomial") ok = v >= 0 && v == std::floor(v);
    if (!ok) return "random output (" + kind + "): element " + std::to_string(i) + " = " + std::to_string(v) + " out of range";
  }
  return "";
}

TestResult run_test(const fs::path& dir, const SessionOptions& opts, double rtol, double atol) {
  auto session = Session::create_from_file((dir / "model.onnx").string(), opts);
  if (!session.ok()) {
    // On the GPU-only backend, a graph that needs any CPU node is not a GPU test.
    if (opts.backend == BackendMode::kGpu && session.status().code() == StatusCode::kUnsupported)
      return {Outcome::kSkip, one_line(session.status().message())};
    std::string why = session.status().message();
    std::string prefix = (dir / "model.onnx").string() + ": ";
    if (why.rfind(prefix, 0) == 0) why = why.substr(prefix.size());
    return {Outcome::kFail, "create: " + one_line(why)};
  }
  Session& s = *session.value();
  std::optional<std::map<std::string, const ir::Node*>> random;
  auto model = onnx_loader::load_model_file((dir / "model.onnx").string());  // outlives `random`
  if (model.ok()) random = random_outputs(model.value());
  std::vector<fs::path> sets = test_data_sets(dir);
  if (sets.empty()) return {Outcome::kFail, "no test_data_set_* folder"};
  for (auto& io : s.inputs())
    if (io.info.kind == ir::TypeKind::kOther)
      return {Outcome::kFail, "input '" + io.name + "' is a map or another non-tensor type (not supported)"};
  auto compare = [&](const std::string& name, const Value& got, const Value& want) {
    if (!random) return compare_values(got, want, rtol, atol);
    const ir::Node* op = random->count(name) ? random->at(name) : nullptr;
    size_t index = 0;
    if (op) index = std::find(op->outputs.begin(), op->outputs.end(), name) - op->outputs.begin();
    return compare_random(got, want, op, index);
  };
  for (auto& set : sets) {
    auto feeds = load_feeds(s, set);
    if (!feeds.ok()) return {Outcome::kFail, one_line(feeds.status().message())};
    auto out = s.run_values(feeds.value());
    if (!out.ok()) {
      if (opts.backend == BackendMode::kGpu && out.status().code() == StatusCode::kUnsupported)
        return {Outcome::kSkip, one_line(out.status().message())};
      return {Outcome::kFail, "run: " + one_line(out.status().message())};
    }
    std::string mismatch = check_outputs(s, set, out.value(), compare);
    if (!mismatch.empty()) return {Outcome::kFail, mismatch};
  }
  return {Outcome::kPass, ""};
}

Result<std::map<std::string, std::string>> read_known_failures(const std::string& path) {
  std::map<std::string, std::string> known;
  if (path.empty()) return known;
  std::ifstream f(path);
  if (!f) return io_error("cannot open known-failures file '" + path + "'");
  std::string line;
  while (std::getline(f, line)) {
    auto hash = line.find('#');
    if (hash == 0) continue;
    std::istringstream ls(line);
    std::string name;
    if (!(ls >> name)) continue;
    std::string reason;
    std::getline(ls, reason);
    known[name] = reason;
  }
  return known;
}

}  // namespace

int cmd_node_tests(int argc, char** argv) {
  auto args = parse_args(argc, argv, 2,
                         {"backend", "known-failures", "rtol", "atol", "filter", "list-failures", "force-cpu", "timeout", "memory-cap"},
                         {"verbose"});
  if (!args.ok()) return fail(args.status());
  if (args->positional.empty()) return fail(invalid_argument("node-tests needs at least one DIR"));
  auto opts = session_options(*args);
  if (!opts.ok()) return fail(opts.status());
  auto tol = parse_tolerance(*args);
  if (!tol.ok()) return fail(tol.status());
  auto known = read_known_failures(args->get("known-failures"));
  if (!known.ok()) return fail(known.status());
  const std::string filter = args->get("filter");
  double timeout_s = 120;
  if (args->has("timeout")) {
    char* end = nullptr;
    timeout_s = std::strtod(args->get("timeout").c_str(), &end);
    if (!end || *end || !(timeout_s > 0)) return fail(invalid_argument("--timeout takes seconds > 0"));
  }

  std::vector<fs::path> tests;
  for (auto& dir : find_model_folders(args->positional))
    if (filter.empty() || dir.filename().string().find(filter) != std::string::npos) tests.push_back(dir);
  if (tests.empty()) return fail(invalid_argument("no test folders (with model.onnx) found"));
  int passed = 0, failed = 0, skipped = 0, new_failures = 0, now_passing = 0;
  std::vector<std::pair<std::string, std::string>> failures;
  // Each test runs in a watched worker process (supervisor.h): one that
  // hangs or crashes is reported as such and the rest still run. A line per
  // test as it ends: verdict, time, name, and the reason of a skip or failure.
  auto job = [&](size_t i) {
    const auto t0 = std::chrono::steady_clock::now();
    TestResult r = run_test(tests[i], *opts, tol->rtol, tol->atol);
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    return std::to_string(static_cast<int>(r.outcome)) + "\t" + std::to_string(ms) + "\t" + r.reason;
  };
  auto on_result = [&](size_t i, const SupervisedResult& sr) {
    const std::string name = tests[i].filename().string();
    TestResult r{Outcome::kFail, sr.line};
    double ms = timeout_s * 1000;
    if (sr.kind == SupervisedResult::kDone) {
      std::istringstream ls(sr.line);
      std::string outcome, time;
      std::getline(ls, outcome, '\t');
      std::getline(ls, time, '\t');
      std::getline(ls, r.reason);
      r.outcome = static_cast<Outcome>(std::atoi(outcome.c_str()));
      ms = std::atof(time.c_str());
    }
    const bool listed = known->count(name) != 0;
    const char* verdict = "pass";
    switch (r.outcome) {
      case Outcome::kPass:
        ++passed;
        if (listed) {
          ++now_passing;
          verdict = "NOW PASSES";
          r.reason = "listed as a known failure: remove it from the list";
        }
        break;
      case Outcome::kSkip:
        ++skipped;
        verdict = "skip";
        break;
      case Outcome::kFail:
        ++failed;
        failures.push_back({name, r.reason});
        if (!listed) ++new_failures;
        verdict = listed ? "known failure" : "FAIL";
        break;
    }
    std::printf("%-13s %9.1f ms  %s%s%s\n", verdict, ms, name.c_str(), r.reason.empty() ? "" : ": ", r.reason.c_str());
    std::fflush(stdout);
  };
  run_supervised(tests.size(), timeout_s, job, on_result);
  if (args->has("list-failures")) {
    std::ofstream f(args->get("list-failures"));
    f << "# ONNX node tests that fail on the " << backend_mode_name(opts->backend)
      << " backend: test name, then the reason.\n";
    for (auto& [n, why] : failures) f << n << "  " << why << "\n";
  }
  std::printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
  if (!known->empty() || new_failures || now_passing)
    std::printf("backend %s: %d new failures, %d listed tests now pass (%zu listed)\n",
                backend_mode_name(opts->backend).c_str(), new_failures, now_passing, known->size());
  if (args->has("known-failures")) return (new_failures || now_passing) ? 1 : 0;
  return failed ? 1 : 0;
}

}  // namespace glint::cli
