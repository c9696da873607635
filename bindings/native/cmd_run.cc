// glint run: feeds from .pb/.npy files, prints (or checks) the outputs.
#include <cstdio>

#include "bindings/native/cli.h"
#include "bindings/native/tensor_io.h"
#include "engine/core/compare.h"

namespace glint::cli {

int cmd_run(int argc, char** argv) {
  auto args = parse_args(argc, argv, 2, {"input", "backend", "expect", "rtol", "atol", "force-cpu", "memory-cap"}, {"json"});
  if (!args.ok()) return fail(args.status());
  if (args->positional.size() != 1) return fail(invalid_argument("run needs exactly one MODEL.onnx"));
  auto opts = session_options(*args);
  if (!opts.ok()) return fail(opts.status());
  auto tol = parse_tolerance(*args);
  if (!tol.ok()) return fail(tol.status());
  auto session = Session::create_from_file(args->positional[0], *opts);
  if (!session.ok()) return fail(session.status());
  Session& s = *session.value();

  auto feeds = feeds_from_files(s, args->all("input"));
  if (!feeds.ok()) return fail(feeds.status());
  auto out = s.run(*feeds);
  if (!out.ok()) return fail(out.status());

  int status = 0;
  for (auto& b : args->all("expect")) {
    auto nb = split_binding("output", b, s.outputs());
    if (!nb.ok()) return fail(nb.status());
    auto want = load_tensor_file(nb->second);
    if (!want.ok()) return fail(want.status());
    auto it = out->find(nb->first);
    if (it == out->end()) return fail(invalid_argument("--expect names unknown output '" + nb->first + "'"));
    Comparison c = compare_tensors(it->second, want.value(), tol->rtol, tol->atol);
    std::fprintf(stderr, "%s %s: max |diff| %.3g vs %s%s%s\n", c.equal ? "match" : "MISMATCH",
                 nb->first.c_str(), c.max_abs_diff, nb->second.c_str(), c.equal ? "" : ": ",
                 c.mismatch.c_str());
    if (!c.equal) status = 1;
  }
  if (args->has("json")) {
    std::printf("{\"backend\": \"%s\", \"outputs\": {", backend_mode_name(s.backend()).c_str());
    bool first = true;
    for (auto& [name, t] : *out) {
      std::printf("%s\"%s\": %s", first ? "" : ", ", json_escape(name).c_str(), tensor_json(t).c_str());
      first = false;
    }
    std::printf("}}\n");
  } else {
    for (auto& [name, t] : *out) std::printf("%s: %s\n", name.c_str(), format_tensor(t, 32).c_str());
  }
  return status;
}

}  // namespace glint::cli
