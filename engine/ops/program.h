// The GPU kernel contract. A GPU kernel never touches GL: from a
// KernelContext (node, concrete input/output dtypes and shapes, constant
// input values) it returns one or more ProgramInfo passes; the runtime
// compiles, binds and draws them.
//
// Shader body convention (see engine/gl/codegen/shader_composer.h): the body
// defines `float process(int oc[OUT_RANK])`, returning the value of output
// element `oc` (oc has max(rank,1) entries; a rank-0 output sees oc[0]==0).
// For each program input named X (rank r) the composer generates, from the
// input's layout, without the kernel doing texel arithmetic:
//   float getX(int i0, ..., int i{r-1})   // `getX()` for rank 0
//   float getXFlat(int flat_index)         // row-major element index
//   float getXBroadcast(int oc[OUT_RANK])  // numpy broadcast against the output
//   const int X_RANK; const int X_SIZE; const int X_SHAPE[r] (when r > 0)
// and for the output: OUT_RANK (array length, >=1), OUT_SIZE, OUT_SHAPE[OUT_RANK].
// Rank-4 inputs also get `vec4 getX4(int n, int c4, int h, int w)`: channels
// 4*c4 .. 4*c4+3 at (n, h, w), zero past the channel count (one texel fetch
// when X is channel-packed); and a cursor for reading a neighbourhood,
// `vec4 getXCursor(int n, int c4, int h, int w)` then
// `vec4 getX4At(vec4 cursor, int dn, int dc4, int dw)`: block c4 + dc4 at
// (n + dn, h, w + dw), with offsets that are literals at each call (they
// fold, so a fetch costs no index arithmetic). Cursor rules: w a multiple
// of 4, and an odd dc4 only from an even c4 (input_accessors.cc says why).
// Shapes and loop bounds are literals in the
// source (baked), or uniforms (shape_uniforms below); either way a
// program's cache key is its full source.
#pragma once
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/core/status.h"
#include "engine/core/tensor.h"
#include "engine/ir/graph.h"

namespace glint::gl {

struct TensorDesc {
  DataType dtype = DataType::kFloat32;
  Shape shape;
  // A constant whose float values are all exactly float16 values (weights
  // of a float16 model, even when widened to float32): the GPU may hold it
  // as packed halves, eight to a texel, losing nothing (texture_layout.h).
  bool half_exact = false;
};

struct KernelContext {
  const ir::Node* node = nullptr;
  std::vector<std::optional<TensorDesc>> inputs;  // nullopt: absent optional input
  std::vector<TensorDesc> outputs;                // from shape inference
  // Input i's value when it is on the CPU at this point (a model constant,
  // or a value computed or fed on the CPU), else nullptr. Shape inference
  // reads it here; kernels read it through constant(i).
  std::vector<const Tensor*> constants;
  // constants[i] for a kernel (supports or build), noting that the kernel
  // looked: the runtime keys the programs built on the values (or absence)
  // of the inputs looked at (plan::program_signature), so that a value a
  // kernel bakes in rebuilds them when it changes, and a value none looks at
  // (a small feed of a MatMul) changes nothing.
  const Tensor* constant(size_t i) const {
    if (i >= constants.size()) return nullptr;
    if (looked_at.size() < constants.size()) looked_at.resize(constants.size(), false);
    looked_at[i] = true;
    return constants[i];
  }
  mutable std::vector<bool> looked_at;  // by constant(i), since the runtime cleared it
  // The device's largest texture side (0: not known), for kernels whose
  // temporaries must fit one texture: they decline, or pick another form,
  // rather than fail at the draw.
  int max_texture_size = 0;
  // ProgramInfo::shape_uniforms for the kernels that can: on unless
  // GLINT_DISABLE=shape-uniforms (engine/core/tuning.h).
  bool shape_uniforms = false;
};

struct ProgramInput {
  std::string name;  // sampler name used in the body: getX(...) for "X"
  int source = 0;    // >= 0: node input index; < 0: -(k+1) = the output of pass k
};

struct ProgramInfo {
  std::string name;                 // kernel name, for logs and `glint info`
  std::vector<ProgramInput> inputs;
  TensorDesc output;                // what this pass writes
  int node_output = 0;              // node output index written; -1: a temporary for later passes
  std::string body;                 // GLSL: helpers + `float process(int oc[OUT_RANK])`
  std::vector<std::string> snippets;  // names of shaders/*.glsl snippets to include, e.g. "erf"
  // Rank-4 outputs only: the body defines `vec4 process4(int oc[4])` instead,
  // the outputs at channels oc[1] .. oc[1]+3 (oc[1] a multiple of 4; lanes
  // past the channel count are ignored). Channel-packed outputs (see
  // texture_layout.h) then cost one call per texel.
  bool vec4_body = false;
  // With vec4_body: the body also defines
  // `void processTile(int oc[4], out vec4 q0, ..., out vec4 q7)`, the outputs
  // of a planes texel position (texture_layout.h): q{g * 4 + p} is channels
  // oc[1] + 4g .. oc[1] + 4g + 3 at pixel oc[3] + p (oc[1] a multiple of 8,
  // oc[3] of 4; channels and pixels past the tensor are ignored). Used when
  // the output has planes, so that a kernel can share fetches in the tile.
  bool tile_body = false;
  // Integers the body reads as `uniform int NAME;` (declared by the
  // composer), set for each draw: values that differ between passes of one
  // program (an RNN's time step) stay out of the source, so those passes
  // share one compiled program instead of one compile each.
  std::vector<std::pair<std::string, int>> int_uniforms;
  // The extents of the inputs' and the output's layouts become uniforms set
  // for each draw instead of literals (shader_composer.h), and the body
  // writes its own shape-dependent integers with shape_int() (kernels), so
  // that nodes of one structure but different sizes share a program: in a
  // browser each program costs a compile at creation and a pipeline JIT at
  // its first draw. Such a body may not use X_SIZE, X_SHAPE, getXFlat of a
  // packed input, getXBroadcast, OUT_SIZE or OUT_SHAPE: not generated then.
  bool shape_uniforms = false;
  // >= 0: this pass only lays node input `reshape_of` out as `output`'s
  // shape (the same elements in the same order, in the layout the passes
  // after it read). When that input is a constant of the model the runtime
  // uploads it so laid out instead of drawing the pass: no program to
  // compile for it (a compile costs tens of milliseconds of a browser's
  // first run; MobileNetV2 had 20 such passes among its 60 programs).
  int reshape_of = -1;
  // A channel concat (rank 4, axis 1, vec4 body): pass input j holds the
  // output's channels from concat_channel_offsets[j] on. Where the layouts
  // line up (texture_layout.h: plane_rows_in) the runtime copies the inputs'
  // texels instead of drawing the body, which stays the general form: on a
  // software rasterizer a copy costs a tenth of the draw (SqueezeNet's fire
  // concats). Empty: always drawn.
  std::vector<int64_t> concat_channel_offsets;
  // >= 0: this pass writes node input `view_of`'s elements in the same
  // row-major order (a Reshape, Squeeze, Flatten, Identity). Where that
  // input's texture is already laid out as the output would be (an unpacked
  // texture of as many elements: its layout hangs only on the count) the
  // runtime hands out the input's texture under the output's shape instead
  // of drawing: one pass fewer, and on a software rasterizer a draw costs
  // 60-90 us however small (a GPT decode step drew 27 such copies).
  int view_of = -1;
  // A fused activation applied to the value before it is stored: a GLSL
  // float expression of `glint_v`, and the same as a vec4 expression of
  // `glint_v4` (set by the runtime from the node, not by kernels).
  std::string activation;
  std::string activation4;
};

// "program 'name' (pass k)": how errors name a pass of a node's list.
inline std::string pass_where(const ProgramInfo& pass, size_t k) {
  return "program '" + pass.name + "' (pass " + std::to_string(k) + ")";
}

// Where input `pi` of pass `k` reads from: node input `index` (from_node)
// or the output of earlier pass `index` (a source < 0 is -(j+1)), or an
// error naming the pass when that node input is absent (`present(i)` false,
// or i past the node's inputs) or pass j does not run before k. The executor
// (compiling and drawing) and the GPU-plan fuzzer resolve pass inputs by this
// one rule.
struct PassSource {
  bool from_node = false;
  size_t index = 0;
};
template <class Present>
Result<PassSource> pass_source(const ProgramInfo& pass, size_t k, const ProgramInput& pi, size_t node_inputs,
                               Present present) {
  if (pi.source >= 0) {
    const auto i = static_cast<size_t>(pi.source);
    if (i >= node_inputs || !present(i)) {
      return invalid_argument(pass_where(pass, k) + ": input '" + pi.name + "' reads node input " +
                              std::to_string(pi.source) + ", which is absent");
    }
    return PassSource{true, i};
  }
  const int64_t j = -(static_cast<int64_t>(pi.source) + 1);
  if (static_cast<size_t>(j) >= k) {
    return invalid_argument(pass_where(pass, k) + ": input '" + pi.name + "' reads the output of pass " +
                            std::to_string(j) + ", which does not run before it");
  }
  return PassSource{false, static_cast<size_t>(j)};
}

// `why` receives a short reason when the candidate declines the node.
using GpuSupportsFn = bool (*)(const KernelContext& ctx, std::string* why);
using GpuBuildFn = Result<std::vector<ProgramInfo>> (*)(const KernelContext& ctx);

}  // namespace glint::gl
