// models/models.json: which input a model takes and how `glint classify`
// turns a photo into it, what its output means, and where its labels are.
#pragma once
#include <string>
#include <vector>

#include "bindings/native/image.h"
#include "engine/core/dtype.h"
#include "engine/core/status.h"
#include "engine/core/tensor.h"

namespace glint::native {

struct ModelConfig {
  std::string name;             // "squeezenet1.1-fp16"
  std::string file;             // path under models/data, "mnist/model.onnx"
  std::string input_name;       // "data_0"
  Shape input_shape;            // [1,3,224,224]
  DataType input_dtype = DataType::kFloat32;  // float16 inputs take the float32 tensor retagged
  Preprocess preprocess;
  std::string output_name;      // "softmaxout_1"
  bool output_softmaxed = false;  // false: logits, apply softmax before showing
  std::string labels_file;      // relative to the model file's data dir; empty when inline
  std::vector<std::string> labels;  // inline labels (empty when labels_file is used)
};

// Parses every entry of a models.json document. `source` names it in errors.
Result<std::vector<ModelConfig>> parse_model_configs(const std::string& json_text,
                                                     const std::string& source = "models.json");
// Reads and parses a models.json file (kIoError when missing).
Result<std::vector<ModelConfig>> load_model_configs(const std::string& json_path);

// The entry whose `file` is a path suffix of `model_path` ("…/mnist/model.onnx"
// matches "mnist/model.onnx"); failing that, the one entry with the same file
// name. kInvalidArgument naming the known files when none (or several) match.
Result<ModelConfig> find_model_config(const std::vector<ModelConfig>& configs,
                                      const std::string& model_path);
// load_model_configs + find_model_config.
Result<ModelConfig> load_model_config(const std::string& json_path, const std::string& model_path);

// Where models.json is for a model: $GLINT_MODELS_JSON if set, else the first
// existing of <dir of model>/models.json, then the same in each parent
// directory (models/data/x.onnx → models/models.json), then
// ./models/models.json. Empty when none exists.
std::string locate_models_json(const std::string& model_path);

// Absolute path of the model's labels file (labels_file resolved against the
// directory the model's `file` lives in, i.e. models/data/); empty if inline.
std::string resolve_labels_path(const ModelConfig& config, const std::string& model_path);

}  // namespace glint::native
