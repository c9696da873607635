// GridSample (4-D; bilinear / nearest / bicubic, padding zeros / border /
// reflection, align_corners), following the CPU kernel step by step: grid
// coordinates to pixel space, clamp or reflect (not for bicubic), then the
// taps read through a padding-aware pixel() helper. Nearest rounds half to
// even (nearbyint), as the CPU kernel.
#include "engine/gl/kernels/glsl_util.h"
#include "engine/gl/kernels/kernels.h"

namespace glint::gl {

bool grid_sample_supports(const KernelContext& ctx, std::string* why) {
  if (!float_op(ctx, why)) return false;
  if (ctx.inputs.size() < 2 || !ctx.inputs[1]) return decline(why, "grid is missing");
  const Shape& x = ctx.inputs[0]->shape;
  const Shape& g = ctx.inputs[1]->shape;
  if (x.size() != 4 || g.size() != 4 || g[3] != 2 || g[0] != x[0]) return decline(why, "only 4-D GridSample");
  std::string mode = ctx.node->attr_string("mode", "bilinear");
  std::string pad = ctx.node->attr_string("padding_mode", "zeros");
  if (mode != "bilinear" && mode != "linear" && mode != "nearest" && mode != "bicubic" && mode != "cubic")
    return decline(why, "unknown mode '" + mode + "'");
  if (pad != "zeros" && pad != "border" && pad != "reflection") return decline(why, "unknown padding_mode '" + pad + "'");
  return true;
}

Result<std::vector<ProgramInfo>> grid_sample_build(const KernelContext& ctx) {
  const Shape& x = ctx.inputs[0]->shape;
  std::string mode = ctx.node->attr_string("mode", "bilinear");
  if (mode == "linear") mode = "bilinear";
  if (mode == "cubic") mode = "bicubic";
  const std::string pad = ctx.node->attr_string("padding_mode", "zeros");
  const bool align = ctx.node->attr_int("align_corners", 0) != 0;
  const int64_t H = x[2], W = x[3];
  const std::string Hs = glsl_float(static_cast<double>(H)), Ws = glsl_float(static_cast<double>(W));
  const std::string xmin = align ? "0.0" : "(-0.5)", xmax = align ? glsl_float(W - 1.0) : glsl_float(W - 0.5);
  const std::string ymin = xmin, ymax = align ? glsl_float(H - 1.0) : glsl_float(H - 0.5);
  std::string pre =
      "float gs_reflect(float x, float lo, float hi) {\n"
      "  float range = hi - lo;\n  if (range <= 0.0) return lo;\n"
      "  if (x < lo) { float dx = lo - x; float n = trunc(dx / range); float r = dx - n * range;\n"
      "    return mod(n, 2.0) == 0.0 ? lo + r : hi - r; }\n"
      "  if (x > hi) { float dx = x - hi; float n = trunc(dx / range); float r = dx - n * range;\n"
      "    return mod(n, 2.0) == 0.0 ? hi - r : lo + r; }\n  return x;\n}\n"
      "float gs_cubic(float x) {\n  x = abs(x);\n  const float a = -0.75;\n"
      "  if (x <= 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0;\n"
      "  if (x < 2.0) return ((a * x - 5.0 * a) * x + 8.0 * a) * x - 4.0 * a;\n  return 0.0;\n}\n"
      "float gs_pixel(int n, int c, int yi, int xi) {\n";
  if (pad == "zeros") {
    pre += "  if (xi < 0 || xi >= " + glsl_int(W) + " || yi < 0 || yi >= " + glsl_int(H) + ") return 0.0;\n";
  } else if (pad == "border") {
    pre += "  xi = clamp(xi, 0, " + glsl_int(W - 1) + ");\n  yi = clamp(yi, 0, " + glsl_int(H - 1) + ");\n";
  } else {
    pre += "  xi = clamp(int(gs_reflect(float(xi), " + xmin + ", " + xmax + ")), 0, " + glsl_int(W - 1) +
           ");\n  yi = clamp(int(gs_reflect(float(yi), " + ymin + ", " + ymax + ")), 0, " + glsl_int(H - 1) + ");\n";
  }
  pre += "  return getX(n, c, yi, xi);\n}\n";
  std::string b = "float process(int oc[OUT_RANK]) {\n  int n = oc[0];\n  int c = oc[1];\n"
                  "  float gx = getG(n, oc[2], oc[3], 0);\n  float gy = getG(n, oc[2], oc[3], 1);\n";
  if (align) {
    b += "  float px = (gx + 1.0) / 2.0 * " + glsl_float(W - 1.0) + ";\n  float py = (gy + 1.0) / 2.0 * " +
         glsl_float(H - 1.0) + ";\n";
  } else {
    b += "  float px = ((gx + 1.0) * " + Ws + " - 1.0) / 2.0;\n  float py = ((gy + 1.0) * " + Hs + " - 1.0) / 2.0;\n";
  }
  if (mode != "bicubic") {
    if (pad == "border") {
      b += "  px = clamp(px, 0.0, " + glsl_float(W - 1.0) + ");\n  py = clamp(py, 0.0, " + glsl_float(H - 1.0) + ");\n";
    } else if (pad == "reflection") {
      b += "  px = gs_reflect(px, " + xmin + ", " + xmax + ");\n  py = gs_reflect(py, " + ymin + ", " + ymax + ");\n";
    }
  }
  if (mode == "nearest") {
    b += "  return gs_pixel(n, c, int(roundEven(py)), int(roundEven(px)));\n";
  } else if (mode == "bilinear") {
    b += "  float fx = floor(px), fy = floor(py);\n  float tx = px - fx, ty = py - fy;\n  int x0 = int(fx), y0 = int(fy);\n"
         "  return (1.0 - ty) * ((1.0 - tx) * gs_pixel(n, c, y0, x0) + tx * gs_pixel(n, c, y0, x0 + 1)) +\n"
         "         ty * ((1.0 - tx) * gs_pixel(n, c, y0 + 1, x0) + tx * gs_pixel(n, c, y0 + 1, x0 + 1));\n";
  } else {
    b += "  float fx = floor(px), fy = floor(py);\n  float tx = px - fx, ty = py - fy;\n"
         "  int x0 = int(fx) - 1, y0 = int(fy) - 1;\n  float v = 0.0;\n"
         "  for (int a = 0; a < 4; ++a) {\n    float row = 0.0;\n"
         "    for (int b = 0; b < 4; ++b) row += gs_cubic(tx - float(b - 1)) * gs_pixel(n, c, y0 + a, x0 + b);\n"
         "    v += gs_cubic(ty - float(a - 1)) * row;\n  }\n  return v;\n";
  }
  ProgramInfo p;
  p.name = "grid_sample";
  p.inputs = {{"X", 0}, {"G", 1}};
  p.output = ctx.outputs[0];
  p.body = pre + b + "}\n";
  return std::vector<ProgramInfo>{p};
}

}  // namespace glint::gl
