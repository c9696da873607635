// Quantization ops: QuantizeLinear, DequantizeLinear (per-tensor or per-axis),
// DynamicQuantizeLinear, and the integer / QLinear forms of MatMul and Conv,
// which dequantize into float, reuse the float kernels and requantize (exact
// for the integer ranges these ops produce).
#include <algorithm>
#include <cmath>
#include <limits>

#include "engine/cpu/kernels.h"
#include "engine/cpu/util.h"

namespace glint::cpu {

namespace {

bool quant_type(DataType dt) {
  return dt == DataType::kUint8 || dt == DataType::kInt8 || dt == DataType::kUint16 ||
         dt == DataType::kInt16 || dt == DataType::kInt32;
}

double saturate_to(DataType dt, double v) {
  switch (dt) {
    case DataType::kUint8: return std::clamp(v, 0.0, 255.0);
    case DataType::kInt8: return std::clamp(v, -128.0, 127.0);
    case DataType::kUint16: return std::clamp(v, 0.0, 65535.0);
    case DataType::kInt16: return std::clamp(v, -32768.0, 32767.0);
    case DataType::kInt32: return std::clamp(v, -2147483648.0, 2147483647.0);
    default: return v;
  }
}

// Index into a per-tensor (size 1) or per-axis (1-D, size dim[axis]) parameter.
Status param_index(const ir::Node& node, const Tensor& x, const Tensor* p, const char* what,
                   std::vector<int64_t>* index) {
  index->assign(static_cast<size_t>(x.size()), 0);
  if (!p || p->size() == 1) return Status::Ok();
  int64_t axis;
  GLINT_RETURN_IF_ERROR(normalize_axis(node, node.attr_int("axis", 1), x.rank(), &axis));
  if (p->rank() != 1 || p->size() != x.shape()[axis])
    return node_error(node, std::string(what) + " " + tensor_desc(*p) + " must be a scalar or have " +
                                std::to_string(x.shape()[axis]) + " elements (axis " + std::to_string(axis) + ")");
  int64_t inner = 1;
  for (int64_t i = axis + 1; i < x.rank(); ++i) inner *= x.shape()[i];
  const int64_t dim = x.shape()[axis];
  for (int64_t i = 0; i < x.size(); ++i) (*index)[i] = (i / inner) % dim;
  return Status::Ok();
}

// Float copy of a quantized tensor: (x - zero_point) * scale (scale 1 = raw).
Status dequantize(const ir::Node& node, const Tensor& x, const Tensor* scale, const Tensor* zp,
                  Tensor* out) {
  std::vector<int64_t> si, zi;
  GLINT_RETURN_IF_ERROR(param_index(node, x, scale, "scale", &si));
  GLINT_RETURN_IF_ERROR(param_index(node, x, zp, "zero point", &zi));
  *out = Tensor(DataType::kFloat32, x.shape());
  for (int64_t i = 0; i < x.size(); ++i) {
    const double z = zp ? zp->get_as_double(zi[i]) : 0.0;
    const double s = scale ? scale->get_as_double(si[i]) : 1.0;
    out->data<float>()[i] = static_cast<float>((x.get_as_double(i) - z) * s);
  }
  return Status::Ok();
}

// Division in float, as the reference does (x / scale rounds differently in double).
void quantize_into(const Tensor& y, float scale, double zp, Tensor& out) {
  for (int64_t i = 0; i < y.size(); ++i)
    out.set_from_double(i, saturate_to(out.dtype(), std::nearbyint(static_cast<float>(y.get_as_double(i)) / scale) + zp));
}

}  // namespace

Status infer_quantize(const ir::Node& node, const std::vector<const ir::ValueInfo*>& inputs,
                      const std::vector<const Tensor*>&, std::vector<ir::ValueInfo>& outputs) {
  GLINT_RETURN_IF_ERROR(check_infer_inputs(node, inputs, 2));
  outputs[0] = *inputs[0];
  if (node.op_type == "QuantizeLinear")
    outputs[0].dtype = inputs.size() > 2 && inputs[2] ? inputs[2]->dtype : DataType::kUint8;
  else
    outputs[0].dtype = inputs[1]->dtype;
  return Status::Ok();
}

Status quantize_linear(const ir::Node& node, const std::vector<const Tensor*>& inputs,
                       std::vector<Tensor>& outputs) {
  GLINT_RETURN_IF_ERROR(check_inputs(node, inputs, 2));
  const Tensor& x = *inputs[0];
  const Tensor& scale = *inputs[1];
  const Tensor* zp = inputs.size() > 2 ? inputs[2] : nullptr;
  GLINT_RETURN_IF_ERROR(alloc_outputs(infer_quantize, node, inputs, outputs));
  Tensor& y = outputs[0];
  if (!quant_type(y.dtype())) return node_unsupported(node, "cannot quantize to " + dtype_name(y.dtype()));
  std::vector<int64_t> si, zi;
  GLINT_RETURN_IF_ERROR(param_index(node, x, &scale, "y_scale", &si));
  GLINT_RETURN_IF_ERROR(param_index(node, x, zp, "y_zero_point", &zi));
  for (int64_t i = 0; i < x.size(); ++i) {
    const float s = static_cast<float>(scale.get_as_double(si[i]));
    const double z = zp ? zp->get_as_double(zi[i]) : 0.0;
    y.set_from_double(i, saturate_to(y.dtype(), std::nearbyint(static_cast<float>(x.get_as_double(i)) / s) + z));
  }
  return Status::Ok();
}

Status dequantize_linear(const ir::Node& node, const std::vector<const Tensor*>& inputs,
                         std::vector<Tensor>& outputs) {
  GLINT_RETURN_IF_ERROR(check_inputs(node, inputs, 2));
  GLINT_RETURN_IF_ERROR(alloc_outputs(infer_quantize, node, inputs, outputs));
  Tensor f;
  GLINT_RETURN_IF_ERROR(dequantize(node, *inputs[0], inputs[1], inputs.size() > 2 ? inputs[2] : nullptr, &f));
  for (int64_t i = 0; i < f.size(); ++i) outputs[0].set_from_double(i, f.data<float>()[i]);
  return Status::Ok();
}

Status infer_dynamic_quantize(const ir::Node& node, const std::vector<const ir::ValueInfo*>& inputs,
                              const std::vector<const Tensor*>&, std::vector<ir::ValueInfo>& outputs) {
  GLINT_RETURN_IF_ERROR(check_infer_inputs(node, inputs, 1));
  outputs[0] = *inputs[0];
  outputs[0].dtype = DataType::kUint8;
  if (outputs.size() > 1) outputs[1] = ir::ValueInfo::of(DataType::kFloat32, {});
  if (outputs.size() > 2) outputs[2] = ir::ValueInfo::of(DataType::kUint8, {});
  return Status::Ok();
}

Status dynamic_quantize_linear(const ir::Node& node, const std::vector<const Tensor*>& inputs,
                               std::vector<Tensor>& outputs) {
  GLINT_RETURN_IF_ERROR(check_inputs(node, inputs, 1));
  const Tensor& x = *inputs[0];
  GLINT_RETURN_IF_ERROR(check_float(node, x, "x"));
  double lo = 0, hi = 0;
  for (int64_t i = 0; i < x.size(); ++i) {
    lo = std::min(lo, x.get_as_double(i));
    hi = std::max(hi, x.get_as_double(i));
  }
  const float scale = (static_cast<float>(hi) - static_cast<float>(lo)) / 255.f;
  const double zp = scale != 0 ? std::clamp<double>(std::nearbyint(-static_cast<float>(lo) / scale), 0.0, 255.0) : 0.0;
  outputs.resize(3);
  outputs[0] = Tensor(DataType::kUint8, x.shape());
  if (scale != 0) quantize_into(x, scale, zp, outputs[0]);
  outputs[1] = Tensor::scalar_f32(scale);
  outputs[2] = Tensor(DataType::kUint8, {});
  outputs[2].set_from_double(0, zp);
  return Status::Ok();
}

Status infer_int32_like(const ir::Node& node, const std::vector<const ir::ValueInfo*>& inputs,
                        const std::vector<const Tensor*>& constants, std::vector<ir::ValueInfo>& outputs) {
  GLINT_RETURN_IF_ERROR(check_infer_inputs(node, inputs, 2));
  // Shapes as the float op on the (x, w) or (a, b) pair.
  const bool qlinear = node.op_type.rfind("QLinear", 0) == 0;
  std::vector<const ir::ValueInfo*> pair = {inputs[0], inputs[qlinear ? 3 : 1]};
  if (!pair[1]) return node_error(node, "second operand is absent");
  ir::ValueInfo a = *pair[0], b = *pair[1];
  a.dtype = b.dtype = DataType::kFloat32;
  const bool conv_like = node.op_type.find("Conv") != std::string::npos;
  std::vector<const ir::ValueInfo*> fin = {&a, &b};
  GLINT_RETURN_IF_ERROR(conv_like ? infer_conv(node, fin, {}, outputs) : infer_matmul(node, fin, {}, outputs));
  outputs[0].dtype = qlinear ? (inputs.size() > 7 && inputs[7] ? inputs[7]->dtype : DataType::kUint8) : DataType::kInt32;
  return Status::Ok();
}

// MatMulInteger, ConvInteger (int32 results) and QLinearMatMul, QLinearConv.
Status integer_op(const ir::Node& node, const std::vector<const Tensor*>& inputs,
                  std::vector<Tensor>& outputs) {
  const bool qlinear = node.op_type.rfind("QLinear", 0) == 0;
  const bool conv_like = node.op_type.find("Conv") != std::string::npos;
  GLINT_RETURN_IF_ERROR(check_inputs(node, inputs, qlinear ? 8 : 2));
  auto in = [&](size_t i) -> const Tensor* { return i < inputs.size() ? inputs[i] : nullptr; };
  Tensor a, b;
  if (qlinear) {
    GLINT_RETURN_IF_ERROR(dequantize(node, *in(0), in(1), in(2), &a));
    // Per-output-channel weight scales/zero points run along axis 0 of W
    // (conv) or axis 1 of B (matmul); param_index reads `axis` from the node.
    ir::Node pn = node;
    pn.attrs["axis"] = ir::Attribute{};
    pn.attrs["axis"].kind = ir::Attribute::Kind::kInt;
    pn.attrs["axis"].i = conv_like ? 0 : -1;
    GLINT_RETURN_IF_ERROR(dequantize(pn, *in(3), in(4), in(5), &b));
  } else {
    ir::Node pn = node;
    pn.attrs["axis"] = ir::Attribute{};
    pn.attrs["axis"].kind = ir::Attribute::Kind::kInt;
    // A's zero point is per row (axis -2 of A); B's per column (axis -1) or per output channel (W axis 0).
    pn.attrs["axis"].i = conv_like ? 1 : (in(0)->rank() >= 2 ? in(0)->rank() - 2 : 0);
    GLINT_RETURN_IF_ERROR(dequantize(pn, *in(0), nullptr, in(2), &a));
    pn.attrs["axis"].i = conv_like ? 0 : -1;
    GLINT_RETURN_IF_ERROR(dequantize(pn, *in(1), nullptr, in(3), &b));
  }
  std::vector<const Tensor*> fin = {&a, &b};
  Tensor bias;
  if (qlinear && conv_like && in(8)) {
    // B (int32) is in units of x_scale * w_scale.
    bias = Tensor(DataType::kFloat32, in(8)->shape());
    for (int64_t i = 0; i < bias.size(); ++i) {
      const double ws = in(4)->size() == 1 ? in(4)->get_as_double(0) : in(4)->get_as_double(i);
      bias.data<float>()[i] = static_cast<float>(in(8)->get_as_double(i) * in(1)->get_as_double(0) * ws);
    }
    fin.push_back(&bias);
  }
  std::vector<Tensor> fout(1);
  ir::Node fnode = node;
  fnode.inputs.resize(fin.size(), "x");
  GLINT_RETURN_IF_ERROR(conv_like ? conv(fnode, fin, fout) : matmul(fnode, fin, fout));
  outputs.resize(std::max<size_t>(outputs.size(), 1));
  if (!qlinear) {
    outputs[0] = Tensor(DataType::kInt32, fout[0].shape());
    for (int64_t i = 0; i < fout[0].size(); ++i) outputs[0].set_from_double(i, std::nearbyint(fout[0].data<float>()[i]));
    return Status::Ok();
  }
  const Tensor* ys = in(6);
  const Tensor* yz = in(7);
  outputs[0] = Tensor(yz ? yz->dtype() : DataType::kUint8, fout[0].shape());
  quantize_into(fout[0], static_cast<float>(ys->get_as_double(0)), yz ? yz->get_as_double(0) : 0.0, outputs[0]);
  return Status::Ok();
}

}  // namespace glint::cpu
