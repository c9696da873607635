// Reduce{Sum,Mean,Max,Min,Prod,SumSquare,L1,L2,LogSum,LogSumExp} and
// ArgMax / ArgMin. Axes are an attribute up to opset 12 (ReduceSum) or 17
// (the others), an optional input afterwards (with noop_with_empty_axes).
#include <algorithm>
#include <cmath>
#include <limits>

#include "engine/cpu/kernels.h"
#include "engine/cpu/util.h"

namespace glint::cpu {

namespace {

bool is_arg(const ir::Node& node) { return node.op_type == "ArgMax" || node.op_type == "ArgMin"; }

// Which axes are reduced (flags per axis); `*known` false when the axes input
// is not constant; `*noop` true when the op passes the input through.
Status reduced_axes(const ir::Node& node, const std::vector<const Tensor*>& c, int64_t rank,
                    std::vector<bool>* flags, bool* known, bool* noop) {
  *known = true;
  *noop = false;
  std::vector<int64_t> axes;
  if (is_arg(node)) {
    axes = {node.attr_int("axis", 0)};
  } else {
    const int input_since = node.op_type == "ReduceSum" ? 13 : 18;
    if (node.opset < input_since) {
      axes = node.attr_ints("axes");
    } else if (node.has_input(1) || (c.size() > 1 && c[1])) {
      if (c.size() < 2 || !c[1]) { *known = false; return Status::Ok(); }
      axes = to_int64s(*c[1]);
    }
    if (axes.empty() && node.opset >= input_since && node.attr_int("noop_with_empty_axes", 0) != 0) {
      *noop = true;
      flags->assign(rank, false);
      return Status::Ok();
    }
  }
  flags->assign(rank, axes.empty());
  GLINT_RETURN_IF_ERROR(normalize_axes(node, axes, rank));
  for (int64_t a : axes) (*flags)[a] = true;
  return Status::Ok();
}

// The value an accumulator ends as: the mean's division, the L2 norm's root,
// the logs; integer outputs get 0 for what is not finite.
double finish_reduction(const std::string& op, double v, int64_t count, DataType out) {
  if (op == "ReduceMean") v /= static_cast<double>(count);
  else if (op == "ReduceL2") v = std::sqrt(v);
  else if (op == "ReduceLogSum" || op == "ReduceLogSumExp") v = std::log(v);
  if (is_integer(out) && !std::isfinite(v)) v = 0;
  return v;
}

// The float fast path: Sum, Mean, SumSquare, L2, Max and Min of float32
// (float16 is held as float32) over one run of adjacent axes, so the input
// is [outer, count, inner] and each output sums `count` elements `inner`
// apart, read straight from the buffer. The same double accumulators in the
// same order as the general loop below, so the results are bit-identical;
// a LayerNorm's ReduceMean over [1, 128, 384] drops from 1.2 ms to ~0.05.
// Returns false when the op, dtype or axes are not that case.
bool reduce_rows(const std::string& op, const Tensor& x, const std::vector<bool>& flags, Tensor& y) {
  enum { kSum, kSumSquare, kMax, kMin } kind;
  if (op == "ReduceSum" || op == "ReduceMean") kind = kSum;
  else if (op == "ReduceSumSquare" || op == "ReduceL2") kind = kSumSquare;
  else if (op == "ReduceMax") kind = kMax;
  else if (op == "ReduceMin") kind = kMin;
  else return false;
  if (x.dtype() != DataType::kFloat32 && x.dtype() != DataType::kFloat16) return false;
  int64_t outer = 1, count = 1, inner = 1;
  int runs = 0;  // runs of reduced axes (size-1 axes ignored)
  bool in_run = false;
  for (int64_t i = 0; i < x.rank(); ++i) {
    const int64_t d = x.shape()[i];
    if (d == 1) continue;
    if (flags[i]) {
      if (!in_run) ++runs;
      in_run = true;
      count *= d;
    } else {
      in_run = false;
      (runs == 0 ? outer : inner) *= d;
    }
  }
  if (runs > 1 || x.size() == 0) return false;
  const float* px = x.data<float>();
  const double init = kind == kMax ? -std::numeric_limits<double>::infinity()
                    : kind == kMin ? std::numeric_limits<double>::infinity() : 0.0;
  std::vector<double> acc(static_cast<size_t>(inner));
  for (int64_t o = 0; o < outer; ++o) {
    std::fill(acc.begin(), acc.end(), init);
    const float* xo = px + o * count * inner;
    for (int64_t c = 0; c < count; ++c) {
      const float* xr = xo + c * inner;
      for (int64_t i = 0; i < inner; ++i) {
        const double v = xr[i];
        double& a = acc[i];
        switch (kind) {
          case kSum: a += v; break;
          case kSumSquare: a += v * v; break;
          case kMax: if (v > a || std::isnan(v)) a = v; break;
          case kMin: if (v < a || std::isnan(v)) a = v; break;
        }
      }
    }
    for (int64_t i = 0; i < inner; ++i)
      y.set_from_double(o * inner + i, finish_reduction(op, acc[i], count, y.dtype()));
  }
  return true;
}

}  // namespace

Status infer_reduce(const ir::Node& node, const std::vector<const ir::ValueInfo*>& inputs,
                    const std::vector<const Tensor*>& constants, std::vector<ir::ValueInfo>& outputs) {
  GLINT_RETURN_IF_ERROR(check_infer_inputs(node, inputs, 1));
  const ir::ValueInfo& x = *inputs[0];
  outputs[0].dtype = is_arg(node) ? DataType::kInt64 : x.dtype;
  if (!x.has_shape) { outputs[0].has_shape = false; return Status::Ok(); }
  const int64_t rank = static_cast<int64_t>(x.dims.size());
  const bool keep = node.attr_int("keepdims", 1) != 0;
  std::vector<bool> flags;
  bool known, noop;
  GLINT_RETURN_IF_ERROR(reduced_axes(node, constants, rank, &flags, &known, &noop));
  if (!known) {
    outputs[0].has_shape = keep;
    outputs[0].dims.assign(keep ? rank : 0, ir::Dim{});
    return Status::Ok();
  }
  outputs[0].has_shape = true;
  outputs[0].dims.clear();
  for (int64_t i = 0; i < rank; ++i) {
    if (!flags[i]) outputs[0].dims.push_back(x.dims[i]);
    else if (keep) outputs[0].dims.push_back(ir::Dim{1, ""});
  }
  return Status::Ok();
}

Status reduce(const ir::Node& node, const std::vector<const Tensor*>& inputs,
              std::vector<Tensor>& outputs) {
  GLINT_RETURN_IF_ERROR(check_inputs(node, inputs, 1));
  const Tensor& x = *inputs[0];
  if (!is_float(x.dtype()) && !is_integer(x.dtype()))
    return node_unsupported(node, "input dtype " + dtype_name(x.dtype()) + " is not supported");
  GLINT_RETURN_IF_ERROR(alloc_outputs(infer_reduce, node, inputs, outputs));
  Tensor& y = outputs[0];
  const int64_t rank = x.rank();
  std::vector<bool> flags;
  bool known, noop;
  GLINT_RETURN_IF_ERROR(reduced_axes(node, inputs, rank, &flags, &known, &noop));
  if (noop) {
    copy_elements(x, 0, y, 0, x.size());
    return Status::Ok();
  }
  const std::string& op = node.op_type;
  if (reduce_rows(op, x, flags, y)) return Status::Ok();
  // Output offset of every input element: strides of the kept dims.
  Shape kept;
  for (int64_t i = 0; i < rank; ++i) kept.push_back(flags[i] ? 1 : x.shape()[i]);
  auto ost = shape_strides(kept);
  for (int64_t i = 0; i < rank; ++i) if (flags[i]) ost[i] = 0;
  int64_t count = 1;
  for (int64_t i = 0; i < rank; ++i) if (flags[i]) count *= x.shape()[i];
  const int64_t m = y.size();
  const bool arg = is_arg(node);
  const bool is_max = op == "ReduceMax" || op == "ArgMax";
  const bool is_min = op == "ReduceMin" || op == "ArgMin";
  const bool last = node.attr_int("select_last_index", 0) != 0;
  const double init = op == "ReduceProd" ? 1.0
                    : is_max ? -std::numeric_limits<double>::infinity()
                    : is_min ? std::numeric_limits<double>::infinity() : 0.0;
  std::vector<double> acc(static_cast<size_t>(m), init);
  std::vector<int64_t> pos(arg ? m : 0, 0), red_index(arg ? m : 0, 0);
  // For ArgMax/ArgMin the position along the axis is the count of earlier
  // elements seen for that output (the axis is the only reduced one).
  std::vector<int64_t> idx(rank, 0);
  int64_t o = 0;
  for (int64_t i = 0; i < x.size(); ++i) {
    const double v = x.get_as_double(i);
    double& a = acc[o];
    if (arg) {
      const int64_t p = red_index[o]++;
      bool better = is_max ? (last ? v >= a : v > a) : (last ? v <= a : v < a);
      if (p == 0 || better) { a = v; pos[o] = p; }
    } else if (is_max) {
      if (v > a || std::isnan(v)) a = v;
    } else if (is_min) {
      if (v < a || std::isnan(v)) a = v;
    } else if (op == "ReduceProd") {
      a *= v;
    } else if (op == "ReduceSumSquare" || op == "ReduceL2") {
      a += v * v;
    } else if (op == "ReduceL1") {
      a += std::fabs(v);
    } else if (op == "ReduceLogSumExp") {
      a += std::exp(v);
    } else {
      a += v;
    }
    for (int64_t d = rank - 1; d >= 0; --d) {
      o += ost[d];
      if (++idx[d] < x.shape()[d]) break;
      o -= ost[d] * x.shape()[d];
      idx[d] = 0;
    }
  }
  for (int64_t j = 0; j < m; ++j) {
    double v = acc[j];
    if (arg) {
      y.data<int64_t>()[j] = pos[j];
      continue;
    }
    y.set_from_double(j, finish_reduction(op, v, count, y.dtype()));
  }
  return Status::Ok();
}

}  // namespace glint::cpu
