// TensorProto <-> Tensor, shared by the model loader and the .pb reader.
#pragma once
#include "engine/core/status.h"
#include "engine/core/tensor.h"
#include "engine/onnx/external_data.h"

namespace onnx {
class TensorProto;
}

namespace glint::onnx_loader {
// `what` names the tensor in errors ("initializer 'conv1_w'"); `external`
// reads the files of tensors kept as external data (null: none may be).
Result<Tensor> tensor_from_proto(const onnx::TensorProto& p, const std::string& what,
                                 const ExternalDataFn* external = nullptr);
void tensor_to_proto(const Tensor& t, onnx::TensorProto* p);
}  // namespace glint::onnx_loader
