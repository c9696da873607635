// A 3x3, stride-1 Conv as Winograd F(2x2, 3x3) on the CPU: each 2x2 block
// of output pixels comes from a 4x4 input patch through 16 products per
// (output, input) channel pair instead of 36, so the GEMMs do 4/9 of a
// direct conv's multiply-adds (SqueezeNet's expand3x3 convs are half its
// time on the `wasm` provider). The weights are transformed once, when the
// session is optimized (passes::winograd_conv_weights), into 16 matrices
// of M x C; the Conv node then carries kWinogradAttr and reads them as W.
#pragma once
#include <cstdint>

#include "engine/core/tensor.h"
#include "engine/cpu/gemm.h"
#include "engine/ir/graph.h"
#include "engine/ops/window.h"

namespace glint::cpu {

// On a Conv whose W input holds the transformed weights [kWinogradPoints,
// M, C] (a 3x3 kernel).
inline constexpr const char* kWinogradAttr = "glint.winograd";
inline constexpr int64_t kWinogradPoints = 16;  // 4 x 4 transformed values per tile
inline bool is_winograd(const ir::Node& conv) { return conv.attr_int(kWinogradAttr, 0) != 0; }

// Fewer input channels than this keep the im2col GEMM: the 16 GEMMs would
// each sum over too few products to keep the micro-kernel busy (a network's
// first layer, 3 channels).
inline constexpr int64_t kWinogradMinChannels = 8;

// Outputs of fewer pixels than this (per image and channel) keep the im2col
// GEMM: with few tiles the 16 GEMMs are narrow and their weights, 16/9 the
// size of the kernel's, dominate. SqueezeNet in Chromium, 1 thread, per
// node: 55x55 outputs 1.50 -> 1.04 ms, 27x27 1.22 -> 1.00, 13x13 0.65 ->
// 0.73 (slower) and 1.10 -> 1.11.
inline constexpr int64_t kWinogradMinOutputPixels = 400;

// Whether `conv` (a plain ONNX Conv) with weights of shape `w` can run as
// Winograd F(2x2, 3x3): 2-D, 3x3 kernel, group 1, strides and dilations 1,
// at least kWinogradMinChannels input channels, and an output plane of at
// least kWinogradMinOutputPixels (`out_pixels` < 0: not known, taken).
// Pads may be anything.
bool winograd_conv_applies(const ir::Node& conv, const Shape& w, int64_t out_pixels = -1);

// The weights [M, C, 3, 3] transformed to [16, M, C]: matrix k = 4i + j
// holds element (i, j) of G w G^T for every (m, c).
Tensor winograd_weights(const Tensor& w);

// y (N x M x OH x OW) = conv(x (N x C x H x W), w) + bias [+ y when
// accumulate], clamped, with u = winograd_weights(w) and g the 2-D geometry
// (stride and dilation 1, kernel 3x3) as to_window3 writes it.
void conv3x3_winograd(const float* x, int64_t N, int64_t C, const ops::Window3& g, const float* u, int64_t M,
                      const float* bias, bool accumulate, GemmClamp clamp, float* y);

}  // namespace glint::cpu
