// An activation folded into the node that produces its input (Conv, Gemm,
// MatMul, ConvTranspose): passes::fuse_activations removes the activation
// node and records it on the producer as internal attributes; the runtime
// applies it to the producer's output 0 (CPU: after the kernel runs, GPU: in
// the shader's output store: engine/gl/kernels/glsl_util.h,
// fused_activation_glsl). The attribute names carry a prefix the loader
// refuses in user models, so a model cannot inject or spoof them.
#pragma once
#include <cstdint>
#include <string>

#include "engine/core/dtype.h"
#include "engine/core/tensor.h"

namespace glint {

namespace ir {
struct Node;
}

// Attribute names starting with this are glint's own; the loader rejects them.
inline constexpr const char* kReservedAttrPrefix = "glint.";
// The ONNX op name of the fused activation ("Relu", "Clip", ...), a string.
inline constexpr const char* kFusedActivationAttr = "glint.activation";
// Its parameters: LeakyRelu alpha; HardSigmoid alpha, beta; Clip min (alpha)
// and max (beta), ±infinity where unbounded. Floats.
inline constexpr const char* kFusedActivationAlphaAttr = "glint.activation_alpha";
inline constexpr const char* kFusedActivationBetaAttr = "glint.activation_beta";

bool is_reserved_attr_name(const std::string& name);

struct FusedActivation {
  enum Kind { kNone, kRelu, kClip, kLeakyRelu, kSigmoid, kHardSigmoid, kTanh };
  Kind kind = kNone;
  float alpha = 0.f;
  float beta = 0.f;

  bool operator==(const FusedActivation& o) const {
    return kind == o.kind && alpha == o.alpha && beta == o.beta;
  }
  // "Relu", "Clip(0, 6)", "LeakyRelu(0.1)", ... ("" for kNone); for messages,
  // `glint info` and cache keys.
  std::string describe() const;
};

// The activation an ONNX activation node computes, with its attribute
// defaults; kNone for other ops. Clip's bounds from opset >= 11 inputs are not
// visible here: the pass reads those constants and fills alpha/beta itself.
FusedActivation activation_from_op(const ir::Node& n);

// What `n` carries (kNone when nothing was fused).
FusedActivation fused_activation_of(const ir::Node& n);
// Records `a` on `n` (kNone removes the attributes).
void set_fused_activation(ir::Node& n, const FusedActivation& a);

// In place on float data, computing exactly what the CPU activation kernels
// compute (engine/cpu/activation.cc), so a fused graph matches the unfused one.
void apply_fused_activation(const FusedActivation& a, float* data, int64_t n);
// The same on a kernel's output `y` when it holds floats (float32, float16,
// bfloat16 are stored as float); other dtypes are left as they are.
void apply_fused_activation(const FusedActivation& a, Tensor& y);

}  // namespace glint
