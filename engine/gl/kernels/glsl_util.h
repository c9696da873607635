// Small helpers the GPU kernels share for writing GLSL text: exact float
// literals, baked index arithmetic over literal shapes, accessor calls, and
// the one-pass elementwise program most unary ops are.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "engine/ops/fused_activation.h"
#include "engine/gl/kernels/kernel.h"

namespace glint::gl {

// A GLSL float literal that reads back as exactly `v` as a float32: "%.9g",
// always with a '.' or an exponent, negatives parenthesised; +-inf and NaN
// become bit-pattern expressions (GLSL ES has no literals for them).
std::string glsl_float(double v);
std::string glsl_int(int64_t v);
// A shape-dependent integer `v` of p's body: glsl_int(v), or with
// p.shape_uniforms the uniform `name`, added to p.int_uniforms (once) so
// that the executor sets it for each draw.
std::string shape_int(ProgramInfo& p, const std::string& name, int64_t v);

// Row-major flat index of the coordinate array `arr` (e.g. "oc") in `shape`,
// with the strides as literals: "oc[0] * 12 + oc[1] * 4 + oc[2]". "0" for rank 0.
std::string flat_index_expr(const Shape& shape, const std::string& arr);

// Statements declaring `int name[max(rank,1)]` and unpacking the flat index
// expression `flat` into it for `shape`.
std::string unflatten_stmt(const Shape& shape, const std::string& flat, const std::string& name);

// "getX(a, b, c)" — `args` are index expressions, one per dim ("getX()" for rank 0).
std::string getter(const std::string& input, const std::vector<std::string>& args);
// "getX(oc[0], ..., oc[rank-1])".
std::string getter_oc(const std::string& input, size_t rank, const std::string& arr = "oc");

// Statements adding dot(term, weight) over i in [0, n) to the float `acc`,
// four elements at a time: `at(i)` is the GLSL value of element i (i an int
// expression), `term` and `weight` are vec4 expressions of `v` (the four
// elements). A plain sum is term "v", weight "vec4(1.0)"; a sum of squares
// weight "v". The remainder chunk is masked, so padding lanes add nothing.
std::string vec4_sum(int64_t n, const std::function<std::string(const std::string&)>& at,
                     const std::string& acc, const std::string& term = "v",
                     const std::string& weight = "vec4(1.0)", const std::string& indent = "  ");

// ONNX axis (possibly negative) -> [0, rank); -1 when out of range.
int64_t normalize_axis(int64_t axis, int64_t rank);

// all_float() plus what every kernel here dereferences: input 0 present and
// at least one output. The usual first check of a `supports`.
bool float_op(const KernelContext& ctx, std::string* why);

// float_op for kernels that move or compare values exactly: every dtype the
// GPU holds (all_gpu_dtypes) is accepted.
bool any_dtype_op(const KernelContext& ctx, std::string* why);

// True for dtypes whose values are integers (or bool) on the GPU.
bool is_int_like(DataType t);

// True when input i is present and float32/float16; else says why.
bool input_is_float(const KernelContext& ctx, size_t i, std::string* why);

// A GLSL ES 3.00 expression of `expr` with the activation applied (`expr`
// itself for kNone): what the activation kernels (activation.cc) compute,
// and what a producer's shader stores when an activation is fused into it.
// `expr` may appear more than once in the result: pass a variable or another
// side-effect-free, cheap expression. `vec4`: `expr` is a vec4, component-wise.
std::string fused_activation_glsl(const FusedActivation& a, const std::string& expr, bool vec4 = false);
// The shaders/*.glsl snippets that expression calls (Gelu: "erf").
std::vector<std::string> fused_activation_snippets(const FusedActivation& a);

// One pass writing output 0: each element is `expr` of `float x` (input 0 at
// the same coordinate). `prelude` holds helper functions placed before process().
ProgramInfo unary_map(const KernelContext& ctx, const std::string& name, const std::string& expr,
                      const std::string& prelude = "",
                      std::vector<std::string> snippets = {});

// A one-pass copy of input 0 to output 0 in row-major flat order (Reshape,
// Flatten, Identity, Cast between float types, Squeeze...).
ProgramInfo flat_copy(const KernelContext& ctx, const std::string& name);

// Strides, dilations and begin/end pads of a sliding-window op (Conv, pools)
// over `kernel` spatial extents, with auto_pad resolved against the input and
// the inferred output spatial sizes.
struct Window {
  std::vector<int64_t> kernel, strides, dilations, pad_begin, pad_end;
};
Result<Window> resolve_window(const ir::Node& node, const Shape& in_spatial,
                              const Shape& out_spatial, const std::vector<int64_t>& kernel);

// The most loop iterations one fragment may run, all of its loops together:
// llvmpipe (gallivm) stops every loop past 65535 iterations counted over the
// whole invocation, so a longer loop gives a wrong answer there, not a slow
// one (and a real GPU's watchdog may reset the context). A kernel whose work
// per output grows past this declines and the node runs on its CPU kernel.
constexpr int64_t kMaxFragmentLoopIterations = 65535;

inline bool decline(std::string* why, const std::string& reason) {
  if (why) *why = reason;
  return false;
}

// True when one fragment's loops, `iterations` in all, stay within
// kMaxFragmentLoopIterations; otherwise declines naming `what` loops.
// (Unknown sizes, negative, are asked again at run time.)
inline bool loop_fits(int64_t iterations, const std::string& what, std::string* why) {
  if (iterations <= kMaxFragmentLoopIterations) return true;
  return decline(why, what + " would loop " + std::to_string(iterations) + " times in one fragment (more than " +
                          std::to_string(kMaxFragmentLoopIterations) + ")");
}

}  // namespace glint::gl
