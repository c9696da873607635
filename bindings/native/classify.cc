#include "bindings/native/classify.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>

#include "bindings/native/image.h"
#include "bindings/native/labels.h"
#include "bindings/native/model_config.h"

namespace glint::native {

namespace {
double now_ms() {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
}  // namespace

Result<Classification> classify(const std::string& model_path, const std::string& image_path,
                                const ClassifyOptions& options) {
  std::string json_path = options.models_json.empty() ? locate_models_json(model_path) : options.models_json;
  if (json_path.empty())
    return invalid_argument("no models.json found for '" + model_path + "' (pass --models-json FILE)");
  GLINT_ASSIGN_OR_RETURN(ModelConfig config, load_model_config(json_path, model_path));

  std::vector<std::string> labels = config.labels;
  std::string labels_path = options.labels.empty() ? resolve_labels_path(config, model_path) : options.labels;
  if (!labels_path.empty()) {
    GLINT_ASSIGN_OR_RETURN(labels, load_labels(labels_path));
  }

  GLINT_ASSIGN_OR_RETURN(Tensor x, load_and_preprocess(image_path, config.preprocess));
  if (config.input_dtype == DataType::kFloat16) {
    // A float16 input holds what half precision can: round as the model sees it.
    Tensor h(DataType::kFloat16, x.shape());
    for (int64_t i = 0; i < h.size(); ++i) h.set_from_double(i, x.get_as_double(i));
    x = h;
  }

  Classification result;
  result.model_name = config.name;
  double t0 = now_ms();
  GLINT_ASSIGN_OR_RETURN(auto session, Session::create_from_file(model_path, options.session));
  result.create_ms = now_ms() - t0;
  result.renderer = session->renderer();
  result.backend = session->backend();
  std::string input_name = config.input_name.empty() ? session->inputs().at(0).name : config.input_name;
  t0 = now_ms();
  GLINT_ASSIGN_OR_RETURN(auto out, session->run({{input_name, x}}));
  result.run_ms = now_ms() - t0;
  std::string output_name = config.output_name.empty() ? session->outputs().at(0).name : config.output_name;
  auto it = out.find(output_name);
  if (it == out.end()) return invalid_argument("the model has no output '" + output_name + "'");
  const Tensor& y = it->second;
  if (y.size() == 0) return invalid_argument("output '" + output_name + "' is empty");

  std::vector<double> prob(static_cast<size_t>(y.size()));
  for (int64_t i = 0; i < y.size(); ++i) prob[i] = y.get_as_double(i);
  if (!config.output_softmaxed) {
    double mx = *std::max_element(prob.begin(), prob.end()), sum = 0;
    for (auto& p : prob) sum += (p = std::exp(p - mx));
    for (auto& p : prob) p /= sum;
  }
  std::vector<size_t> idx(prob.size());
  std::iota(idx.begin(), idx.end(), 0);
  size_t k = std::min(idx.size(), static_cast<size_t>(std::max(1, options.top)));
  std::partial_sort(idx.begin(), idx.begin() + k, idx.end(), [&](size_t a, size_t b) { return prob[a] > prob[b]; });
  for (size_t r = 0; r < k; ++r) {
    size_t i = idx[r];
    std::string label = i < labels.size() && !labels[i].empty() ? labels[i] : "class " + std::to_string(i);
    result.top.push_back({i, label, prob[i]});
  }
  return result;
}

}  // namespace glint::native
