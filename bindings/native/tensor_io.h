// Reading and writing tensors for the command line: TensorProto `.pb` files
// (the ONNX test-data format) and NumPy `.npy` files.
#pragma once
#include <string>

#include "engine/core/status.h"
#include "engine/core/tensor.h"

namespace glint::cli {

Result<Tensor> load_npy(const std::string& bytes, const std::string& what);
// Loads `.npy` or TensorProto `.pb` by extension (anything else: tries .pb).
Result<Tensor> load_tensor_file(const std::string& path, std::string* proto_name = nullptr);
Status save_tensor_file(const Tensor& t, const std::string& name, const std::string& path);

}  // namespace glint::cli
