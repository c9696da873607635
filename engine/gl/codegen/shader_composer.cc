#include "engine/gl/codegen/shader_composer.h"

#include <set>
#include <sstream>

#include "engine/gl/codegen/embedded_shaders.h"
#include "engine/gl/codegen/input_accessors.h"
#include "engine/gl/codegen/shape_ints.h"

namespace glint::gl {

namespace {

// Snippets that are infrastructure, not includable by kernels.
const std::set<std::string>& reserved_snippets() {
  static const std::set<std::string> s = {"preamble", "quad_vertex", "divide_native"};
  return s;
}

bool is_identifier(const std::string& s) {
  if (s.empty()) return false;
  auto alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
  if (!alpha(s[0])) return false;
  for (char c : s) {
    if (!alpha(c) && !(c >= '0' && c <= '9')) return false;
  }
  // GLSL reserves names starting with gl_ and names containing "__".
  if (s.rfind("gl_", 0) == 0 || s.find("__") != std::string::npos) return false;
  return true;
}

// main()'s first statements: every input's inverse texture size.
std::string set_inv_sizes(const std::vector<ComposerInput>& inputs) {
  std::string s;
  for (const auto& in : inputs)
    s += "  " + inv_size_name(in.name) + " = 1.0 / vec2(textureSize(" + sampler_uniform_name(in.name) + ", 0).xy);\n";
  return s;
}

// The flat element index of the fragment being shaded under the unpacked
// layout `l` (inverse of texel_of_flat; packed outputs: emit_channels_main).
std::string flat_of_fragment(const TextureLayout& l, ShapeInts& ints) {
  return "glint_px.y * " + ints(extent_name("OUT", "TEXELS_W"), l.width) + " + glint_px.x";
}

// What a main() writes to a render target for the vec4 `value`: the value,
// or with float bits (TextureLayout::bits) its bit pattern.
std::string stored(const TextureLayout& out, const std::string& value) {
  return out.bits ? "floatBitsToUint(" + value + ")" : value;
}

// The same rounding as output_store() on each lane of `glint_v4`.
std::string output_store4(DataType t, const std::string& in) {
  switch (t) {
    case DataType::kFloat16:
      return in + "glint_v4 = vec4(unpackHalf2x16(packHalf2x16(glint_v4.xy)), "
                  "unpackHalf2x16(packHalf2x16(glint_v4.zw)));\n";
    case DataType::kBFloat16:
      return in + "{ uvec4 glint_b = floatBitsToUint(glint_v4);\n" + in +
             "  glint_b += mix(uvec4(0u), uvec4(0x7fffu) + ((glint_b >> 16) & 1u), not(isnan(glint_v4)));\n" + in +
             "  glint_v4 = uintBitsToFloat(glint_b & 0xffff0000u); }\n";
    default: return "";
  }
}

// Statements making `glint_v` a value the output dtype holds, in the R32F
// encoding of texture_layout.h: 16-bit floats rounded like the CPU kernels
// round them, bool as 0/1, narrow integers wrapped like a C conversion (the
// kernels compute exact integers; int32/int64 are range-checked on download).
std::string output_store(DataType t) {
  auto wrap = [](const char* bits, const char* offset) {
    return std::string("  glint_v = mod(glint_v + ") + offset + ", " + bits + ") - " + offset + ";\n";
  };
  switch (t) {
    case DataType::kFloat16:
      return "  glint_v = unpackHalf2x16(packHalf2x16(vec2(glint_v, 0.0))).x;\n";
    case DataType::kBFloat16:
      return "  { uint glint_b = floatBitsToUint(glint_v);\n"
             "    if (!isnan(glint_v)) glint_b += 0x7fffu + ((glint_b >> 16) & 1u);\n"
             "    glint_v = uintBitsToFloat(glint_b & 0xffff0000u); }\n";
    case DataType::kBool: return "  glint_v = glint_v != 0.0 ? 1.0 : 0.0;\n";
    case DataType::kUint8: return wrap("256.0", "0.0");
    case DataType::kInt8: return wrap("256.0", "128.0");
    case DataType::kUint16: return wrap("65536.0", "0.0");
    case DataType::kInt16: return wrap("65536.0", "32768.0");
    default: return "";
  }
}


// main() for a channel-packed output: the fragment is one texel, i.e. the
// output coordinates (n, 4*c4 .. 4*c4+3, h, w); a vec4 body is called once,
// a scalar one once per channel that exists. Padding lanes are stored as 0
// (vec4 kernels reading this tensor rely on it).
void emit_channels_main(std::ostringstream& os, const ProgramInfo& info, const std::vector<ComposerInput>& inputs,
                        const TextureLayout& l, ShapeInts& ints) {
  const int64_t C = l.dims[1], C4 = l.channel_blocks(), H = l.dims[2], W = l.dims[3];
  const bool planes = l.planar();
  auto out_int = [&](const char* what, int64_t v) { return ints(extent_name("OUT", what), v); };
  os << "void main() {\n";
  os << set_inv_sizes(inputs);
  os << "  ivec2 glint_px = ivec2(gl_FragCoord.xy);\n";
  os << "  int oc[4];\n";
  os << "  int glint_r;\n";
  auto split = [&](const char* target, const char* what, int64_t extent, bool last) {
    if (extent == 1 && !last) {
      os << "  " << target << " = 0;\n";
    } else if (last) {
      os << "  " << target << " = glint_r;\n";
    } else {
      const std::string e = out_int(what, extent);
      os << "  " << split_off(target, "glint_r", e, ints.as_uniforms()) << "\n";
    }
  };
  if (planes) {
    // The fragment's first pixel and first channel block; layer (and render
    // target) g * 4 + p holds block g of the two at pixel p of the four.
    os << "  int glint_c8;\n";
    os << "  oc[3] = glint_px.x * " << kPlanePixels << ";\n";
    os << "  glint_r = glint_px.y;\n";
    split("oc[2]", "H", H, false);
    split("glint_c8", "C8", l.plane_rows(), false);
    split("oc[0]", "N", l.dims[0], true);
    os << "  oc[1] = glint_c8 * " << 4 * kPlaneBlocks << ";\n";
  } else {
    os << "  int glint_c4;\n";
    if (l.kind == LayoutKind::kChannelsRGBA) {
      os << "  oc[3] = glint_px.x;\n";
      os << "  glint_r = glint_px.y;\n";
      split("oc[2]", "H", H, false);
      split("glint_c4", "C4", C4, false);
      split("oc[0]", "N", l.dims[0], true);
    } else {
      os << "  oc[0] = glint_px.y;\n  glint_r = glint_px.x;\n";
      split("oc[3]", "W", W, false);
      split("oc[2]", "H", H, false);
      split("glint_c4", "C4", C4, true);
    }
    os << "  oc[1] = glint_c4 * 4;\n";
  }

  // The four channels at pixel oc[3] into glint_v4, finished for storing.
  auto one_pixel = [&](const std::string& indent) {
    if (info.vec4_body) {
      os << indent << "glint_v4 = process4(oc);\n";
    } else {
      // One call in a loop over the lanes that exist, not four inlined
      // copies: the bound depends on the fragment, so no compiler unrolls
      // the body (a MatMul body copied four times, each with its own
      // unrolled inner loop, took a driver minutes to compile).
      os << indent << "glint_v4 = vec4(0.0);\n";
      os << indent << "{ int glint_o[4] = oc; int glint_n = min(4, " << out_int("C", C) << " - oc[1]);\n";
      os << indent << "  for (int glint_j = 0; glint_j < glint_n; ++glint_j) { glint_o[1] = oc[1] + glint_j; "
         << "glint_v4[glint_j] = process(glint_o); } }\n";
    }
  };
  auto finish = [&](const std::string& indent) {
    if (!info.activation4.empty()) os << indent << "glint_v4 = " << info.activation4 << ";\n";
    // With uniform extents the mask is there whatever C is: C % 4 would
    // otherwise split programs.
    if (C % 4 != 0 || ints.as_uniforms()) {
      os << indent << "glint_v4 = mix(vec4(0.0), glint_v4, lessThan(ivec4(oc[1]) + ivec4(0, 1, 2, 3), ivec4("
         << out_int("C", C) << ")));\n";
    }
    os << output_store4(info.output.dtype, indent);
  };
  os << "  vec4 glint_v4;\n";
  if (!planes) {
    one_pixel("  ");
    finish("  ");
    os << "  glint_out = " << stored(l, "glint_v4") << ";\n";
    os << "}\n";
    return;
  }
  // Planes: block g, pixel p to render target g * 4 + p; pixels past the
  // row and blocks past the channels (padding) store zero.
  if (info.tile_body) {
    // Eight out parameters, not an array: SwiftShader runs an array copy-out
    // about 10% slower on a 1x1 conv.
    std::string qs;
    for (int t = 0; t < kPlanes; ++t) qs += (t ? ", glint_q" : "glint_q") + std::to_string(t);
    os << "  vec4 " << qs << ";\n  processTile(oc, " << qs << ");\n";
  }
  os << "  int glint_w0 = oc[3], glint_m0 = oc[1];\n";
  for (int g = 0; g < kPlaneBlocks; ++g) {
    for (int p = 0; p < kPlanePixels; ++p) {
      const int target = g * kPlanePixels + p;
      os << "  oc[1] = glint_m0 + " << 4 * g << ";\n";
      os << "  oc[3] = glint_w0 + " << p << ";\n";
      std::string guard;
      // The guards depend on remainders; with uniform extents they are
      // there whenever they could be needed, so that the remainders do not
      // split programs.
      const bool uniform = ints.as_uniforms();
      if ((uniform && p > 0) || ((W % kPlanePixels) != 0 && p >= W % kPlanePixels))
        guard = "oc[3] < " + out_int("W", W);
      if (g > 0 && (uniform || C4 % kPlaneBlocks != 0)) guard += (guard.empty() ? "" : " && ") + std::string("oc[1] < ") + out_int("C", C);
      os << "  glint_v4 = vec4(0.0);\n";
      if (!guard.empty()) os << "  if (" << guard << ") {\n";
      const std::string ind = guard.empty() ? "  " : "    ";
      if (info.tile_body) {
        os << ind << "glint_v4 = glint_q" << target << ";\n";
      } else {
        one_pixel(ind);
      }
      finish(ind);
      if (!guard.empty()) os << "  }\n";
      os << "  glint_out" << target << " = " << stored(l, "glint_v4") << ";\n";
    }
  }
  os << "}\n";
}

}  // namespace

std::string sampler_uniform_name(const std::string& input_name) { return "glint_u_" + input_name; }

const std::string& quad_vertex_shader() {
  static const std::string text = [] {
    auto it = embedded_shaders().find("quad_vertex");
    return it != embedded_shaders().end() ? it->second : std::string();
  }();
  return text;
}

Result<ComposedShader> compose_fragment_shader(const ProgramInfo& info,
                                               const std::vector<ComposerInput>& inputs,
                                               const TextureLayout& output_layout,
                                               const ComposerDevice& device) {
  const std::string where = "program '" + info.name + "'";
  const auto& library = embedded_shaders();
  auto preamble = library.find("preamble");
  if (preamble == library.end()) return internal_error("shader library lacks preamble.glsl");

  std::set<std::string> names;
  std::set<std::string> generated;  // every identifier the accessors define
  for (const auto& in : inputs) {
    std::vector<std::string> ids = {"get" + in.name, "get" + in.name + "Flat", "get" + in.name + "Broadcast",
                                    in.name + "_RANK", in.name + "_SIZE", in.name + "_SHAPE"};
    if (in.desc.shape.size() == 4) {  // only rank 4 has getX4 and getX8
      ids.push_back("get" + in.name + "4");
      ids.push_back("get" + in.name + "8");
    }
    for (const std::string& id : ids) {
      if (!generated.insert(id).second) {
        return invalid_argument(where + ": input '" + in.name + "' would define '" + id +
                                "' twice (input names clash)");
      }
    }
    if (!is_identifier(in.name)) {
      return invalid_argument(where + ": input name '" + in.name + "' is not a usable GLSL identifier");
    }
    if (in.name == "OUT") return invalid_argument(where + ": input name 'OUT' is reserved for the output");
    if (!names.insert(in.name).second) {
      return invalid_argument(where + ": input name '" + in.name + "' is used twice");
    }
  }

  for (const auto& [name, value] : info.int_uniforms) {
    if (!is_identifier(name) || generated.count(name) || names.count(name))
      return invalid_argument(where + ": uniform '" + name + "' is not a usable GLSL identifier or clashes with an input");
  }

  const Shape& out_shape = info.output.shape;
  const Shape out_eff = out_shape.empty() ? Shape{1} : out_shape;  // OUT_RANK >= 1
  const int64_t out_size = shape_size(out_shape);

  ShapeInts ints(info.shape_uniforms);
  // The head, then (below) the shape uniforms, then `os`: every use of a
  // uniform follows its declaration.
  std::ostringstream head, os;
  head << preamble->second;
  if (!preamble->second.empty() && preamble->second.back() != '\n') head << "\n";
  head << "// glint program '" << info.name << "'\n";
  if (ints.as_uniforms()) {
    head << "// output: " << dtype_name(info.output.dtype) << " of rank " << out_shape.size() << ", "
         << layout_kind_name(output_layout.kind) << " (extents are uniforms)\n";
  } else {
    head << "// output: " << desc_str(info.output) << ", " << layout_str(output_layout) << "\n";
  }
  head << "const int OUT_RANK = " << out_eff.size() << ";\n";
  if (!ints.as_uniforms()) {
    head << "const int OUT_SIZE = " << out_size << ";\n";
    head << "const int OUT_SHAPE[" << out_eff.size() << "] = int[" << out_eff.size() << "](" << int_list(out_eff)
         << ");\n";
  }
  // The render targets; with float bits (TextureLayout::bits) uint textures.
  const char* target_type = output_layout.bits ? "highp uvec4" : "vec4";
  if (output_layout.planar()) {
    for (int p = 0; p < kPlanes; ++p)
      os << "layout(location = " << p << ") out " << target_type << " glint_out" << p << ";\n";
  } else {
    os << "layout(location = 0) out " << target_type << " glint_out;\n";
  }
  os << "\n";

  for (const auto& in : inputs) emit_input(os, in, out_eff, ints);

  std::set<std::string> included;
  for (const auto& name : info.snippets) {
    if (!included.insert(name).second) continue;
    auto it = library.find(name);
    if (it == library.end() || reserved_snippets().count(name)) {
      std::string known;
      for (const auto& [k, v] : library) {
        if (!reserved_snippets().count(k)) known += (known.empty() ? "" : ", ") + k;
      }
      return invalid_argument(where + ": unknown shader snippet '" + name + "' (known: " +
                              (known.empty() ? "none" : known) + ")");
    }
    // On a device whose division is correctly rounded, glint_divide is its own.
    if (name == "divide" && device.native_division) {
      it = library.find("divide_native");
      if (it == library.end()) return internal_error("shader library lacks divide_native.glsl");
    }
    os << "// snippet " << name << "\n" << it->second;
    if (!it->second.empty() && it->second.back() != '\n') os << "\n";
    os << "\n";
  }

  for (const auto& [name, value] : info.int_uniforms) {
    if (ints.as_uniforms())
      ints(name, value);  // declared with the shape uniforms, below
    else
      os << "uniform int " << name << ";\n";
  }
  os << "// kernel body\n" << info.body;
  if (!info.body.empty() && info.body.back() != '\n') os << "\n";
  os << "\n";

  if (info.vec4_body && out_shape.size() != 4) {
    return invalid_argument(where + ": a vec4 body (process4) needs a rank-4 output, not " + shape_str(out_shape));
  }
  // The shape uniforms go between the head and the rest.
  // Each shape int NAME is a global that main() first sets from the
  // uniform glint_set_NAME: a body uses them dozens of times per fragment,
  // and SwiftShader's JIT reads a uniform through the uniform block at each
  // use (per-node profiles of MobileNetV2 looked better this way, within
  // this machine's noise: web/bench/README.md).
  auto composed = [&]() -> Result<ComposedShader> {
    if (!ints.conflict().empty())
      return internal_error(where + ": shape uniform " + ints.conflict() + " (one name, two sizes)");
    ComposedShader c;
    if (!ints.as_uniforms()) c.uniforms = info.int_uniforms;
    std::string decls, sets;
    for (const auto& [name, value] : ints.uniforms()) {
      decls += "uniform int glint_set_" + name + ";\nint " + name + ";\n";
      sets += "  " + name + " = glint_set_" + name + ";\n";
      c.uniforms.push_back({"glint_set_" + name, value});
    }
    std::string rest = os.str();
    const std::string main_open = "void main() {\n";
    const size_t at = rest.rfind(main_open);
    if (at != std::string::npos) rest.insert(at + main_open.size(), sets);
    c.source = head.str() + decls + rest;
    return c;
  };
  if (output_layout.channel_packed()) {
    emit_channels_main(os, info, inputs, output_layout, ints);
    return composed();
  }
  if (info.vec4_body) {
    // An unpacked output: one lane of process4 per fragment.
    os << "float process(int oc[OUT_RANK]) { int glint_c = oc[1]; oc[1] = glint_c - (glint_c & 3); "
          "return process4(oc)[glint_c & 3]; }\n\n";
  }

  // main: fragment -> flat output index -> coordinates oc -> process(oc).
  os << "void main() {\n";
  os << set_inv_sizes(inputs);
  os << "  ivec2 glint_px = ivec2(gl_FragCoord.xy);\n";
  os << "  int glint_index = " << flat_of_fragment(output_layout, ints) << ";\n";
  os << "  if (glint_index >= " << (ints.as_uniforms() ? ints(extent_name("OUT", "SIZE"), out_size) : "OUT_SIZE")
     << ") { glint_out = " << stored(output_layout, "vec4(0.0)") << "; return; }\n";
  os << "  int oc[OUT_RANK];\n";
  if (out_shape.empty()) {
    os << "  oc[0] = 0;\n";
  } else if (out_size > 0) {
    os << "  int glint_rem = glint_index;\n";
    for (size_t d = out_shape.size(); d-- > 0;) {
      const int64_t e = out_shape[d];
      if (d == 0) {
        os << "  oc[0] = glint_rem;\n";
      } else if (e == 1) {
        os << "  oc[" << d << "] = 0;\n";
      } else {
        const std::string et = ints(extent_name("OUT", "D") + std::to_string(d), e);
        // A flat index may pass 2^20: int division, by a uniform or not.
        os << "  " << split_off("oc[" + std::to_string(d) + "]", "glint_rem", et, false) << "\n";
      }
    }
  }
  os << "  float glint_v = process(oc);\n";
  if (!info.activation.empty()) os << "  glint_v = " << info.activation << ";\n";
  os << output_store(info.output.dtype);
  os << "  glint_out = " << stored(output_layout, "vec4(glint_v, 0.0, 0.0, 0.0)") << ";\n";
  os << "}\n";
  return composed();
}

}  // namespace glint::gl
