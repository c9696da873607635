// The optimization switches, declared once (kOptimizationSwitches in
// tuning.cc): each is a name, its default and what it turns on. GLINT_DISABLE
// (a comma-separated list of names) turns named ones off for the process,
// GLINT_ENABLE turns on those that are off by default; both are read once,
// here, and nowhere else. The switches exist to measure what each
// optimization buys, not as user options. Code that depends on a switch takes
// the flags from its caller (the layout policy, say), so that what it
// decides is a pure function of its arguments.
#pragma once
#include <string>
#include <vector>

namespace glint {

struct OptimizationFlags {
  bool packed = true;         // channel-packed RGBA layouts (off: one float per texel everywhere)
  bool fuse = true;           // activation fusion into Conv/Gemm/MatMul
  bool planes = true;         // a tile of 4 pixels x 8 channels per fragment
  bool pool_fit = true;       // texture reuse by best fit within the session budget
  bool texture_reads = true;  // texture() at texel centres (off: texelFetch)
  bool pass_cache = true;     // passes over constants drawn once, programs found once per node
  bool packed_matmul = true;  // MatMul/Gemm operands four to a texel along K
  bool shape_uniforms = true; // conv programs shared across sizes (extents as uniforms)
  // Exact-half conv weights eight to a texel: measured 1.15x slower on
  // SwiftShader and 1.18x on llvmpipe, where fetches are not bandwidth-bound;
  // kept for GPUs that are.
  bool half_weights = false;
  // CPU backend: 3x3 stride-1 convs as Winograd F(2x2, 3x3) (4/9 of the
  // multiply-adds; cpu/conv_winograd.h).
  bool winograd = true;
  // GPU backends: a pointwise conv that only global pools read runs over
  // its pixels as one row (passes::flatten_pooled_convs).
  bool flat_pooled_convs = true;
  // A MatMul's bias and residual Adds in its epilogue
  // (passes::fuse_matmul_add); needs `fuse` too.
  bool matmul_adds = true;
  // GLSL's own division where the device's is correctly rounded (the CPU
  // rasterizers); off: shaders/divide.glsl's exact division everywhere.
  bool native_division = true;
};

struct OptimizationSwitch {
  const char* name;  // as GLINT_DISABLE / GLINT_ENABLE spell it
  bool OptimizationFlags::*flag;
  const char* what;
};
const std::vector<OptimizationSwitch>& optimization_switches();

// The flags as GLINT_DISABLE / GLINT_ENABLE set them for this process.
const OptimizationFlags& optimization_flags();
// Flags from explicit lists (what optimization_flags() parses).
OptimizationFlags parse_optimization_flags(const std::string& disable, const std::string& enable);

}  // namespace glint
