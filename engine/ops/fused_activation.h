// An activation folded into the node that produces its input (Conv, Gemm,
// MatMul, ConvTranspose): passes::fuse_activations removes the activation
// node and records it on the producer as internal attributes; the runtime
// applies it to the producer's output 0 (CPU: after the kernel runs, GPU: in
// the shader's output store: engine/gl/kernels/glsl_util.h,
// fused_activation_glsl). The attribute names carry a prefix the loader
// refuses in user models, so a model cannot inject or spoof them.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>

#include "engine/core/dtype.h"
#include "engine/core/tensor.h"

namespace glint {

namespace ir {
struct Node;
}

// The ONNX op name of the fused activation ("Relu", "Clip", ...), a string.
inline constexpr const char* kFusedActivationAttr = "glint.activation";
// Its parameters: LeakyRelu alpha; HardSigmoid alpha, beta; Clip min (alpha)
// and max (beta), ±infinity where unbounded. Floats.
inline constexpr const char* kFusedActivationAlphaAttr = "glint.activation_alpha";
inline constexpr const char* kFusedActivationBetaAttr = "glint.activation_beta";


struct FusedActivation {
  enum Kind { kNone, kRelu, kClip, kLeakyRelu, kSigmoid, kHardSigmoid, kTanh, kGelu };
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

// The form of a Gelu node: ONNX Gelu's `approximate` attribute (opset 20:
// "none" or "tanh"; anything else is the kernels' to refuse), "none" for
// com.microsoft Gelu.
std::string gelu_approximation(const ir::Node& n);

// What `n` carries (kNone when nothing was fused).
FusedActivation fused_activation_of(const ir::Node& n);
// Records `a` on `n` (kNone removes the attributes).
void set_fused_activation(ir::Node& n, const FusedActivation& a);

// Activation K at one value (float, double or, for Relu, an integer), with
// its parameters as doubles: the one formula the CPU activation kernels
// (engine/cpu/activation.cc) and apply_fused_activation compute, so a fused
// graph matches the unfused one bit for bit. Clip has its own kernel. Gelu
// (com.microsoft's, ONNX's exact one) is fused into MatMuls alone, whose
// CPU kernel applies the Gelu kernel's vector form (cpu::simd::gelu_erf);
// this scalar one is the fallback for other float outputs.
template <FusedActivation::Kind K, class T>
T activation_value(T v, double alpha, double beta) {
  if constexpr (K == FusedActivation::kRelu) {
    return v < 0 ? T(0) : v;
  } else if constexpr (K == FusedActivation::kLeakyRelu) {
    return v < 0 ? T(alpha * v) : v;
  } else if constexpr (K == FusedActivation::kSigmoid) {
    return v >= 0 ? 1 / (1 + std::exp(-v)) : std::exp(v) / (1 + std::exp(v));
  } else if constexpr (K == FusedActivation::kHardSigmoid) {
    return T(std::max(0.0, std::min(1.0, alpha * v + beta)));
  } else if constexpr (K == FusedActivation::kTanh) {
    return std::tanh(v);
  } else if constexpr (K == FusedActivation::kGelu) {
    return T(0.5 * v * (1.0 + std::erf(v * 0.70710678118654752)));
  } else {
    static_assert(K == FusedActivation::kRelu, "no element formula for this activation");
  }
}

// A residual Add folded into the Conv that produces one of its operands
// (passes::fuse_residual_add): the Conv reads the Add's other operand, of
// the output's shape, as input 3 and adds it to its result (bias included)
// before a fused activation, so the Conv writes the Add's output. Marked by
// an internal attribute, like the activation, so that a model's own Conv
// with a fourth input is still refused.
inline constexpr const char* kFusedResidualAttr = "glint.residual";
// The input index of the residual, or -1 when `n` has none.
int fused_residual_input(const ir::Node& n);
// Makes `residual` input 3 of Conv `n` (an absent bias stays absent).
void set_fused_residual(ir::Node& n, const std::string& residual);

// Adds folded into the MatMul / FusedMatMul that produces one of their
// operands (passes::fuse_matmul_add): a linear layer's bias and the residual
// after it. The product reads the Adds' other operands as inputs 2 (and 3),
// each of a shape that broadcasts to the output's without growing it, and
// adds them in that order to alpha * op(A) op(B), before a fused
// activation. The count is an internal attribute, so a model's own MatMul
// with a third input is still refused.
inline constexpr const char* kFusedAddendsAttr = "glint.addends";
constexpr int kMaxFusedAddends = 2;
// How many addends `n` carries (0 when none).
int fused_addend_count(const ir::Node& n);
// Makes `addend` the next input of MatMul / FusedMatMul `n`.
void add_fused_addend(ir::Node& n, const std::string& addend);
// An addend of shape `addend` may be fused into a product of shape `y`: it
// broadcasts to y without growing it (numpy, trailing dims aligned).
bool addend_broadcasts_to(const Shape& addend, const Shape& y);

// In place on float data, as the CPU activation kernels compute it.
void apply_fused_activation(const FusedActivation& a, float* data, int64_t n);
// The same on a kernel's output `y` when it holds floats (float32, float16,
// bfloat16 are stored as float); other dtypes are left as they are.
void apply_fused_activation(const FusedActivation& a, Tensor& y);

}  // namespace glint
