// glint classify: photo -> preprocessing from models/models.json -> model ->
// top-K labels with probabilities.
#include <cstdio>

#include "bindings/native/classify.h"
#include "bindings/native/cli.h"

namespace glint::cli {

int cmd_classify(int argc, char** argv) {
  auto args = parse_args(argc, argv, 2, {"labels", "top", "backend", "models-json", "force-cpu", "memory-cap"}, {"json"});
  if (!args.ok()) return fail(args.status());
  if (args->positional.size() != 2) return fail(invalid_argument("classify needs MODEL.onnx and IMAGE"));
  const std::string& model_path = args->positional[0];
  const std::string& image_path = args->positional[1];
  native::ClassifyOptions options;
  auto session_opts = session_options(*args);
  if (!session_opts.ok()) return fail(session_opts.status());
  options.session = *session_opts;
  auto top = parse_number("top", args->get("top", "5"));
  if (!top.ok()) return fail(top.status());
  options.top = static_cast<int>(*top);
  options.models_json = args->get("models-json");
  options.labels = args->get("labels");

  auto r = native::classify(model_path, image_path, options);
  if (!r.ok()) return fail(r.status());
  if (args->has("json")) {
    std::printf("{\"model\": \"%s\", \"image\": \"%s\", \"backend\": \"%s\", \"renderer\": \"%s\", "
                "\"create_ms\": %.2f, \"run_ms\": %.2f, \"top\": [",
                json_escape(model_path).c_str(), json_escape(image_path).c_str(),
                backend_mode_name(r->backend).c_str(), json_escape(r->renderer).c_str(), r->create_ms, r->run_ms);
    for (size_t i = 0; i < r->top.size(); ++i)
      std::printf("%s{\"index\": %zu, \"label\": \"%s\", \"probability\": %.6f}", i ? ", " : "", r->top[i].index,
                  json_escape(r->top[i].label).c_str(), r->top[i].probability);
    std::printf("]}\n");
    return 0;
  }
  std::printf("%s on %s (backend %s, renderer %s)\n", r->model_name.c_str(), image_path.c_str(),
              backend_mode_name(r->backend).c_str(), r->renderer.c_str());
  for (size_t i = 0; i < r->top.size(); ++i)
    std::printf("%2zu. %-40s %6.2f %%\n", i + 1, r->top[i].label.c_str(), 100.0 * r->top[i].probability);
  std::printf("session create %.1f ms, first run %.1f ms\n", r->create_ms, r->run_ms);
  return 0;
}

}  // namespace glint::cli
