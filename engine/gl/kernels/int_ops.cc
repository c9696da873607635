// MatMulInteger / ConvInteger (int32 results) and QLinearMatMul /
// QLinearConv, composed the way the CPU kernel computes them: dequantize
// passes ((x - zero_point) * scale, per-tensor or per-axis; float32
// temporaries), the float MatMul / Conv programs reading those temporaries,
// then a rounding (int32) or requantizing pass. Exact for the integer ops
// while the sums stay below 2^24 (the int32 download checks that range).
#include "engine/gl/kernels/glsl_util.h"
#include "engine/gl/kernels/kernels.h"

namespace glint::gl {

namespace {

bool qlinear(const ir::Node& n) { return n.op_type.rfind("QLinear", 0) == 0; }
bool conv_like(const ir::Node& n) { return n.op_type.find("Conv") != std::string::npos; }

// The present input at i, if any.
const TensorDesc* in(const KernelContext& ctx, size_t i) {
  return i < ctx.inputs.size() && ctx.inputs[i] ? &*ctx.inputs[i] : nullptr;
}

// Accessor of parameter P (scalar, or 1-D along `axis` of x) at oc.
std::string param(const TensorDesc* p, int64_t axis, const std::string& P) {
  if (shape_size(p->shape) == 1) return "get" + P + "Flat(0)";
  return "get" + P + "Flat(oc[" + std::to_string(axis) + "])";
}

ProgramInfo dequant_pass(const KernelContext& ctx, size_t x, const TensorDesc* s, size_t si, const TensorDesc* z,
                         size_t zi, int64_t axis) {
  const Shape& shape = ctx.inputs[x]->shape;
  ProgramInfo p;
  p.name = "int_dequantize";
  p.inputs = {{"X", static_cast<int>(x)}};
  std::string e = getter_oc("X", shape.size());
  if (z) {
    p.inputs.push_back({"Z", static_cast<int>(zi)});
    e = "(" + e + " - " + param(z, axis, "Z") + ")";
  }
  if (s) {
    p.inputs.push_back({"S", static_cast<int>(si)});
    e += " * " + param(s, axis, "S");
  }
  p.output = TensorDesc{DataType::kFloat32, shape};
  p.node_output = -1;
  p.body = "float process(int oc[OUT_RANK]) {\n  return " + e + ";\n}\n";
  return p;
}

bool params_fit(const TensorDesc* p, const Shape& x, int64_t axis) {
  if (!p || shape_size(p->shape) == 1) return true;
  return p->shape.size() == 1 && axis >= 0 && axis < static_cast<int64_t>(x.size()) && p->shape[0] == x[axis];
}

}  // namespace

bool int_op_supports(const KernelContext& ctx, std::string* why) {
  if (!any_dtype_op(ctx, why)) return false;
  const ir::Node& n = *ctx.node;
  const bool q = qlinear(n), cv = conv_like(n);
  const size_t b_at = q ? 3 : 1;
  const TensorDesc* a = in(ctx, 0);
  const TensorDesc* b = in(ctx, b_at);
  if (!a || !b) return decline(why, "both operands are required");
  if (q && (!in(ctx, 1) || !in(ctx, 4) || !in(ctx, 6))) return decline(why, "scales are required");
  if (q && shape_size(in(ctx, 6)->shape) != 1) return decline(why, "y_scale must be a scalar");
  if (q && in(ctx, 7) && shape_size(in(ctx, 7)->shape) != 1) return decline(why, "y_zero_point must be a scalar");
  if (q && (shape_size(in(ctx, 1)->shape) != 1 || (in(ctx, 2) && shape_size(in(ctx, 2)->shape) != 1)))
    return decline(why, "per-axis input quantization");
  int64_t a_axis = cv ? 1 : static_cast<int64_t>(a->shape.size()) - 2;
  int64_t b_axis = cv ? 0 : static_cast<int64_t>(b->shape.size()) - 1;
  if (!params_fit(in(ctx, q ? 2 : 2), a->shape, a_axis) || !params_fit(in(ctx, q ? 5 : 3), b->shape, b_axis) ||
      (q && !params_fit(in(ctx, 4), b->shape, b_axis)))
    return decline(why, "zero points / scales are neither scalars nor per-axis");
  DataType t = ctx.outputs[0].dtype;
  if (q && t != DataType::kUint8 && t != DataType::kInt8) return decline(why, "output is " + dtype_name(t));
  if (cv && (a->shape.size() < 3 || a->shape.size() > 4)) return decline(why, "only 1-D / 2-D integer conv");
  if (!cv && (a->shape.size() < 1 || b->shape.size() < 1)) return decline(why, "operands must have rank >= 1");
  return true;
}

Result<std::vector<ProgramInfo>> int_op_build(const KernelContext& ctx) {
  const ir::Node& n = *ctx.node;
  const bool q = qlinear(n), cv = conv_like(n);
  const size_t b_at = q ? 3 : 1;
  const Shape& as = ctx.inputs[0]->shape;
  const Shape& bs = ctx.inputs[b_at]->shape;
  int64_t a_axis = cv ? 1 : static_cast<int64_t>(as.size()) - 2;
  int64_t b_axis = cv ? 0 : static_cast<int64_t>(bs.size()) - 1;
  std::vector<ProgramInfo> passes;
  if (q) {
    passes.push_back(dequant_pass(ctx, 0, in(ctx, 1), 1, in(ctx, 2), 2, a_axis));
    passes.push_back(dequant_pass(ctx, 3, in(ctx, 4), 4, in(ctx, 5), 5, b_axis));
  } else {
    passes.push_back(dequant_pass(ctx, 0, nullptr, 0, in(ctx, 2), 2, a_axis));
    passes.push_back(dequant_pass(ctx, 1, nullptr, 0, in(ctx, 3), 3, b_axis));
  }
  const bool bias = q && cv && in(ctx, 8);
  if (bias) {
    // B (int32) is in units of x_scale * w_scale.
    ProgramInfo bp;
    bp.name = "qlinear_bias";
    bp.inputs = {{"B", 8}, {"XS", 1}, {"WS", 4}};
    bp.output = TensorDesc{DataType::kFloat32, ctx.inputs[8]->shape};
    bp.node_output = -1;
    bp.body = "float process(int oc[OUT_RANK]) {\n  return getBFlat(oc[0]) * getXSFlat(0) * " + param(in(ctx, 4), 0, "WS") +
              ";\n}\n";
    passes.push_back(bp);
  }
  // The float program over the temporaries.
  ir::Node fnode = n;
  fnode.op_type = cv ? "Conv" : "MatMul";
  fnode.opset = cv ? 11 : 13;
  fnode.inputs = {"a", "b"};
  if (bias) fnode.inputs.push_back("bias");
  KernelContext fctx;
  fctx.node = &fnode;
  fctx.shape_uniforms = ctx.shape_uniforms;
  fctx.inputs = {TensorDesc{DataType::kFloat32, as}, TensorDesc{DataType::kFloat32, bs}};
  if (bias) fctx.inputs.push_back(TensorDesc{DataType::kFloat32, ctx.inputs[8]->shape});
  fctx.constants.assign(fctx.inputs.size(), nullptr);
  fctx.outputs = {TensorDesc{DataType::kFloat32, ctx.outputs[0].shape}};
  std::string why;
  if (cv ? !conv_supports(fctx, &why) : !matmul_supports(fctx, &why)) return unsupported(n.describe() + ": " + why);
  GLINT_ASSIGN_OR_RETURN(auto inner, cv ? conv_build(fctx) : matmul_build(fctx));
  const int base = static_cast<int>(passes.size());
  for (auto& p : inner) {
    for (auto& pi : p.inputs) {
      if (pi.source >= 0) pi.source = -(pi.source + 1);  // node input j -> temporary pass j
      else pi.source -= base;                            // inner pass j -> pass base + j
    }
    p.node_output = -1;
    passes.push_back(p);
  }
  ProgramInfo fin;
  fin.inputs = {{"Y", -static_cast<int>(passes.size())}};
  fin.output = ctx.outputs[0];
  fin.node_output = 0;
  const std::string y = getter_oc("Y", ctx.outputs[0].shape.size());
  if (!q) {
    fin.name = "int_round";
    fin.body = "float process(int oc[OUT_RANK]) {\n  return roundEven(" + y + ");\n}\n";
  } else {
    fin.name = "qlinear_requantize";
    fin.inputs.push_back({"YS", 6});
    std::string z = "0.0";
    if (in(ctx, 7)) {
      fin.inputs.push_back({"YZ", 7});
      z = "getYZFlat(0)";
    }
    std::string lo = ctx.outputs[0].dtype == DataType::kInt8 ? "-128.0" : "0.0";
    std::string hi = ctx.outputs[0].dtype == DataType::kInt8 ? "127.0" : "255.0";
    fin.body = "float process(int oc[OUT_RANK]) {\n  return clamp(roundEven(" + y + " / getYSFlat(0)) + " + z + ", " + lo +
               ", " + hi + ");\n}\n";
  }
  passes.push_back(fin);
  return passes;
}

}  // namespace glint::gl
