// Helpers shared by the CPU kernels and shape-inference functions: error
// messages that name the node, axis normalisation, numpy broadcasting, conv /
// pool window geometry, dtype dispatch and the "size outputs by running the
// infer function on concrete shapes" bridge.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "engine/core/half.h"
#include "engine/ops/cpu_kernel.h"
#include "engine/ops/node_error.h"
#include "engine/ops/window.h"

namespace glint::cpu {

// "node 'x' (Op, opset N): <msg>" as invalid_argument / unsupported.
using ops::node_error;
using ops::node_unsupported;

// Checks input count (required <= given, given <= max) and presence of the
// first `required` inputs.
Status check_inputs(const ir::Node& node, const std::vector<const Tensor*>& in, size_t required);
Status check_infer_inputs(const ir::Node& node, const std::vector<const ir::ValueInfo*>& in,
                          size_t required);

// The rank of the output a 1-D shape input `s` describes (Reshape,
// ConstantOfShape, Expand), known from its declared length alone; -1 when
// that length is unknown, or longer than any tensor's rank could sensibly
// be (a hostile declaration such as [2^31]): the shape is then left
// unknown at creation and comes from the values at the run.
int64_t declared_rank(const ir::ValueInfo& s);

// `v` as T with no undefined conversion: to an integer it truncates toward
// zero and saturates at T's range (NaN gives 0), to bool it is v != 0. Every
// kernel that computes in double and stores an integer dtype goes through it
// (Cast, Shrink), as a double outside T's range has no defined cast.
template <class T>
T saturate_cast(double v) {
  if constexpr (std::is_same_v<T, bool>) {
    return v != 0.0;
  } else if constexpr (std::is_floating_point_v<T>) {
    return static_cast<T>(v);
  } else {
    if (std::isnan(v)) return 0;
    v = std::trunc(v);
    if (v <= static_cast<double>(std::numeric_limits<T>::lowest())) return std::numeric_limits<T>::lowest();
    if (v >= static_cast<double>(std::numeric_limits<T>::max())) return std::numeric_limits<T>::max();
    return static_cast<T>(v);
  }
}

// Maps axis in [-rank, rank) to [0, rank); error naming the node otherwise.
Status normalize_axis(const ir::Node& node, int64_t axis, int64_t rank, int64_t* out,
                      const char* what = "axis");
Status normalize_axes(const ir::Node& node, std::vector<int64_t>& axes, int64_t rank,
                      const char* what = "axes");

// Reads an int tensor (int32 / int64 ...) into a vector.
std::vector<int64_t> to_int64s(const Tensor& t);

// numpy broadcast of several shapes (empty Shape = scalar).
Status broadcast_shapes(const ir::Node& node, const std::vector<Shape>& shapes, Shape* out);
// The same over symbolic dims: unknown stays unknown, symbols propagate when
// they agree or the other side is 1.
Status broadcast_dims(const ir::Node& node, const std::vector<const ir::ValueInfo*>& ins,
                      ir::ValueInfo* out);

// Before opset 7, binary ops broadcast B to A only with broadcast=1, and an
// `axis` attribute aligns B's dims starting at A's axis (not at the end):
// returns B's shape padded with trailing 1s so numpy broadcasting agrees.
Shape legacy_broadcast_shape(const ir::Node& node, size_t a_rank, const Shape& b);
// The same for inputs[1] of an infer call (a copy in *storage when changed).
const ir::ValueInfo* legacy_broadcast_info(const ir::Node& node,
                                           const std::vector<const ir::ValueInfo*>& inputs,
                                           ir::ValueInfo* storage);

// n elements of scratch, in the object when n <= N, else on the heap. The
// broadcast walk below runs for every elementwise node of every run, and a
// heap vector per stride table was most of a small node's cost.
template <class T, size_t N>
class ScratchArray {
 public:
  explicit ScratchArray(size_t n) : heap_(n > N ? n : 0), p_(n > N ? heap_.data() : inline_) {
    std::fill(p_, p_ + n, T{});
  }
  ScratchArray(const ScratchArray&) = delete;
  ScratchArray& operator=(const ScratchArray&) = delete;
  T* data() { return p_; }
  T& operator[](size_t i) { return p_[i]; }

 private:
  T inline_[N];
  std::vector<T> heap_;
  T* p_;
};

// Visits a broadcast row by row: f(out_index, offsets, len, steps) covers
// output elements [out_index, out_index + len), input k's element j of the
// row being at offsets[k] + j * steps[k] (steps are 0 where input k is
// broadcast along the row, 1 where it is contiguous). Adjacent dims that every
// input walks contiguously are merged first, so a same-shape or trailing-dim
// broadcast ([128, 384] + [384]) has long rows and the callers' inner loops
// vectorize.
template <class F>
void for_each_broadcast_row(const Shape& out, const std::vector<Shape>& ins, F&& f) {
  const size_t n = ins.size();
  const size_t r = out.size();
  const int64_t total = shape_size(out);
  if (total == 0) return;
  // full[k * r + d]: input k's stride along output dim d (0 where broadcast).
  ScratchArray<int64_t, 32> full(n * r);
  for (size_t k = 0; k < n; ++k) {
    const Shape& in = ins[k];
    int64_t st = 1;
    for (size_t i = in.size(); i-- > 0;) {
      full[k * r + (r - in.size()) + i] = in[i] == 1 ? 0 : st;
      st *= in[i];
    }
  }
  // Merge dim d into the row dim below it while every input allows it.
  // strides[k * (r + 1) + j]: input k's stride along merged dim j.
  const size_t sr = r + 1;
  ScratchArray<int64_t, 40> strides(n * sr);
  ScratchArray<int64_t, 9> dims(sr);
  size_t rank = 0;
  for (size_t d = 0; d < r; ++d) {
    if (out[d] == 1) continue;
    bool merge = rank > 0;
    for (size_t k = 0; k < n && merge; ++k) merge = strides[k * sr + rank - 1] == full[k * r + d] * out[d];
    if (merge) {
      dims[rank - 1] *= out[d];
      for (size_t k = 0; k < n; ++k) strides[k * sr + rank - 1] = full[k * r + d];
    } else {
      dims[rank] = out[d];
      for (size_t k = 0; k < n; ++k) strides[k * sr + rank] = full[k * r + d];
      ++rank;
    }
  }
  if (rank == 0) {
    dims[0] = 1;  // every dim is 1: one row of one element, strides 0
    rank = 1;
  }
  const int64_t inner = dims[rank - 1];
  ScratchArray<int64_t, 8> off(n), steps(n);
  ScratchArray<int64_t, 9> idx(sr);
  for (size_t k = 0; k < n; ++k) steps[k] = strides[k * sr + rank - 1];
  for (int64_t o = 0; o < total; o += inner) {
    f(o, off.data(), inner, steps.data());
    // Advance the odometer over the outer dims.
    for (int64_t d = static_cast<int64_t>(rank) - 2; d >= 0; --d) {
      for (size_t k = 0; k < n; ++k) off[k] += strides[k * sr + d];
      if (++idx[d] < dims[d]) break;
      for (size_t k = 0; k < n; ++k) off[k] -= strides[k * sr + d] * dims[d];
      idx[d] = 0;
    }
  }
}

// Visits every output element of a broadcast: f(out_index, offsets) where
// offsets[k] is the element offset in input k.
template <class F>
void for_each_broadcast(const Shape& out, const std::vector<Shape>& ins, F&& f) {
  std::vector<int64_t> cur(ins.size());
  for_each_broadcast_row(out, ins, [&](int64_t o, const int64_t* off, int64_t len, const int64_t* steps) {
    for (size_t k = 0; k < cur.size(); ++k) cur[k] = off[k];
    for (int64_t j = 0; j < len; ++j) {
      f(o + j, cur.data());
      for (size_t k = 0; k < cur.size(); ++k) cur[k] += steps[k];
    }
  });
}

// Conv / pool window geometry: engine/ops/window.h, shared with the GPU kernels.
using ops::Window3;
using ops::WindowGeometry;
using ops::to_window3;
using ops::window_geometry;

// Runs `infer` on the concrete shapes of `inputs` (which are also passed as
// known constants) and allocates `outputs` with the inferred dtypes/shapes.
// kUnfilled leaves the outputs' bytes as allocated: for kernels that write
// every element of every output.
// kViewOfInput: output 0 is input 0 under its inferred shape, sharing its
// storage (Reshape and kin: allocating and zeroing storage that the view
// replaced at once cost BERT's reshapes a [128, 384] memset each).
enum class OutputFill { kZero, kUnfilled, kViewOfInput };
Status alloc_outputs(InferFn infer, const ir::Node& node, const std::vector<const Tensor*>& inputs,
                     std::vector<Tensor>& outputs, OutputFill fill = OutputFill::kZero);

// Rounds float storage through float16 / bfloat16 when the tensor has that
// dtype, so it holds only values its dtype can represent.
void round_to_dtype(Tensor& t);
inline float round_value(float v, DataType dt) {
  if (dt == DataType::kFloat16) return round_to_half(v);
  if (dt == DataType::kBFloat16) return bfloat16_to_float(float_to_bfloat16(v));
  return v;
}

// Calls f(T{}) with T the storage type of numeric `dt` (float for
// float16/bfloat16/float32, bool for bool); returns false for string /
// undefined / complex.
template <class F>
bool visit_numeric(DataType dt, F&& f) {
  switch (dt) {
    case DataType::kFloat32: case DataType::kFloat16: case DataType::kBFloat16:
      f(float{}); return true;
    case DataType::kFloat64: f(double{}); return true;
    case DataType::kInt8: f(int8_t{}); return true;
    case DataType::kUint8: f(uint8_t{}); return true;
    case DataType::kInt16: f(int16_t{}); return true;
    case DataType::kUint16: f(uint16_t{}); return true;
    case DataType::kInt32: f(int32_t{}); return true;
    case DataType::kUint32: f(uint32_t{}); return true;
    case DataType::kInt64: f(int64_t{}); return true;
    case DataType::kUint64: f(uint64_t{}); return true;
    case DataType::kBool: f(bool{}); return true;
    default: return false;
  }
}

// Copies `count` elements of any dtype (strings included) between tensors of
// the same dtype, by element offset.
void copy_elements(const Tensor& src, int64_t src_off, Tensor& dst, int64_t dst_off, int64_t count);

// Fills dst element i from src element index[i] (any dtype).
void gather_by_index(const Tensor& src, Tensor& dst, const std::vector<int64_t>& index);

// C (MxN, row stride ldc) = alpha * op(A) op(B) + beta * C, float32, blocked.
// op(A) is MxK, op(B) is KxN. beta == 0 ignores C's old contents.
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
          const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
          int64_t ldc);

// "float32[1,3,224,224]" for an optional ValueInfo.
std::string info_str(const ir::ValueInfo* v);
// True when `dt` is one of `allowed`.
bool dtype_in(DataType dt, std::initializer_list<DataType> allowed);
Status check_float(const ir::Node& node, const Tensor& t, const char* what);

}  // namespace glint::cpu
