#include "engine/gl/codegen/shader_composer.h"

#include <set>
#include <sstream>

#include "engine/gl/codegen/embedded_shaders.h"

namespace glint::gl {

namespace {

// Snippets that are infrastructure, not includable by kernels.
const std::set<std::string>& reserved_snippets() {
  static const std::set<std::string> s = {"preamble", "quad_vertex"};
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

std::string int_list(const Shape& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out;
}

std::string desc_str(const TensorDesc& d) { return dtype_name(d.dtype) + shape_str(d.shape); }

// The texel address of flat element `idx` (a GLSL int expression) under `l`.
// Every flat-index -> texel mapping the shaders use is written here.
std::string texel_of_flat(const TextureLayout& l, const std::string& idx) {
  switch (l.kind) {
    case LayoutKind::kUnpackedR32F:
      if (l.height == 1) return "ivec2(" + idx + ", 0)";
      if (l.width == 1) return "ivec2(0, " + idx + ")";
      return "ivec2(" + idx + " % " + std::to_string(l.width) + ", " + idx + " / " +
             std::to_string(l.width) + ")";
  }
  return "ivec2(0)";
}

// The flat element index of the fragment being shaded (inverse of the above).
std::string flat_of_fragment(const TextureLayout& l) {
  switch (l.kind) {
    case LayoutKind::kUnpackedR32F:
      return "glint_px.y * " + std::to_string(l.width) + " + glint_px.x";
  }
  return "0";
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

void emit_input(std::ostringstream& os, const ComposerInput& in, const Shape& out_shape_eff) {
  const std::string& X = in.name;
  const Shape& s = in.desc.shape;
  const size_t r = s.size();
  const std::string u = sampler_uniform_name(X);
  os << "// input " << X << ": " << desc_str(in.desc) << ", " << layout_str(in.layout) << "\n";
  os << "uniform sampler2D " << u << ";\n";
  os << "const int " << X << "_RANK = " << r << ";\n";
  os << "const int " << X << "_SIZE = " << shape_size(s) << ";\n";
  if (r > 0) os << "const int " << X << "_SHAPE[" << r << "] = int[" << r << "](" << int_list(s) << ");\n";

  os << "float get" << X << "Flat(int i) { return texelFetch(" << u << ", " << texel_of_flat(in.layout, "i")
     << ", 0).r; }\n";

  // getX(i0, ..., i{r-1})
  std::vector<std::string> idx;
  os << "float get" << X << "(";
  for (size_t d = 0; d < r; ++d) {
    idx.push_back("i" + std::to_string(d));
    os << (d ? ", " : "") << "int i" << d;
  }
  os << ") { return get" << X << "Flat(" << linear_index(s, idx) << "); }\n";

  // getXBroadcast(oc): numpy broadcasting, X aligned to the output's trailing
  // dims. Only generated when X does broadcast to the output; a kernel using
  // it otherwise gets a compile error naming the missing function.
  const size_t R = out_shape_eff.size();
  bool compatible = r <= R;
  for (size_t d = 0; compatible && d < r; ++d) {
    compatible = s[d] == 1 || s[d] == out_shape_eff[R - r + d];
  }
  if (compatible) {
    std::vector<std::string> bidx;
    for (size_t d = 0; d < r; ++d) bidx.push_back("oc[" + std::to_string(R - r + d) + "]");
    os << "float get" << X << "Broadcast(int oc[OUT_RANK]) { return get" << X << "Flat("
       << linear_index(s, bidx) << "); }\n";
  } else {
    os << "// get" << X << "Broadcast: not generated, " << shape_str(s) << " does not broadcast to the output\n";
  }
  os << "\n";
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

Result<std::string> compose_fragment_shader(const ProgramInfo& info,
                                            const std::vector<ComposerInput>& inputs,
                                            const TextureLayout& output_layout) {
  const std::string where = "program '" + info.name + "'";
  const auto& library = embedded_shaders();
  auto preamble = library.find("preamble");
  if (preamble == library.end()) return internal_error("shader library lacks preamble.glsl");

  std::set<std::string> names;
  std::set<std::string> generated;  // every identifier the accessors define
  for (const auto& in : inputs) {
    for (const std::string& id : {"get" + in.name, "get" + in.name + "Flat", "get" + in.name + "Broadcast",
                                  in.name + "_RANK", in.name + "_SIZE", in.name + "_SHAPE"}) {
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

  const Shape& out_shape = info.output.shape;
  const Shape out_eff = out_shape.empty() ? Shape{1} : out_shape;  // OUT_RANK >= 1
  const int64_t out_size = shape_size(out_shape);

  std::ostringstream os;
  os << preamble->second;
  if (!preamble->second.empty() && preamble->second.back() != '\n') os << "\n";
  os << "// glint program '" << info.name << "'\n";
  os << "// output: " << desc_str(info.output) << ", " << layout_str(output_layout) << "\n";
  os << "const int OUT_RANK = " << out_eff.size() << ";\n";
  os << "const int OUT_SIZE = " << out_size << ";\n";
  os << "const int OUT_SHAPE[" << out_eff.size() << "] = int[" << out_eff.size() << "](" << int_list(out_eff)
     << ");\n";
  os << "layout(location = 0) out vec4 glint_out;\n\n";

  for (const auto& in : inputs) emit_input(os, in, out_eff);

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
    os << "// snippet " << name << "\n" << it->second;
    if (!it->second.empty() && it->second.back() != '\n') os << "\n";
    os << "\n";
  }

  os << "// kernel body\n" << info.body;
  if (!info.body.empty() && info.body.back() != '\n') os << "\n";
  os << "\n";

  // main: fragment -> flat output index -> coordinates oc -> process(oc).
  os << "void main() {\n";
  os << "  ivec2 glint_px = ivec2(gl_FragCoord.xy);\n";
  os << "  int glint_index = " << flat_of_fragment(output_layout) << ";\n";
  os << "  if (glint_index >= OUT_SIZE) { glint_out = vec4(0.0); return; }\n";
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
        os << "  oc[" << d << "] = glint_rem % " << e << "; glint_rem /= " << e << ";\n";
      }
    }
  }
  os << "  float glint_v = process(oc);\n";
  os << output_store(info.output.dtype);
  os << "  glint_out = vec4(glint_v, 0.0, 0.0, 0.0);\n";
  os << "}\n";
  return os.str();
}

}  // namespace glint::gl
