#include "engine/gl/codegen/input_accessors.h"


namespace glint::gl {

std::string int_list(const Shape& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out;
}

std::string desc_str(const TensorDesc& d) { return dtype_name(d.dtype) + shape_str(d.shape); }

std::string inv_size_name(const std::string& input) { return "glint_inv_size_" + input; }

namespace {

// The texel address of flat element `idx` (a GLSL int expression) under the
// unpacked layout `l` (the packed kinds are addressed by (n, c4, h, w): see
// channels_texel()). Every flat-index -> texel mapping the shaders use is
// written here.
std::string texel_of_flat(const TextureLayout& l, const std::string& idx) {
  if (l.height == 1) return "ivec2(" + idx + ", 0)";
  if (l.width == 1) return "ivec2(0, " + idx + ")";
  return "ivec2(" + idx + " % " + std::to_string(l.width) + ", " + idx + " / " + std::to_string(l.width) + ")";
}

// a * b + c with literal folding; a, b and c are GLSL int expressions or
// literals ("0" and "1" fold away); `b_text` is b as the source writes it.
std::string mul_add(const std::string& a, int64_t b, const std::string& b_text, const std::string& c) {
  std::string prod;
  if (a != "0" && b != 0) prod = b == 1 ? a : "(" + a + ") * " + b_text;
  if (prod.empty()) return c;
  if (c == "0") return prod;
  return prod + " + " + c;
}

// The texel of channel block c4 at (n, h, w) under a channel-packed layout.
// Every (n, c4, h, w) -> texel mapping the shaders use is written here.
std::string channels_texel(const TextureLayout& l, const std::string& n, const std::string& c4,
                           const std::string& h, const std::string& w, const std::string& tensor, ShapeInts& ints) {
  const int64_t N = l.dims[0], C4 = l.channel_blocks(), H = l.dims[2], W = l.dims[3];
  const std::string nn = N == 1 ? "0" : n, cc = C4 == 1 ? "0" : c4, hh = H == 1 ? "0" : h,
                    ww = W == 1 ? "0" : w;
  auto H_ = [&] { return ints(extent_name(tensor, "H"), H); };
  if (l.kind == LayoutKind::kChannelsRGBA) {
    // (w, (n*C4 + c4)*H + h)
    const std::string c4_ = nn == "0" ? "" : ints(extent_name(tensor, "C4"), C4);
    return "ivec2(" + ww + ", " + mul_add(mul_add(nn, C4, c4_, cc), H, H > 1 ? H_() : "", hh) + ")";
  }
  if (l.kind == LayoutKind::kChannelsPlanes) {
    static_assert(kPlanePixels == 4 && kPlaneBlocks == 2, "planes are addressed with >> 2, & 3, >> 1 and & 1");
    // (w / 4, (n*C8 + c4/2)*H + h, (c4 % 2) * 4 + w % 4)
    const std::string c8_ = nn == "0" ? "" : ints(extent_name(tensor, "C8"), l.plane_rows());
    return "ivec3((" + w + ") >> 2, " + mul_add(mul_add(nn, l.plane_rows(), c8_, "((" + c4 + ") >> 1)"), H, H > 1 ? H_() : "", hh) +
           ", (((" + c4 + ") & 1) << 2) + ((" + w + ") & 3))";
  }
  // ((c4*H + h)*W + w, n)
  const std::string h_ = cc == "0" ? "" : (H > 1 ? H_() : "");
  const std::string w_ = W > 1 ? ints(extent_name(tensor, "W"), W) : "";
  return "ivec2(" + mul_add(mul_add(cc, H, h_, hh), W, w_, ww) + ", " + nn + ")";
}

// getXCursor(n, c4, h, w) and getX4At(cursor, dn, dc4, dw) (the contract is
// in engine/ops/program.h). The cursor holds the texture coordinate of
// (n, c4, h, w) and the steps a fetch adds, so a fetch at literal offsets
// is one texture() once the offsets fold: each `cond ? c : c + step` below
// has a condition on literals only. Why: a conv tile reads 12-90 texels
// per step through getX4, each paying its own index arithmetic (shifts,
// multiplies, int-to-float); SwiftShader does not share the common parts
// between fetches, and a depthwise tile ran 8-10% faster, a 1x1 conv tile
// about 10%, with the arithmetic done once per cursor. On a planes layout
// the cursor points at a texel position's first layer: w must be a
// multiple of 4 (so dw picks the layer and the column), and an odd dc4
// needs an even c4 (so the block stays in that texel position). Other
// layouts, and texelFetch reads, keep the indices and call getX4.
void emit_cursor(std::ostringstream& os, const ComposerInput& in, ShapeInts& ints, bool texture_reads,
                 const std::string& texel_at_fn) {
  const std::string& X = in.name;
  const TextureLayout& l = in.layout;
  const std::string inv = inv_size_name(X);
  const int64_t N = l.dims[0], C4 = l.channel_blocks(), H = l.dims[2], W = l.dims[3];
  auto extent = [&](const char* what, int64_t v) { return v == 1 ? std::string("1") : ints(extent_name(X, what), v); };
  const std::string head = "vec4 get" + X + "Cursor(int n, int c4, int h, int w) { ";
  const std::string at = "vec4 get" + X + "4At(vec4 c, int dn, int dc4, int dw) { ";
  if (!texture_reads || !l.channel_packed()) {
    os << head << "return vec4(n, c4, h, w); }\n";
    os << at << "return get" << X << "4(int(c.x) + dn, int(c.y) + dc4, int(c.z), int(c.w) + dw); }\n";
    return;
  }
  const std::string dn_rows = N == 1 ? "0" : "dn";  // a single image: dn is never anything but 0
  if (l.kind == LayoutKind::kChannelsPlanes) {
    // (u, v, first layer, H rows in v)
    const std::string c8 = N == 1 ? "0" : extent("C8", l.plane_rows());
    os << head << "ivec3 t = " << channels_texel(l, "n", "c4", "h", "w", X, ints) << "; return vec4((vec2(t.xy) + 0.5) * "
       << inv << ", float(t.z), float(" << extent("H", H) << ") * " << inv << ".y); }\n";
    os << at << "return " << texel_at_fn << "(vec3(dw >> 2 == 0 ? c.x : c.x + float(dw >> 2) * " << inv
       << ".x, " << dn_rows << " == 0 && dc4 >> 1 == 0 ? c.y : c.y + float(" << dn_rows << " * " << c8
       << " + (dc4 >> 1)) * c.w, c.z + float(((dc4 & 1) << 2) + (dw & 3)))); }\n";
  } else if (l.kind == LayoutKind::kChannelsRGBA) {
    // (u, v, H rows in v)
    os << head << "ivec2 t = " << channels_texel(l, "n", "c4", "h", "w", X, ints) << "; return vec4((vec2(t) + 0.5) * "
       << inv << ", float(" << extent("H", H) << ") * " << inv << ".y, 0.0); }\n";
    os << at << "return " << texel_at_fn << "(vec2(dw == 0 ? c.x : c.x + float(dw) * " << inv << ".x, " << dn_rows
       << " == 0 && dc4 == 0 ? c.y : c.y + float(" << dn_rows << " * " << (N == 1 ? std::string("0") : extent("C4", C4))
       << " + dc4) * c.z)); }\n";
  } else {
    // kChannelsRowsRGBA: (u, v, H*W columns in u)
    os << head << "ivec2 t = " << channels_texel(l, "n", "c4", "h", "w", X, ints) << "; return vec4((vec2(t) + 0.5) * "
       << inv << ", float(" << extent("H", H) << " * " << extent("W", W) << ") * " << inv << ".x, 0.0); }\n";
    os << at << "return " << texel_at_fn << "(vec2(dc4 == 0 && dw == 0 ? c.x : c.x + float(dc4) * c.z + float(dw) * "
       << inv << ".x, dn == 0 ? c.y : c.y + float(dn) * " << inv << ".y)); }\n";
  }
}

// Row-major linear combination of index expressions with literal strides;
// dims of extent 1 contribute nothing and are skipped.
std::string linear_index(const Shape& shape, const std::vector<std::string>& idx) {
  std::vector<int64_t> strides = shape_strides(shape);
  std::string out;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;
    if (!out.empty()) out += " + ";
    out += idx[d];
    if (strides[d] != 1) out += " * " + std::to_string(strides[d]);
  }
  return out.empty() ? "0" : out;
}

}  // namespace

void emit_input(std::ostringstream& os, const ComposerInput& in, const Shape& out_shape_eff, ShapeInts& ints) {
  const std::string& X = in.name;
  const Shape& s = in.desc.shape;
  const size_t r = s.size();
  const std::string u = sampler_uniform_name(X);
  if (ints.as_uniforms()) {
    os << "// input " << X << ": " << dtype_name(in.desc.dtype) << " of rank " << r << ", "
       << layout_kind_name(in.layout.kind) << (in.layout.bits ? " (float bits)" : "") << " (extents are uniforms)\n";
  } else {
    os << "// input " << X << ": " << desc_str(in.desc) << ", " << layout_str(in.layout) << "\n";
  }
  const char* sampler = in.layout.bits ? (in.layout.planar() ? "highp usampler2DArray " : "highp usampler2D ")
                                       : (in.layout.planar() ? "highp sampler2DArray " : "sampler2D ");
  os << "uniform " << sampler << u << ";\n";
  os << "const int " << X << "_RANK = " << r << ";\n";
  if (ints.as_uniforms()) {
    os << "// " << X << "_SIZE and " << X << "_SHAPE: not in a program whose shapes are uniforms\n";
  } else {
    os << "const int " << X << "_SIZE = " << shape_size(s) << ";\n";
    if (r > 0) os << "const int " << X << "_SHAPE[" << r << "] = int[" << r << "](" << int_list(s) << ");\n";
  }

  // Every read of X goes through glint_texel_X(texel): a nearest-filtered
  // texture() at the texel's centre, not texelFetch. Same value: coordinates
  // are exact to 1e-3 texel up to 16384, and with one level and NEAREST for
  // both minification and magnification any level of detail picks the same
  // texel, so implicit derivatives (undefined in non-uniform control flow)
  // do not matter. SwiftShader runs MobileNetV2 1.17x and SqueezeNet 1.25x
  // faster with it: its texelFetch pays a robustness bounds check per lane.
  // (TF.js reads every texture this way too.) The texture may be larger
  // than the layout (the pool reuses textures), so main() sets
  // glint_inv_size_X from textureSize() first.
  const std::string texel_fn = "glint_texel_" + X, texel_at_fn = "glint_texel_at_" + X, inv = inv_size_name(X);
  os << "vec2 " << inv << ";\n";
  // Float bits in uint texels (TextureLayout::bits) become floats here, so
  // that nothing past this function knows about them.
  const bool texture_reads = !in.texel_fetch;
  const std::string open = in.layout.bits ? "uintBitsToFloat(" : "", close = in.layout.bits ? ")" : "";
  if (!texture_reads) {
    os << "vec4 " << texel_fn << "(" << (in.layout.planar() ? "ivec3" : "ivec2") << " t) { return " << open
       << "texelFetch(" << u << ", t, 0)" << close << "; }\n";
  } else if (in.layout.planar()) {
    os << "vec4 " << texel_at_fn << "(vec3 p) { return " << open << "texture(" << u << ", p)" << close << "; }\n";
    os << "vec4 " << texel_fn << "(ivec3 t) { return " << texel_at_fn << "(vec3((vec2(t.xy) + 0.5) * " << inv
       << ", float(t.z))); }\n";
  } else {
    os << "vec4 " << texel_at_fn << "(vec2 p) { return " << open << "texture(" << u << ", p)" << close << "; }\n";
    os << "vec4 " << texel_fn << "(ivec2 t) { return " << texel_at_fn << "((vec2(t) + 0.5) * " << inv << "); }\n";
  }
  std::vector<std::string> idx;
  for (size_t d = 0; d < r; ++d) idx.push_back("i" + std::to_string(d));
  if (in.layout.half_packed()) {
    // getX8(n, c8, h, w): channels 8*c8 .. 8*c8+7 (columns 0 and 1 of the
    // mat2x4) in one fetch of four half pairs; the rest as for four channels.
    const int64_t H = s[2], W = s[3], C8 = in.layout.half_blocks();
    const std::string nn = s[0] == 1 ? "0" : "n", cc = C8 == 1 ? "0" : "c8", hh = H == 1 ? "0" : "h",
                      ww = W == 1 ? "0" : "w";
    const std::string h_ = cc != "0" && H > 1 ? ints(extent_name(X, "H"), H) : "";
    const std::string w_ = W > 1 ? ints(extent_name(X, "W"), W) : "";
    os << "mat2x4 get" << X << "8(int n, int c8, int h, int w) { uvec4 t = floatBitsToUint(" << texel_fn << "(ivec2("
       << mul_add(mul_add(cc, H, h_, hh), W, w_, ww) << ", " << nn << "))) ^ uvec4(" << kHalf8Flip << "u); return mat2x4(vec4(unpackHalf2x16(t.x), "
       << "unpackHalf2x16(t.y)), vec4(unpackHalf2x16(t.z), unpackHalf2x16(t.w))); }\n";
    os << "vec4 get" << X << "4(int n, int c4, int h, int w) { mat2x4 m = get" << X
       << "8(n, c4 >> 1, h, w); return (c4 & 1) == 0 ? m[0] : m[1]; }\n";
  }
  if (in.layout.channel_packed() || in.layout.half_packed()) {
    // getX4(n, c4, h, w): channels 4*c4 .. 4*c4+3 in one fetch; getX picks a
    // lane; getXFlat decodes the row-major index first.
    const int64_t C = s[1], H = s[2], W = s[3];
    if (in.layout.channel_packed()) {
      os << "vec4 get" << X << "4(int n, int c4, int h, int w) { return " << texel_fn << "("
         << channels_texel(in.layout, "n", "c4", "h", "w", X, ints) << "); }\n";
    }
    os << "float get" << X << "(int i0, int i1, int i2, int i3) { return get" << X
       << "4(i0, i1 >> 2, i2, i3)[i1 & 3]; }\n";
    if (ints.as_uniforms()) {
      // Flat reads are for scalar bodies; a shape-generic body does without.
      os << "// get" << X << "Flat: not in a program whose shapes are uniforms\n";
    } else {
      os << "float get" << X << "Flat(int i) { int w = i % " << W << "; i /= " << W << "; int h = i % " << H
         << "; i /= " << H << "; int c = i % " << C << "; return get" << X << "(i / " << C
         << ", c, h, w); }\n";
    }
  } else {
    os << "float get" << X << "Flat(int i) { return " << texel_fn << "(" << texel_of_flat(in.layout, "i")
       << ").r; }\n";
    // getX(i0, ..., i{r-1})
    os << "float get" << X << "(";
    for (size_t d = 0; d < r; ++d) os << (d ? ", " : "") << "int i" << d;
    os << ") { return get" << X << "Flat(" << linear_index(s, idx) << "); }\n";
    if (r == 4) {
      // The four-channel accessor for unpacked rank-4 inputs too, so that
      // vec4 kernels work whatever layout their input got.
      const int64_t C = s[1];
      os << "vec4 get" << X << "4(int n, int c4, int h, int w) { int c = c4 * 4; return vec4(";
      for (int j = 0; j < 4; ++j) {
        std::string cj = j ? "c + " + std::to_string(j) : "c";
        std::string g = "get" + X + "(n, " + cj + ", h, w)";
        os << (j ? ", " : "") << (C % 4 == 0 ? g : "(" + cj + " < " + std::to_string(C) + " ? " + g + " : 0.0)");
      }
      os << "); }\n";
    }
  }

  if (r == 4) emit_cursor(os, in, ints, texture_reads, texel_at_fn);
  if (r == 4 && !in.layout.half_packed()) {
    // Eight channels as two four-channel blocks, so that kernels written
    // against getX8 work whatever layout X got (the second block is zero
    // past the channel count).
    const int64_t C4 = (s[1] + 3) / 4;
    os << "mat2x4 get" << X << "8(int n, int c8, int h, int w) { return mat2x4(get" << X
       << "4(n, 2 * c8, h, w), 2 * c8 + 1 < " << ints(extent_name(X, "C4"), C4) << " ? get" << X << "4(n, 2 * c8 + 1, h, w) : vec4(0.0)); }\n";
  }
  // getXBroadcast(oc): numpy broadcasting, X aligned to the output's trailing
  // dims. Only generated when X does broadcast to the output; a kernel using
  // it otherwise gets a compile error naming the missing function.
  const size_t R = out_shape_eff.size();
  // Whether X broadcasts depends on the extents, so a program whose
  // extents are uniforms has no getXBroadcast either way.
  bool compatible = r <= R && !ints.as_uniforms();
  for (size_t d = 0; compatible && d < r; ++d) {
    compatible = s[d] == 1 || s[d] == out_shape_eff[R - r + d];
  }
  if (compatible) {
    std::vector<std::string> bidx;
    for (size_t d = 0; d < r; ++d) bidx.push_back("oc[" + std::to_string(R - r + d) + "]");
    if (in.layout.channel_packed() || in.layout.half_packed()) {
      std::string args;
      for (size_t d = 0; d < r; ++d) args += (d ? ", " : "") + (s[d] == 1 ? std::string("0") : bidx[d]);
      os << "float get" << X << "Broadcast(int oc[OUT_RANK]) { return get" << X << "(" << args << "); }\n";
    } else {
      os << "float get" << X << "Broadcast(int oc[OUT_RANK]) { return get" << X << "Flat("
         << linear_index(s, bidx) << "); }\n";
    }
  } else {
    if (ints.as_uniforms())
      os << "// get" << X << "Broadcast: not in a program whose shapes are uniforms\n";
    else
      os << "// get" << X << "Broadcast: not generated, " << shape_str(s) << " does not broadcast to the output\n";
  }
  os << "\n";
}

}  // namespace glint::gl
