// com.microsoft RotaryEmbedding on the GPU: one pass; each output element
// reads its pair partner and the cos / sin of its token's position (as the
// CPU kernel: position_ids of one value are a start position, (B, S) per
// token).
#include <algorithm>
#include <string>

#include "engine/gl/kernels/contrib_attention.h"
#include "engine/gl/kernels/glsl_util.h"

namespace glint::gl {

using namespace attn_gpu;

namespace {

std::string gi(int64_t v) { return glsl_int(v); }

struct RopeGeom {
  int64_t B = 0, S = 0, N = 0, H = 0, rot = 0;
  bool four_d = false, per_token = false;
};

bool rope_geom(const KernelContext& ctx, RopeGeom* g, std::string* why) {
  const ir::Node& node = *ctx.node;
  if (node.attr_int("is_packed_batching", 0) != 0) return decline(why, "is_packed_batching");
  for (int i : {0, 1, 2, 3})
    if (!present(ctx, static_cast<size_t>(i))) return decline(why, "missing input");
  const TensorDesc &x = *ctx.inputs[0], &pos = *ctx.inputs[1], &c = *ctx.inputs[2], &s = *ctx.inputs[3];
  if (!is_f(x.dtype) || !is_f(c.dtype) || !is_f(s.dtype) || !is_integer(pos.dtype)) return decline(why, "dtypes");
  if ((x.shape.size() != 3 && x.shape.size() != 4) || c.shape.size() != 2 || c.shape != s.shape)
    return decline(why, "shapes");
  const int64_t num_heads = node.attr_int("num_heads", 0), rot_attr = node.attr_int("rotary_embedding_dim", 0);
  g->rot = rot_attr > 0 ? rot_attr : 2 * c.shape[1];
  g->B = x.shape[0];
  g->four_d = x.shape.size() == 4;
  if (g->four_d) {
    g->N = x.shape[1], g->S = x.shape[2], g->H = x.shape[3];
  } else {
    g->S = x.shape[1];
    g->H = num_heads > 0 ? x.shape[2] / num_heads : g->rot;
    if (g->H <= 0 || x.shape[2] % g->H != 0) return decline(why, "hidden size");
    g->N = x.shape[2] / g->H;
  }
  if (g->rot <= 0 || g->rot % 2 != 0 || g->rot > g->H || c.shape[1] != g->rot / 2) return decline(why, "rotary dimension");
  const int64_t np = shape_size(pos.shape);
  g->per_token = pos.shape.size() == 2;
  if (!(np == 1 && pos.shape.size() <= 1) && !(g->per_token && pos.shape[0] == g->B && pos.shape[1] == g->S))
    return decline(why, "position_ids shape");
  return true;
}

}  // namespace

bool rotary_embedding_supports(const KernelContext& ctx, std::string* why) {
  RopeGeom g;
  return rope_geom(ctx, &g, why) && (ctx.outputs.empty() || is_f(ctx.outputs[0].dtype) || decline(why, "output dtype"));
}

Result<std::vector<ProgramInfo>> rotary_embedding_build(const KernelContext& ctx) {
  RopeGeom g;
  std::string why;
  if (!rope_geom(ctx, &g, &why)) return invalid_argument(ctx.node->describe() + ": " + why);
  const bool interleaved = ctx.node->attr_int("interleaved", 0) != 0;
  const int64_t half = g.rot / 2;
  ProgramInfo p;
  p.name = "rotary_embedding";
  p.inputs = {{"X", 0}, {"Pos", 1}, {"Cos", 2}, {"Sin", 3}};
  p.output = ctx.outputs[0];
  p.node_output = 0;
  std::string s;
  // x(b, s, n, h) over the input's own layout.
  s += "float x_at(int b, int s, int n, int h) { return " +
       std::string(g.four_d ? "getX(b, n, s, h)" : "getX(b, s, n * " + gi(g.H) + " + h)") + "; }\n";
  s += "float process(int oc[OUT_RANK]) {\n";
  if (g.four_d) s += "  int b = oc[0], n = oc[1], s = oc[2], h = oc[3];\n";
  else s += "  int b = oc[0], s = oc[1], n = oc[2] / " + gi(g.H) + ", h = oc[2] - n * " + gi(g.H) + ";\n";
  s += "  if (h >= " + gi(g.rot) + ") return x_at(b, s, n, h);\n";
  s += "  int pos = " + std::string(g.per_token ? "int(getPos(b, s))" : "int(getPosFlat(0)) + s") + ";\n";
  if (interleaved) {
    s += "  int i = h / 2;\n  float c = getCos(pos, i), sn = getSin(pos, i);\n";
    s += "  if (h % 2 == 0) return x_at(b, s, n, h) * c - x_at(b, s, n, h + 1) * sn;\n";
    s += "  return x_at(b, s, n, h) * c + x_at(b, s, n, h - 1) * sn;\n}\n";
  } else {
    s += "  if (h < " + gi(half) + ") { float c = getCos(pos, h), sn = getSin(pos, h);\n";
    s += "    return x_at(b, s, n, h) * c - x_at(b, s, n, h + " + gi(half) + ") * sn; }\n";
    s += "  int i = h - " + gi(half) + ";\n  float c = getCos(pos, i), sn = getSin(pos, i);\n";
    s += "  return x_at(b, s, n, h) * c + x_at(b, s, n, i) * sn;\n}\n";
  }
  p.body = s;
  return std::vector<ProgramInfo>{p};
}

}  // namespace glint::gl
