// MatMul (numpy semantics: batched, broadcast batch dims, 1-D operands) and
// Gemm (transA/transB, alpha, beta, optional broadcast C).
#include <type_traits>
#include <vector>

#include "engine/cpu/gemm.h"
#include "engine/cpu/kernels.h"
#include "engine/cpu/util.h"

namespace glint::cpu {

namespace {

// C[M,N] = A[M,K] B[K,N] for a non-float32 storage type, plain loops.
template <class T>
void naive_matmul(const T* a, const T* b, T* c, int64_t M, int64_t N, int64_t K) {
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      T acc = 0;
      for (int64_t k = 0; k < K; ++k) acc = T(acc + a[i * K + k] * b[k * N + j]);
      c[i * N + j] = acc;
    }
}

}  // namespace

Status check_product_input_count(const ir::Node& node, size_t given) {
  const size_t most = 2 + static_cast<size_t>(fused_addend_count(node));
  if (given > most)
    return node_error(node, "takes at most " + std::to_string(most) + " inputs (A, B), given " + std::to_string(given));
  return Status::Ok();
}

Status infer_matmul(const ir::Node& node, const std::vector<const ir::ValueInfo*>& inputs,
                    const std::vector<const Tensor*>&, std::vector<ir::ValueInfo>& outputs) {
  GLINT_RETURN_IF_ERROR(check_infer_inputs(node, inputs, 2));
  GLINT_RETURN_IF_ERROR(check_product_input_count(node, inputs.size()));
  const ir::ValueInfo& a = *inputs[0];
  const ir::ValueInfo& b = *inputs[1];
  if (a.dtype != b.dtype)
    return node_error(node, "A is " + a.describe() + " but B is " + b.describe() + " (dtypes differ)");
  outputs[0].dtype = a.dtype;
  if (!a.has_shape || !b.has_shape) { outputs[0].has_shape = false; return Status::Ok(); }
  if (a.dims.empty() || b.dims.empty())
    return node_error(node, "MatMul operands must have rank >= 1, given " + a.describe() + " and " +
                                b.describe());
  std::vector<ir::Dim> ad = a.dims, bd = b.dims;
  const bool a_vec = ad.size() == 1, b_vec = bd.size() == 1;
  if (a_vec) ad.insert(ad.begin(), ir::Dim{1, ""});
  if (b_vec) bd.push_back(ir::Dim{1, ""});
  const ir::Dim& ka = ad[ad.size() - 1];
  const ir::Dim& kb = bd[bd.size() - 2];
  if (ka.known() && kb.known() && ka.value != kb.value)
    return node_error(node, "inner dimensions differ: A is " + a.describe() + ", B is " +
                                b.describe());
  ir::ValueInfo abatch, bbatch, batch;
  abatch.has_shape = bbatch.has_shape = true;
  abatch.dims.assign(ad.begin(), ad.end() - 2);
  bbatch.dims.assign(bd.begin(), bd.end() - 2);
  GLINT_RETURN_IF_ERROR(broadcast_dims(node, {&abatch, &bbatch}, &batch));
  outputs[0].has_shape = true;
  outputs[0].dims = batch.dims;
  if (!a_vec) outputs[0].dims.push_back(ad[ad.size() - 2]);
  if (!b_vec) outputs[0].dims.push_back(bd[bd.size() - 1]);
  return Status::Ok();
}

namespace {

// A batch of float products C_i = A_i op(B_i) with at least 4 rows each, in
// one parallel region (gemm_packing_batched): an attention's Q K^T and P V
// are 12 heads of ~1M multiply-adds, and a region per head spent more on
// waking the pool than it saved (BERT at 2 threads in Chromium: these
// MatMuls took longer than at 1). Needs A_i at a constant stride (the
// batch dims equal or A broadcast whole) and A as stored (no transA); false
// when the product does not fit that, and nothing was written. An alpha
// (attention's 1 / sqrt(d), passes::fold_matmul_scale) scales the products
// after.
bool batched_float_product(const Shape& batch, const Shape& abatch, const Shape& bbatch, int64_t M, int64_t N,
                           int64_t K, bool ta, bool tb, float alpha, const float* pa, const float* pb, float* pc) {
  const int64_t count = shape_size(batch);
  if (count < 2 || ta || M < 4 || N <= 0 || K <= 0) return false;
  std::vector<int64_t> a_off, b_off;
  a_off.reserve(static_cast<size_t>(count));
  b_off.reserve(static_cast<size_t>(count));
  for_each_broadcast(batch, {abatch, bbatch}, [&](int64_t, const int64_t* off) {
    a_off.push_back(off[0]);
    b_off.push_back(off[1]);
  });
  const int64_t a_step = a_off[1] - a_off[0];
  for (int64_t i = 0; i < count; ++i)
    if (a_off[i] != a_off[0] + i * a_step) return false;
  gemm_packing_batched(count, M, N, K, pa + a_off[0] * M * K, K, a_step * M * K,
                       [&](int64_t i, int64_t q0, int64_t q1, float* dst) {
                         pack_b_panels(tb, K, N, pb + b_off[i] * K * N, tb ? K : N, q0, q1, dst);
                       },
                       pc, N, M * N, nullptr, false);
  if (alpha != 1.f) {
    const int64_t total = count * M * N;
    for (int64_t i = 0; i < total; ++i) pc[i] *= alpha;
  }
  return true;
}

// y += c, c broadcast to y's shape (passes::fuse_matmul_add checked that it
// does not grow it): row by row, so a bias [N] and a residual of y's shape
// are plain vector loops. The same float additions as the Add nodes made.
Status add_addend(const ir::Node& node, const Tensor* addend, Tensor& y) {
  if (addend == nullptr) return internal_error(node.describe() + ": a fused addend is absent");
  const Tensor& c = *addend;
  if (c.dtype() != DataType::kFloat32 || y.dtype() != DataType::kFloat32 || !addend_broadcasts_to(c.shape(), y.shape()))
    return internal_error(node.describe() + ": a fused addend must be float32 and broadcast to the product " +
                          shape_str(y.shape()) + ", given " + dtype_name(c.dtype()) + shape_str(c.shape()));
  float* py = y.data<float>();
  const float* pc = c.data<float>();
  for_each_broadcast_row(y.shape(), {c.shape()}, [&](int64_t o, const int64_t* off, int64_t len, const int64_t* steps) {
    float* row = py + o;
    const float* src = pc + off[0];
    if (steps[0] == 1) {
      for (int64_t j = 0; j < len; ++j) row[j] += src[j];
    } else {
      for (int64_t j = 0; j < len; ++j) row[j] += src[0];
    }
  });
  return Status::Ok();
}

// y = alpha * op(A) op(B) over numpy batches, op a swap of the last two dims
// where ta / tb (float storage only: the GEMM reads the operands transposed
// in place; other dtypes take neither).
Status product(const ir::Node& node, const std::vector<const Tensor*>& inputs, std::vector<Tensor>& outputs,
               InferFn infer, bool ta, bool tb, float alpha) {
  GLINT_RETURN_IF_ERROR(check_inputs(node, inputs, 2));
  // `infer` refuses inputs past B other than the fused addends.
  GLINT_RETURN_IF_ERROR(alloc_outputs(infer, node, inputs, outputs, OutputFill::kUnfilled));
  const Tensor& a = *inputs[0];
  const Tensor& b = *inputs[1];
  Tensor& y = outputs[0];
  Shape as = a.shape(), bs = b.shape();
  if (as.size() == 1) as.insert(as.begin(), 1);
  if (bs.size() == 1) bs.push_back(1);
  const int64_t M = as[as.size() - (ta ? 1 : 2)], K = as[as.size() - (ta ? 2 : 1)];
  const int64_t N = bs[bs.size() - (tb ? 2 : 1)];
  Shape abatch(as.begin(), as.end() - 2), bbatch(bs.begin(), bs.end() - 2), batch;
  GLINT_RETURN_IF_ERROR(broadcast_shapes(node, {abatch, bbatch}, &batch));
  Status st;
  const DataType dt = a.dtype();
  const bool packed = node.attr_int(kPackedWeightsAttr, 0) != 0;
  if (packed && (dt != DataType::kFloat32 || ta || !tb || alpha != 1.f || bs.size() != 2 || N % kGemmNr != 0))
    return internal_error(node.describe() + ": packed weights need a float32 [N, K] B with N a multiple of " +
                          std::to_string(kGemmNr) + ", transB and no transA or alpha");
  bool ok = visit_numeric(dt, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_same_v<T, bool>) {
      st = node_unsupported(node, "MatMul of bool is not supported");
    } else {
      const T* pa = a.data<T>();
      const T* pb = b.data<T>();
      T* pc = y.data<T>();
      if constexpr (std::is_same_v<T, float>) {
        if (packed) {
          // B [N, K] holds its panels (passes::transpose_matmul_weights).
          for_each_broadcast(batch, {abatch, bbatch}, [&](int64_t i, const int64_t* off) {
            gemm_prepacked(M, N, K, pa + off[0] * M * K, K, pb, pc + i * M * N, N);
          });
          return;
        }
        if (batched_float_product(batch, abatch, bbatch, M, N, K, ta, tb, alpha, pa, pb, pc)) return;
      }
      for_each_broadcast(batch, {abatch, bbatch}, [&](int64_t i, const int64_t* off) {
        const T* ma = pa + off[0] * M * K;
        const T* mb = pb + off[1] * K * N;
        T* mc = pc + i * M * N;
        if constexpr (std::is_same_v<T, float>)
          gemm(ta, tb, M, N, K, alpha, ma, ta ? M : K, mb, tb ? K : N, 0.f, mc, N);
        else if (ta || tb || alpha != 1.f)
          st = internal_error(node.describe() + ": transposed or scaled product of " + dtype_name(dt));
        else
          naive_matmul(ma, mb, mc, M, N, K);
      });
    }
  });
  if (!ok) return node_unsupported(node, "MatMul of " + dtype_name(dt) + " is not supported");
  GLINT_RETURN_IF_ERROR(st);
  for (size_t i = 2; i < inputs.size(); ++i) GLINT_RETURN_IF_ERROR(add_addend(node, inputs[i], y));
  if (matmul_epilogue_applies(fused_activation_of(node), y.dtype())) {
    // The fused Gelu (passes::fuse_activations), as the Gelu kernel computes it.
    const int64_t c = y.rank() ? y.shape().back() : 1;
    gelu_erf_rows(y.data<float>(), nullptr, y.data<float>(), c ? y.size() / c : 0, c);
  }
  round_to_dtype(y);
  return Status::Ok();
}

}  // namespace

bool matmul_epilogue_applies(const FusedActivation& a, DataType out) {
  return a.kind == FusedActivation::kGelu && out == DataType::kFloat32;
}

Status matmul(const ir::Node& node, const std::vector<const Tensor*>& inputs,
              std::vector<Tensor>& outputs) {
  return product(node, inputs, outputs, infer_matmul, false, false, 1.f);
}

Status matmul_float_trans(const ir::Node& node, const std::vector<const Tensor*>& inputs,
                          std::vector<Tensor>& outputs, InferFn infer, bool ta, bool tb, float alpha) {
  return product(node, inputs, outputs, infer, ta, tb, alpha);
}

Status infer_gemm(const ir::Node& node, const std::vector<const ir::ValueInfo*>& inputs,
                  const std::vector<const Tensor*>&, std::vector<ir::ValueInfo>& outputs) {
  GLINT_RETURN_IF_ERROR(check_infer_inputs(node, inputs, node.opset < 11 ? 3 : 2));
  const ir::ValueInfo& a = *inputs[0];
  const ir::ValueInfo& b = *inputs[1];
  outputs[0].dtype = a.dtype;
  if (a.dtype != b.dtype)
    return node_error(node, "A is " + a.describe() + " but B is " + b.describe() + " (dtypes differ)");
  if (!a.has_shape || !b.has_shape) { outputs[0].has_shape = false; return Status::Ok(); }
  if (a.dims.size() != 2 || b.dims.size() != 2)
    return node_error(node, "Gemm needs 2-D A and B, given " + a.describe() + " and " + b.describe());
  const bool ta = node.attr_int("transA", 0) != 0, tb = node.attr_int("transB", 0) != 0;
  ir::Dim m = a.dims[ta ? 1 : 0], ka = a.dims[ta ? 0 : 1];
  ir::Dim kb = b.dims[tb ? 1 : 0], n = b.dims[tb ? 0 : 1];
  if (ka.known() && kb.known() && ka.value != kb.value)
    return node_error(node, "inner dimensions differ: A is " + a.describe() + (ta ? " (transposed)" : "") +
                                ", B is " + b.describe() + (tb ? " (transposed)" : ""));
  outputs[0].has_shape = true;
  outputs[0].dims = {m, n};
  const ir::ValueInfo* c = inputs.size() > 2 ? inputs[2] : nullptr;
  if (c && c->fully_known() && m.known() && n.known()) {
    Shape out;
    Shape mn{m.value, n.value};
    GLINT_RETURN_IF_ERROR(broadcast_shapes(node, {mn, c->concrete()}, &out));
    if (out != mn)
      return node_error(node, "C " + c->describe() + " does not broadcast to [" +
                                  std::to_string(m.value) + "," + std::to_string(n.value) + "]");
  }
  return Status::Ok();
}

Status gemm_kernel(const ir::Node& node, const std::vector<const Tensor*>& inputs,
                   std::vector<Tensor>& outputs) {
  GLINT_RETURN_IF_ERROR(check_inputs(node, inputs, 2));
  GLINT_RETURN_IF_ERROR(alloc_outputs(infer_gemm, node, inputs, outputs));
  const Tensor& a = *inputs[0];
  const Tensor& b = *inputs[1];
  const Tensor* c = inputs.size() > 2 ? inputs[2] : nullptr;
  Tensor& y = outputs[0];
  const bool ta = node.attr_int("transA", 0) != 0, tb = node.attr_int("transB", 0) != 0;
  const float alpha = node.attr_float("alpha", 1.f), beta = node.attr_float("beta", 1.f);
  const int64_t M = y.shape()[0], N = y.shape()[1], K = a.shape()[ta ? 0 : 1];
  const DataType dt = a.dtype();
  if (c && c->dtype() != dt)
    return node_error(node, "C has dtype " + dtype_name(c->dtype()) + " but A has " + dtype_name(dt));
  if (is_float_storage(dt)) {
    float* py = y.data<float>();
    bool use_c = c && beta != 0.f;
    if (use_c) {
      const float* pc = c->data<float>();
      for_each_broadcast(y.shape(), {c->shape()},
                         [&](int64_t i, const int64_t* off) { py[i] = pc[off[0]]; });
    }
    gemm(ta, tb, M, N, K, alpha, a.data<float>(), a.shape()[1], b.data<float>(), b.shape()[1],
         use_c ? beta : 0.f, py, N);
    round_to_dtype(y);
    return Status::Ok();
  }
  if (!is_float(dt) && !is_integer(dt))
    return node_unsupported(node, "Gemm of " + dtype_name(dt) + " is not supported");
  // Other numeric types: plain loops in double.
  const int64_t lda = a.shape()[1], ldb = b.shape()[1];
  std::vector<double> cval(static_cast<size_t>(M * N), 0.0);
  if (c) for_each_broadcast(y.shape(), {c->shape()},
                            [&](int64_t i, const int64_t* off) { cval[i] = c->get_as_double(off[0]); });
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      double acc = 0;
      for (int64_t k = 0; k < K; ++k)
        acc += a.get_as_double(ta ? k * lda + i : i * lda + k) *
               b.get_as_double(tb ? j * ldb + k : k * ldb + j);
      y.set_from_double(i * N + j, alpha * acc + beta * cval[i * N + j]);
    }
  return Status::Ok();
}

}  // namespace glint::cpu
