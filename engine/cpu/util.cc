#include "engine/cpu/util.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace glint::cpu {

namespace {
// The first `required` entries of `in` must be present (non-null).
template <class T>
Status check_required(const ir::Node& node, const std::vector<const T*>& in, size_t required) {
  if (in.size() < required)
    return node_error(node, "expected at least " + std::to_string(required) + " inputs, given " +
                                std::to_string(in.size()));
  for (size_t i = 0; i < required; ++i)
    if (!in[i]) return node_error(node, "required input " + std::to_string(i) + " is absent");
  return Status::Ok();
}
}  // namespace

Status check_inputs(const ir::Node& node, const std::vector<const Tensor*>& in, size_t required) {
  return check_required(node, in, required);
}

int64_t declared_rank(const ir::ValueInfo& s) {
  // Far past any model's rank; what it guards is the dims vector built from
  // a declared length (found by the GPU-plan fuzzer: 80 GB for [2^31]).
  constexpr int64_t kMaxDeclaredRank = 1024;
  if (!s.has_shape || s.dims.size() != 1 || !s.dims[0].known()) return -1;
  const int64_t n = s.dims[0].value;
  return n >= 0 && n <= kMaxDeclaredRank ? n : -1;
}

Status check_infer_inputs(const ir::Node& node, const std::vector<const ir::ValueInfo*>& in,
                          size_t required) {
  return check_required(node, in, required);
}

Status normalize_axis(const ir::Node& node, int64_t axis, int64_t rank, int64_t* out,
                      const char* what) {
  if (axis < -rank || axis >= rank || (rank == 0 && axis != 0))
    return node_error(node, std::string(what) + " " + std::to_string(axis) +
                                " is out of range for rank " + std::to_string(rank) +
                                " (expected [" + std::to_string(-rank) + ", " +
                                std::to_string(rank - 1) + "])");
  *out = axis < 0 ? axis + rank : axis;
  return Status::Ok();
}

Status normalize_axes(const ir::Node& node, std::vector<int64_t>& axes, int64_t rank,
                      const char* what) {
  for (auto& a : axes) GLINT_RETURN_IF_ERROR(normalize_axis(node, a, rank, &a, what));
  std::vector<int64_t> s = axes;
  std::sort(s.begin(), s.end());
  if (std::adjacent_find(s.begin(), s.end()) != s.end())
    return node_error(node, std::string(what) + " contain a repeated axis");
  return Status::Ok();
}

std::vector<int64_t> to_int64s(const Tensor& t) {
  std::vector<int64_t> v(static_cast<size_t>(t.size()));
  for (int64_t i = 0; i < t.size(); ++i) v[i] = t.get_as_int64(i);
  return v;
}

Status broadcast_shapes(const ir::Node& node, const std::vector<Shape>& shapes, Shape* out) {
  size_t rank = 0;
  for (auto& s : shapes) rank = std::max(rank, s.size());
  Shape r(rank, 1);
  for (auto& s : shapes) {
    size_t off = rank - s.size();
    for (size_t i = 0; i < s.size(); ++i) {
      int64_t d = s[i], &o = r[off + i];
      if (d == o || d == 1) continue;
      if (o == 1) { o = d; continue; }
      std::string all;
      for (auto& x : shapes) all += (all.empty() ? "" : " and ") + shape_str(x);
      return node_error(node, "shapes " + all + " cannot be broadcast together");
    }
  }
  *out = r;
  return Status::Ok();
}

Status broadcast_dims(const ir::Node& node, const std::vector<const ir::ValueInfo*>& ins,
                      ir::ValueInfo* out) {
  size_t rank = 0;
  for (auto* v : ins) {
    if (!v) continue;
    if (!v->has_shape) { out->has_shape = false; out->dims.clear(); return Status::Ok(); }
    rank = std::max(rank, v->dims.size());
  }
  std::vector<ir::Dim> r(rank, ir::Dim{1, ""});
  std::vector<bool> fixed(rank, false);  // r[i] is from a non-1 dim
  for (auto* v : ins) {
    if (!v) continue;
    size_t off = rank - v->dims.size();
    for (size_t i = 0; i < v->dims.size(); ++i) {
      const ir::Dim& d = v->dims[i];
      ir::Dim& o = r[off + i];
      if (d.known() && d.value == 1) continue;
      if (o.known() && o.value == 1 && !fixed[off + i]) { o = d; fixed[off + i] = true; continue; }
      if (d.known() && o.known()) {
        if (d.value != o.value) {
          std::string all;
          for (auto* x : ins) if (x) all += (all.empty() ? "" : " and ") + x->describe();
          return node_error(node, "shapes " + all + " cannot be broadcast together");
        }
        continue;
      }
      if (d.known()) { o = d; continue; }  // symbol vs number: the number wins
      if (o.known()) continue;
      if (o.symbol != d.symbol) o = ir::Dim{-1, ""};
    }
  }
  out->has_shape = true;
  out->dims = std::move(r);
  return Status::Ok();
}

static int64_t legacy_pad(const ir::Node& node, size_t a_rank, size_t b_rank) {
  if (node.opset >= 7 || node.attr_int("broadcast", 0) == 0 || !node.has_attr("axis")) return 0;
  int64_t axis = node.attr_int("axis", 0);
  if (axis < 0) axis += static_cast<int64_t>(a_rank);
  return std::max<int64_t>(0, static_cast<int64_t>(a_rank) - axis - static_cast<int64_t>(b_rank));
}

Shape legacy_broadcast_shape(const ir::Node& node, size_t a_rank, const Shape& b) {
  Shape r = b;
  r.resize(b.size() + legacy_pad(node, a_rank, b.size()), 1);
  return r;
}

const ir::ValueInfo* legacy_broadcast_info(const ir::Node& node,
                                           const std::vector<const ir::ValueInfo*>& inputs,
                                           ir::ValueInfo* storage) {
  if (inputs.size() < 2 || !inputs[0] || !inputs[1] || !inputs[0]->has_shape || !inputs[1]->has_shape)
    return inputs.size() > 1 ? inputs[1] : nullptr;
  int64_t pad = legacy_pad(node, inputs[0]->dims.size(), inputs[1]->dims.size());
  if (pad == 0) return inputs[1];
  *storage = *inputs[1];
  storage->dims.resize(storage->dims.size() + pad, ir::Dim{1, ""});
  return storage;
}

namespace {

// `v` describes `t`, in the storage v already holds.
void describe_into(const Tensor& t, ir::ValueInfo& v) {
  v.kind = ir::TypeKind::kTensor;
  v.dtype = t.dtype();
  v.has_shape = true;
  v.dims.resize(t.shape().size());
  for (size_t d = 0; d < v.dims.size(); ++d) {
    v.dims[d].value = t.shape()[d];
    v.dims[d].symbol.clear();
  }
}

}  // namespace

Status alloc_outputs(InferFn infer, const ir::Node& node, const std::vector<const Tensor*>& inputs,
                     std::vector<Tensor>& outputs, OutputFill fill) {
  // The descriptions live in per-thread scratch, reused from node to node:
  // a run calls this for every node, and allocating them afresh was about a
  // third of a small elementwise node's cost on the wasm provider. (Shape
  // functions never call back into this.)
  thread_local std::vector<ir::ValueInfo> infos, outs;
  thread_local std::vector<const ir::ValueInfo*> ptrs;
  if (infos.size() < inputs.size()) infos.resize(inputs.size());
  ptrs.assign(inputs.size(), nullptr);
  for (size_t i = 0; i < inputs.size(); ++i)
    if (inputs[i]) {
      describe_into(*inputs[i], infos[i]);
      ptrs[i] = &infos[i];
    }
  outs.resize(std::max(node.outputs.size(), outputs.size()));
  for (ir::ValueInfo& o : outs) {  // as a fresh ValueInfo, but keeping its dims' storage
    o.kind = ir::TypeKind::kTensor;
    o.dtype = DataType::kUndefined;
    o.has_shape = false;
    o.dims.clear();
  }
  GLINT_RETURN_IF_ERROR(infer(node, ptrs, inputs, outs));
  if (outputs.size() < outs.size()) outputs.resize(outs.size());
  for (size_t i = 0; i < outs.size(); ++i) {
    if (!outs[i].has_shape || outs[i].dtype == DataType::kUndefined) {
      if (i == 0 || node.has_output(i))
        return internal_error(node.describe() + ": output " + std::to_string(i) +
                              " shape could not be inferred from concrete inputs");
      continue;
    }
    if (!outs[i].fully_known())
      return internal_error(node.describe() + ": output " + std::to_string(i) + " inferred as " +
                            outs[i].describe() + " from concrete inputs");
    if (fill == OutputFill::kViewOfInput && i == 0) {
      if (inputs.empty() || !inputs[0] || inputs[0]->dtype() != outs[0].dtype ||
          inputs[0]->size() != shape_size(outs[0].concrete()))
        return internal_error(node.describe() + ": output " + outs[0].describe() + " is no view of its input");
      outputs[0] = inputs[0]->reshaped(outs[0].concrete());
      continue;
    }
    outputs[i] = fill == OutputFill::kZero || outs[i].dtype == DataType::kString
                     ? Tensor(outs[i].dtype, outs[i].concrete())
                     : Tensor(outs[i].dtype, outs[i].concrete(), Tensor::kUninitialized);
  }
  return Status::Ok();
}

void round_to_dtype(Tensor& t) {
  if (t.dtype() != DataType::kFloat16 && t.dtype() != DataType::kBFloat16) return;
  float* p = t.data<float>();
  const int64_t n = t.size();
  if (t.dtype() == DataType::kFloat16)
    for (int64_t i = 0; i < n; ++i) p[i] = round_to_half(p[i]);
  else
    for (int64_t i = 0; i < n; ++i) p[i] = bfloat16_to_float(float_to_bfloat16(p[i]));
}

void copy_elements(const Tensor& src, int64_t src_off, Tensor& dst, int64_t dst_off,
                   int64_t count) {
  if (count <= 0) return;
  if (src.dtype() == DataType::kString) {
    for (int64_t i = 0; i < count; ++i) dst.strings()[dst_off + i] = src.strings()[src_off + i];
    return;
  }
  const size_t es = storage_size(src.dtype());
  std::memcpy(static_cast<uint8_t*>(dst.raw()) + dst_off * es,
              static_cast<const uint8_t*>(src.raw()) + src_off * es, count * es);
}

void gather_by_index(const Tensor& src, Tensor& dst, const std::vector<int64_t>& index) {
  const int64_t n = static_cast<int64_t>(index.size());
  if (src.dtype() == DataType::kString) {
    for (int64_t i = 0; i < n; ++i) dst.strings()[i] = src.strings()[index[i]];
    return;
  }
  const size_t es = storage_size(src.dtype());
  const uint8_t* s = static_cast<const uint8_t*>(src.raw());
  uint8_t* d = static_cast<uint8_t*>(dst.raw());
  switch (es) {
    case 1: for (int64_t i = 0; i < n; ++i) d[i] = s[index[i]]; break;
    case 2: {
      auto* s2 = reinterpret_cast<const uint16_t*>(s); auto* d2 = reinterpret_cast<uint16_t*>(d);
      for (int64_t i = 0; i < n; ++i) d2[i] = s2[index[i]];
      break;
    }
    case 4: {
      auto* s4 = reinterpret_cast<const uint32_t*>(s); auto* d4 = reinterpret_cast<uint32_t*>(d);
      for (int64_t i = 0; i < n; ++i) d4[i] = s4[index[i]];
      break;
    }
    default:
      for (int64_t i = 0; i < n; ++i) std::memcpy(d + i * es, s + index[i] * es, es);
  }
}

// gemm() lives in gemm.cc with the SIMD micro-kernel.

std::string info_str(const ir::ValueInfo* v) { return v ? v->describe() : "absent"; }

bool dtype_in(DataType dt, std::initializer_list<DataType> allowed) {
  for (auto a : allowed) if (a == dt) return true;
  return false;
}

Status check_float(const ir::Node& node, const Tensor& t, const char* what) {
  if (dtype_in(t.dtype(), {DataType::kFloat32, DataType::kFloat16, DataType::kBFloat16}))
    return Status::Ok();
  return node_unsupported(node, std::string(what) + " has dtype " + dtype_name(t.dtype()) +
                                    "; expected float32, float16 or bfloat16");
}

}  // namespace glint::cpu
