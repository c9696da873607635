// TensorProto <-> Tensor, shared by the model loader and the .pb reader.
#pragma once
#include "engine/core/status.h"
#include "engine/core/tensor.h"

namespace onnx {
class TensorProto;
}

namespace glint::onnx_loader {
// `what` names the tensor in errors ("initializer 'conv1_w'").
Result<Tensor> tensor_from_proto(const onnx::TensorProto& p, const std::string& what);
void tensor_to_proto(const Tensor& t, onnx::TensorProto* p);
}  // namespace glint::onnx_loader
