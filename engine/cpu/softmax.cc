// Softmax, LogSoftmax and Hardmax. Before opset 13 the input is viewed as 2-D
// [prod(dims[:axis]), prod(dims[axis:])] (axis default 1); from 13 the op runs
// along `axis` alone (default -1).
#include <algorithm>
#include <cmath>
#include <limits>

#include "engine/cpu/kernels.h"
#include "engine/cpu/simd.h"
#include "engine/cpu/threadpool.h"
#include "engine/cpu/util.h"

namespace glint::cpu {

Status infer_softmax(const ir::Node& node, const std::vector<const ir::ValueInfo*>& inputs,
                     const std::vector<const Tensor*>&, std::vector<ir::ValueInfo>& outputs) {
  GLINT_RETURN_IF_ERROR(check_infer_inputs(node, inputs, 1));
  outputs[0] = *inputs[0];
  if (inputs[0]->has_shape) {
    const int64_t rank = static_cast<int64_t>(inputs[0]->dims.size());
    int64_t axis;
    GLINT_RETURN_IF_ERROR(normalize_axis(node, node.attr_int("axis", node.opset < 13 ? 1 : -1),
                                         std::max<int64_t>(rank, 1), &axis));
  }
  return Status::Ok();
}

namespace {

// Softmax / LogSoftmax of float rows (float16 is held as float32): the max,
// e^(x - max) with the vector exp (simd.h) into the output, its sum in four
// float lanes, then one multiply (or the log) per element. Within a few ulp
// of the double-precision loop in softmax(), which cost 1.5 ms on a BERT
// attention's [12, 128, 128] scores against ~0.15 ms here. Rows are spread
// over the thread pool (each row is one task's, so the result does not
// depend on the thread count).
void float_rows(const float* x, float* y, int64_t rows, int64_t len, bool log_softmax) {
  using simd::v4;
  parallel_for(rows, [&](int64_t row) {
    const float* xr = x + row * len;
    float* yr = y + row * len;
    float mx = -std::numeric_limits<float>::infinity();
    for (int64_t j = 0; j < len; ++j) mx = xr[j] > mx ? xr[j] : mx;
    const v4 m = simd::splat(mx);
    v4 acc = simd::splat(0.f);
    int64_t j = 0;
    for (; j + 4 <= len; j += 4) {
      const v4 e = simd::exp(simd::load(xr + j) - m);
      acc += e;
      if (!log_softmax) simd::store(yr + j, e);
    }
    float sum = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    if (j < len) {
      float tail[4] = {0.f, 0.f, 0.f, 0.f}, e[4];
      for (int64_t k = j; k < len; ++k) tail[k - j] = xr[k] - mx;
      simd::store(e, simd::exp(simd::load(tail)));
      for (int64_t k = j; k < len; ++k) {
        sum += e[k - j];
        if (!log_softmax) yr[k] = e[k - j];
      }
    }
    if (log_softmax) {
      const float shift = mx + std::log(sum);
      for (int64_t k = 0; k < len; ++k) yr[k] = xr[k] - shift;
    } else {
      const float inv = 1.f / sum;
      for (int64_t k = 0; k < len; ++k) yr[k] *= inv;
    }
  }, grain_for(4 * len));
}

}  // namespace

Status softmax(const ir::Node& node, const std::vector<const Tensor*>& inputs,
               std::vector<Tensor>& outputs) {
  GLINT_RETURN_IF_ERROR(check_inputs(node, inputs, 1));
  const Tensor& x = *inputs[0];
  if (!is_float(x.dtype()))
    return node_unsupported(node, "input dtype " + dtype_name(x.dtype()) + " is not supported (float only)");
  GLINT_RETURN_IF_ERROR(alloc_outputs(infer_softmax, node, inputs, outputs, OutputFill::kUnfilled));
  Tensor& y = outputs[0];
  const int64_t rank = std::max<int64_t>(x.rank(), 1);
  const bool legacy = node.opset < 13;
  int64_t axis;
  GLINT_RETURN_IF_ERROR(normalize_axis(node, node.attr_int("axis", legacy ? 1 : -1), rank, &axis));
  Shape s = x.shape();
  if (s.empty()) s = {1};
  int64_t outer = 1, len = 1, inner = 1;
  for (int64_t i = 0; i < rank; ++i) {
    if (i < axis) outer *= s[i];
    else if (i == axis || legacy) len *= s[i];
    else inner *= s[i];
  }
  const std::string& op = node.op_type;
  const int mode = op == "Softmax" ? 0 : op == "LogSoftmax" ? 1 : 2;
  if (mode != 2 && inner == 1 && x.dtype() != DataType::kFloat64) {
    float_rows(x.data<float>(), y.data<float>(), outer, len, mode == 1);
    round_to_dtype(y);
    return Status::Ok();
  }
  std::vector<double> buf(static_cast<size_t>(len));
  const bool dbl = x.dtype() == DataType::kFloat64;
  auto get = [&](int64_t i) { return dbl ? x.data<double>()[i] : static_cast<double>(x.data<float>()[i]); };
  auto put = [&](int64_t i, double v) {
    if (dbl) y.data<double>()[i] = v;
    else y.data<float>()[i] = static_cast<float>(v);
  };
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t in = 0; in < inner; ++in) {
      const int64_t base = o * len * inner + in;
      double mx = -std::numeric_limits<double>::infinity();
      int64_t arg = 0;
      for (int64_t j = 0; j < len; ++j) {
        buf[j] = get(base + j * inner);
        if (buf[j] > mx) { mx = buf[j]; arg = j; }
      }
      if (mode == 2) {
        for (int64_t j = 0; j < len; ++j) put(base + j * inner, j == arg ? 1.0 : 0.0);
        continue;
      }
      double sum = 0;
      for (int64_t j = 0; j < len; ++j) sum += std::exp(buf[j] - mx);
      const double lsum = std::log(sum);
      for (int64_t j = 0; j < len; ++j)
        put(base + j * inner, mode == 0 ? std::exp(buf[j] - mx) / sum : buf[j] - mx - lsum);
    }
  round_to_dtype(y);
  return Status::Ok();
}

}  // namespace glint::cpu
