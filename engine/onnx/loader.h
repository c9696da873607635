// ONNX model bytes -> ir::Graph. Every malformed input gives a Status naming
// what is wrong (which tensor, node, field); nothing here aborts.
#pragma once
#include <string>

#include "engine/core/status.h"
#include "engine/core/tensor.h"
#include "engine/core/value.h"
#include "engine/ir/graph.h"
#include "engine/onnx/external_data.h"

namespace glint::onnx_loader {

// The ai.onnx opsets this engine understands (ONNX 1.12 defines up to 17;
// later ones are accepted where every op the model uses has a matching row).
constexpr int64_t kMinOnnxOpset = 1;
constexpr int64_t kMaxOnnxOpset = 21;

// `external`: where tensors stored outside the model (external data) are
// read from; without it such a model is an error that says what to give.
Result<ir::Graph> load_model(const void* data, size_t size, const ExternalDataFn& external = {});
// A model file, its external data beside it.
Result<ir::Graph> load_model_file(const std::string& path);
// The folder of a model file ("." for a bare name): where its external
// data is.
std::string model_dir(const std::string& model_path);

// A serialized TensorProto (the node tests' input_0.pb, `glint run --input`).
// `name` receives the proto's name field when non-null.
Result<Tensor> load_tensor_pb(const void* data, size_t size, std::string* name);
Result<Tensor> load_tensor_pb_file(const std::string& path, std::string* name);
// Serialises a tensor as a TensorProto (float16 narrowed back to half).
Result<std::string> save_tensor_pb(const Tensor& t, const std::string& name);

// A serialized TensorProto, SequenceProto or OptionalProto, read as the
// declared `kind` says (the node tests' sequence and optional inputs).
Result<Value> load_value_pb(const void* data, size_t size, ir::TypeKind kind, std::string* name);
Result<Value> load_value_pb_file(const std::string& path, ir::TypeKind kind, std::string* name);

Result<std::string> read_file(const std::string& path);

}  // namespace glint::onnx_loader
