// glint classify: photo -> preprocessing from models/models.json -> model ->
// top-K labels with probabilities.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <numeric>

#include "bindings/native/cli.h"
#include "bindings/native/image.h"
#include "bindings/native/labels.h"
#include "bindings/native/model_config.h"

namespace glint::cli {

namespace {
double now_ms() {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
}  // namespace

int cmd_classify(int argc, char** argv) {
  auto args = parse_args(argc, argv, 2, {"labels", "top", "backend", "models-json", "force-cpu"}, {"json"});
  if (!args.ok()) return fail(args.status());
  if (args->positional.size() != 2) return fail(invalid_argument("classify needs MODEL.onnx and IMAGE"));
  const std::string& model_path = args->positional[0];
  const std::string& image_path = args->positional[1];
  auto opts = session_options(*args);
  if (!opts.ok()) return fail(opts.status());
  auto top_d = parse_number("top", args->get("top", "5"));
  if (!top_d.ok()) return fail(top_d.status());

  std::string json_path = args->get("models-json", native::locate_models_json(model_path));
  if (json_path.empty())
    return fail(invalid_argument("no models.json found for '" + model_path + "' (pass --models-json FILE)"));
  auto config = native::load_model_config(json_path, model_path);
  if (!config.ok()) return fail(config.status());

  std::vector<std::string> labels = config->labels;
  std::string labels_path = args->get("labels", native::resolve_labels_path(*config, model_path));
  if (!labels_path.empty()) {
    auto l = native::load_labels(labels_path);
    if (!l.ok()) return fail(l.status());
    labels = std::move(l).value();
  }

  auto input = native::load_and_preprocess(image_path, config->preprocess);
  if (!input.ok()) return fail(input.status());
  Tensor x = std::move(input).value();
  if (config->input_dtype == DataType::kFloat16) {
    // A float16 input holds what half precision can: round as the model would see it.
    Tensor h = x.retagged(DataType::kFloat16).clone();
    for (int64_t i = 0; i < h.size(); ++i) h.set_from_double(i, x.get_as_double(i));
    x = h;
  }

  double t0 = now_ms();
  auto session = Session::create_from_file(model_path, *opts);
  if (!session.ok()) return fail(session.status());
  double create_ms = now_ms() - t0;
  Session& s = *session.value();
  std::string input_name = config->input_name.empty() ? s.inputs().at(0).name : config->input_name;
  t0 = now_ms();
  auto out = s.run({{input_name, x}});
  if (!out.ok()) return fail(out.status());
  double run_ms = now_ms() - t0;
  std::string output_name = config->output_name.empty() ? s.outputs().at(0).name : config->output_name;
  auto it = out->find(output_name);
  if (it == out->end()) return fail(invalid_argument("model has no output '" + output_name + "'"));
  const Tensor& y = it->second;

  std::vector<double> prob(static_cast<size_t>(y.size()));
  for (int64_t i = 0; i < y.size(); ++i) prob[i] = y.get_as_double(i);
  if (!config->output_softmaxed) {
    double mx = *std::max_element(prob.begin(), prob.end()), sum = 0;
    for (auto& p : prob) sum += (p = std::exp(p - mx));
    for (auto& p : prob) p /= sum;
  }
  std::vector<size_t> idx(prob.size());
  std::iota(idx.begin(), idx.end(), 0);
  size_t k = std::min(idx.size(), static_cast<size_t>(std::max(1.0, *top_d)));
  std::partial_sort(idx.begin(), idx.begin() + k, idx.end(), [&](size_t a, size_t b) { return prob[a] > prob[b]; });
  auto label = [&](size_t i) { return i < labels.size() && !labels[i].empty() ? labels[i] : "class " + std::to_string(i); };

  if (args->has("json")) {
    std::printf("{\"model\": \"%s\", \"image\": \"%s\", \"backend\": \"%s\", \"renderer\": \"%s\", "
                "\"create_ms\": %.2f, \"run_ms\": %.2f, \"top\": [",
                json_escape(model_path).c_str(), json_escape(image_path).c_str(),
                backend_mode_name(s.backend()).c_str(), json_escape(s.renderer()).c_str(), create_ms, run_ms);
    for (size_t r = 0; r < k; ++r)
      std::printf("%s{\"index\": %zu, \"label\": \"%s\", \"probability\": %.6f}", r ? ", " : "", idx[r],
                  json_escape(label(idx[r])).c_str(), prob[idx[r]]);
    std::printf("]}\n");
    return 0;
  }
  std::printf("%s on %s (backend %s, %s)\n", config->name.c_str(), image_path.c_str(),
              backend_mode_name(s.backend()).c_str(), s.renderer().c_str());
  for (size_t r = 0; r < k; ++r)
    std::printf("%2zu. %-40s %6.2f %%\n", r + 1, label(idx[r]).c_str(), 100.0 * prob[idx[r]]);
  std::printf("session create %.1f ms, first run %.1f ms\n", create_ms, run_ms);
  return 0;
}

}  // namespace glint::cli
