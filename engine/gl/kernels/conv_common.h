// What the Conv GPU candidates share (conv_depthwise.cc, conv_vec4.cc,
// conv_generic.cc, asked in that order by the op table): the checks every
// one of them makes, a node's geometry, and the GLSL pieces of the vec4 and
// planes-tile bodies.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "engine/gl/kernels/glsl_util.h"

namespace glint::gl::conv {

// X, W and Y shapes, the window, the group split and whether a bias is read.
struct ConvShape {
  Shape x, w, y, in_sp, out_sp;
  size_t k = 0;  // spatial rank
  Window win;
  int64_t group = 1, cg = 0, mg = 0;  // input / output channels per group
  bool bias = false;
  bool residual = false;  // a fused residual (input 3) added before the activation
  bool vec4_ok = false;  // the vec4 bodies: 2-D and a float output
  bool depthwise() const { return group == x[1] && cg == 1 && w[0] == x[1]; }
};

// Every Conv candidate's checks (float, 1-D/2-D, channels match the groups,
// a valid window); `why` says which failed.
bool common_supports(const KernelContext& ctx, std::string* why);
Result<ConvShape> conv_shape(const KernelContext& ctx);
// common_supports, then `accepts` on the node's geometry; `reason` when it refuses.
bool supports_if(const KernelContext& ctx, std::string* why, bool (*accepts)(const ConvShape&), const char* reason);

// Loops over the 2-D window of output pixel (oc[2], oc[3]) declaring ih/iw
// and skipping taps in the padding; `inner` is the loop body. Per axis: a
// loop over the taps, or none for a 1-wide window; the bounds check only
// where a tap can fall into the padding.
// `in_extent`: the input's height and width as GLSL (input_extents()).
std::string window_loops_2d(const Window& win, const std::vector<std::string>& in_extent, const std::string& inner);

// The input's height and width as the bounds checks of window_loops_2d and
// tile_body write them: shape_int()s, only for an axis with padding (the
// others are never read, "").
std::vector<std::string> input_extents(ProgramInfo& p, const ConvShape& c);

// The GLSL vec4 of input channel block `b` (an index into tile_body's
// `x_blocks`) under pixel p of the tile at the current tap.
using ColumnFn = std::function<std::string(int b, int p)>;

// `void processTile(int oc[4], out vec4 q0, ..., out vec4 q7)`: the conv at
// the 4 pixels x 2 channel blocks of a planes texel position (q{g * 4 + p}).
// Per window row (and input channel block, inside `channel_loop` when it is
// not empty), each input column that a pixel's taps touch is fetched once
// per block in `x_blocks` (through one cursor per block, getX4At at literal
// columns), and the statements of tap `tap(kx, x)` fetch each weight once
// for the tile. The prologue declares n and the accumulators' starting
// values acc0 and acc1. Columns in the padding read `pad` (a vec4; rows in
// the padding are skipped). With `residual`, each output adds the fused
// residual R at its channels and pixel (the prologue declares m).
std::string tile_body(const Window& win, const std::vector<std::string>& in_extent, const std::string& prologue,
                      const std::string& channel_loop, const std::vector<std::string>& x_blocks,
                      const std::function<std::vector<std::string>(int64_t kx, const ColumnFn& x)>& tap,
                      bool residual, const std::string& pad = "vec4(0.0)");

// " + getR4(...)": the fused residual at channels m0 .. m0+3 (m0 a multiple
// of 4) of output pixel (oc[2], w), or "" without one.
std::string residual4(bool residual, const std::string& m0 = "m", const std::string& w = "oc[3]");

// vec4 of the bias for channels m0 .. m0+3 (m0 a multiple of 4, a GLSL int
// expression), or zero without a bias.
std::string bias4(bool bias, const std::string& m0 = "m");

// The pass that lays bias B [M] out as [1, M, 1, 1], four channels per
// texel, for bias4(); it reads only a constant, so it is drawn once.
ProgramInfo bias_pass(const KernelContext& ctx);

}  // namespace glint::gl::conv
