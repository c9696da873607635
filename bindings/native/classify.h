// Image classification end to end: models.json preprocessing -> session ->
// top-K labels. Shared by `glint classify` and the tests.
#pragma once
#include <string>
#include <vector>

#include "engine/core/status.h"
#include "engine/runtime/session.h"

namespace glint::native {

struct ClassifyOptions {
  SessionOptions session;
  int top = 5;
  std::string models_json;  // empty: locate_models_json(model)
  std::string labels;       // empty: the labels models.json names
};

struct Prediction {
  size_t index = 0;
  std::string label;
  double probability = 0;  // 0..1
};

struct Classification {
  std::string model_name;
  std::string renderer;
  BackendMode backend = BackendMode::kDefault;
  std::vector<Prediction> top;
  double create_ms = 0, run_ms = 0;
};

Result<Classification> classify(const std::string& model_path, const std::string& image_path,
                                const ClassifyOptions& options);

}  // namespace glint::native
