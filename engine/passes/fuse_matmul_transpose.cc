// MatMul whose operand is a Transpose swapping the last two dims, and read by
// nothing else, becomes com.microsoft FusedMatMul with transA / transB: the
// product reads that operand transposed in place (the CPU GEMM's trans path,
// the GPU sampler's swapped coordinates) instead of a copy made first. An
// attention's Q K^T is the common case: a GPT decode step transposes every
// layer's whole key cache for it.
//
// transpose_matmul_weights, for the CPU backend alone: a MatMul's constant
// 2-D B is stored transposed and read through FusedMatMul transB, so a
// matrix-vector product (a decode step) reads each output's weights as one
// contiguous row; B in place is read in 128-byte pieces a row apart, about
// 30% slower under V8 (24 GEMVs of 384x1536: 3.6 against 2.5 ms). Where
// every product has at least 4 rows (an encoder's [128, 384] activations)
// the GEMM reads B in panels of 8 columns, which it would pack on every run
// (in Chromium a tenth of BERT's MatMul time): B is stored as those panels
// instead, once, and the FusedMatMul marked cpu::kPackedWeightsAttr.
#include <map>
#include <set>
#include <string>
#include <vector>

#include "engine/cpu/gemm.h"
#include "engine/passes/pass_util.h"
#include "engine/passes/passes.h"

namespace glint::passes {

namespace {

// perm is [0, 1, ..., r-3, r-1, r-2] for r >= 2.
bool swaps_last_two(const ir::Node& t) {
  if (t.op_type != "Transpose" || !t.domain.empty() || !t.has_attr("perm") || t.inputs.size() != 1 ||
      t.outputs.size() != 1)
    return false;
  const std::vector<int64_t> perm = t.attr_ints("perm");
  const int64_t r = static_cast<int64_t>(perm.size());
  if (r < 2) return false;
  for (int64_t i = 0; i < r - 2; ++i)
    if (perm[i] != i) return false;
  return perm[r - 2] == r - 1 && perm[r - 1] == r - 2;
}

// `mm` (a MatMul, or a FusedMatMul already) becomes com.microsoft FusedMatMul
// reading operand `side` (0: A, 1: B) transposed.
void read_transposed(ir::Node& mm, int side) {
  make_fused_matmul(mm);
  mm.attrs[side == 0 ? "transA" : "transB"] = ir::Attribute::of_int(1);
}

// `a`, a MatMul's A, has a static row count (its second-to-last dim) of
// at least `rows`.
bool rows_at_least(const ir::Graph& g, const std::string& a, int64_t rows) {
  const ir::ValueInfo* info = g.info(a);
  if (info == nullptr || !info->has_shape || info->dims.size() < 2) return false;
  const ir::Dim& m = info->dims[info->dims.size() - 2];
  return m.known() && m.value >= rows;
}

}  // namespace

Status fuse_matmul_transpose(ir::Graph& g, const std::set<std::string>& keep) {
  GLINT_ASSIGN_OR_RETURN(auto order, ir::topological_order(g));
  ValueIndex index(g);
  std::vector<bool> removed(g.nodes.size(), false);
  for (size_t idx : order) {
    ir::Node& mm = g.nodes[idx];
    if (mm.op_type != "MatMul" || !mm.domain.empty() || mm.inputs.size() != 2 || mm.outputs.size() != 1 ||
        is_kept(mm, keep))
      continue;
    const ir::ValueInfo* y = g.info(mm.outputs[0]);
    if (y == nullptr || (y->dtype != DataType::kFloat32 && y->dtype != DataType::kFloat16)) continue;
    for (int side = 0; side < 2; ++side) {
      const std::string& v = mm.inputs[side];
      if (mm.inputs[0] == mm.inputs[1] || index.readers(v) != 1) continue;
      const size_t t = index.producer(v);
      if (t == ValueIndex::kNone || removed[t] || !swaps_last_two(g.nodes[t]) || is_kept(g.nodes[t], keep)) continue;
      mm.inputs[side] = g.nodes[t].inputs[0];
      read_transposed(mm, side);
      removed[t] = true;
    }
  }
  erase_nodes(g, removed);
  return Status::Ok();
}

Status transpose_matmul_weights(ir::Graph& g, const std::set<std::string>& keep) {
  // Rewritten only when every reader is a MatMul taking it as B, so the
  // transposed copy replaces it (no second copy of the weights stays alive).
  const auto readers = constants_read_only_by(g, [&](const ir::Node& n, size_t k) {
    return k == 1 && n.op_type == "MatMul" && n.domain.empty() && n.inputs[0] != n.inputs[1] && !is_kept(n, keep);
  });
  ValueIndex index(g);
  for (auto& [name, nodes] : readers) {
    const Tensor& w = g.initializers.at(name);
    if (w.dtype() != DataType::kFloat32 || w.rank() != 2) continue;
    const int64_t K = w.shape()[0], N = w.shape()[1];
    // Every product has rows enough for the GEMM, which would otherwise
    // pack the weights into panels on every run: they are stored packed
    // (as many floats as N x K when N is a whole number of panels).
    bool packed = N % cpu::kGemmNr == 0;
    for (size_t i : nodes) packed = packed && rows_at_least(g, g.nodes[i].inputs[0], 4);
    Tensor wt(DataType::kFloat32, {N, K}, Tensor::kUninitialized);
    const float* src = w.data<float>();
    float* dst = wt.data<float>();
    if (packed) {
      cpu::pack_b_panels(false, K, N, src, N, 0, N / cpu::kGemmNr, dst);
    } else {
      for (int64_t k = 0; k < K; ++k)
        for (int64_t j = 0; j < N; ++j) dst[j * K + k] = src[k * N + j];
    }
    const std::string t_name = index.fresh_name(name + (packed ? "_packed" : "_t"));
    g.values[t_name] = ir::ValueInfo::of(wt);
    g.initializers[t_name] = std::move(wt);
    for (size_t i : nodes) {
      g.nodes[i].inputs[1] = t_name;
      read_transposed(g.nodes[i], 1);
      if (packed) g.nodes[i].attrs[cpu::kPackedWeightsAttr] = ir::Attribute::of_int(1);
    }
    g.initializers.erase(name);
    g.values.erase(name);
  }
  return Status::Ok();
}

}  // namespace glint::passes
